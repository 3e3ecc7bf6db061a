"""Shared fixtures. Every test runs with warnings from skcal as errors (pyproject)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# Any MLflow call without an explicit store (here, in Ray workers or subprocesses, which
# inherit the environment) writes to a temporary store, never into the checkout.
os.environ.setdefault(
    "MLFLOW_TRACKING_URI",
    f"sqlite:///{Path(tempfile.mkdtemp(prefix='skcal-test-mlflow-')) / 'mlflow.db'}",
)

#: Real detector-simulation fixtures (``../shared/data``), beside the checkout.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real ROOT fixtures; the tests that need it fail loudly if absent."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data fixtures are missing: {SHARED_DATA}")
    return SHARED_DATA
