"""Writing benchmark results: shared by the bench_*.py scripts."""
import json, os
from pathlib import Path
from heartai.core import atomic_write

ROOT = Path(__file__).resolve().parents[1]   # the repository
DATA = Path(os.environ.get('HEARTAI_SHARED_DATA', ROOT.parent/'shared'/'data'))   # the real data (MIT-BIH in mitdb/), beside the repository

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

def speed_parser(doc:str, out_name:str):
    "The arguments every inference-speed benchmark takes: --n synthetic beats, --bs, --threads, --out (results/`out_name`), --overwrite."
    import argparse
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument('--n', type=int, default=50_000, help='synthetic beats to classify')
    p.add_argument('--bs', type=int, default=256, help='beats per batch')
    p.add_argument('--threads', type=int, default=2, help='torch threads of the multi-thread measurements')
    p.add_argument('--out', default=str(Path(__file__).parent/'results'/out_name))
    p.add_argument('--overwrite', action='store_true', help='replace an existing results file')
    return p

def parse_hp(items)->dict:
    "Architecture hyperparameters from repeated `--hp KEY=VALUE` arguments, each value read as JSON (width=12 -> 12)."
    import json
    return {k: json.loads(v) for k, v in (h.split('=', 1) for h in items)}
