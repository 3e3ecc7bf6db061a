"""Fixtures of the export tests: small fitted pipelines and held-out jets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("correctionlib")

from skcal import columns
from skcal.datasets import make_jets

FEATURES = ["e_reco", "pt_reco", "eta", "m_reco", "mu", "npv"]
#: Every column that is not a model input: truth, oracle and labels.
TRUTH = [*columns.TRUTH, *columns.ORACLE, *columns.LABELS]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def jets():
    """Training jets, their responses, and held-out jets (some beyond the training range)."""
    train = make_jets(6000, random_state=1)
    test = make_jets(3000, random_state=2)
    test.loc[test.index[:20], "e_reco"] *= 1.5  # harder than any training jet
    return train, train.e_reco / train.e_true, test


def standalone_inputs(table, names):
    """The float32 inputs of an exported ONNX model, by name."""
    return {n: np.ascontiguousarray(table[n].to_numpy(np.float32)) for n in names}
