"""A deep ensemble (:class:`~skcal.neural.EnsembleCalibrator`) as one ONNX graph.

Every member's network runs on the same inputs, inside the one graph, and their outputs
are combined as the ensemble's ``predict`` and ``predict_uncertainty`` combine them:

- density members (GDN, MDN): ``response`` is the mode of the equal-weight mixture of
  the members' densities (every member's every component, weights divided by the
  number of members; the same ascent from every component's mode as for one MDN,
  :mod:`skcal.export._onnx_mode`), bounded to the ensemble's ``response_range_``;
  ``sigma_syst`` is the mean of the members' widths, ``sigma_stat`` the standard
  deviation (``ddof=1``) of the members' own modes, each bounded to its member's
  range, as ``predict`` bounds them;
- point members: ``response`` is the mean of the members' predictions,
  ``sigma_stat`` their standard deviation and ``sigma_syst`` 0;
- ``sigma`` is ``sigma_tot = sqrt(sigma_stat**2 + sigma_syst**2)`` (``predict(X,
  return_std=True)``); every width is multiplied by ``sigma_scale_``.
"""

from __future__ import annotations

import math
from typing import Any

from skcal.export._onnx_builder import Graph
from skcal.export._onnx_heads import (
    Mixture,
    bounded,
    density_parts,
    mixture_response,
    point_outputs,
)
from skcal.neural import PointCalibrator

__all__ = ["ENSEMBLE_OUTPUTS", "ensemble_outputs"]

#: The outputs of an exported ensemble, in order.
ENSEMBLE_OUTPUTS = ("response", "sigma", "sigma_stat", "sigma_syst")


def _spread(g: Graph, values: list[str]) -> str:
    """The standard deviation (``ddof=1``) over the members of (n,) tensors."""
    stacked = g.op("Concat", *(g.op("Unsqueeze", v, g.axes(1)) for v in values), axis=1)
    mean = g.reduce("ReduceMean", stacked, 1, keepdims=True)
    dev = g.op("Sub", stacked, mean)
    total = g.reduce("ReduceSum", g.op("Mul", dev, dev), 1)
    return g.op("Sqrt", g.op("Div", total, g.const(float(len(values) - 1))))


def _mean(g: Graph, values: list[str]) -> str:
    return g.op("Div", g.op("Sum", *values), g.const(float(len(values))))


def _equal_mixture(g: Graph, mixes: list[Mixture]) -> Mixture:
    """The members' components side by side (n, 1, M K), weights divided by M."""

    def side_by_side(parts: list[str]) -> str:
        return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=2)

    log_m = g.const(math.log(len(mixes)))
    log_w = side_by_side([g.op("Sub", m.log_w, log_m) for m in mixes])
    return Mixture(
        side_by_side([m.loc for m in mixes]),
        side_by_side([m.low for m in mixes]),
        side_by_side([m.high for m in mixes]),
        g.op("LogSoftmax", log_w, axis=-1),  # as the Categorical of the mixture normalises
        mixes[0].symmetric,
    )


def ensemble_outputs(g: Graph, est: Any, x32: str) -> dict[str, str]:
    """``response``, ``sigma`` (total), ``sigma_stat`` and ``sigma_syst`` of a fitted
    EnsembleCalibrator, float64 (n,)."""
    members = list(est.members_)
    scale = g.const(float(getattr(est, "sigma_scale_", 1.0)))
    if isinstance(members[0], PointCalibrator):
        responses = [point_outputs(g, m, x32)["response"] for m in members]
        response = bounded(g, est, _mean(g, responses))
        stat = g.op("Mul", _spread(g, responses), scale)
        syst = g.op("Mul", stat, g.const(0.0))
    else:
        parts = [density_parts(g, m, x32) for m in members]
        first = members[0]
        k = sum(int(m.module_.n_components) for m in members)
        mix = _equal_mixture(g, [p[0] for p in parts])
        mode = mixture_response(g, mix, k, first.training_space_, first.mode_space_)
        response = bounded(g, est, mode)
        stat = g.op("Mul", _spread(g, [p[1]["response"] for p in parts]), scale)
        syst = g.op("Mul", _mean(g, [p[1]["sigma"] for p in parts]), scale)
    total = g.op("Sqrt", g.op("Add", g.op("Mul", stat, stat), g.op("Mul", syst, syst)))
    return {"response": response, "sigma": total, "sigma_stat": stat, "sigma_syst": syst}
