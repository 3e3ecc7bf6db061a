"""The preprocessing steps and the network trunks as ONNX operations.

Each function takes the builder and the name of the current feature matrix and returns
the name of the next one. The preprocessing runs in float64, as ``predict`` runs it on a
float64 jet table; the networks run in float32, as torch runs them. What has no
translation is an :class:`~skcal.exceptions.ExportError` naming the step and the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import StandardScaler
from torch import nn

from skcal.exceptions import ExportError
from skcal.export._onnx_builder import Graph
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

__all__ = ["SUPPORTED_STEPS", "mlp", "preprocessing_step"]

#: The preprocessing steps that have a translation.
SUPPORTED_STEPS = (LogTransformer, EtaAnnotation, SymmetricScaler, StandardScaler)


def _log(g: Graph, step: LogTransformer, x: str, width: int) -> str:
    mask = np.zeros(width, dtype=bool)
    mask[list(step.columns_)] = True
    m = g.const(mask, bool, "log_mask")
    shifted = g.op("Add", x, g.const(float(step.offset)))
    # the log of the chosen columns only (the others may be negative)
    logged = g.op("Log", g.op("Where", m, shifted, g.const(1.0)))
    return g.op("Where", m, logged, x)


def _eta(g: Graph, step: EtaAnnotation, x: str) -> str:
    eta = g.column(x, int(step.eta_index_))
    if step.symmetric:
        eta = g.op("Abs", eta)
    pull = g.op(
        "Div", g.op("Sub", eta, g.const(step.centres_, hint="eta_centres")), g.const(step.widths_)
    )
    annotation = g.op("Exp", g.op("Mul", g.op("Mul", g.const(-0.5), pull), pull))
    return g.op("Concat", x, annotation, axis=1)


def _symmetric(g: Graph, step: SymmetricScaler, x: str) -> str:
    out = g.op("Div", g.op("Sub", x, g.const(step.centre_)), g.const(step.scale_))
    if step.clip:
        out = g.op("Clip", out, g.const(-1.0), g.const(1.0))
    return out


def _standard(g: Graph, step: StandardScaler, x: str) -> str:
    if getattr(step, "mean_", None) is not None and step.with_mean:
        x = g.op("Sub", x, g.const(step.mean_))
    if getattr(step, "scale_", None) is not None:
        x = g.op("Div", x, g.const(step.scale_))
    return x


def preprocessing_step(g: Graph, name: str, step: Any, x: str, width: int) -> tuple[str, int]:
    """One fitted preprocessing step on the float64 matrix ``x`` of ``width`` columns.

    Returns the output matrix and its width.
    """
    if step is None or step == "passthrough":
        return x, width
    if isinstance(step, LogTransformer):
        return _log(g, step, x, width), width
    if isinstance(step, EtaAnnotation):
        return _eta(g, step, x), width + len(step.centres_)
    if isinstance(step, SymmetricScaler):
        return _symmetric(g, step, x), width
    if type(step) is StandardScaler:
        return _standard(g, step, x), width
    supported = ", ".join(t.__name__ for t in SUPPORTED_STEPS)
    raise ExportError(
        f"step {name!r} ({type(step).__name__}) cannot be exported to ONNX: skcal has no "
        f"translation of it (supported preprocessing: {supported}); fit the pipeline "
        "without it, or export the network and apply that step yourself"
    )


def _linear(g: Graph, layer: nn.Linear, x: str) -> str:
    w = layer.weight.detach().cpu().numpy().astype(np.float32)
    b = layer.bias.detach().cpu().numpy().astype(np.float32)
    return g.op(
        "Gemm", x, g.const(w, np.float32, "weight"), g.const(b, np.float32, "bias"), transB=1
    )


#: Beyond this, ``tanh(softplus(x))`` is 1 in float32 (torch's softplus threshold).
_MISH_LINEAR = 20.0


def _mish(g: Graph, x: str) -> str:
    """``x tanh(softplus(x)) = x n / (n + 2)`` with ``n = e^x (e^x + 2)``, float32.

    Four elementwise operations and one exponential, against ONNX Runtime's ``Mish``
    function (a softplus, a tanh and a product), which is about 2.5 times slower and
    no closer to torch (3.6e-7 relative against 5.7e-7 over [-30, 30]).
    """
    f32 = np.float32
    e = g.op("Exp", g.op("Min", x, g.const(_MISH_LINEAR, f32)))
    two = g.const(2.0, f32)
    n = g.op("Mul", e, g.op("Add", e, two))
    return g.op("Mul", x, g.op("Div", n, g.op("Add", n, two)))


def mlp(g: Graph, module: nn.Module, x: str, owner: str) -> str:
    """A float32 ``nn.Sequential`` of Linear layers and activations (or one Linear)."""
    layers = list(module) if isinstance(module, nn.Sequential) else [module]
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            x = mlp(g, layer, x, owner)
        elif isinstance(layer, nn.Linear):
            x = _linear(g, layer, x)
        elif isinstance(layer, nn.Mish):
            x = _mish(g, x)
        elif isinstance(layer, nn.ReLU):
            x = g.op("Relu", x)
        elif isinstance(layer, nn.SiLU):
            x = g.op("Mul", x, g.op("Sigmoid", x))
        elif isinstance(layer, nn.Softmax):
            x = g.op("Softmax", x, axis=-1)
        else:
            raise ExportError(
                f"the network of {owner} has a {type(layer).__name__} layer, which has no ONNX "
                "translation in skcal (supported: Linear, Mish, ReLU, SiLU, Softmax)"
            )
    return x
