"""The `heartai` command end to end: every subcommand run as a real process (`python -m heartai.cli`) in a temporary
directory, on synthetic beats and on WFDB records written by the tests; bad input gives one error line and a non-zero
exit code, and an existing output is never touched without --force.

Each test gets its own HEARTAI_HOME and MLflow SQLite store; torch runs one thread per process (pytest-xdist already
runs one test per core)."""
import functools, hashlib, http.server, json, os, re, shutil, subprocess, sys, threading
from pathlib import Path
import pytest

TINY = ['--hp', 'width=8', '--hp', 'n_blocks=2', '--hp', 'head_hidden=0', '--lr', '3e-3']
CODES = ['N', 'S', 'V', 'F', 'Q']
PROBS = [f'prob_{c}' for c in CODES]

def make_env(d):
    d = Path(d)
    return {**os.environ, 'HEARTAI_HOME': str(d/'home'), 'MLFLOW_TRACKING_URI': f"sqlite:///{d}/mlflow.db",
            'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'}

def cli(*args, env, cwd, timeout=600, ok=True):
    "Run `python -m heartai.cli *args`; with `ok`, fail the test unless it exits 0."
    r = subprocess.run([sys.executable, '-m', 'heartai.cli', *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    if ok: assert r.returncode == 0, f"heartai {' '.join(map(str, args))} exited {r.returncode}:\n{r.stderr[-3000:]}"
    return r

def error_line(r, contains='', code=None):
    "Check that a run failed with exactly one `heartai: error:` line on stderr (no traceback); return the line."
    assert r.returncode != 0 and (code is None or r.returncode == code), (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('heartai: error: '), r.stderr
    assert contains in lines[0], (contains, lines[0])
    return lines[0]

def digest(p:Path)->str:
    "SHA-256 of a file, or of every file under a directory."
    files = [p] if p.is_file() else sorted(f for f in p.rglob('*') if f.is_file())
    h = hashlib.sha256()
    for f in files: h.update(str(f.relative_to(p.parent)).encode()); h.update(f.read_bytes())
    return h.hexdigest()

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A tiny model trained on synthetic beats, with an operating point for V recall 0.9 (no MLflow)."
    d = tmp_path_factory.mktemp('trained')
    cli('train', '--n', 300, '--epochs', 1, *TINY, '--recall', 'V=0.9', '--no-mlflow', '-q', '-o', d/'run', env=make_env(d), cwd=d)
    return d/'run'

def write_records(d, names=('r01', 'r02'), n_beats=40, annotate=True):
    from heartai.data.physionet import synth_record
    return [synth_record(d, n, n_beats=n_beats, seed=i, annotate=annotate) for i, n in enumerate(names)]

# --- the command line itself ------------------------------------------------------------------------------------------

def test_console_script_and_usage_errors(tmp_path, env):
    import heartai
    script = Path(sys.executable).parent/'heartai'
    assert script.exists(), "the console script is not installed: pip install -e ."
    r = subprocess.run([str(script), '--version'], capture_output=True, text=True, env=env)
    assert (r.returncode, r.stdout.strip()) == (0, f'heartai {heartai.__version__}')
    r = cli('--help', env=env, cwd=tmp_path)
    assert all(c in r.stdout for c in ('data', 'train', 'tune', 'predict', 'report', 'demo'))
    for args, msg in [((), 'choose a command'), (('bogus',), "invalid choice: 'bogus'"), (('data',), 'choose an action'),
                      (('train',), 'the following arguments are required: -o/--output'),
                      (('train', '--epochs', 'two', '-o', 'x'), "argument --epochs: invalid int value: 'two'"),
                      (('train', '--lr', 'fast', '-o', 'x'), "--lr must be a number or 'auto'"),
                      (('train', '--hp', 'width', '-o', 'x'), "--hp must be NAME=VALUE"),
                      (('predict', 'm', 'i'), 'required: -o/--output'), (('data', 'download', 'nodb'), "invalid choice: 'nodb'")]:
        error_line(cli(*args, env=env, cwd=tmp_path, ok=False), msg, code=2)
    assert not (tmp_path/'x').exists()

# --- data ---------------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_data_build_with_ray(tmp_path, env):
    "`heartai data build --ray`: one Ray task per record (a private Ray on loopback), the same beats as the local build."
    import pandas as pd
    from heartai.data.physionet import beats_from_records
    write_records(tmp_path/'recs', ('r01', 'r02', 'r03'), n_beats=30)
    r = cli('data', 'build', tmp_path/'recs', '-o', tmp_path/'ray.parquet', '--ray', env=env, cwd=tmp_path)
    assert 'Token authentication' not in r.stderr, r.stderr   # Ray's notice is not heartai's to show
    got = pd.read_parquet(tmp_path/'ray.parquet')
    ref = beats_from_records(tmp_path/'recs', cache=False, n_workers=1, progress=False)
    assert len(got) == len(ref) == 90
    pd.testing.assert_frame_equal(got[list(ref.columns[:189])].reset_index(drop=True), ref[list(ref.columns[:189])].reset_index(drop=True), check_dtype=False)


def test_data_build_and_info(tmp_path, env):
    import pandas as pd
    from heartai.data.core import read_beats
    write_records(tmp_path/'recs', ('r01',)); write_records(tmp_path/'recs', ('r02',), n_beats=30, annotate=False)
    r = cli('data', 'build', tmp_path/'recs', '-o', tmp_path/'b.parquet', env=env, cwd=tmp_path)
    b = read_beats(tmp_path/'b.parquet', classes='mitbih')
    assert len(b) == 40 and set(b.record) == {'r01'} and set(b.fs) == {360.0} and {'rpeak', 'symbol', 'lead'} <= set(b.columns)
    assert 'beats without a class left out' in r.stdout
    info = cli('data', 'info', tmp_path/'b.parquet', env=env, cwd=tmp_path).stdout
    counts = {l.split()[0]: int(l.split()[1]) for l in info.splitlines()[:8] if l.split() and l.split()[0] in CODES}
    assert counts == b.target.map(dict(enumerate(CODES))).value_counts().reindex(CODES, fill_value=0).to_dict()
    info = cli('data', 'info', tmp_path/'recs', '-q', env=env, cwd=tmp_path).stdout
    assert 'unlabelled' in info and re.search(r'^r01\s+(\d+\s+){5}0\s+40$', info, re.M), info
    n02 = int(re.search(r'^r02\s+(?:0\s+){5}(\d+)\s+(\d+)$', info, re.M).group(1))   # XQRS finds about its 30 beats
    assert 27 <= n02 <= 31, info
    # an existing output is refused and left as it was; --force replaces it
    before = digest(tmp_path/'b.parquet')
    error_line(cli('data', 'build', tmp_path/'recs', '-o', tmp_path/'b.parquet', env=env, cwd=tmp_path, ok=False), 'exists; pass --force', 1)
    assert digest(tmp_path/'b.parquet') == before
    cli('data', 'build', tmp_path/'recs'/'r01', '-o', tmp_path/'b.parquet', '--force', '-q', env=env, cwd=tmp_path)
    assert len(pd.read_parquet(tmp_path/'b.parquet')) == 40
    error_line(cli('data', 'build', tmp_path/'recs'/'r02', '-o', tmp_path/'c.parquet', env=env, cwd=tmp_path, ok=False), 'no beat has a class', 1)

def test_data_download_from_a_mirror(tmp_path, env):
    mirror = tmp_path/'mirror'
    write_records(mirror, ('100', '101'), n_beats=20)
    (mirror/'SHA256SUMS.txt').write_text(''.join(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}\n" for f in sorted(mirror.iterdir())))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(mirror)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    try:
        cli('data', 'download', 'mitdb', '--records', '101', '--dest', tmp_path/'dl', '--mirror', url, '-q', env=env, cwd=tmp_path)
        assert sorted(f.name for f in (tmp_path/'dl').iterdir()) == ['101.atr', '101.dat', '101.hea', 'SHA256SUMS.txt']
        assert all((tmp_path/'dl'/f).read_bytes() == (mirror/f).read_bytes() for f in ('101.dat', '101.atr'))
        (mirror/'100.dat').write_bytes(b'not the signal')
        r = cli('data', 'download', 'mitdb', '--dest', tmp_path/'dl2', '--mirror', url, '-q', env=env, cwd=tmp_path, ok=False)
        error_line(r, 'do not match', 1)
    finally: srv.shutdown()

# --- train, report ------------------------------------------------------------------------------------------------------

def test_report(trained, tmp_path, env):
    cli('report', trained, '-q', env=env, cwd=tmp_path)
    pdf, html = (trained/'report.pdf').read_bytes(), (trained/'report.html').read_text()
    # the summary page, then confusion matrix (argmax, at the operating point), PR curves, top losses, learning curves
    assert pdf.startswith(b'%PDF') and len(re.findall(rb'/Type\s*/Page\b', pdf)) == 1 + 5
    assert html.count("src='data:image/png;base64,") == 5 and 'Validation, per class' in html and '>Precision-recall curves<' in html
    before = digest(trained/'report.pdf')
    error_line(cli('report', trained, env=env, cwd=tmp_path, ok=False), 'report.pdf exists; pass --force', 1)
    assert digest(trained/'report.pdf') == before

def test_fine_tune_to_ptb_and_channel_mismatch(trained, tmp_path, env):
    cli('train', '--data', 'synthetic', '--classes', 'ptb', '--n', 200, '--pretrained', trained, '--epochs', 1, '--lr', '3e-3',
            '--no-mlflow', '-q', '-o', tmp_path/'ft', env=env, cwd=tmp_path)
    cfg = json.loads((tmp_path/'ft'/'model'/'config.json').read_text())
    assert cfg['vocab'] == ['normal', 'abnormal'] and cfg['arch'] == 'cnn1d' and cfg['arch_kwargs']['width'] == 8
    run = json.loads((tmp_path/'ft'/'checkpoints'/next((tmp_path/'ft'/'checkpoints').iterdir()).name/'run.json').read_text())
    assert run['method'] == 'fine_tune'
    r = cli('train', '--n', 100, '--pretrained', trained, '--channels', 'raw,d1', *TINY, '--no-mlflow', '-o', tmp_path/'mm',
                env=env, cwd=tmp_path, ok=False)
    error_line(r, 'takes 1 input channel(s)', 1)
    assert not (tmp_path/'mm').exists() and not list(tmp_path.glob('.mm*'))   # nothing left behind

# --- predict ------------------------------------------------------------------------------------------------------------

def test_predict_record_without_annotations(trained, tmp_path, env):
    import numpy as np, pandas as pd
    from heartai.interpret import OperatingPoint
    rec, = write_records(tmp_path/'new', ('x01',), n_beats=50, annotate=False)
    assert not Path(str(rec) + '.atr').exists()
    cli('predict', trained, rec, '-o', tmp_path/'p.csv', env=env, cwd=tmp_path)
    p = pd.read_csv(tmp_path/'p.csv')
    assert list(p.columns) == ['record', 'beat', 'rpeak', 'time_s', 'true', 'pred', *PROBS, 'quality', 'decision', 'flag', 'qrs_corr']
    assert 45 <= len(p) <= 52 and (p.record == 'x01').all() and p.true.isna().all() and p.rpeak.is_monotonic_increasing
    assert np.allclose(p.time_s, p.rpeak / 360, atol=1e-4) and np.allclose(p[PROBS].sum(1), 1, atol=1e-4)
    assert (p.pred == np.array(CODES)[p[PROBS].to_numpy().argmax(1)]).all()
    op = OperatingPoint.from_json(trained/'model'/'operating_point.json')   # saved by train --recall, used by default
    assert (p.decision == np.array(CODES)[op.apply(p[PROBS].to_numpy())]).all() and (p.flag == (p.decision != 'N')).all()

def test_predict_folder_of_records_writes_per_record_summary(trained, tmp_path, env):
    import numpy as np, pandas as pd
    write_records(tmp_path/'recs', ('r01', 'r02'), n_beats=40)
    write_records(tmp_path/'recs', ('x03',), n_beats=30, annotate=False)
    r = cli('predict', trained, tmp_path/'recs', '-o', tmp_path/'p.csv', env=env, cwd=tmp_path)
    assert 'records.csv' in r.stdout
    b, s = pd.read_csv(tmp_path/'p.csv'), pd.read_csv(tmp_path/'p.records.csv')
    assert list(s.columns) == ['record', 'duration_s', 'beats', *[f'n_{c}' for c in CODES], 'n_unclassifiable', 'pvc_burden_pct', 'S_per_hour', 'V_per_hour', 'flagged', 'qrs_consistency', 'signal']
    assert (s.signal == 'ok').all() and (s.qrs_consistency > 0.4).all()   # synthetic ECGs: not taken for noise
    assert s.record.tolist() == ['r01', 'r02', 'x03'] and s.beats.tolist() == b.record.value_counts().sort_index().tolist()
    assert (s[[f'n_{c}' for c in CODES] + ['n_unclassifiable']].sum(1) == s.beats).all() and s.flagged.tolist() == b.groupby('record').flag.sum().tolist()
    assert np.allclose(s.pvc_burden_pct, 100 * s.n_V / s.beats, atol=1e-3) and np.allclose(s.V_per_hour, s.n_V * 3600 / s.duration_s, atol=0.01)
    assert (s.duration_s > b.groupby('record').time_s.max().to_numpy()).all()   # a record lasts past its last beat
    cli('predict', trained, tmp_path/'recs'/'r01', '-o', tmp_path/'one.csv', '-q', env=env, cwd=tmp_path)
    assert pd.read_csv(tmp_path/'one.records.csv').record.tolist() == ['r01']
    before = digest(tmp_path/'p.records.csv')
    (tmp_path/'p.csv').unlink()
    error_line(cli('predict', trained, tmp_path/'recs', '-o', tmp_path/'p.csv', env=env, cwd=tmp_path, ok=False), 'p.records.csv exists; pass --force', 1)
    assert digest(tmp_path/'p.records.csv') == before and not (tmp_path/'p.csv').exists()
    cli('predict', trained, tmp_path/'recs'/'r02', '-o', tmp_path/'p.csv', '--force', '-q', env=env, cwd=tmp_path)
    assert pd.read_csv(tmp_path/'p.records.csv').record.tolist() == ['r02']   # --force replaces both

def test_train_interpatient_reports_valid_and_test_apart(tmp_path, env):
    from heartai.data.physionet import DS1, DS2
    write_records(tmp_path/'mit', DS1[:6] + DS2[:2], n_beats=40)
    r = cli('train', '--data', tmp_path/'mit', '--split', 'interpatient', '--epochs', 1, *TINY, '--recall', 'V=0.9', '--no-mlflow',
            '-o', tmp_path/'run', env=env, cwd=tmp_path)
    v, t = r.stdout.index('VALID ('), r.stdout.index('TEST (')
    assert v < t and 'held-out DS1 patients' in r.stdout[v:t] and 'DS2 patients: predicted once' in r.stdout[t:], r.stdout
    assert 'operating point chosen on valid, reached on test' in r.stdout[t:]
    m = json.loads((tmp_path/'run'/'metrics.json').read_text())
    assert m['n_test'] == 80 and m['n_valid'] == 4 * 40 and set(m['test']) == set(m['valid'])
    cli('report', tmp_path/'run', env=env, cwd=tmp_path)
    html = (tmp_path/'run'/'report.html').read_text()
    assert 'Test, per class' in html and 'Confusion matrix on test' in html

def test_rhythm_pqrst_two_lead_model_predicts_records_as_trained(tmp_path, env):
    import numpy as np, pandas as pd
    from heartai.data.physionet import DS1, DS2
    from heartai.core import synth_beats
    write_records(tmp_path/'mit', DS1[:6] + DS2[:2], n_beats=40)
    cli('train', '--data', tmp_path/'mit', '--split', 'interpatient', '--rhythm', '--window', 'pqrst', '--leads', 2, '--epochs', 1, *TINY,
        '--no-mlflow', '-q', '-o', tmp_path/'run', env=env, cwd=tmp_path)
    cfg = json.loads((tmp_path/'run'/'model'/'config.json').read_text())
    assert cfg['data']['window'] == 'pqrst:0.25:0.45' and cfg['data']['leads'] == ['lead0', 'lead1'] and cfg['data']['rhythm']['cols']
    cli('predict', tmp_path/'run', tmp_path/'mit', '-o', tmp_path/'p.csv', '-q', env=env, cwd=tmp_path)   # cut with the model's window and leads
    p = pd.read_csv(tmp_path/'p.csv')
    ev = np.load(tmp_path/'run'/'eval.npz')
    test = p[p.record.astype(str).isin(DS2[:2])][PROBS].to_numpy()
    z = ev['test_logits']; probs = np.exp(z - z.max(1, keepdims=True)); probs /= probs.sum(1, keepdims=True)
    assert np.allclose(test, probs, atol=1e-4)   # the DS2 beats predicted from the raw records = training's test predictions
    synth_beats(20).to_csv(tmp_path/'k.csv', index=False)
    error_line(cli('predict', tmp_path/'run', tmp_path/'k.csv', '-o', tmp_path/'k_out.csv', env=env, cwd=tmp_path, ok=False),
               "the model takes rhythm features", 1)
    error_line(cli('train', '--window', 'qrs', '-o', tmp_path/'x', env=env, cwd=tmp_path, ok=False), "--window: window must be", 2)

def test_recipe_newpatients_template_model_predicts_records_as_trained(tmp_path, env):
    import numpy as np, pandas as pd
    from heartai.data.physionet import DS1, DS2
    write_records(tmp_path/'mit', DS1[:6] + DS2[:2], n_beats=40)
    cli('train', '--recipe', 'newpatients', '--data', tmp_path/'mit', '--epochs', 1, *TINY, '--no-mlflow', '-q', '-o', tmp_path/'run',
        env=env, cwd=tmp_path)   # flags given replace the recipe's (epochs, hp, lr); the rest come from it
    s = json.loads((tmp_path/'run'/'train.json').read_text())['settings']
    assert (s['split'], s['loss'], s['bs'], s['epochs'], s['augment'], s['template'], s['hp']['width']) == ('interpatient', 'focal', 256, 1, True, True, 8), s
    cfg = json.loads((tmp_path/'run'/'model'/'config.json').read_text())
    assert cfg['data']['leads'] == ['lead0', 'lead0-tmpl'] and cfg['data']['window'] == 'kachuee' and cfg['data']['rhythm']['cols']
    cli('predict', tmp_path/'run', tmp_path/'mit', '-o', tmp_path/'p.csv', '-q', env=env, cwd=tmp_path)
    p, ev = pd.read_csv(tmp_path/'p.csv'), np.load(tmp_path/'run'/'eval.npz')
    z = ev['test_logits']; probs = np.exp(z - z.max(1, keepdims=True)); probs /= probs.sum(1, keepdims=True)
    assert np.allclose(p[p.record.astype(str).isin(DS2[:2])][PROBS].to_numpy(), probs, atol=1e-4)   # each record compared with its own median beat
    error_line(cli('train', '--recipe', 'best', '-o', tmp_path/'x', env=env, cwd=tmp_path, ok=False), "--recipe: recipe 'best' is not one of", 2)

def test_predict_beats_files_and_thresholds(trained, tmp_path, env):
    import numpy as np, pandas as pd
    from heartai.core import synth_beats, SAMPLE_COLS
    df = synth_beats(60, seed=5)
    df.to_parquet(tmp_path/'lab.parquet'); df[SAMPLE_COLS].to_csv(tmp_path/'unlab.csv', index=False, header=False)
    cli('predict', trained/'model', tmp_path/'lab.parquet', '-o', tmp_path/'a.csv', '-q', env=env, cwd=tmp_path)
    cli('predict', trained, tmp_path/'unlab.csv', '-o', tmp_path/'b.csv', '--threshold', 'S=0', '-q', env=env, cwd=tmp_path)
    a, b = pd.read_csv(tmp_path/'a.csv'), pd.read_csv(tmp_path/'b.csv')
    assert len(a) == len(b) == 60 and (a.true == np.array(CODES)[df.target]).all() and 'true' not in b.columns
    assert np.allclose(a[PROBS], b[PROBS], atol=1e-5)
    assert (b.decision == 'S').all() and b.flag.all()       # S >= 0: every beat is decided S
    before = digest(tmp_path/'a.csv')
    r = cli('predict', trained, tmp_path/'lab.parquet', '-o', tmp_path/'a.csv', env=env, cwd=tmp_path, ok=False)
    error_line(r, 'a.csv exists; pass --force to replace it', 1)
    assert digest(tmp_path/'a.csv') == before

# --- bad input ----------------------------------------------------------------------------------------------------------

def test_bad_input_is_one_line(trained, tmp_path, env):
    import pandas as pd
    from heartai.core import synth_beats
    synth_beats(20, seed=1).to_parquet(tmp_path/'ok.parquet')
    (tmp_path/'beats.txt').write_text('1,2,3\n')
    bad = synth_beats(3, seed=2).astype({'17': object}); bad.loc[1, '17'] = 'abc'; bad.to_csv(tmp_path/'text.csv', index=False)
    run = lambda *a: cli(*a, env=env, cwd=tmp_path, ok=False)
    # missing files
    error_line(run('data', 'info', tmp_path/'none.csv'), 'none.csv: no such file', 1)
    error_line(run('predict', trained, tmp_path/'none.parquet', '-o', tmp_path/'o.csv'), 'none.parquet: no such beats file', 1)
    error_line(run('predict', tmp_path/'nomodel', tmp_path/'ok.parquet', '-o', tmp_path/'o.csv'), 'nomodel: no such model', 1)
    error_line(run('train', '--data', tmp_path/'none.parquet', '-o', tmp_path/'r'), 'none.parquet: no such file', 1)
    error_line(run('report', tmp_path/'nodir'), 'nodir: no such run directory', 1)
    error_line(run('tune', tmp_path/'none.toml'), 'none.toml: no such sweep file', 1)
    # wrong formats
    error_line(run('data', 'info', tmp_path/'beats.txt'), "unknown file type '.txt'", 1)
    error_line(run('predict', trained, tmp_path/'text.csv', '-o', tmp_path/'o.csv'), "data row 1 (line 3), column '17': value 'abc' is not a number", 1)
    error_line(run('report', tmp_path), 'not a run directory of `heartai train`', 1)
    shutil.copytree(trained/'model', tmp_path/'broken')
    (tmp_path/'broken'/'model.safetensors').write_bytes(b'tampered')
    error_line(run('predict', tmp_path/'broken', tmp_path/'ok.parquet', '-o', tmp_path/'o.csv'), 'does not match the SHA-256', 1)
    (tmp_path/'bad.toml').write_text('[space]\nwidth = [4, 8\n')
    error_line(run('tune', tmp_path/'bad.toml', '-o', tmp_path/'sw'), 'bad.toml: not valid TOML', 1)
    # unknown architecture: a usage error
    error_line(run('train', '--arch', 'resnet999', '-o', tmp_path/'r'), "Unknown architecture 'resnet999'", 2)
    assert not (tmp_path/'o.csv').exists() and not (tmp_path/'r').exists() and not (tmp_path/'sw').exists()
    # an existing run directory is refused and untouched; --force does not replace a directory heartai did not make
    before = digest(trained)
    error_line(run('train', *TINY, '--no-mlflow', '-o', trained), 'run exists; pass --force to replace it', 1)
    assert digest(trained) == before
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('precious')
    error_line(run('train', *TINY, '--no-mlflow', '--force', '-o', tmp_path/'mine'), 'was not made by heartai', 1)
    assert (tmp_path/'mine'/'notes.txt').read_text() == 'precious'
    # --debug adds the traceback
    r = run('--debug', 'report', tmp_path)
    assert r.returncode == 1 and 'Traceback' in r.stderr and r.stderr.strip().splitlines()[-1].startswith('heartai: error: ')

# --- the demo: every command, with a sweep ------------------------------------------------------------------------------

def check_demo(out, tiny):
    import pandas as pd
    demo = json.loads((out/'demo.json').read_text())
    assert demo['status'] == 'finished' and demo['tiny'] == tiny
    assert list(demo['steps']) == ['data build', 'train', 'fine_tune', 'tune', 'predict', 'report']
    for f in ['data/beats.parquet', 'base/model/config.json', 'base/model/operating_point.json', 'base/report.pdf', 'base/report.html',
              'finetune/model/config.json', 'sweep/summary.md', 'sweep/report.pdf', 'sweep/trials.csv', 'predictions.csv']:
        assert (out/f).exists(), f
    trials = pd.read_csv(out/'sweep'/'trials.csv')
    assert len(trials) == (2 if tiny else 4) and trials.status.isin(['completed', 'stopped_early']).all()
    p = pd.read_csv(out/'predictions.csv')
    assert len(p) > 0.9 * (120 if tiny else 300) and (p.record == 'x001').all()
    return demo

def test_demo_tiny(tmp_path, env):
    from mlflow import MlflowClient
    r = cli('demo', '--tiny', '--out', tmp_path/'demo', '-q', env=env, cwd=tmp_path)
    assert 'heartai demo finished' in r.stdout and str(tmp_path/'demo') in r.stdout
    check_demo(tmp_path/'demo', tiny=True)
    base = tmp_path/'demo'/'base'
    info = json.loads((base/'train.json').read_text())
    assert info['lr_found'] and 1e-6 < info['lr'] < 10 and (base/'plots'/'lr_find.png').exists()   # lr_find picked the lr
    client = MlflowClient(env['MLFLOW_TRACKING_URI'])
    r = client.get_run(info['mlflow']['run_id'])
    assert r.info.status == 'FINISHED' and r.data.params['arch'] == 'cnn1d' and r.data.params['cli.hp.width'] == '8'
    assert len(client.get_metric_history(r.info.run_id, 'recall_macro')) == 1
    arts = {f.path for f in client.list_artifacts(r.info.run_id)} | {f.path for f in client.list_artifacts(r.info.run_id, 'plots')}
    assert {'metrics.json', 'eval.npz', 'model', 'plots/confusion_matrix.png', 'plots/top_losses.png', 'plots/lr_find.png'} <= arts, arts
    ft = json.loads((tmp_path/'demo'/'finetune'/'train.json').read_text())
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    parents = {r.info.run_id for r in runs if r.data.tags.get('heartai.kind') == 'sweep'}
    assert {info['mlflow']['run_id'], ft['mlflow']['run_id']} <= {r.info.run_id for r in runs} and len(parents) == 1
    assert sum(r.data.tags.get('mlflow.parentRunId') in parents for r in runs) == 2      # the two trials
    assert all(r.info.status == 'FINISHED' for r in runs)
    pdf = (base/'report.pdf').read_bytes()
    assert len(re.findall(rb'/Type\s*/Page\b', pdf)) == 1 + 6   # summary + cm, cm at the operating point, pr, top losses, curves, lr_find
    error_line(cli('demo', '--tiny', '--out', tmp_path/'demo', env=env, cwd=tmp_path, ok=False), 'exists; pass --force', 1)

@pytest.mark.slow
def test_demo_full_in_five_minutes(tmp_path, env):
    import time
    t = time.time()
    cli('demo', '--out', tmp_path/'demo', '-q', env=env, cwd=tmp_path)
    secs = time.time() - t
    demo = check_demo(tmp_path/'demo', tiny=False)
    assert secs < 300, f"heartai demo took {secs:.0f} s"
    assert json.loads((tmp_path/'demo'/'base'/'metrics.json').read_text())['valid']['recall_macro'] > 0.7
