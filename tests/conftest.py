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

#: Real detector-simulation fixtures, kept in the repository (provenance and licence in
#: ``tests/data/README.md``).
DATA_DIR = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real ROOT fixtures, ``tests/data``."""
    if not (DATA_DIR / "nano_dy.root").is_file():
        pytest.fail(f"the ROOT fixtures are missing from the checkout: {DATA_DIR}")
    return DATA_DIR
