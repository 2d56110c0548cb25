#!/usr/bin/env python
"""Generate README.md from nbs/index.ipynb without Quarto.

Cells flagged `#| hide` are left out, nbdev directive lines are removed from the rest, and nbconvert writes Markdown.
`--check` exits 1 (with the command to run) when README.md differs from what the notebook gives."""
import argparse, copy, re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"
_directive = re.compile(r'^\s*#\|\s*(.*)$')

def _directives(src):
    return [m.group(1).split()[0] for l in src.splitlines() if (m := _directive.match(l)) and m.group(1).strip()]

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    "README text for the notebook at `nb_path`."
    nb = nbformat.read(nb_path, as_version=4)
    out = copy.deepcopy(nb)
    cells = []
    for c in nb.cells:
        ds = _directives(c.source)
        if c.cell_type == 'code' and ({'hide', 'export', 'exports', 'default_exp', 'exporti'} & set(ds)): continue
        c = copy.deepcopy(c)
        c.source = '\n'.join(l for l in c.source.splitlines() if not _directive.match(l)).strip('\n')
        if c.cell_type == 'code' and not c.source.strip(): continue
        cells.append(c)
    out.cells = cells
    out.metadata['language_info'] = {'name': 'python'}
    md, _ = MarkdownExporter().from_notebook_node(out)
    md = re.sub(r'\n{3,}', '\n\n', md).strip() + '\n'
    return HEADER + md

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--check', action='store_true', help="fail if README.md is out of date instead of writing it")
    a = ap.parse_args()
    new, readme = render(), ROOT/'README.md'
    if a.check:
        if not readme.exists() or readme.read_text() != new:
            print("README.md is stale: it differs from nbs/index.ipynb. Run `python tools/make_readme.py` and commit README.md.")
            sys.exit(1)
        print("README.md is up to date with nbs/index.ipynb")
    else:
        readme.write_text(new); print(f"wrote {readme.relative_to(ROOT)}")

if __name__ == '__main__': main()
