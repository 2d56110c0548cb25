"""Writing benchmark results: shared by the bench_*.py scripts."""
import json
from pathlib import Path
from heartai.core import atomic_write

def write_json(out, obj)->Path:
    "Write `obj` as JSON to `out` atomically (`heartai.core.atomic_write`): an interrupted run never leaves half a file."
    return atomic_write(Path(out), json.dumps(obj, indent=2, default=str) + '\n', overwrite=True)

def claim_output(out, overwrite:bool=False)->Path:
    "`out` as a Path; exits naming it when it exists and `overwrite` is not set (a result is never replaced unasked)."
    out = Path(out)
    if out.exists() and not overwrite: raise SystemExit(f"{out} exists; pass --overwrite to replace it")
    return out

def scratch_home(prefix:str)->Path:
    "A new temporary folder, with HEARTAI_HOME inside it, so a benchmark never touches the user's heartai home."
    import os, tempfile
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ['HEARTAI_HOME'] = str(tmp/'home')
    return tmp
