"""The heads of the neural calibrators as ONNX operations: densities, mode, width.

The network's raw outputs are computed in float32 (as torch computes them) and
everything after them in float64 (as ``predict`` does, on the raw outputs cast to
float64). The mode of a mixture (or of a density with the Jacobian of a log training
space) is :func:`skcal.neural._modes.mixture_mode` written as an ONNX ``Loop``: the same
starts (every component's mode and, with a Jacobian, each component's tilted maximum),
the same safeguarded steps (Newton's where the log-density is concave, a mean-shift
step elsewhere, at most the local width, halved until the density does not fall), the
same per-start convergence (steps below ``1e-7`` of the smallest width) and the same
limit of 60 steps (:mod:`skcal.export._onnx_mode`).
The width is the standard deviation of the response: from the moments of the
components in the response space, and from their closed-form moments of ``exp(b t)``
in a log space (``predict`` integrates numerically; the two agree to about 1e-9).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from skcal.export._onnx_builder import Graph
from skcal.export._onnx_graph import mlp
from skcal.export._onnx_mode import mixture_mode
from skcal.neural._modules import POSITIVE_SHARPNESS

__all__ = [
    "Mixture",
    "bounded",
    "density_parts",
    "mixture_response",
    "density_outputs",
    "energy_mass_outputs",
    "point_outputs",
]

_TINY64 = float(np.finfo(np.float64).tiny)
_TINY32 = float(np.finfo(np.float32).tiny)


def locations(g: Graph, out: str, module: Any, dtype: Any) -> str:
    """:func:`skcal.neural._modules.locations` of raw outputs ``out``, in ``dtype``."""
    if not getattr(module, "positive", False):
        return g.op(
            "Add", g.const(module.loc, dtype), g.op("Mul", g.const(module.scale, dtype), out)
        )
    beta = POSITIVE_SHARPNESS
    z = g.op(
        "Add", g.const(1.0, dtype), g.op("Mul", out, g.const(module.scale / module.loc, dtype))
    )
    soft = g.op("Div", g.op("Softplus", g.op("Mul", z, g.const(beta, dtype))), g.const(beta, dtype))
    tiny = _TINY64 if np.dtype(dtype) == np.float64 else _TINY32
    return g.op("Max", g.op("Mul", g.const(module.loc, dtype), soft), g.const(tiny, dtype))


#: ``d log|dt/dr| / dt`` and ``b`` of ``r = exp(b t)`` per training space.
_SLOPES = {"response": 0.0, "log": -1.0, "log10": -math.log(10.0)}
_BASES = {"log": 1.0, "log10": math.log(10.0)}


class Mixture:
    """Per jet and component (shape (n, 1, K)): location, widths, log-weight."""

    def __init__(self, loc: str, low: str, high: str, log_w: str, symmetric: bool) -> None:
        self.loc, self.low, self.high, self.log_w, self.symmetric = loc, low, high, log_w, symmetric


def _components(g: Graph, module: Any, raw: str) -> tuple[Mixture, str | None]:
    """The components of a DensityNetwork's raw float64 outputs (n, n_raw); the logits."""
    k, asym = int(module.n_components), bool(module.asymmetric)
    per = 3 if asym else 2
    params = g.op("Reshape", g.columns(raw, 0, k * per), g.const([-1, 1, k, per], np.int64))

    def part(i: int) -> str:  # (n, 1, K)
        return g.op("Squeeze", g.op("Gather", params, g.const([i], np.int64), axis=3), g.axes(3))

    loc = locations(g, part(0), module, np.float64)

    def width(i: int) -> str:
        soft = g.op("Add", g.softplus(part(i)), g.const(module.min_scale))
        return g.op("Mul", g.const(module.scale), soft)

    low = width(1)
    high = width(2) if asym else low
    if k == 1:
        return Mixture(loc, low, high, g.op("Mul", loc, g.const(0.0)), not asym), None
    logits = g.op("Unsqueeze", g.columns(raw, k * per, k * per + k), g.axes(1))
    log_w = g.op("LogSoftmax", logits, axis=-1)
    return Mixture(loc, low, high, log_w, not asym), logits


def _from_training(g: Graph, t: str, space: str) -> str:
    if space == "log":
        return g.op("Exp", t)
    if space == "log10":
        return g.op("Pow", g.const(10.0), t)
    return t


def _component_moments(g: Graph, mix: Mixture) -> tuple[str, str]:
    """Mean and variance of each component (n, 1, K) in its own space."""
    if mix.symmetric:
        return mix.loc, g.op("Mul", mix.low, mix.low)
    s1, s2 = mix.low, mix.high
    mean = g.op("Add", mix.loc, g.op("Mul", g.const(math.sqrt(2.0 / math.pi)), g.op("Sub", s2, s1)))
    cubes = g.op("Add", g.op("Mul", g.op("Mul", s1, s1), s1), g.op("Mul", g.op("Mul", s2, s2), s2))
    diff = g.op("Sub", s2, s1)
    second = g.op("Div", cubes, g.op("Add", s1, s2))
    return mean, g.op("Sub", second, g.op("Mul", g.const(2.0 / math.pi), g.op("Mul", diff, diff)))


def _exp_moment(g: Graph, mix: Mixture, b: float) -> str:
    """``E[exp(b t)]`` of each component (n, 1, K)."""
    bmu = g.op("Mul", g.const(b), mix.loc)

    def lognormal(s: str) -> str:  # exp(b mu + b^2 s^2 / 2)
        return g.op("Exp", g.op("Add", bmu, g.op("Mul", g.const(0.5 * b * b), g.op("Mul", s, s))))

    if mix.symmetric:
        return lognormal(mix.low)

    def phi(z: str) -> str:  # the normal CDF; ONNX Runtime has Erf in float32 only
        z32 = g.op("Cast", g.op("Mul", z, g.const(1.0 / math.sqrt(2.0))), to=1)
        erf = g.op("Cast", g.op("Erf", z32), to=11)
        return g.op("Mul", g.const(0.5), g.op("Add", g.const(1.0), erf))

    s1, s2 = mix.low, mix.high
    below = g.op("Mul", g.op("Mul", s1, lognormal(s1)), phi(g.op("Mul", g.const(-b), s1)))
    above = g.op("Mul", g.op("Mul", s2, lognormal(s2)), phi(g.op("Mul", g.const(b), s2)))
    return g.op("Div", g.op("Mul", g.const(2.0), g.op("Add", below, above)), g.op("Add", s1, s2))


def _sigma(g: Graph, mix: Mixture, logits: str | None, space: str) -> str:
    """The standard deviation of the response (n,)."""
    probs = None if logits is None else g.op("Softmax", logits, axis=-1)

    def average(v: str) -> str:
        weighted = v if probs is None else g.op("Mul", probs, v)
        return g.op("Squeeze", g.reduce("ReduceSum", weighted, 2), g.axes(1))

    if space == "response":
        mean_k, var_k = _component_moments(g, mix)
        if probs is None:
            var = g.op("Squeeze", g.op("Squeeze", var_k, g.axes(2)), g.axes(1))
        else:
            mean = g.op("Unsqueeze", average(mean_k), g.axes(1, 2))
            dev = g.op("Sub", mean_k, mean)
            var = g.op("Add", average(var_k), average(g.op("Mul", dev, dev)))
    else:
        b = _BASES[space]
        first = average(_exp_moment(g, mix, b))
        var = g.op("Sub", average(_exp_moment(g, mix, 2.0 * b)), g.op("Mul", first, first))
    return g.op("Sqrt", var)


def bounded(g: Graph, est: Any, r: str, column: int | None = None) -> str:
    """The responses bounded to ``response_range_`` (skcal.neural._bounds), if recorded."""
    bounds = getattr(est, "response_range_", None)
    if bounds is None:
        return r
    low, high = np.asarray(bounds, dtype=np.float64)
    if column is not None:
        low, high = low[column : column + 1], high[column : column + 1]
    else:
        low, high = low.reshape(-1)[0], high.reshape(-1)[0]
    return g.clamp(r, g.const(low), g.const(high))


def mixture_response(g: Graph, mix: Mixture, k: int, space: str, mode_space: str) -> str:
    """The mode of a mixture of ``k`` components in the response (or training) space, (n,),
    as ``DensityPrediction.mode`` finds it."""
    jac = mode_space == "response" and space != "response"
    if k == 1 and not jac:
        mode = g.op("Squeeze", mix.loc, g.axes(1, 2))
    else:
        slope = _SLOPES[space] if jac else 0.0
        mode = mixture_mode(g, k, mix.loc, mix.low, mix.high, mix.log_w, mix.symmetric, slope)
        if not jac:  # between the component modes (as DensityPrediction.mode)
            loc2 = g.op("Squeeze", mix.loc, g.axes(1))
            lowest, highest = (g.reduce(op, loc2, 1) for op in ("ReduceMin", "ReduceMax"))
            mode = g.clamp(mode, lowest, highest)
    return _from_training(g, mode, space)


def density_parts(g: Graph, est: Any, x32: str) -> tuple[Mixture, dict[str, str]]:
    """The mixture of a GDN or MDN calibrator and its ``response`` (the mode, bounded
    as ``predict`` bounds it) and ``sigma``, float64 (n,)."""
    module = est.module_
    raw32 = mlp(g, module.head, mlp(g, module.trunk, x32, type(est).__name__), type(est).__name__)
    raw = g.op("Cast", raw32, to=11)
    mix, logits = _components(g, module, raw)
    space = est.training_space_
    mode = mixture_response(g, mix, int(module.n_components), space, est.mode_space_)
    return mix, {"response": bounded(g, est, mode), "sigma": _sigma(g, mix, logits, space)}


def density_outputs(g: Graph, est: Any, x32: str) -> dict[str, str]:
    """``response`` (the mode) and ``sigma`` of a GDN or MDN calibrator, float64 (n,)."""
    return density_parts(g, est, x32)[1]


def point_outputs(g: Graph, est: Any, x32: str) -> dict[str, str]:
    """``response`` of a PointCalibrator, float64 (n,)."""
    module = est.module_
    out = g.op(
        "Squeeze", mlp(g, module.head, mlp(g, module.trunk, x32, "PointCalibrator"), ""), g.axes(1)
    )
    if getattr(module, "positive", False):
        t = locations(g, out, module, np.float32)
    else:
        t = g.op(
            "Add",
            g.const(module.loc, np.float32),
            g.op("Mul", g.const(module.scale, np.float32), out),
        )
    t64 = g.op("Cast", t, to=11)
    return {"response": bounded(g, est, _from_training(g, t64, est.training_space_))}


def energy_mass_outputs(g: Graph, est: Any, x32: str) -> dict[str, str]:
    """``response`` and ``sigma`` (n, 2: energy, mass) of an EnergyMassCalibrator, float64."""
    net = est.module_
    f32 = np.float32
    scaled = g.op(
        "Div",
        g.op("Sub", x32, g.const(net.input_centre.cpu().numpy(), f32)),
        g.const(net.input_scale.cpu().numpy(), f32),
    )
    h0 = scaled
    if net.eta_index is not None:
        eta = g.op("Abs", g.column(x32, int(net.eta_index)))
        pull = g.op(
            "Div",
            g.op("Sub", eta, g.const(net.eta_centres.cpu().numpy(), f32)),
            g.const(net.eta_widths.cpu().numpy(), f32),
        )
        annotation = g.op("Exp", g.op("Mul", g.const(-0.5, f32), g.op("Mul", pull, pull)))
        h0 = g.op("Concat", scaled, annotation, axis=1)
    owner = "EnergyMassCalibrator"
    h = mlp(g, net.core, h0, owner)
    energy = mlp(g, net.energy_head, mlp(g, net.energy, h, owner), owner)
    mass = mlp(
        g,
        net.mass_head,
        g.op("Mul", mlp(g, net.mass, h, owner), mlp(g, net.residual, h0, owner)),
        owner,
    )
    responses, sigmas = [], []
    for k, (raw, name) in enumerate(((energy, "energy"), (mass, "mass"))):
        mode32 = g.op("Add", g.op("Tanh", g.columns(raw, 0, 1)), g.const(1.0, f32))
        mode32 = g.op("Max", mode32, g.const(_TINY32, f32))
        unit = float(net.width_scale[k])
        soft = g.op("Add", g.softplus(g.columns(raw, 1, 3)), g.const(net.min_scale, f32))
        widths = g.op("Cast", g.op("Mul", g.const(unit, f32), soft), to=11)
        s1, s2 = g.columns(widths, 0, 1), g.columns(widths, 1, 2)
        responses.append(bounded(g, est, g.op("Cast", mode32, to=11), column=k))
        if est.loss_variants_[name] == "gaussian":
            s = g.op("Mul", g.const(0.5), g.op("Add", s1, s2))
            var = g.op("Mul", s, s)
        else:
            mix = Mixture(g.const(0.0), s1, s2, "", symmetric=False)
            var = _component_moments(g, mix)[1]
        sigmas.append(g.op("Sqrt", var))
    return {
        "response": g.op("Concat", *responses, axis=1),
        "sigma": g.op("Concat", *sigmas, axis=1),
    }
