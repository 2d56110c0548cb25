"The house rules, as tests: packaging metadata, the constraints file, README generation and the notebook/module sync check."
import importlib.metadata, shutil, subprocess, sys, tomllib
from pathlib import Path
import pytest
import heartai

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT/'pyproject.toml').read_text())

def test_installed_version_matches_package():
    assert importlib.metadata.version('heartai') == heartai.__version__

def test_pyproject_declares_runtime_deps_and_extras():
    names = {d.split('>')[0].split('<')[0].split('=')[0].split('[')[0].strip().lower() for d in PYPROJECT['project']['dependencies']}
    assert {'fastai','torch','pandas','pyarrow','matplotlib','mlflow','wfdb','scipy','scikit-learn'} <= names
    extras = PYPROJECT['project']['optional-dependencies']
    assert any(d.startswith('nbdev') for d in extras['dev']) and any(d.startswith('ray[tune]') for d in extras['tune'])
    nbdev = PYPROJECT['tool']['nbdev']
    assert nbdev['lib_path'] == 'heartai' and nbdev['nbs_path'] == 'nbs' and set(nbdev['tst_flags'].split()) == {'notest', 'slow'}

def test_constraints_pin_cpu_torch_and_are_used_everywhere():
    pins = dict(l.split('==') for l in (ROOT/'constraints-cpu.txt').read_text().splitlines() if '==' in l and not l.startswith('#'))
    assert pins['torch'] == '2.13.0'
    assert 'constraints-cpu.txt' in (ROOT/'Makefile').read_text() and 'constraints-cpu.txt' in (ROOT/'README.md').read_text()

def test_readme_is_generated_from_index():
    sys.path.insert(0, str(ROOT/'tools'))
    try: import make_readme
    finally: sys.path.pop(0)
    assert (ROOT/'README.md').read_text() == make_readme.render(), "README.md is stale: run `python tools/make_readme.py`"
    assert 'make test' in (ROOT/'README.md').read_text()

def _copy_project(dst):
    "Copy the project's files (tracked and untracked, not ignored) into a fresh git repo at `dst`."
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for f in filter(None, files.split('\0')):
        if not (ROOT/f).exists(): continue
        (dst/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT/f, dst/f)
    git = lambda *a: subprocess.run(['git', *a], cwd=dst, check=True, capture_output=True)
    git('init', '-q'); git('add', '-A'); git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'copy')
    return git

def test_check_sync_catches_hand_edit_and_stale_readme(tmp_path):
    bindir = str(Path(sys.executable).parent)
    git = _copy_project(tmp_path)
    run = lambda: subprocess.run(['bash', 'tools/check_sync.sh', bindir], cwd=tmp_path, capture_output=True, text=True)
    r = run()
    assert r.returncode == 0, r.stdout + r.stderr
    with open(tmp_path/'heartai'/'core.py', 'a') as f: f.write('\n# edited by hand\n')
    (tmp_path/'README.md').write_text((tmp_path/'README.md').read_text() + '\nhand edit\n')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'hand edits')
    r = run()
    assert r.returncode != 0
    assert 'heartai/ is out of sync with the notebooks' in r.stdout and 'heartai/core.py' in r.stdout and 'nbdev-export' in r.stdout
    assert 'README.md is stale' in r.stdout and 'tools/make_readme.py' in r.stdout
