"""`heartai --help` and `heartai predict` import only what they need (issue 16, a CLI that starts fast).

Each command runs in a fresh interpreter, which then reports the top-level packages it imported: `--help` must not
import torch, pandas or any training or plotting library; `predict` on an annotated WFDB record must not import fastai
(whose `fastai.imports` imports matplotlib.pyplot), matplotlib, scikit-learn, MLflow, Ray, or SciPy (only records off
the 120-Hz grid, and XQRS on records without annotations, need it). A new top-level import on that path makes these
tests fail; how long start-up takes is measured in bench/bench_startup.py, not here."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

TRAINING = {'fastai', 'matplotlib', 'sklearn', 'mlflow', 'ray'}   # never on the fast paths

PROBE = """
import json, sys
from heartai.cli import main
code = main(sys.argv[1:])
print(json.dumps(dict(code=code, modules=sorted({m.split('.')[0] for m in sys.modules}))))
"""

def probe(*args, cwd, home)->dict:
    "Run `heartai *args` in a fresh interpreter; its exit code and the top-level packages it imported."
    env = {**os.environ, 'HEARTAI_HOME': str(home), 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-c', PROBE, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

@pytest.fixture(scope='module')
def model_and_record(tmp_path_factory):
    "A small exported cnn1d (written as `export_model` writes it, no training) and a synthetic annotated 360-Hz WFDB record."
    import torch
    from safetensors.torch import save_file
    from heartai.core import sha256
    from heartai.models.core import create_model
    from heartai.models.load import MODEL_FORMAT
    from heartai.data.physionet import synth_record
    d = tmp_path_factory.mktemp('startup')
    torch.manual_seed(0)
    m = create_model('cnn1d', width=8, n_blocks=2, head_hidden=0)
    (d/'run'/'model').mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, str(d/'run'/'model'/'model.safetensors'))
    cfg = dict(format=MODEL_FORMAT, arch='cnn1d', arch_kwargs=dict(m.config), vocab=['N', 'S', 'V', 'F', 'Q'], data={},
               weights_sha256=sha256(d/'run'/'model'/'model.safetensors'))
    (d/'run'/'model'/'config.json').write_text(json.dumps(cfg))
    rec = synth_record(d/'records', 's001', n_beats=40, seed=0)
    return d, d/'run', rec

def test_help_imports_no_library(tmp_path):
    r = probe('--help', cwd=tmp_path, home=tmp_path/'home')
    assert r['code'] == 0
    heavy = set(r['modules']) & (TRAINING | {'torch', 'pandas', 'scipy', 'wfdb', 'pyarrow'})
    assert not heavy, f"heartai --help imported {sorted(heavy)}"

def test_predict_help_imports_no_training_library(tmp_path):
    r = probe('predict', '--help', cwd=tmp_path, home=tmp_path/'home')
    assert r['code'] == 0
    assert not set(r['modules']) & TRAINING, f"heartai predict --help imported {sorted(set(r['modules']) & TRAINING)}"

def test_predict_record_imports_no_training_library(model_and_record):
    d, run, rec = model_and_record
    out = d/'p.csv'
    r = probe('-q', 'predict', run, rec, '-o', out, '--force', cwd=d, home=d/'home')
    assert r['code'] == 0 and out.is_file() and len(out.read_text().splitlines()) > 10
    heavy = set(r['modules']) & (TRAINING | {'scipy'})
    assert not heavy, f"heartai predict imported {sorted(heavy)}"
    assert {'torch', 'wfdb'} <= set(r['modules'])   # the probe sees what the command imports

def test_predict_onnx_imports_no_training_library(model_and_record):
    "`heartai predict model.onnx`: onnxruntime, and still none of the training libraries."
    from heartai.onnx import export_onnx
    d, run, rec = model_and_record
    f = export_onnx(run, d/'m.onnx', overwrite=True)   # in this process: the probe below is a fresh one
    r = probe('-q', 'predict', f, rec, '-o', d/'po.csv', '--force', cwd=d, home=d/'home')
    assert r['code'] == 0 and (d/'po.csv').is_file()
    heavy = set(r['modules']) & (TRAINING | {'scipy'})
    assert not heavy, f"heartai predict model.onnx imported {sorted(heavy)}"
    assert 'onnxruntime' in r['modules']
