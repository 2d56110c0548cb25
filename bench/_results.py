"""Writing benchmark results: shared by the bench_*.py scripts."""
import json
from pathlib import Path
from heartai.core import atomic_write

def write_json(out, obj)->Path:
    "Write `obj` as JSON to `out` atomically (`heartai.core.atomic_write`): an interrupted run never leaves half a file."
    return atomic_write(Path(out), json.dumps(obj, indent=2, default=str) + '\n', overwrite=True)
