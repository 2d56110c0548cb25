#!/usr/bin/env python
"""Generate settings.ini (nbdev 2 style) from pyproject.toml, the project's one source of configuration.

nbdev 3 reads `[tool.nbdev]` in pyproject.toml and never looks at settings.ini while that table exists (nbdev/config.py:
`get_config` -> `_find_nbdev_pyproject`; settings.ini is only consulted, to ask for a migration, when no pyproject.toml
with `[tool.nbdev]` is found). settings.ini is kept for tools and people that still read nbdev 2's file; it states the
same configuration and is never edited by hand. `--check` exits 1 when settings.ini differs from what pyproject.toml gives
(tools/check_sync.sh runs it in CI).

    python tools/make_settings.py           # write settings.ini
    python tools/make_settings.py --check   # fail if settings.ini is stale
"""
import argparse, configparser, io, re, sys, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = """# Generated from pyproject.toml by tools/make_settings.py: do not edit. pyproject.toml is the source of this
# configuration: change it there, then run `python tools/make_settings.py` (CI fails when the two disagree).
# nbdev 3 reads [tool.nbdev] in pyproject.toml and ignores this file; it is here for tools that read nbdev 2's settings.ini.
"""
# nbdev 2 spelled licences by short name
_LICENSES = {'Apache-2.0': 'apache2', 'MIT': 'mit', 'GPL-3.0': 'gpl3', 'BSD-3-Clause': 'bsd3'}
_STATUS = {'Planning': 1, 'Pre-Alpha': 2, 'Alpha': 3, 'Beta': 4, 'Production/Stable': 5, 'Mature': 6, 'Inactive': 7}

def _version(root):
    "`__version__` of the library, read without importing it."
    lib = tomllib.loads((root/'pyproject.toml').read_text())['tool']['nbdev'].get('lib_path', 'heartai')
    m = re.search(r'''^__version__\s*=\s*['"]([^'"]+)['"]''', (root/lib/'__init__.py').read_text(), re.M)
    if not m: raise ValueError(f"no __version__ in {root/lib/'__init__.py'}")
    return m.group(1)

def _s(v):
    "A TOML value as nbdev 2 wrote it in settings.ini: booleans True/False, lists space-separated."
    if isinstance(v, bool): return str(v)
    if isinstance(v, (list, tuple)): return ' '.join(map(str, v))
    return str(v)

def settings(root=ROOT)->dict:
    "settings.ini's `[DEFAULT]` keys, from `root`/pyproject.toml."
    root = Path(root)
    t = tomllib.loads((root/'pyproject.toml').read_text())
    proj, nbd = t['project'], t['tool']['nbdev']
    urls, auth = proj.get('urls', {}), (proj.get('authors') or [{}])[0]
    git_url = (urls.get('Repository') or urls.get('Source') or '').rstrip('/')
    cls = proj.get('classifiers', [])
    aud = next((c.split('::')[-1].strip() for c in cls if c.startswith('Intended Audience')), '')
    status = next((_STATUS.get(c.split('::')[-1].strip().split(' - ')[-1]) for c in cls if c.startswith('Development Status')), None)
    extras = proj.get('optional-dependencies', {})
    d = dict(repo=proj['name'], lib_name=proj['name'], version=_version(root),
             min_python=proj.get('requires-python', '>=3.9').lstrip('>='),
             license=_LICENSES.get(proj.get('license', ''), proj.get('license', '')),
             title=nbd.get('title', proj['name']), description=proj.get('description', ''),
             keywords=_s(proj.get('keywords', [])), author=auth.get('name', ''), author_email=auth.get('email', ''),
             copyright=auth.get('name', ''), language='English', audience=aud, status=status or '',
             git_url=git_url, doc_host=urls.get('Documentation', ''), user=git_url.split('/')[-2] if git_url else '',
             requirements=_s(proj.get('dependencies', [])), dev_requirements=_s(extras.get('dev', [])),
             console_scripts=_s([f"{k}={v}" for k, v in proj.get('scripts', {}).items()]))
    for k, v in extras.items():
        if k != 'dev': d[f"{k}_requirements"] = _s(v)  # nbdev 2 knew only dev_requirements; the other extras by name
    d.update({k: _s(v) for k, v in nbd.items()})     # every [tool.nbdev] key, as nbdev 2 spelled them
    return {k: _s(v) for k, v in d.items() if _s(v) != ''}  # an empty value would only be a line ending in a blank

def render(root=ROOT)->str:
    "The text of settings.ini for `root`."
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    d = settings(root)
    if bad := [k for k, v in d.items() if '%' in v or '\n' in v]: raise ValueError(f"settings.ini cannot hold {bad} (a % or a newline)")
    cp['DEFAULT'] = d
    buf = io.StringIO(); cp.write(buf)
    return HEADER + buf.getvalue().rstrip('\n') + '\n'

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--check', action='store_true', help="fail if settings.ini differs from pyproject.toml instead of writing it")
    a = ap.parse_args()
    new, ini = render(), ROOT/'settings.ini'
    if a.check:
        if not ini.exists() or ini.read_text() != new:
            print("FAIL: settings.ini disagrees with pyproject.toml (pyproject.toml is the source). "
                  "Run `python tools/make_settings.py` (or `make settings`) and commit settings.ini.")
            return 1
        print("settings.ini is up to date with pyproject.toml")
        return 0
    ini.write_text(new); print(f"wrote {ini.relative_to(ROOT)}")
    return 0

if __name__ == '__main__': sys.exit(main())
