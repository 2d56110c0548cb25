"""Hostile and careless runs of the `heartai` command (issue 15, the process side): one case per class of problem, each
checking the exit code, that the message names the problem and the file or flag, and that nothing else changed.

| class | case | expected |
|---|---|---|
| code run on resume | a sweep folder with a foreign `tuner.pkl` (unsigned, changed after signing, forged digest) | exit 1, the file named, no code run, folder unchanged |
| interrupted work | SIGTERM / SIGINT during `train` | exit 143 / 130, "interrupted by SIGTERM", MLflow run KILLED (none RUNNING), no run or hidden temp folder |
| interrupted work | SIGTERM during `tune` (slow) | exit 143, no summary.md/report.pdf, the message says how to resume, the parent run KILLED |
| kill leftovers | SIGKILL during `train`, then the same command | the hidden temp folder of the killed run is removed and its MLflow run marked KILLED by the next run |
| impossible settings | `--lr -1/nan/inf`, `--epochs 0`, `--bs 0`, `--monitor recall_X`, a sweep space with `lr = -0.01` | exit 2 (1 for the sweep file), the flag (or key and file) named, nothing written |
| `--force` over an input | `predict -o <its input> --force`, `-o <run>/model/config.json --force`, `data build SRC -o SRC --force`, `train -o <dir holding --data>` | exit 1, "an input of this command", inputs byte-identical |
| concurrency | two `train` at once on a new sqlite MLflow store | both exit 0, two FINISHED runs |

Each test gets its own HEARTAI_HOME (where the sweep key lives) and MLflow SQLite store."""
import hashlib, io, json, os, pickle, shutil, signal, sqlite3, subprocess, sys, time
from pathlib import Path
import pytest

from test_cli import TINY, make_env, cli   # the shared way to run the command in its own HEARTAI_HOME and MLflow store

def start(*args, env, cwd):
    return subprocess.Popen([sys.executable, '-m', 'heartai.cli', *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd)

def error_line(r, code, *contains):
    "One `heartai: error:` line on stderr, exit status `code`, containing every string of `contains`."
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code and len(lines) == 1 and lines[0].startswith('heartai: error: '), (r.returncode, r.stderr[-3000:])
    for c in contains: assert c in lines[0], (c, lines[0])
    assert '.tmp-' not in lines[0], lines[0]   # never an internal temporary path
    return lines[0]

def snapshot(d:Path)->dict:
    "Every file under `d` (hidden ones too) and its SHA-256."
    return {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.rglob('*')) if f.is_file()}

def hidden_temps(d:Path)->list: return sorted(p.name for p in d.iterdir() if p.name.startswith('.') and '.tmp-' in p.name)

def run_statuses(db:Path)->list:
    "Status of every MLflow run in the sqlite store `db` (read with sqlite3: no MLflow in the test process)."
    if not db.exists(): return []
    try:
        with sqlite3.connect(db, timeout=30) as c: return [s for (s,) in c.execute('select status from runs')]
    except sqlite3.OperationalError: return []   # the tables are being created

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A tiny model trained on synthetic beats (no MLflow), and a beats file."
    d = tmp_path_factory.mktemp('trained')
    cli('train', '--n', 300, '--epochs', 1, *TINY, '--no-mlflow', '-q', '-o', d/'run', env=make_env(d), cwd=d)
    from heartai.core import synth_beats
    synth_beats(60, seed=1).to_csv(d/'good.csv', index=False)
    return d

# --- code run on resume ------------------------------------------------------------------------------------------------

class Evil:
    "A pickle whose loading creates the file `path`."
    def __init__(self, path): self.path = str(path)
    def __reduce__(self): return (io.open, (self.path, 'w'))

def test_resume_refuses_foreign_sweep_folder(tmp_path, env, monkeypatch):
    marker = tmp_path/'pwned'
    ray_dir = tmp_path/'ray'; ev = ray_dir/'evil'; ev.mkdir(parents=True)
    (ev/'heartai_sweep.json').write_text(json.dumps(dict(parent_run_id='0' * 32, tracking_uri=env['MLFLOW_TRACKING_URI'], experiment='x')))
    (ev/'tuner.pkl').write_bytes(pickle.dumps(Evil(marker)))
    (tmp_path/'sweep.toml').write_text(f'[tune]\nstorage_path = "{ray_dir}"\nnum_samples = 2\nmax_epochs = 1\n[space]\narch = "cnn1d"\nwidth = [4, 8]\n')
    before = snapshot(ray_dir)
    r = cli('tune', 'sweep.toml', '-o', 'out', '--resume', 'evil', env=env, cwd=tmp_path, ok=False)
    error_line(r, 1, 'evil/heartai_digest.json: missing', 'not resuming')
    # signed by this user's heartai, then a file changed
    monkeypatch.setenv('HEARTAI_HOME', env['HEARTAI_HOME'])
    from heartai.tune import sign_sweep
    sign_sweep(ev)
    (ev/'tuner.pkl').write_bytes(pickle.dumps(Evil(marker)) + b'\n')
    before = snapshot(ray_dir)
    r = cli('tune', 'sweep.toml', '-o', 'out', '--resume', 'evil', env=env, cwd=tmp_path, ok=False)
    error_line(r, 1, 'evil/tuner.pkl: was changed since heartai closed the sweep')
    # a digest signed with another key (another user's, or made up)
    other = {**env, 'HEARTAI_HOME': str(tmp_path/'other')}
    subprocess.run([sys.executable, '-c', f'from heartai.tune import sign_sweep; sign_sweep({str(ev)!r})'], env=other, check=True)
    before = snapshot(ray_dir)
    r = cli('tune', 'sweep.toml', '-o', 'out', '--resume', 'evil', env=env, cwd=tmp_path, ok=False)
    error_line(r, 1, "heartai_digest.json: not signed with this user's sweep key")
    assert not marker.exists(), "a pickle of the sweep folder was loaded"
    assert snapshot(ray_dir) == before and not (tmp_path/'out').exists()
    assert not (tmp_path/'mlflow.db').exists()   # refused before anything was opened

# --- interrupted work --------------------------------------------------------------------------------------------------

def wait_running(db:Path, p, timeout=300):
    "Wait until the MLflow store `db` has a RUNNING run (the training has started)."
    t0 = time.time()
    while time.time() - t0 < timeout and p.poll() is None and 'RUNNING' not in run_statuses(db): time.sleep(0.5)
    assert p.poll() is None, p.communicate()[1][-3000:]
    assert 'RUNNING' in run_statuses(db)
    time.sleep(2)   # into the epochs

@pytest.mark.parametrize('sig,code', [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_train_interrupted(tmp_path, env, sig, code):
    p = start('train', '--n', 4000, '--epochs', 200, *TINY, '-q', '-o', 'run', env=env, cwd=tmp_path)
    wait_running(tmp_path/'mlflow.db', p)
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    lines = err.strip().splitlines()
    assert p.returncode == code and len(lines) == 1, (p.returncode, err[-3000:])
    assert lines[0].startswith(f'heartai: interrupted by {signal.Signals(sig).name}: ') and 'run was not written' in lines[0], lines[0]
    assert 'run the same command again' in lines[0]
    assert run_statuses(tmp_path/'mlflow.db') == ['KILLED']
    assert not (tmp_path/'run').exists() and hidden_temps(tmp_path) == []

def test_next_run_cleans_what_a_kill_left(tmp_path, env):
    p = start('train', '--n', 4000, '--epochs', 200, *TINY, '-q', '-o', 'run', env=env, cwd=tmp_path)
    wait_running(tmp_path/'mlflow.db', p)
    p.kill(); p.communicate(timeout=60)
    left = hidden_temps(tmp_path)
    assert len(left) == 1 and left[0].startswith(f'.run.tmp-{p.pid}-'), left   # SIGKILL cannot be handled: its temp folder stays
    assert run_statuses(tmp_path/'mlflow.db') == ['RUNNING']   # nor can it close its MLflow run
    cli('train', '--n', 300, '--epochs', 1, *TINY, '-q', '-o', 'run', env=env, cwd=tmp_path)
    assert hidden_temps(tmp_path) == [] and (tmp_path/'run'/'train.json').exists()
    assert sorted(run_statuses(tmp_path/'mlflow.db')) == ['FINISHED', 'KILLED']

@pytest.mark.slow
def test_tune_interrupted(tmp_path, env, monkeypatch):
    (tmp_path/'sweep.toml').write_text(f'[tune]\nstorage_path = "{tmp_path}/ray"\nname = "sw"\nnum_samples = 4\nmax_epochs = 30\nnum_cpus = 1\n'
                                       f'n_synthetic = 3000\nlog_model = false\nscheduler = "fifo"\n'
                                       '[space]\narch = "cnn1d"\nn_blocks = 2\nhead_hidden = 0\nwidth = [4, 8]\nlr = {loguniform = [1e-3, 1e-2]}\n')
    p = start('tune', 'sweep.toml', '-o', 'out', '-q', env=env, cwd=tmp_path)
    t0 = time.time()
    while time.time() - t0 < 300 and p.poll() is None and run_statuses(tmp_path/'mlflow.db').count('RUNNING') < 2: time.sleep(1)
    assert p.poll() is None, p.communicate()[1][-3000:]
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=300)
    last = err.strip().splitlines()[-1]
    assert p.returncode == 143 and 'Traceback' not in err and 'Stack trace' not in err, (p.returncode, err[-3000:])   # no stack dump
    assert last.startswith('heartai: interrupted by SIGTERM: ') and '--resume sw' in last and 'out was not written' in last, last
    assert not (tmp_path/'out').exists() and hidden_temps(tmp_path) == []   # no summary.md or report.pdf that look complete
    assert 'RUNNING' not in run_statuses(tmp_path/'mlflow.db') and 'KILLED' in run_statuses(tmp_path/'mlflow.db')
    monkeypatch.setenv('HEARTAI_HOME', env['HEARTAI_HOME'])
    from heartai.tune import check_sweep
    check_sweep(tmp_path/'ray'/'sw')   # signed as Ray left it: `--resume sw` may go on

# --- settings that cannot be right ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('args,msg', [
    (['--lr', '-0.001'], "--lr must be a number or 'auto' (positive and finite), got '-0.001'"), (['--lr=-1e-3'], "--lr must be a number or 'auto' (positive and finite)"),
    (['--lr', 'nan'], "--lr must be a number or 'auto' (positive and finite)"), (['--lr', 'inf'], "--lr must be a number or 'auto' (positive and finite)"),
    (['--epochs', '0'], "--epochs must be an integer >= 1, got 0"), (['--bs', '0'], "--bs must be an integer >= 1, got 0"),
    (['--monitor', 'recall_X'], "--monitor 'recall_X' is not a recorded metric; choose one of")])
def test_impossible_settings(tmp_path, env, args, msg):
    before = snapshot(tmp_path)
    r = cli('train', '--n', 200, '--hp', 'width=8', '--hp', 'n_blocks=2', *args, '-o', 'run', env=env, cwd=tmp_path, ok=False)
    error_line(r, 2, msg)
    assert snapshot(tmp_path) == before and sorted(os.listdir(tmp_path)) == sorted({'home'} & set(os.listdir(tmp_path)))

def test_impossible_sweep_space(tmp_path, env):
    (tmp_path/'sweep.toml').write_text('[tune]\nnum_samples = 2\n[space]\narch = "cnn1d"\nlr = [1e-3, -0.01]\n')
    before = snapshot(tmp_path)
    error_line(cli('tune', 'sweep.toml', '-o', 'out', env=env, cwd=tmp_path, ok=False), 1, "sweep.toml: lr must be a number or 'auto' (positive and finite)", "got -0.01")
    assert snapshot(tmp_path) == before and not (tmp_path/'out').exists()

# --- --force never writes over an input -----------------------------------------------------------------------------------

def test_force_never_over_an_input(trained, tmp_path, env):
    d = trained
    before = snapshot(d)
    r = cli('predict', d/'run', d/'good.csv', '-o', d/'good.csv', '--force', env=env, cwd=tmp_path, ok=False)
    error_line(r, 1, 'good.csv is, or holds, an input of this command', 'even with --force')
    r = cli('predict', d/'run', d/'good.csv', '-o', d/'run'/'model'/'config.json', '--force', env=env, cwd=tmp_path, ok=False)
    error_line(r, 1, 'config.json is, or holds, an input of this command')
    from heartai.data.physionet import synth_record
    synth_record(tmp_path/'recs', 'r01', n_beats=30, seed=0)
    recs = snapshot(tmp_path/'recs')
    error_line(cli('data', 'build', tmp_path/'recs', '-o', tmp_path/'recs', '--force', env=env, cwd=tmp_path, ok=False), 1, 'an input of this command')
    error_line(cli('data', 'build', tmp_path/'recs'/'r01', '-o', tmp_path/'recs'/'r01.hea', '--force', env=env, cwd=tmp_path, ok=False), 1,
               'an input of this command')
    shutil.copytree(d/'run', tmp_path/'run2'); shutil.copy(d/'good.csv', tmp_path/'run2'/'beats.csv')
    run2 = snapshot(tmp_path/'run2')
    r = cli('train', '--data', tmp_path/'run2'/'beats.csv', '--epochs', 1, *TINY, '--no-mlflow', '-o', tmp_path/'run2', '--force', env=env, cwd=tmp_path, ok=False)
    error_line(r, 1, 'run2 is, or holds, an input of this command')
    assert snapshot(d) == before and snapshot(tmp_path/'recs') == recs and snapshot(tmp_path/'run2') == run2
    cli('predict', d/'run', d/'good.csv', '-o', tmp_path/'pred.csv', '-q', env=env, cwd=tmp_path)   # a new output is fine

# --- concurrency ------------------------------------------------------------------------------------------------------------

def test_two_trains_on_a_new_store(tmp_path, env):
    ps = [start('train', '--n', 200, '--epochs', 1, *TINY, '-q', '-o', f'run{i}', env=env, cwd=tmp_path) for i in range(2)]
    errs = [p.communicate(timeout=600)[1] for p in ps]
    assert [p.returncode for p in ps] == [0, 0], errs
    assert run_statuses(tmp_path/'mlflow.db') == ['FINISHED', 'FINISHED']
