#!/usr/bin/env python
"""Clean the notebooks in nbs/: nbdev's cleaning everywhere, outputs only where they belong.

nbdev 3 has one global switch for outputs (`clear_all` in pyproject's `[tool.nbdev]`). heartai sets it to false, so
`nbdev-clean` keeps outputs but still removes execution counts, cell and notebook metadata and object ids (`clean_ids`).
This script runs that same cleaning and then clears the outputs of every notebook that is not listed in `keep_outputs`
(`[tool.nbdev]`, glob patterns: the tutorials `9?_*.ipynb` and `index.ipynb`): API notebooks (00-6x) carry no outputs.

`--check` changes nothing and exits 1 naming each API notebook that has outputs and each output that shows a machine
path (/work/, /root/, /tmp/, a home directory, site-packages ...): outputs are committed and published, so they must
not reveal where they were run. `make outputs` (tools/run_outputs.py) replaces such paths when it regenerates outputs.

    python tools/clean_nbs.py            # what `make export` runs
    python tools/clean_nbs.py --check    # what tools/check_sync.sh and the pre-commit hook run
"""
import argparse, fnmatch, json, os, re, sys, tempfile, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def nbdev_cfg(root=ROOT):
    "The `[tool.nbdev]` table of `root`/pyproject.toml."
    return tomllib.loads((Path(root)/'pyproject.toml').read_text())['tool']['nbdev']

def notebooks(root=ROOT):
    "Every notebook nbdev works on: under nbs_path, skipping names and folders that start with `_` or `.`."
    nbs = Path(root)/nbdev_cfg(root).get('nbs_path', 'nbs')
    return sorted(p for p in nbs.rglob('*.ipynb')
                  if not any(part.startswith(('_', '.')) for part in p.relative_to(nbs).parts))

def keeps_outputs(nb_path, root=ROOT)->bool:
    "True when the notebook at `nb_path` matches a `keep_outputs` pattern (tutorials, index): its outputs are documentation."
    pats = nbdev_cfg(root).get('keep_outputs', '').split()
    return any(fnmatch.fnmatch(Path(nb_path).name, p) for p in pats)

# --- machine paths in outputs ---------------------------------------------------------------------------------------
_MACHINE = [r'/work/', r'/root\b', r'/tmp/', r'/home/[^/\s]', r'/Users/[^/\s]', r'[A-Za-z]:\\Users\\', r'/var/folders/',
            r'/private/var/', r'/mnt/[^/\s]', r'/\S*?/(site|dist)-packages', r'/\S*?/\.venv/']

def _machine_re():
    "Patterns of paths that belong to one machine: fixed ones plus this machine's home, temp dir and repository."
    extra = {str(Path.home()), tempfile.gettempdir(), str(ROOT)} - {'/', ''}
    return re.compile('|'.join(_MACHINE + [re.escape(e) + r'(?![\w.-])' for e in sorted(extra, key=len, reverse=True)]))

def _texts(o):
    "(where, text) of every text an output shows (images are skipped: base64 can contain anything)."
    if 'text' in o: yield 'stream', ''.join(o['text']) if isinstance(o['text'], list) else o['text']
    for k, v in o.get('data', {}).items():
        if k.startswith('image/') and 'svg' not in k: continue
        yield k, ''.join(v) if isinstance(v, list) else (v if isinstance(v, str) else json.dumps(v))
    if 'traceback' in o: yield 'traceback', '\n'.join(o['traceback'])

def machine_paths(nb:dict)->list:
    "`(cell number, cell id, mime type, match)` for each output text of notebook dict `nb` that shows a machine path."
    pat, found = _machine_re(), []
    for i, c in enumerate(nb.get('cells', [])):
        for o in c.get('outputs', []):
            for where, t in _texts(o):
                if m := pat.search(t):
                    s = max(0, m.start()-30)
                    found.append((i, c.get('id'), where, t[s:m.end()+30].replace('\n', ' ')))
    return found

def scrub_paths(nb:dict, repl:dict)->dict:
    "Replace each key of `repl` (longest first) by its value in every output text of `nb`, in place; returns `nb`."
    keys = sorted((k for k in repl if k), key=len, reverse=True)
    if not keys: return nb
    # a key matches a whole path component: '/tmp' in '/tmp/x' but not in '/tmpx' (keys ending in '/' are whole already)
    pat = re.compile('|'.join(re.escape(k) + ('' if k.endswith('/') else r'(?![\w.-])') for k in keys))
    sub = lambda t: pat.sub(lambda m: repl[m.group(0)], t)  # the lookahead is not part of the match
    fix = lambda v: [sub(x) for x in v] if isinstance(v, list) else sub(v) if isinstance(v, str) else v
    for c in nb.get('cells', []):
        for o in c.get('outputs', []):
            if 'text' in o: o['text'] = fix(o['text'])
            if 'traceback' in o: o['traceback'] = fix(o['traceback'])
            for k in list(o.get('data', {})):
                if not (k.startswith('image/') and 'svg' not in k): o['data'][k] = fix(o['data'][k])
    return nb

# --- cleaning -------------------------------------------------------------------------------------------------------
def _with_outputs(nb:dict)->list:
    return [i for i, c in enumerate(nb.get('cells', [])) if c.get('outputs')]

def problems(root=ROOT)->list:
    "One line per problem: an API notebook with outputs, an output with a machine path."
    out = []
    for p in notebooks(root):
        nb, rel = json.loads(p.read_text(encoding='utf-8')), p.relative_to(root)
        if not keeps_outputs(p, root) and (cells := _with_outputs(nb)):
            out.append(f"{rel}: API notebook with outputs in {len(cells)} cell(s) (cells {cells[:8]}): only notebooks matching "
                       f"keep_outputs ({nbdev_cfg(root).get('keep_outputs', '')}) keep outputs. Run `python tools/clean_nbs.py` "
                       f"(or `make export`) and commit the notebook.")
        for i, cid, where, txt in (machine_paths(nb) if keeps_outputs(p, root) else []):
            out.append(f"{rel}: cell {i} (id {cid}) shows a machine path in its {where} output: ...{txt}... "
                       f"Regenerate with `make outputs` (it replaces such paths) or remove that output.")
    return out

def clean(root=ROOT, paths=None):
    "nbdev's cleaning (pyproject's settings) of every notebook, then clear outputs outside `keep_outputs`."
    from nbdev.clean import nbdev_clean
    from nbdev.config import get_config
    from fastcore.nbio import read_nb, write_nb
    root = Path(root)
    with _chdir(root):
        assert get_config(root).config_path.resolve() == root.resolve(), f"no nbdev pyproject.toml in {root}"
        for p in (paths or notebooks(root)):
            p = Path(p)
            nbdev_clean.__wrapped__(str(p), clear_all=not keeps_outputs(p, root))

class _chdir:
    def __init__(self, d): self.d = d
    def __enter__(self): self.old = os.getcwd(); os.chdir(self.d)
    def __exit__(self, *a): os.chdir(self.old)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--check', action='store_true', help="change nothing; fail on API notebooks with outputs and on machine paths")
    a = ap.parse_args()
    if a.check:
        ps = problems()
        for l in ps: print(f"FAIL: {l}")
        if not ps: print("OK: outputs only in tutorials and index, and no machine paths in them")
        return 1 if ps else 0
    clean()
    return 0

if __name__ == '__main__': sys.exit(main())
