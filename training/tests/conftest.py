import os
import sys
from pathlib import Path

import pytest

# Nothing the tests run writes into the work tree: no bytecode beside the modules...
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def is_ci() -> bool:
    """Whether this run is CI (.ci/run exports CI=true): missing inputs are failures there."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


@pytest.fixture
def require_data():
    """`require_data(*paths)` skips the test, saying what is missing, when `paths` (relative to the
    datasets folder, training/dldl/data.py's data_dir()) are not there; under CI=true it fails instead."""
    from training.dldl.data import data_dir

    def require(*paths: str) -> None:
        missing = [p for p in paths if not (data_dir() / p).exists()]
        if not missing:
            return
        why = f"datasets missing under {data_dir()}: {', '.join(missing)} (set DATA_DIR to the datasets folder)"
        if is_ci():
            pytest.fail(f"required test input missing (CI=true, so this fails instead of skipping): {why}", pytrace=False)
        pytest.skip(why)

    return require


@pytest.fixture(autouse=True)
def _no_writes_into_the_work_tree(tmp_path_factory, monkeypatch):
    """...and the decoded-dataset cache (data/cache/ by default) goes to a temporary folder."""
    from training.dldl import data

    monkeypatch.setattr(data, "CACHE", tmp_path_factory.mktemp("cache"))
