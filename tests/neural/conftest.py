"""Fixtures of the neural tests: small tables, one thread."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def toy():
    """A small regression problem with a skewed, x-dependent response."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3)).astype(np.float32)
    y = np.exp(0.1 * X[:, 0] + (0.05 + 0.03 * np.abs(X[:, 1])) * rng.normal(size=2000))
    return X, y
