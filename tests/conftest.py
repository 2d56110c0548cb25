"Shared pytest options and fixtures for heartai's tests."
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent/'shared'/'data'

def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', default=False,
                     help="also run notebook cells flagged `#| slow` (real data, long training) and tests marked slow")
    parser.addoption('--nb-timeout', type=int, default=900, help="seconds allowed for one notebook")

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: needs real data or minutes of CPU; run with --slow')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow'): return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)

@pytest.fixture
def shared_data():
    "Path to the real data beside the project; skips the test when it is absent."
    if not SHARED_DATA.is_dir(): pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA

@pytest.fixture
def env(tmp_path):
    "The environment of a `heartai` process of one test: its own HEARTAI_HOME and MLflow store (`test_cli.make_env`)."
    from test_cli import make_env
    return make_env(tmp_path)
