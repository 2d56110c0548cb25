"""ONNX export end to end: `heartai export RUN --format onnx` and `heartai predict MODEL.onnx` as real processes, against
the PyTorch model of the same run: the same decisions (at the run's operating point, which the file carries), the
same probabilities, logits within 1e-5; a modified or foreign `.onnx` file refused with one line naming it.

The fast tests use synthetic WFDB records (a rhythm-aware, two-lead, pqrst-window model: every part of the input
recipe); the slow one models trained on real MIT-BIH records (`../shared/data/mitdb`, skipped when absent)."""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest

from test_cli import TINY as _TINY, make_env, cli

TINY = _TINY + ['--no-mlflow', '-q']
PROBS = [f'prob_{c}' for c in 'NSVFQ']

def error_line(r, contains, code=1):
    "Check that a run failed with `code` and exactly one `heartai: error:` line containing `contains`."
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code and len(lines) == 1 and lines[0].startswith('heartai: error: ') and contains in lines[0], (r.returncode, r.stderr)

def max_logit_diff(run, onnx_file, beats)->float:
    "Max abs difference of the logits of the PyTorch model of `run` (plain, no batch-norm folding) and of `onnx_file`."
    from heartai.learner import load_ecg_model
    from heartai.onnx import load_onnx_model
    from heartai.inference import predict_logits
    return float((predict_logits(load_onnx_model(onnx_file), beats) - predict_logits(load_ecg_model(run), beats, fast=False)).abs().max())

def same_predictions(a:Path, b:Path):
    "Two `heartai predict` outputs agree: every decision, flag and most probable class; probabilities to 2e-5 (rounded to 5 digits)."
    ta, tb = pd.read_csv(a), pd.read_csv(b)
    assert list(ta.columns) == list(tb.columns) and len(ta) == len(tb) > 0
    for c in ('record', 'beat', 'pred', 'decision', 'flag'): assert ta[c].tolist() == tb[c].tolist(), c
    assert np.abs(ta[PROBS].to_numpy() - tb[PROBS].to_numpy()).max() <= 2e-5

@pytest.fixture(scope='module')
def rhythm_run(tmp_path_factory):
    "A tiny rhythm-aware two-lead pqrst model on synthetic MIT-BIH-named records, with an operating point (V recall 0.9)."
    from heartai.data.physionet import DS1, DS2, synth_record
    d = tmp_path_factory.mktemp('onnx')
    for i, r in enumerate(DS1[:6] + DS2[:2]): synth_record(d/'mit', r, n_beats=40, seed=i)
    cli('train', '--data', d/'mit', '--split', 'interpatient', '--rhythm', '--window', 'pqrst', '--leads', 2, '--epochs', 1, *TINY,
        '--recall', 'V=0.9', '-o', d/'run', env=make_env(d), cwd=d)
    assert (d/'run'/'model'/'operating_point.json').exists()
    return d

def test_onnx_predict_equals_torch_predict_on_records(rhythm_run):
    d, env = rhythm_run, make_env(rhythm_run)
    r = cli('export', d/'run', '--format', 'onnx', '-o', d/'m.onnx', env=env, cwd=d)
    assert 'checked against PyTorch' in r.stdout and (d/'m.onnx').stat().st_size > 0
    cli('predict', d/'run', d/'mit', '-o', d/'torch.csv', '-q', env=env, cwd=d)
    r = cli('predict', d/'m.onnx', d/'mit', '-o', d/'onnx.csv', env=env, cwd=d)
    assert f"decisions at the operating point in {d/'m.onnx'}" in r.stdout, r.stdout
    same_predictions(d/'torch.csv', d/'onnx.csv')
    assert pd.read_csv(d/'torch.records.csv').equals(pd.read_csv(d/'onnx.records.csv'))
    from heartai.data.load import load_beats
    from heartai.inference import data_settings
    from heartai.onnx import load_onnx_model
    om = load_onnx_model(d/'m.onnx')
    cfg = json.loads((d/'run'/'model'/'config.json').read_text())
    assert {k: v for k, v in om.heartai_config.items() if k != 'path'} == cfg   # the recipe in the file is the run's config
    beats = load_beats(d/'mit', labelled=False, progress=False, **data_settings(cfg))[0]
    assert max_logit_diff(d/'run', d/'m.onnx', beats) <= 1e-5

def test_modified_or_foreign_onnx_refused(rhythm_run, tmp_path):
    import onnx
    from onnx import helper, TensorProto
    d, env = rhythm_run, make_env(tmp_path)
    if not (d/'m.onnx').exists(): cli('export', d/'run', '-o', d/'m.onnx', '-q', env=env, cwd=d)
    p = onnx.load(d/'m.onnx')
    e = next(m for m in p.metadata_props if m.key == 'heartai_config')
    e.value = json.dumps({**json.loads(e.value), 'data': {**json.loads(e.value)['data'], 'window': 'kachuee'}})
    onnx.save(p, tmp_path/'window.onnx')
    g = helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['n', 5])],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['n', 5])])
    onnx.save(helper.make_model(g), tmp_path/'foreign.onnx')
    (tmp_path/'cut.onnx').write_bytes((d/'m.onnx').read_bytes()[:1000])
    for name, msg in [('window.onnx', 'its graph or metadata do not match its heartai_sha256'), ('foreign.onnx', 'not a heartai ONNX model'),
                      ('cut.onnx', 'not an ONNX model')]:
        error_line(cli('predict', tmp_path/name, d/'mit', '-o', tmp_path/'out.csv', env=env, cwd=tmp_path, ok=False), f"{tmp_path/name}: {msg}")
    assert not (tmp_path/'out.csv').exists()

@pytest.mark.slow
def test_onnx_matches_torch_on_real_beats(shared_data, tmp_path):
    "Models trained on MIT-BIH record 119 (with and without rhythm inputs) and exported: the same logits (<= 1e-5) on records 100 and 119."
    from heartai.data.load import load_beats
    mitdb, env = shared_data/'mitdb', make_env(tmp_path)
    if not (mitdb/'119.hea').exists(): pytest.skip(f"no MIT-BIH records in {mitdb}")
    real = pd.concat([load_beats(mitdb/r, labelled=False, progress=False)[0] for r in ('100', '119')], ignore_index=True)
    for name, extra in (('beat', []), ('rhythm', ['--rhythm', '--recall', 'V=0.9'])):
        cli('train', '--data', mitdb/'119', '--epochs', 1, *TINY, *extra, '-o', tmp_path/name, env=env, cwd=tmp_path, timeout=900)
        cli('export', tmp_path/name, '-o', tmp_path/f'{name}.onnx', '-q', env=env, cwd=tmp_path)
        diff = max_logit_diff(tmp_path/name, tmp_path/f'{name}.onnx', real)
        print(f"{name}: {len(real)} real beats, max abs logit difference onnxruntime vs torch {diff:.1e}")
        assert diff <= 1e-5, (name, diff)
        for m in (tmp_path/name, tmp_path/f'{name}.onnx'): cli('predict', m, mitdb/'119', '-o', tmp_path/f'{Path(m).name}.csv', '-q', env=env, cwd=tmp_path)
        same_predictions(tmp_path/f'{name}.csv', tmp_path/f'{name}.onnx.csv')
