"""The ONNX mode search against skcal.neural's mixture_mode on hard mixtures."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch.distributions import Categorical, MixtureSameFamily, Normal

from skcal.export._onnx_builder import OPSET, Graph
from skcal.export._onnx_mode import mixture_mode
from skcal.neural import mixture_mode as torch_mode
from skcal.neural._families import AsymmetricNormal


def mixtures(n, k, seed):
    """Locations, widths (below, above) and logits of ``n`` mixtures with close,
    overlapping and very narrow components (multi-modal densities included)."""
    rng = np.random.default_rng(seed)
    loc = 1.0 + 0.15 * rng.normal(size=(n, k))
    low = np.exp(rng.uniform(np.log(0.003), np.log(0.3), size=(n, k)))
    high = np.exp(rng.uniform(np.log(0.003), np.log(0.3), size=(n, k)))
    return loc, low, high, 2.0 * rng.normal(size=(n, k))


def onnx_mode(k, symmetric, slope, params):
    g = Graph()
    names = ["loc", "low", "high", "logits"]
    loc, low, high, logits = (g.op("Unsqueeze", v, g.axes(1)) for v in names)
    log_w = g.op("LogSoftmax", logits, axis=-1)
    out = mixture_mode(g, k, loc, low, low if symmetric else high, log_w, symmetric, slope)
    g.nodes.append(onnx.helper.make_node("Identity", [out], ["mode"]))
    info = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        g.nodes,
        "mode",
        [info(v, onnx.TensorProto.DOUBLE, ["n", k]) for v in names],
        [info("mode", onnx.TensorProto.DOUBLE, ["n"])],
        g.initializers,
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, params)))[0]


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize(
    ("k", "slope"),  # one component needs a slope (else its mode is its location)
    [(1, -1.0), (1, -math.log(10.0)), (4, 0.0), (4, -1.0), (4, -math.log(10.0))],
)
def test_mode_matches_mixture_mode(k, symmetric, slope):
    params = mixtures(3000, k, seed=k)
    loc, low, high, logits = (torch.tensor(p) for p in params)
    comp = Normal(loc, low) if symmetric else AsymmetricNormal(loc, low, high)
    expected = torch_mode(MixtureSameFamily(Categorical(logits=logits), comp), slope).numpy()
    mode = onnx_mode(k, symmetric, slope, params)
    width = (params[1] if symmetric else np.minimum(params[1], params[2])).min(axis=1)
    # both stop within 1e-7 widths of the same maximum; allow 1e-6 widths of difference
    assert np.all(np.abs(mode - expected) <= 1e-6 * width + 1e-12)


def test_single_jet_and_no_jet():
    params = mixtures(1, 3, seed=0)
    loc, low, _, logits = (torch.tensor(p) for p in params)
    dist = MixtureSameFamily(Categorical(logits=logits), Normal(loc, low))
    assert np.allclose(onnx_mode(3, True, 0.0, params), torch_mode(dist).numpy(), atol=1e-9)
    assert onnx_mode(3, True, 0.0, [p[:0] for p in params]).shape == (0,)
