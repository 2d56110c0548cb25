#!/usr/bin/env python
"""Generate README.md from nbs/index.ipynb without Quarto.

Cells flagged `#| hide` are left out, nbdev directive lines are removed from the rest, and nbconvert writes Markdown.
The notebook's outputs (it keeps them: pyproject's keep_outputs) appear as they do on GitHub: text as code blocks, tables
(pandas HTML) as HTML tables without their <style> block, and images as files `nbs/images/readme_<cell>_<n>.png` that
README.md links to (written with README.md; old ones are removed). Everything depends on the notebook alone, so the
result is deterministic. `--check` exits 1 (with the command to run) when README.md or an image differs from what the
notebook gives."""
import argparse, copy, re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"
IMAGES = 'nbs/images'  # relative to ROOT, where README.md's images go
IMG_KEY = 'readme'    # image names: readme_<cell>_<n>.<ext>
_directive = re.compile(r'^\s*#\|\s*(.*)$')
_style = re.compile(r'<style[^>]*>.*?</style>\s*', re.S)

def _directives(src):
    return [m.group(1).split()[0] for l in src.splitlines() if (m := _directive.match(l)) and m.group(1).strip()]

def _drop_styles(c):
    "Remove <style> blocks from the HTML outputs of cell `c` (GitHub would show them as text or drop them)."
    for o in c.get('outputs', []):
        h = o.get('data', {}).get('text/html')
        if h is not None: o['data']['text/html'] = _style.sub('', ''.join(h) if isinstance(h, list) else h)

def render_all(nb_path=ROOT/'nbs'/'index.ipynb'):
    "README text and `{path relative to ROOT: bytes}` of its images, for the notebook at `nb_path`."
    nb = nbformat.read(nb_path, as_version=4)
    out = copy.deepcopy(nb)
    cells = []
    for c in nb.cells:
        ds = _directives(c.source)
        if c.cell_type == 'code' and ({'hide', 'export', 'exports', 'default_exp', 'exporti'} & set(ds)): continue
        c = copy.deepcopy(c)
        c.source = '\n'.join(l for l in c.source.splitlines() if not _directive.match(l)).strip('\n')
        if c.cell_type == 'code' and not c.source.strip(): continue
        if c.cell_type == 'code': _drop_styles(c)
        cells.append(c)
    out.cells = cells
    out.metadata['language_info'] = {'name': 'python'}
    md, res = MarkdownExporter().from_notebook_node(out, resources={'unique_key': IMG_KEY, 'output_files_dir': IMAGES})
    md = re.sub(r'\n{3,}', '\n\n', md).strip() + '\n'
    return HEADER + md, dict(res.get('outputs', {}))

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    "README text for the notebook at `nb_path`."
    return render_all(nb_path)[0]

def _old_images(): return sorted((ROOT/IMAGES).glob(f'{IMG_KEY}_*'))

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--check', action='store_true', help="fail if README.md is out of date instead of writing it")
    a = ap.parse_args()
    (new, imgs), readme = render_all(), ROOT/'README.md'
    if a.check:
        stale = [] if readme.exists() and readme.read_text() == new else ['README.md']
        stale += [f for f, b in imgs.items() if not (ROOT/f).exists() or (ROOT/f).read_bytes() != b]
        stale += [str(p.relative_to(ROOT)) for p in _old_images() if str(p.relative_to(ROOT)) not in imgs]
        if stale:
            print(f"README.md is stale: it differs from nbs/index.ipynb ({', '.join(stale)}). "
                  "Run `python tools/make_readme.py` and commit README.md and nbs/images/.")
            sys.exit(1)
        print("README.md is up to date with nbs/index.ipynb")
    else:
        for p in _old_images():
            if str(p.relative_to(ROOT)) not in imgs: p.unlink()
        for f, b in imgs.items(): (ROOT/f).parent.mkdir(parents=True, exist_ok=True); (ROOT/f).write_bytes(b)
        readme.write_text(new); print(f"wrote {readme.relative_to(ROOT)}" + (f" and {len(imgs)} image(s) in {IMAGES}/" if imgs else ''))

if __name__ == '__main__': main()
