"""Shared fixtures.

Prefect reads its settings when it is imported, so the test session's own PREFECT_HOME and
the telemetry switch are set here, before any test module imports it.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="cleaner-tests-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
_OWNER = os.getpid()


@atexit.register
def _remove_prefect_home() -> None:
    # only in the process that made it: a forked child that exits must not pull it from under us
    if os.getpid() == _OWNER:
        shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SEEDS = REPO.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server and database for the whole session (~20 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def example_labels() -> dict:
    return json.loads((EXAMPLES / "labels.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present beside this checkout")
    return SEEDS
