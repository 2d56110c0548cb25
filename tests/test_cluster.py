"A real two-node Ray cluster on loopback runs a heartai sweep: `tools/ray_cluster_sweep.py` (slow: a few minutes on 2 cores)."
import os, re, subprocess, sys
from pathlib import Path
import psutil, pytest

ROOT = Path(__file__).resolve().parents[1]

def _using(path:str)->list:
    "The processes whose command line mentions `path` (Ray's processes name their session directory)."
    out = []
    for p in psutil.process_iter(['cmdline']):
        if any(path in a for a in p.info['cmdline'] or []): out.append(p.pid)
    return out

@pytest.mark.slow
def test_cluster_sweep(tmp_path):
    pytest.importorskip('ray')
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'ray_cluster_sweep.py'), '--keep', str(tmp_path/'kept')], env=env,
                       capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    nodes = re.search(r"trials ran on (\d+) Ray node\(s\): (.*)", out)
    assert nodes and int(nodes.group(1)) == 2, out[-4000:]
    assert len(re.findall(r"^trial \d/4 \S+ done: recall_macro", out, re.M)) == 4, out[-4000:]   # one line per trial
    assert 'Ray nodes stopped' in out
    assert (tmp_path/'kept'/'sweeps'/'cluster').is_dir() and (tmp_path/'kept'/'mlflow.db').is_file()
    tmp = re.search(r"temp dir (\S+)\)", out).group(1)
    assert tmp.startswith('/') and not os.path.exists(tmp) and not _using(tmp), f"the script left Ray processes of {tmp} running"
