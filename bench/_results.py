"""Writing benchmark results: shared by the bench_*.py scripts."""
import json, os, uuid
from pathlib import Path

def write_json(out, obj)->Path:
    "Write `obj` as JSON to `out` atomically (a temporary file, then a rename): an interrupted run never leaves half a file."
    out = Path(out); out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f'.{out.name}.{uuid.uuid4().hex[:8]}.tmp')
    tmp.write_text(json.dumps(obj, indent=2) + '\n'); os.replace(tmp, out)
    return out
