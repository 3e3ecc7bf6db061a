"""Shared fixtures. Every test runs with warnings from skcal as errors (pyproject)."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

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


#: The benchmark scripts (not a package: they put ``benchmarks/`` on sys.path themselves).
BENCHMARKS_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="session")
def benchmark_module() -> Callable[[str], ModuleType]:
    """Load ``benchmarks/<name>.py`` as the module ``skcal_bench_<name>`` (once)."""

    def load(name: str) -> ModuleType:
        key = f"skcal_bench_{name}"
        if key not in sys.modules:
            spec = importlib.util.spec_from_file_location(key, BENCHMARKS_DIR / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[key] = module
            spec.loader.exec_module(module)
        return sys.modules[key]

    return load
