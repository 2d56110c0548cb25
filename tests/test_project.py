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
    (tmp_path/'settings.ini').write_text((tmp_path/'settings.ini').read_text().replace('tst_flags = notest slow', 'tst_flags = notest'))
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'hand edits')
    r = run()
    assert r.returncode != 0
    assert 'heartai/ is out of sync with the notebooks' in r.stdout and 'heartai/core.py' in r.stdout and 'nbdev-export' in r.stdout
    assert 'README.md is stale' in r.stdout and 'tools/make_readme.py' in r.stdout
    assert 'settings.ini disagrees with pyproject.toml' in r.stdout and 'tools/make_settings.py' in r.stdout

def test_check_sync_catches_api_outputs_and_machine_paths(tmp_path):
    import json
    bindir = str(Path(sys.executable).parent)
    git = _copy_project(tmp_path)
    out = lambda text: [{'output_type': 'stream', 'name': 'stdout', 'text': [text]}]
    for name, text in (('00_core.ipynb', 'an API output\n'), ('90_tutorial.explore.ipynb', 'saved to /root/x.pkl\n')):
        p = tmp_path/'nbs'/name; nb = json.loads(p.read_text())
        next(c for c in nb['cells'] if c['cell_type'] == 'code')['outputs'] = out(text)
        p.write_text(json.dumps(nb, indent=1))
    r = subprocess.run(['bash', 'tools/check_sync.sh', bindir], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0
    assert 'nbs/00_core.ipynb: API notebook with outputs' in r.stdout and 'tools/clean_nbs.py' in r.stdout
    assert 'nbs/90_tutorial.explore.ipynb: cell' in r.stdout and 'machine path' in r.stdout and '/root/x.pkl' in r.stdout

def _tool(name):
    "Import tools/`name`.py of this checkout."
    sys.path.insert(0, str(ROOT/'tools'))
    try: return __import__(name)
    finally: sys.path.pop(0)

def _nb(cells):
    import nbformat
    from nbformat.v4 import new_notebook, new_code_cell
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    return nb

def test_settings_ini_is_generated_from_pyproject():
    import configparser
    ms = _tool('make_settings')
    assert (ROOT/'settings.ini').read_text() == ms.render(), "settings.ini is stale: run `python tools/make_settings.py`"
    assert 'Generated from pyproject.toml by tools/make_settings.py' in (ROOT/'settings.ini').read_text()
    cp = configparser.ConfigParser(interpolation=None); cp.read(ROOT/'settings.ini')
    ini, nbd, proj = cp['DEFAULT'], PYPROJECT['tool']['nbdev'], PYPROJECT['project']
    assert ini['lib_name'] == proj['name'] == 'heartai' and ini['version'] == heartai.__version__
    for k in ('lib_path', 'nbs_path', 'doc_path', 'tst_flags', 'readme_nb', 'keep_outputs'): assert ini[k] == nbd[k], k
    assert ini['clear_all'] == str(nbd['clear_all']) and ini['min_python'] == proj['requires-python'].lstrip('>=')
    assert ini['requirements'].split() == proj['dependencies'] and ini['dev_requirements'].split() == proj['optional-dependencies']['dev']
    assert ini['license'] == 'apache2' and ini['console_scripts'] == 'heartai=heartai.cli:main'
    # nbdev 3 reads pyproject.toml's [tool.nbdev], not settings.ini
    from nbdev.config import get_config
    assert get_config(ROOT).config_file.name == 'pyproject.toml'

def test_outputs_kept_only_in_tutorials_and_index():
    cn = _tool('clean_nbs')
    nbd = PYPROJECT['tool']['nbdev']
    assert nbd['clear_all'] is False and nbd['clean_ids'] is True  # nbdev-clean keeps outputs, drops counts/metadata/ids
    names = [p.name for p in cn.notebooks()]
    kept = [n for n in names if cn.keeps_outputs(n)]
    assert 'index.ipynb' in kept and any(n.startswith('90_') for n in kept) and all(n[:1] in '9i' for n in kept), kept
    assert not cn.keeps_outputs('00_core.ipynb') and not cn.keeps_outputs('60_cli.ipynb')
    assert cn.problems() == [], '\n'.join(cn.problems())

def test_clean_nbs_clears_api_outputs_and_finds_machine_paths(tmp_path):
    import nbformat
    cn = _tool('clean_nbs')
    (tmp_path/'nbs').mkdir(); shutil.copy(ROOT/'pyproject.toml', tmp_path)
    for n in ('00_api.ipynb', '91_tutorial.x.ipynb'):
        nb = _nb(['1+1'])
        nb.cells[0].outputs = [nbformat.v4.new_output('execute_result', {'text/plain': '<obj at 0x7f3a2b>'}, execution_count=3),
                               nbformat.v4.new_output('stream', name='stdout', text='saved /home/ann/runs/a.pkl\n')]
        nb.cells[0].execution_count, nb.cells[0].metadata = 3, {'tags': ['x'], 'collapsed': True}
        nbformat.write(nb, tmp_path/'nbs'/n)
    ps = cn.problems(tmp_path)
    assert any('00_api.ipynb: API notebook with outputs' in p for p in ps), ps
    assert any('91_tutorial.x.ipynb: cell 0' in p and '/home/ann' in p for p in ps), ps
    assert not any('00_api.ipynb' in p and 'machine path' in p for p in ps)  # its outputs go anyway
    cn.clean(tmp_path)
    api, tut = (nbformat.read(tmp_path/'nbs'/n, 4).cells[0] for n in ('00_api.ipynb', '91_tutorial.x.ipynb'))
    assert api.outputs == [] and api.execution_count is None and api.metadata == {}
    assert len(tut.outputs) == 2 and tut.execution_count is None and tut.metadata == {}
    assert tut.outputs[0].execution_count is None and tut.outputs[0].data['text/plain'] == '<obj>'  # clean_ids
    assert [p for p in cn.problems(tmp_path) if 'API notebook' in p] == []
    assert len(cn.problems(tmp_path)) == 1  # the machine path is not cleaned away: it must be fixed at the source
    nb = cn.scrub_paths(nbformat.read(tmp_path/'nbs'/'91_tutorial.x.ipynb', 4), {'/home/ann': '~'})
    assert cn.machine_paths(nb) == [] and nb.cells[0].outputs[1].text == 'saved ~/runs/a.pkl\n'
    nb.cells[0].outputs[1].text = 'made /tmp/tmpab12 and /tmpx\n'
    assert cn.scrub_paths(nb, {'/tmp': '<tmp>'}).cells[0].outputs[1].text == 'made <tmp>/tmpab12 and /tmpx\n'  # whole components only

def test_readme_renders_outputs_images_and_tables(tmp_path):
    import nbformat, base64
    mr = _tool('make_readme')
    nb = _nb(['df', 'plot()', '#| hide\nsecret()'])
    png = base64.b64encode(b'\x89PNG\r\n\x1a\nfake').decode()
    nb.cells[0].outputs = [nbformat.v4.new_output('execute_result', {'text/html': '<div><style scoped>td {x: 1}</style><table><tr><td>7</td></tr></table></div>',
                                                                     'text/plain': 'a table'}, execution_count=1)]
    nb.cells[1].outputs = [nbformat.v4.new_output('display_data', {'image/png': png, 'text/plain': '<Figure>'})]
    nb.cells[2].outputs = [nbformat.v4.new_output('stream', name='stdout', text='hidden output\n')]
    nbformat.write(nb, tmp_path/'index.ipynb')
    md, imgs = mr.render_all(tmp_path/'index.ipynb')
    assert md == mr.render_all(tmp_path/'index.ipynb')[0]  # deterministic
    assert '<table><tr><td>7</td></tr></table>' in md and '<style' not in md and 'hidden output' not in md
    assert list(imgs) == ['nbs/images/readme_1_0.png'] and imgs['nbs/images/readme_1_0.png'] == b'\x89PNG\r\n\x1a\nfake'
    assert '![png](nbs/images/readme_1_0.png)' in md

def test_run_outputs_executes_seeded_and_strips_machine_paths(tmp_path):
    import nbformat
    proj = tmp_path/'proj'; (proj/'nbs').mkdir(parents=True); (tmp_path/'shared'/'data').mkdir(parents=True)
    shutil.copy(ROOT/'pyproject.toml', proj); shutil.copytree(ROOT/'tools', proj/'tools')
    nb = _nb(['import os, random, numpy as np\nfrom pathlib import Path',
              '#| slow\nprint("data", Path("../../shared/data").resolve(), "here", Path.cwd())',
              '#| notest\nraise RuntimeError("a notest cell ran")',
              'random.random(), float(np.random.rand())',
              'import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()',
              'import sys; sys.stdout.write("10%\\r50%\\r100%\\n"); sys.stdout.flush()'])
    nbformat.write(nb, proj/'nbs'/'95_tutorial.t.ipynb')
    run = lambda *a: subprocess.run([sys.executable, 'tools/run_outputs.py', '--no-readme', *a], cwd=proj, capture_output=True, text=True)
    r = run('--only', '95')
    assert r.returncode == 0, r.stdout + r.stderr
    out = nbformat.read(proj/'nbs'/'95_tutorial.t.ipynb', 4)
    cells = out.cells
    assert cells[1].outputs[0].text == 'data ../shared/data here .\n'  # paths replaced, slow cell ran
    assert cells[2].outputs == []
    assert cells[3].outputs[0].data['text/plain'] == '(0.8444218515250481, 0.5488135039273248)'  # seed 0
    assert 'image/png' in cells[4].outputs[0].data
    assert cells[5].outputs[0].text == '100%\n'  # a progress bar keeps its last state
    assert all(c.execution_count is None and c.metadata == {} for c in cells)  # cleaned as nbdev-clean cleans
    first = (proj/'nbs'/'95_tutorial.t.ipynb').read_text()
    assert run('--only', '95').returncode == 0 and (proj/'nbs'/'95_tutorial.t.ipynb').read_text() == first  # deterministic
    # a path it cannot replace: the run fails and the notebook is left as it was
    nb.cells.append(nbformat.v4.new_code_cell('print("/work/elsewhere/model.pth")'))
    nbformat.write(nb, proj/'nbs'/'95_tutorial.t.ipynb'); before = (proj/'nbs'/'95_tutorial.t.ipynb').read_text()
    r = run('--only', '95')
    assert r.returncode != 0 and 'machine paths remain' in r.stdout and '/work/elsewhere' in r.stdout
    assert (proj/'nbs'/'95_tutorial.t.ipynb').read_text() == before
    assert run('--only', 'nope').returncode != 0

def test_makefile_targets_have_rules_and_help():
    import re
    mk = (ROOT/'Makefile').read_text()
    phony = re.search(r'^\.PHONY:(.*)$', mk, re.M).group(1).split()
    rules = dict(re.findall(r'^([a-zA-Z_-]+):(?!=)(.*)$', mk, re.M))  # not `X := ...`
    assert {'help', 'hooks', 'outputs', 'settings', 'bench', 'export', 'test'} <= set(phony)
    for t in phony:
        assert t in rules, f".PHONY target {t!r} has no rule in the Makefile"
        assert '## ' in rules[t], f"target {t!r} has no `## what it does` comment for `make help`"
    r = subprocess.run(['make', '-s', 'help'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and all(f"make {t} " in r.stdout for t in phony), r.stdout

def test_precommit_config_is_local_only():
    import yaml
    cfg = yaml.safe_load((ROOT/'.pre-commit-config.yaml').read_text())
    assert [r['repo'] for r in cfg['repos']] == ['local']  # no hook repository to download
    entries = ' '.join(h['entry'] for h in cfg['repos'][0]['hooks'])
    assert all(s in entries for s in ('tools/clean_nbs.py', 'nbdev-export', 'tools/make_readme.py', 'tools/make_settings.py'))
    hook = (ROOT/'tools'/'pre-commit').read_text()
    assert 'tools/check_sync.sh' in hook and '--install' in hook and 'tools/pre-commit --install' in (ROOT/'Makefile').read_text()

def test_bench_results_hold_results_not_logs():
    import json
    res = ROOT/'bench'/'results'
    files = [p for p in res.iterdir() if not p.name.startswith('.')]
    bad = [p.name for p in files if p.suffix not in ('.json', '.csv', '.md') or 'partial' in p.name]
    assert bad == [], f"bench/results/ holds results only (JSON/CSV, SUMMARY.md): {bad}"
    for p in files:
        if p.suffix == '.json': json.loads(p.read_text())
    assert 'train_random_width8.json' in (res/'SUMMARY.md').read_text()
