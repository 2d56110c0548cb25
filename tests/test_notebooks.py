"""Every notebook in `nbs/` is a test: it runs top to bottom through nbdev's own executor (`nbdev.test.test_nb`).

Cells flagged with one of `tst_flags` in pyproject.toml (`notest`, `slow`) are skipped, exactly as `nbdev-test` does;
`pytest --slow` also runs the `slow` cells (as `nbdev-test --flags slow`). Each notebook runs in a fresh interpreter so
notebooks cannot leak state into each other, and its error (the failing cell and traceback) is shown in the report."""
import subprocess, sys, os
from pathlib import Path
import pytest
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
CFG = get_config(ROOT)
NBS = sorted(p for p in Path(CFG.nbs_path).rglob('*.ipynb')
             if not p.name.startswith('_') and '.ipynb_checkpoints' not in p.parts)

RUNNER = """
import sys
from nbdev.test import test_nb
ok, secs = test_nb(sys.argv[1], skip_flags=sys.argv[2].split(), force_flags=sys.argv[3].split(), basepath=sys.argv[4])
sys.exit(0 if ok else 1)
"""

def test_found_notebooks():
    "The runner sees the project's notebooks (a wrong nbs_path would otherwise pass silently)."
    assert any(p.name == 'index.ipynb' for p in NBS) and any(p.name.startswith('00_') for p in NBS), NBS

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(CFG.nbs_path)) for p in NBS])
def test_notebook(nb, request):
    force = ['slow'] if request.config.getoption('--slow') else []
    skip = [f for f in CFG.tst_flags.split() if f not in force]
    # one BLAS/OpenMP thread per notebook: pytest-xdist already runs one notebook per core
    env = {'OMP_NUM_THREADS': '1', **os.environ, 'MPLBACKEND': 'Agg', 'PYTHONWARNINGS': os.environ.get('PYTHONWARNINGS', 'ignore::DeprecationWarning')}
    try:
        r = subprocess.run([sys.executable, '-c', RUNNER, str(nb), ' '.join(skip), ' '.join(force), str(ROOT)],
                           capture_output=True, text=True, env=env, cwd=nb.parent,
                           timeout=request.config.getoption('--nb-timeout'))
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{nb.name} did not finish in {e.timeout} s")
    if r.returncode != 0:
        pytest.fail(f"{nb.name} failed (skip flags {skip}, forced {force}):\n{r.stderr[-6000:]}\n{r.stdout[-2000:]}", pytrace=False)
