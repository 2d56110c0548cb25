#!/usr/bin/env python
"""Regenerate the outputs of the notebooks that keep them (tutorials nbs/9?_*.ipynb and nbs/index.ipynb) by a real run.

Each notebook runs top to bottom in a fresh Jupyter kernel (nbclient + ipykernel: the outputs are what a reader sees
in Jupyter), in nbs/ as the working directory, `#| slow` cells included (`notest` and `eval: false` cells are skipped
and left without outputs), with MPLBACKEND=Agg (the kernel itself shows plots inline as PNG), PYTHONHASHSEED and the
Python, NumPy and PyTorch seeds fixed by a hidden first cell. Progress bars redrawn with carriage returns keep their
last state. The tutorials read the real data from ../shared/data (or ../../shared/data) beside the repository; the run stops when it is not there, and a notebook that prints "skipped:" (its way of saying the data
is missing) is not written unless --allow-skipped.

Then machine paths in the outputs are replaced (the repository -> `..`, nbs/ -> `.`, the data folder ->
`../shared/data`, site-packages -> `<site-packages>`, the temp dir -> `<tmp>`, the home dir -> `~`); if any remain,
the notebook is not written and the run fails naming them. A notebook is written only when it ran without error, then cleaned as
`make export` cleans (tools/clean_nbs.py: nbdev-clean), and README.md is regenerated from index at the end.

    python tools/run_outputs.py                       # every tutorial and index (an hour or more on 2 CPU cores)
    python tools/run_outputs.py --only 91 --only index --timeout 3600
"""
import argparse, json, os, re, signal, site, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clean_nbs import ROOT, nbdev_cfg, notebooks, keeps_outputs, machine_paths, scrub_paths, clean

SHOWN_DATA = '../shared/data'  # how outputs name the data folder (the place the tutorials document)

# Runs in a fresh interpreter: argv = notebook, destination, skip flags (space-separated), cell timeout, seed.
# A Jupyter kernel (nbclient + ipykernel) runs the cells, so outputs are what a reader sees in Jupyter (fastai's HTML
# progress tables, pandas' HTML tables, inline PNG plots).
RUNNER = r'''
import sys, re, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
src, dst, skip, timeout, seed = sys.argv[1], sys.argv[2], set(sys.argv[3].split()), int(sys.argv[4]), int(sys.argv[5])
_dir = re.compile(r'^\s*#\|\s*(.*?)\s*$')
def flags(cell):
    "Directive words at the top of `cell`, e.g. {'slow', 'eval:false'}."
    out = set()
    for l in cell.source.splitlines():
        m = _dir.match(l)
        if not m:
            if l.strip(): break
            continue
        out |= set(m.group(1).replace(': ', ':').split())
    return out
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=timeout, kernel_name='python3', allow_errors=False, record_timing=False,
                        resources={'metadata': {'path': '.'}})
# MPLBACKEND=Agg keeps every process headless; this kernel shows plots inline as PNG (hidden set-up, not saved)
setup = f"""%matplotlib inline
from matplotlib_inline.backend_inline import set_matplotlib_formats as _smf; _smf('png'); del _smf
import random as _r, numpy as _np
_r.seed({seed}); _np.random.seed({seed})
try:
    import torch as _t; _t.manual_seed({seed}); del _t
except ImportError: pass
del _r, _np"""
try:
    with client.setup_kernel():
        nb.cells.append(nbformat.v4.new_code_cell(setup))  # nbclient stores a cell at its index: run it there, then drop it
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1); nb.cells.pop()
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != 'code': continue
            f = flags(cell)
            if f & skip or 'eval:false' in f: cell.outputs, cell.execution_count = [], None; continue
            client.execute_cell(cell, i)
except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
    sys.stderr.write(f"{type(e).__name__}: {e}\n"); sys.exit(1)
nbformat.write(nb, dst)
'''

_cr = re.compile(r'[^\n]*\r(?!\n)')
def collapse_cr(nb):
    "Keep what a terminal would show of stream text that redraws with carriage returns (progress bars), in place."
    for c in nb['cells']:
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream':
                t = ''.join(o['text']) if isinstance(o['text'], list) else o['text']
                o['text'] = _cr.sub('', t.replace('\r\n', '\n'))
    return nb

def data_dir(nbs):
    "The real data folder as the tutorials find it from `nbs` (../shared/data, then ../../shared/data), or None."
    return next((p.resolve() for p in (nbs/'..'/'shared'/'data', nbs/'..'/'..'/'shared'/'data') if p.is_dir()), None)

def replacements(root, nbs, data):
    "`{machine path: what outputs show instead}`."
    r = {str(root)+'/': '../', str(root): '..', str(nbs)+'/': '', str(nbs): '.'}
    if data: r.update({str(data): SHOWN_DATA})
    sp = [*site.getsitepackages(), site.getusersitepackages()]
    r.update({str(Path(p)): '<site-packages>' for p in sp if p})
    r.update({f"{sys.base_prefix}/lib/python{sys.version_info.major}.{sys.version_info.minor}": f"python{sys.version_info.major}.{sys.version_info.minor}",
              sys.prefix: '<python>', tempfile.gettempdir(): '<tmp>', str(Path.home()): '~'})
    return {k: v for k, v in r.items() if k not in ('', '/')}

def _skipped_lines(nb):
    return [l for c in nb['cells'] for o in c.get('outputs', []) if o.get('output_type') == 'stream'
            for l in ''.join(o.get('text', '')).splitlines() if l.lstrip().startswith('skipped:')]

def run_one(nb_path, root, nbs, data, timeout, seed, allow_skipped=False):
    "Run the notebook at `nb_path` and write it back with outputs; raises `RuntimeError` naming the problem."
    cfg = nbdev_cfg(root)
    skip = ' '.join(f for f in cfg.get('tst_flags', 'notest').split() if f != 'slow')
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'PYTHONHASHSEED': str(seed),
           'PYTHONPATH': os.pathsep.join([str(root)] + [p for p in [os.environ.get('PYTHONPATH')] if p])}
    if data: env['HEARTAI_SHARED_DATA'] = str(data)
    with tempfile.TemporaryDirectory() as td:
        dst = Path(td)/nb_path.name
        # its own process group, so a timeout also ends the kernel it started
        pr = subprocess.Popen([sys.executable, '-c', RUNNER, str(nb_path), str(dst), skip, str(timeout), str(seed)],
                              cwd=nbs, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try: _, err = pr.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pr.pid, signal.SIGKILL); pr.communicate()
            raise RuntimeError(f"{nb_path.name}: did not finish in {timeout} s (--timeout); the notebook was not changed")
        if pr.returncode != 0 or not dst.exists():
            raise RuntimeError(f"{nb_path.name}: a cell failed; the notebook was not changed.\n{err[-6000:]}")
        nb = json.loads(dst.read_text(encoding='utf-8'))
    collapse_cr(nb)
    if (sk := _skipped_lines(nb)) and not allow_skipped:
        raise RuntimeError(f"{nb_path.name}: printed {sk[0].strip()!r}: the outputs would not come from a real run; "
                           "the notebook was not changed (--allow-skipped to write it anyway)")
    scrub_paths(nb, replacements(root, nbs, data))
    if left := machine_paths(nb):
        raise RuntimeError(f"{nb_path.name}: machine paths remain in outputs after replacement; the notebook was not changed:\n"
                           + '\n'.join(f"  cell {i} (id {cid}) {where}: ...{t}..." for i, cid, where, t in left))
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    clean(root, [nb_path])
    if left := machine_paths(json.loads(nb_path.read_text(encoding='utf-8'))):
        raise RuntimeError(f"{nb_path.name}: machine paths in outputs after cleaning: {left}")

def select(nbs_list, only, root):
    "Notebooks that keep outputs, or those named by `only` (a stem, a prefix like `91`, or a file name)."
    keep = [p for p in nbs_list if keeps_outputs(p, root)]
    if not only: return keep
    out = []
    for n in only:
        hits = [p for p in keep if n in (p.name, p.stem) or p.stem.startswith(n)]
        if not hits: raise SystemExit(f"--only {n}: no notebook that keeps outputs matches; choose from {[p.stem for p in keep]}")
        out += [p for p in hits if p not in out]
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', action='append', default=[], metavar='NAME', help="run only this notebook (stem or prefix, e.g. 91 or index; repeatable)")
    ap.add_argument('--timeout', type=int, default=3600, help="seconds allowed for one notebook (and for any one cell)")
    ap.add_argument('--seed', type=int, default=0, help="seed for Python, NumPy, PyTorch and PYTHONHASHSEED")
    ap.add_argument('--allow-skipped', action='store_true', help="write notebooks that printed 'skipped:' (data missing)")
    ap.add_argument('--no-readme', action='store_true', help="do not regenerate README.md")
    a = ap.parse_args(argv)
    root = ROOT
    nbs = root/nbdev_cfg(root).get('nbs_path', 'nbs')
    todo = select(notebooks(root), a.only, root)
    data = data_dir(nbs)
    if data is None and not a.allow_skipped:
        raise SystemExit(f"no real data: the tutorials look for {nbs/'..'/'shared'/'data'} or {nbs/'..'/'..'/'shared'/'data'}; "
                         "outputs must come from a real run (--allow-skipped to run anyway)")
    failed = []
    for p in todo:
        t0 = time.time(); print(f"running {p.relative_to(root)} ...", flush=True)
        try: run_one(p, root, nbs, data, a.timeout, a.seed, a.allow_skipped)
        except RuntimeError as e: failed.append(p.name); print(f"FAIL: {e}", flush=True); continue
        print(f"  wrote {p.relative_to(root)} ({time.time()-t0:.0f} s)", flush=True)
    if not a.no_readme and len(failed) < len(todo):
        subprocess.run([sys.executable, str(root/'tools'/'make_readme.py')], cwd=root, check=True)
    if failed: print(f"FAIL: {len(failed)} notebook(s) not regenerated: {', '.join(failed)}"); return 1
    return 0

if __name__ == '__main__': sys.exit(main())
