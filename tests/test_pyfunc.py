"""heartai's MLflow models end to end (`heartai.pyfunc`): `heartai train --register` logs the model as an MLflow
`python_function` model and registers it; loaded back by name and version, or from its run, it predicts what
`heartai predict` writes for the same beats; a tampered copy is refused (before any of its code runs); `heartai tune
--register` registers the best trial's model, chosen on the validation metric."""
import json, shutil
from pathlib import Path
import numpy as np, pandas as pd
import pytest
from test_cli import TINY, PROBS, cli, make_env, error_line

@pytest.fixture(scope='module')
def registered(tmp_path_factory):
    "A tiny model trained with an operating point into its own SQLite store, registered as 'hb'; (dir, run dir, env, URI)."
    d = tmp_path_factory.mktemp('pyfunc')
    env = make_env(d)
    cli('train', '--n', 300, '--epochs', 1, *TINY, '--recall', 'V=0.9', '--register', 'hb', '-q', '-o', d/'run', env=env, cwd=d)
    return d, d/'run', env, env['MLFLOW_TRACKING_URI']

def client(uri):
    from mlflow import MlflowClient
    return MlflowClient(tracking_uri=uri, registry_uri=uri)

def test_registry_holds_a_version_after_register(registered):
    d, run, env, uri = registered
    info = json.loads((run/'train.json').read_text())['mlflow']
    assert (info['registered']['name'], info['registered']['version'], info['registered']['model_uri']) == ('hb', 1, 'models:/hb/1')
    versions = client(uri).search_model_versions("name = 'hb'")
    assert [(int(v.version), v.run_id) for v in versions] == [(1, info['run_id'])]
    assert versions[0].source == f"models:/{info['registered']['model_id']}"

def test_register_needs_mlflow_and_a_valid_name(tmp_path):
    env = make_env(tmp_path)
    error_line(cli('train', '--n', 100, '--no-mlflow', '--register', 'hb', '-o', tmp_path/'r', env=env, cwd=tmp_path, ok=False),
               '--register: registering the model needs MLflow tracking', 2)
    error_line(cli('train', '--n', 100, '--register', 'a/b', '-o', tmp_path/'r', env=env, cwd=tmp_path, ok=False), "has no '/' or ':'", 2)
    assert not (tmp_path/'r').exists()

def test_pyfunc_round_trip_equals_heartai_predict(registered):
    import mlflow
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri
    from heartai.core import synth_beats
    from heartai.pyfunc import load_pyfunc
    d, run, env, uri = registered
    beats = synth_beats(80, seed=7)
    beats.to_parquet(d/'beats.parquet')
    cli('predict', run/'model', d/'beats.parquet', '-o', d/'pred.csv', '-q', env=env, cwd=d)
    ref = pd.read_csv(d/'pred.csv')
    rid = json.loads((run/'train.json').read_text())['mlflow']['run_id']
    with _use_tracking_uri(uri): by_run = mlflow.pyfunc.load_model(f"runs:/{rid}/model").predict(beats)   # MLflow's own loader
    for got in (load_pyfunc('models:/hb/1', uri).predict(beats), by_run):
        assert list(got.columns) == PROBS + ['decision']                  # the run has an operating point: its decision too
        np.testing.assert_allclose(got[PROBS].to_numpy(dtype=float), ref[PROBS].to_numpy(), atol=1e-6, rtol=0)   # CSV keeps 5 decimals
        assert got.decision.tolist() == ref.decision.tolist()

def _logged_copy(registered, dest):
    "A copy of the registered model's files, as a local MLflow model directory."
    from heartai.pyfunc import logged_model
    d, run, env, uri = registered
    mid = json.loads((run/'train.json').read_text())['mlflow']['registered']['model_id']
    src = Path(logged_model(f"models:/{mid}", uri).artifact_location.removeprefix('file://'))
    shutil.copytree(src, dest)
    return dest

def test_tampered_pyfunc_artifact_refused(registered, tmp_path):
    import mlflow
    from heartai.learner import ModelFileError
    from heartai.pyfunc import load_pyfunc, MODEL_CODE, CODE_NAME
    from heartai.core import synth_beats
    ok = _logged_copy(registered, tmp_path/'ok')
    assert load_pyfunc(str(ok)).predict(synth_beats(5, seed=1)).shape == (5, 6)
    w = _logged_copy(registered, tmp_path/'weights')/'artifacts'/'model'/'model.safetensors'
    b = bytearray(w.read_bytes()); b[-1] ^= 1; w.write_bytes(bytes(b))
    for load in (load_pyfunc, mlflow.pyfunc.load_model):   # refused by heartai's loader, and by HeartaiModel under MLflow's
        with pytest.raises(ModelFileError) as e: load(str(w.parents[2]))
        assert str(e.value) == f"{w}: does not match the SHA-256 recorded when it was logged; the model was changed after it was logged"
    sentinel = tmp_path/'ran'
    code = _logged_copy(registered, tmp_path/'code')/CODE_NAME
    code.write_text(MODEL_CODE + f"open({str(sentinel)!r}, 'w')\n")
    with pytest.raises(ModelFileError, match=f"{CODE_NAME}: not heartai's own model code"): load_pyfunc(str(code.parent))
    assert not sentinel.exists()

def test_tune_register_registers_the_best_trial_on_valid(tmp_path):
    env = make_env(tmp_path)
    (tmp_path/'sweep.toml').write_text('[tune]\nnum_samples = 2\nmax_epochs = 1\nn_synthetic = 300\nnum_cpus = 2\nscheduler = "fifo"\n'
                                       f'storage_path = {json.dumps(str(tmp_path/"ray"))}\n\n'
                                       '[space]\narch = "cnn1d"\nn_blocks = 2\nhead_hidden = 0\nwidth = [4, 8]\nlr = 3e-3\n')
    r = cli('tune', tmp_path/'sweep.toml', '-o', tmp_path/'sw', '--register', 'best', env=env, cwd=tmp_path)
    tj = json.loads((tmp_path/'sw'/'tune.json').read_text())
    trials = pd.read_csv(tmp_path/'sw'/'trials.csv')   # best first, by recall_macro on valid
    assert (tj['registered']['name'], tj['registered']['version'], tj['registered']['trial_id']) == ('best', 1, trials.trial_id.iloc[0])
    assert "is registered as models:/best/1" in r.stdout
    [v] = client(env['MLFLOW_TRACKING_URI']).search_model_versions("name = 'best'")
    assert v.run_id == trials.mlflow_run_id.iloc[0]

def test_rhythm_two_lead_model_signature_and_round_trip(tmp_path):
    "A rhythm-aware two-lead model takes both leads' samples and its rhythm columns, and predicts as `predict_table` does."
    from heartai.training import train
    from heartai.data.load import load_beats
    from heartai.data.physionet import synth_record
    from heartai.inference import predict_table
    from heartai.learner import load_ecg_model
    from heartai.pyfunc import load_pyfunc, input_columns
    for i in range(3): synth_record(tmp_path/'recs', f'r{i:02d}', n_beats=40, seed=i)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    r = train(tmp_path/'recs', tmp_path/'run', rhythm=True, leads=2, epochs=1, lr=3e-3, hp=dict(width=8, n_blocks=2, head_hidden=0),
              tracking_uri=uri, progress=False)
    m = load_ecg_model(r.path/'model')
    cols = input_columns(m.heartai_config)
    assert cols[:2] == ['lead0_0', 'lead0_1'] and cols[187] == 'lead1_0' and cols[374:] == m.heartai_config['data']['rhythm']['cols']
    pm = load_pyfunc(f"runs:/{r.info['mlflow']['run_id']}/model", uri)
    assert pm.metadata.get_input_schema().input_names() == cols
    beats = load_beats(tmp_path/'recs'/'r01', labelled=False, progress=False, leads=2)[0]
    ref = predict_table(m, beats)
    assert pm.predict(beats).equals(ref[[c for c in ref.columns if c.startswith('prob_')]])
    with pytest.raises(Exception, match=cols[-1]): pm.predict(beats.drop(columns=cols[-1]))   # the signature names a missing rhythm column
