"""Hostile and careless data through the `heartai` command (issue 15, data and inference side): every bad beats file,
record and model output gets exit code 1 and one error line naming the problem and the file, or - at prediction time -
an explicit 'unclassifiable', flagged beat; never a confident N. Nothing the command was given is changed.

The command runs in this process (`heartai.cli.main`), which is much faster than a subprocess per case; its own
HEARTAI_HOME and no MLflow."""
import gzip, hashlib, json, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest
from heartai.cli import main
from heartai.core import synth_beats, SAMPLE_COLS, BEAT_LEN

from test_cli import TINY
CODES = ['N', 'S', 'V', 'F', 'Q']

@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv('HEARTAI_HOME', str(tmp_path/'home')); monkeypatch.setenv('OMP_NUM_THREADS', '1')
    monkeypatch.chdir(tmp_path)

def run(capsys, *args):
    "Exit code, stdout and the stderr lines of `heartai *args`."
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()

def digest(d:Path)->dict:
    "SHA-256 of every file under `d`."
    return {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.rglob('*')) if f.is_file()}

def error(capsys, args, contains, tmp_path, code=1):
    "Run a command that must fail with exactly one error line containing every string of `contains`, changing no file."
    before = digest(tmp_path)
    c, _, err = run(capsys, *args)
    assert c == code and len(err) == 1 and err[0].startswith('heartai: error: '), (c, err)
    for s in contains: assert s in err[0], (s, err[0])
    assert digest(tmp_path) == before, "a failing command changed files"
    return err[0]

# --- bad beats files -----------------------------------------------------------------------------------------------

def kaggle(p, change=None, n=40, seed=4):
    "A headerless Kaggle-layout CSV of `n` synthetic beats, cells changed (as text) by `change`."
    d = synth_beats(n, seed=seed)
    t = d[SAMPLE_COLS].astype(object); t['label'] = d.target.astype(float)
    if change: change(t)
    t.to_csv(p, header=False, index=False); return p

def cell(r, c, v):
    def f(t): t.iloc[r, c] = v
    return f

def flat(r):
    def f(t): t.iloc[r, :BEAT_LEN] = 0.5
    return f

def nul(p): kaggle(p); b = p.read_bytes(); p.write_bytes(b[:900] + b'\x00' + b[900:]); return p
def zipped(p): kaggle(p); p.write_bytes(gzip.compress(p.read_bytes())); return p
def cut_gz(p): kaggle(p); b = p.read_bytes(); p.write_bytes(b[:len(b)//2]); return p   # pandas gzips a .gz name

BAD_FILES = [  # case, file, writer, what the one error line must say (beside the file name)
    ('NUL bytes', 'nul.csv', nul, ['holds NUL bytes (binary data), not CSV text']),
    ('gzip data in a .csv', 'zipped.csv', zipped, ['is gzip-compressed data, not CSV text; name it zipped.csv.gz']),
    ('truncated .csv.gz', 'cut.csv.gz', cut_gz, ['the gzip data is truncated or damaged']),
    ('1e39 sample', 'big39.csv', lambda p: kaggle(p, cell(3, 17, '1e39')), ["data row 3 (line 4), column '17'", 'sample 1e+39 is out of range']),
    ('1e30 sample', 'big30.csv', lambda p: kaggle(p, cell(3, 17, '1e30')), ["data row 3 (line 4), column '17'", 'implausible: sample 1e+30 beyond ±100']),
    ('flat-line beat', 'flat.csv', lambda p: kaggle(p, flat(5)), ['data row 5 (line 6)', 'implausible: flat line (every sample 0.5)']),
    ('label 7 in MIT-BIH data', 'label7.csv', lambda p: kaggle(p, cell(2, 187, 7.0)), ["data row 2 (line 3), column 'target'", 'label 7.0 is not a mitbih label']),
]

@pytest.mark.parametrize('case,name,write,msg', BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_training_refuses_bad_beats_files(case, name, write, msg, tmp_path, capsys):
    p = write(tmp_path/name)
    error(capsys, ['train', '--data', p, '--classes', 'mitbih', '--epochs', 1, *TINY, '--no-mlflow', '-q', '-o', tmp_path/'run'],
          [f'{p}: ', *msg], tmp_path)
    assert not (tmp_path/'run').exists()

def test_label_outside_class_set_names_file_and_row(tmp_path, capsys):
    p = kaggle(tmp_path/'label7.csv', cell(2, 187, 7.0))
    error(capsys, ['data', 'info', p, '--classes', 'mitbih'], [str(p), "data row 2 (line 3)", "label 7.0 is not a mitbih label"], tmp_path)

# --- a trained model, at prediction time -------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A tiny model trained on synthetic beats (no MLflow, no operating point)."
    d = tmp_path_factory.mktemp('trained')
    mp = pytest.MonkeyPatch(); mp.setenv('HEARTAI_HOME', str(d/'home')); mp.setenv('OMP_NUM_THREADS', '1')
    try: assert main(['train', '--n', '300', '--epochs', '1', *TINY, '--no-mlflow', '-q', '-o', str(d/'run')]) == 0
    finally: mp.undo()
    return d/'run'/'model'

def no_unflagged_n(p:pd.DataFrame):
    "Every beat whose quality is not 'ok' is unclassifiable and flagged; no N without probabilities."
    bad = p.quality != 'ok'
    assert (p.decision[bad] == 'unclassifiable').all() and p.flag[bad].all() and (p.pred[bad] == 'unclassifiable').all()
    assert p[[f'prob_{c}' for c in CODES]][bad].isna().all().all()
    assert not ((p.decision == 'N') & p[[f'prob_{c}' for c in CODES]].isna().any(axis=1)).any()

def test_predict_flags_a_1e30_beat_and_a_flat_line(trained, tmp_path, capsys):
    d = synth_beats(60, seed=5)[SAMPLE_COLS]
    d.iloc[3, 17] = 1e30; d.iloc[7] = 0.
    d.to_csv(tmp_path/'beats.csv', index=False, header=False)
    before = digest(tmp_path)
    c, out, _ = run(capsys, 'predict', trained, tmp_path/'beats.csv', '-o', tmp_path/'p.csv')
    assert c == 0 and 'unclassifiable: 2, see the quality column' in out, out
    p = pd.read_csv(tmp_path/'p.csv')
    assert len(p) == 60 and p.decision[[3, 7]].tolist() == ['unclassifiable'] * 2 and p.flag[[3, 7]].all()
    assert p.quality[3] == 'implausible: sample 1e+30 beyond ±100' and p.quality[7] == 'implausible: flat line (every sample 0)'
    assert (p.quality.drop([3, 7]) == 'ok').all() and p.decision.drop([3, 7]).isin(CODES).all()
    no_unflagged_n(p)
    assert {k: v for k, v in digest(tmp_path).items() if k != 'p.csv'} == before   # the input is untouched

def nan_model(src:Path, dst:Path)->Path:
    "A copy of the exported model `src` whose first weight is NaN (as training gone wrong would save it): every output is NaN."
    from safetensors.torch import load_file, save_file
    from heartai.core import sha256
    shutil.copytree(src, dst)
    sd = load_file(str(dst/'model.safetensors'))
    k = next(k for k, v in sd.items() if v.is_floating_point() and v.ndim > 1)
    sd[k] = sd[k].clone().fill_(float('nan'))
    save_file(sd, str(dst/'model.safetensors'))
    cfg = json.loads((dst/'config.json').read_text()); cfg['weights_sha256'] = sha256(dst/'model.safetensors')
    (dst/'config.json').write_text(json.dumps(cfg))   # a consistent model, not a tampered one: its outputs are NaN
    return dst

def test_nan_model_never_gives_n(trained, tmp_path, capsys):
    m = nan_model(trained, tmp_path/'nanmodel')
    synth_beats(30, seed=6).to_parquet(tmp_path/'lab.parquet')
    c, out, _ = run(capsys, 'predict', m, tmp_path/'lab.parquet', '-o', tmp_path/'p.csv')
    assert c == 0 and 'unclassifiable: 30' in out, out
    p = pd.read_csv(tmp_path/'p.csv')
    assert len(p) == 30 and (p.decision == 'unclassifiable').all() and p.flag.all()
    assert (p.quality == 'model output not finite (NaN or inf)').all()
    no_unflagged_n(p)
    # with thresholds (an operating point) too
    c, _, _ = run(capsys, 'predict', m, tmp_path/'lab.parquet', '-o', tmp_path/'q.csv', '--threshold', 'V=0.3', '-q')
    q = pd.read_csv(tmp_path/'q.csv')
    assert c == 0 and (q.decision == 'unclassifiable').all() and q.flag.all()

def test_class_list_must_match_the_outputs(trained, tmp_path, capsys):
    m = tmp_path/'m'; shutil.copytree(trained, m)
    cfg = json.loads((m/'config.json').read_text()); cfg['vocab'] = cfg['vocab'][:4]
    (m/'config.json').write_text(json.dumps(cfg))
    synth_beats(10, seed=1).to_parquet(tmp_path/'b.parquet')
    error(capsys, ['predict', m, tmp_path/'b.parquet', '-o', tmp_path/'p.csv'],
          [str(m/'config.json'), "'vocab' lists 4 classes but the model has 5 outputs"], tmp_path)
    assert not (tmp_path/'p.csv').exists()

# --- records ----------------------------------------------------------------------------------------------------------

def flat_record(d, name, n_beats=30, seed=3, span=None):
    "A synthetic record whose signal is constant (everywhere, or over samples `span`)."
    import wfdb
    from heartai.data.physionet import synth_record
    p = synth_record(d, name, n_beats=n_beats, seed=seed)
    r = wfdb.rdrecord(str(p)); sig = r.p_signal.copy()
    if span is None: sig[:] = 0.
    else: sig[span[0]:span[1]] = 0.
    wfdb.wrsamp(name, fs=r.fs, units=r.units, sig_name=r.sig_name, p_signal=sig, fmt=['16'] * sig.shape[1], write_dir=str(d))
    return p

def test_flat_line_record_is_skipped_with_its_name(trained, tmp_path, capsys):
    from heartai.data.physionet import synth_record
    recs = tmp_path/'recs'
    synth_record(recs, 'r01', n_beats=40, seed=1); flat_record(recs, 'dead')
    before = digest(recs)
    c, out, err = run(capsys, 'predict', trained, recs, '-o', tmp_path/'p.csv')
    assert c == 0, err
    assert any(l.startswith('heartai: warning: ') and "'dead': lead MLII is a flat line" in l for l in err), (out, err)
    p, s = pd.read_csv(tmp_path/'p.csv'), pd.read_csv(tmp_path/'p.records.csv')
    assert set(p.record) == {'r01'} and s.record.tolist() == ['r01']
    assert digest(recs) == before

def test_records_with_no_beats_name_the_record(trained, tmp_path, capsys):
    recs = tmp_path/'recs'; flat_record(recs, 'dead')
    error(capsys, ['predict', trained, recs, '-o', tmp_path/'p.csv'], ['No usable records in', "Record 'dead': lead MLII is a flat line"], tmp_path)
    error(capsys, ['train', '--data', recs, '--epochs', 1, *TINY, '--no-mlflow', '-q', '-o', tmp_path/'run'], ["Record 'dead'", 'flat line'], tmp_path)

def test_flat_stretch_in_a_record_is_unclassifiable_and_counted(trained, tmp_path, capsys):
    recs = tmp_path/'recs'
    flat_record(recs, 'gap', n_beats=60, seed=2, span=(360 * 10, 360 * 25))   # 15 s of lead off
    c, out, err = run(capsys, 'predict', trained, recs, '-o', tmp_path/'p.csv')
    assert c == 0, err
    p, s = pd.read_csv(tmp_path/'p.csv'), pd.read_csv(tmp_path/'p.records.csv')
    bad = p.quality != 'ok'
    assert bad.sum() >= 5 and p.quality[bad].str.startswith('implausible: flat line').all()
    no_unflagged_n(p)
    assert s.n_unclassifiable.tolist() == [int(bad.sum())] and s.flagged.iloc[0] >= bad.sum()
    assert (s[[f'n_{c}' for c in CODES] + ['n_unclassifiable']].sum(1) == s.beats).all()
