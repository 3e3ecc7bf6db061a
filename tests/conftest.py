"""Shared fixtures. Every test runs with warnings from skcal as errors (pyproject)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

#: Real detector-simulation fixtures (``../shared/data``), beside the checkout.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real ROOT fixtures; the tests that need it fail loudly if absent."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data fixtures are missing: {SHARED_DATA}")
    return SHARED_DATA
