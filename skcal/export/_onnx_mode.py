"""The mode of a mixture of (split) normals as an ONNX ``Loop``: ``mixture_mode``'s ascent.

The same search as :func:`skcal.neural._modes.mixture_mode`, from the same starts
(every component's mode and, with a Jacobian slope, each component's own tilted
maximum), with the same safeguarded steps (Newton's where the log-density is concave, a
mean-shift step elsewhere, at most the local width long, halved until it does not lower
the density), at most :data:`MODE_ITERATIONS` steps, each start stopping once its step
falls below :data:`MODE_TOL` times the smallest component width; the start of highest
density wins.

Written for ONNX Runtime's speed:

- one row per (start, jet), start-major as ``mixture_mode`` lays them out, with the
  components along the leading axis (shape (K, rows)), so that the sums over the
  components are additions of contiguous rows;
- the loop carries only the rows still moving: each step drops the converged ones
  (``NonZero`` and ``Gather``) and appends them to a sequence, written into the full
  result once after the loop, so that the work follows ``predict``'s, which computes
  only the rows still moving, instead of every row until the slowest has converged;
- every per-component constant (``1 / (2 s^2)``, the log weight minus the log
  normalisation) is computed once, outside the loop, and one step costs 14 operations
  on (K, rows) tensors: the log-density, gradient, curvature and mean-shift step all
  come from the sums ``S = sum e``, ``sum e c``, ``sum e c d`` and ``sum e c q`` of
  ``e = exp(terms - max)``, ``c = 1 / (2 s^2)``, ``d = x - mu``, ``q = c d^2``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from skcal.export._onnx_builder import Graph, onnx_module

__all__ = ["MODE_ITERATIONS", "MODE_TOL", "mixture_mode"]

#: The most ascent steps from each start (``mixture_mode``'s ``n_iter``).
MODE_ITERATIONS = 60
#: Convergence of a start, relative to the smallest component width.
MODE_TOL = 1e-7
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class _Rows:
    """The per-row constants of the ascent, each (K, rows): location, ``1 / (2 s^2)``
    below and above it (the same for normal components), and the log-weight offset."""

    def __init__(self, loc: str, c_low: str, c_high: str, offset: str) -> None:
        self.loc, self.c_low, self.c_high, self.offset = loc, c_low, c_high, offset

    @property
    def symmetric(self) -> bool:
        return self.c_high == self.c_low

    def take(self, g: Graph, idx: str) -> _Rows:
        """The rows ``idx`` (gathered inside the loop body ``g``)."""

        def pick(v: str) -> str:
            return g.op("Gather", v, idx, axis=1)

        low = pick(self.c_low)
        high = low if self.symmetric else pick(self.c_high)
        return _Rows(pick(self.loc), low, high, pick(self.offset))


def _step(g: Graph, rows: _Rows, x: str, slope: float) -> tuple[str, str]:
    """The log-density (plus ``slope * x``) at ``x`` (rows,) and the next step from it."""
    diff = g.op("Sub", g.op("Unsqueeze", x, g.axes(0)), rows.loc)  # (K, A)
    if rows.symmetric:
        c = rows.c_low
    else:
        c = g.op("Where", g.op("Less", diff, g.const(0.0)), rows.c_low, rows.c_high)
    q = g.op("Mul", g.op("Mul", diff, diff), c)
    terms = g.op("Sub", rows.offset, q)  # log w_k + log N_k(x)
    top = g.reduce("ReduceMax", terms, 0, keepdims=True)
    e = g.op("Exp", g.op("Sub", terms, top))
    ec = g.op("Mul", e, c)
    s, sc, scd, scq = (
        g.reduce("ReduceSum", v, 0) for v in (e, ec, g.op("Mul", ec, diff), g.op("Mul", ec, q))
    )
    inv_s = g.op("Reciprocal", s)
    lp = g.op("Add", g.op("Log", s), g.op("Squeeze", top, g.axes(0)))
    grad = g.op("Mul", g.op("Mul", scd, inv_s), g.const(-2.0))  # d log p / dx
    precision = g.op("Mul", g.op("Mul", sc, inv_s), g.const(2.0))  # sum gamma_k / s_k^2
    second = g.op("Mul", g.op("Mul", scq, inv_s), g.const(4.0))  # sum gamma_k a_k^2
    curv = g.op("Sub", g.op("Sub", second, precision), g.op("Mul", grad, grad))
    if slope != 0.0:
        lp = g.op("Add", lp, g.op("Mul", x, g.const(slope)))
        grad = g.op("Add", grad, g.const(slope))
    # Newton's step where concave (-grad / curv), the mean-shift step elsewhere
    concave = g.op("Less", curv, g.const(0.0))
    step = g.op("Div", grad, g.op("Where", concave, g.op("Neg", curv), precision))
    width = g.op("Reciprocal", g.op("Sqrt", precision))
    return lp, g.clamp(step, g.op("Neg", width), width)


def _record(g: Graph, rows: str, idx: str, x: str, lp: str) -> str:
    """``(row index, x, log-density)`` of the positions ``rows`` of the moving set, (3, D)."""
    parts = [g.op("Cast", g.op("Gather", idx, rows), to=11)]
    parts += [g.op("Gather", v, rows) for v in (x, lp)]
    return g.op("Concat", *(g.op("Unsqueeze", v, g.axes(0)) for v in parts), axis=0)


def _positions(g: Graph, mask: str) -> str:
    return g.op("Squeeze", g.op("NonZero", mask), g.axes(0))


def _body(g: Graph, rows: _Rows, tol: str, slope: float) -> Any:
    """One step of the still-moving rows, as the ``Loop`` body; the rows that stop are
    appended to a sequence (no full-size tensor is written inside the loop)."""
    onnx = onnx_module()
    tp = onnx.TensorProto
    body = Graph(parent=g, prefix="loop_")
    idx, x, lp, step, done = "loop_idx", "loop_x", "loop_lp", "loop_step", "loop_done"
    moving = body.op("Greater", body.op("Abs", step), body.op("Gather", tol, idx))
    keep = _positions(body, moving)
    stopped = _record(body, _positions(body, body.op("Not", moving)), idx, x, lp)
    done2 = body.op("SequenceInsert", done, stopped)
    idx2, x2, lp2, step2 = (body.op("Gather", v, keep) for v in (idx, x, lp, step))
    cand = body.op("Add", x2, step2)
    lp_c, step_c = _step(body, rows.take(body, idx2), cand, slope)
    ok = body.op("GreaterOrEqual", lp_c, lp2)
    x3 = body.op("Where", ok, cand, x2)
    lp3 = body.op("Where", ok, lp_c, lp2)
    step3 = body.op("Where", ok, step_c, body.op("Mul", step2, body.const(0.5)))
    more = body.op("Greater", body.op("Size", idx2), body.const(0, np.int64))
    outputs = [more, idx2, x3, lp3, step3, done2]
    body.nodes += [onnx.helper.make_node("Identity", [v], [v + "_out"]) for v in outputs]
    info = onnx.helper.make_tensor_value_info
    seq = onnx.helper.make_tensor_sequence_value_info
    types = [tp.INT64, tp.DOUBLE, tp.DOUBLE, tp.DOUBLE]
    return onnx.helper.make_graph(
        body.nodes,
        "mode_ascent",
        [info("loop_iter", tp.INT64, []), info("loop_cond", tp.BOOL, [])]
        + [info(v, t, None) for v, t in zip((idx, x, lp, step), types)]
        + [seq(done, tp.DOUBLE, None)],
        [info(more + "_out", tp.BOOL, [])]
        + [info(v + "_out", t, None) for v, t in zip(outputs[1:5], types)]
        + [seq(done2 + "_out", tp.DOUBLE, None)],
    )


def mixture_mode(
    g: Graph, k: int, loc: str, low: str, high: str, log_w: str, symmetric: bool, slope: float
) -> str:
    """The mode (n,) of ``log p(x) + slope * x`` for a mixture of ``k`` components given
    per jet and component (each (n, 1, k), float64): locations, widths below and above
    the mode (the same tensor for normal components) and log-weights (normalised)."""

    def lead(v: str) -> str:  # (n, 1, K) -> (K, n)
        return g.op("Transpose", g.op("Squeeze", v, g.axes(1)), perm=[1, 0])

    loc_k, low_k = lead(loc), lead(low)
    high_k = low_k if symmetric else lead(high)
    starts = [loc_k]
    if slope != 0.0:  # each component's own maximum once tilted by the slope
        w = low_k if slope < 0 else high_k
        starts.append(g.op("Add", loc_k, g.op("Mul", g.op("Mul", w, w), g.const(slope))))
    n_starts = k * len(starts)
    x0 = g.op(
        "Reshape",
        starts[0] if len(starts) == 1 else g.op("Concat", *starts, axis=0),
        g.const([-1], np.int64),
    )  # start j of jet i at j * n + i

    def tiled(v: str) -> str:  # (K, n) -> (K, starts * n)
        return v if n_starts == 1 else g.op("Tile", v, g.const([1, n_starts], np.int64))

    def half_precision(s: str) -> str:
        return tiled(g.op("Div", g.const(0.5), g.op("Mul", s, s)))

    norm = g.op("Log", g.op("Mul", g.op("Add", low_k, high_k), g.const(0.5)))
    offset = g.op("Sub", g.op("Sub", lead(log_w), g.const(_LOG_SQRT_2PI)), norm)
    c_low = half_precision(low_k)
    c_high = c_low if symmetric else half_precision(high_k)
    rows = _Rows(tiled(loc_k), c_low, c_high, tiled(offset))
    smallest = g.reduce("ReduceMin", g.op("Min", low_k, high_k), 0)  # (n,)
    tol = g.op("Mul", tiled(g.op("Unsqueeze", smallest, g.axes(0))), g.const(MODE_TOL))
    tol = g.op("Reshape", tol, g.const([-1], np.int64))
    lp0, step0 = _step(g, rows, x0, slope)
    idx0 = g.op(
        "Range",
        g.const(0, np.int64),
        g.op("Squeeze", g.op("Shape", x0), g.axes(0)),
        g.const(1, np.int64),
    )
    done0 = g.op("SequenceEmpty", dtype=onnx_module().TensorProto.DOUBLE)
    idx_end, x_end, lp_end, _, done = g.ops(
        "Loop",
        [g.const(MODE_ITERATIONS, np.int64), g.const(True, bool), idx0, x0, lp0, step0, done0],
        5,
        body=_body(g, rows, tol, slope),
    )
    every = g.op("Range", g.const(0, np.int64), g.op("Size", idx_end), g.const(1, np.int64))
    done = g.op("SequenceInsert", done, _record(g, every, idx_end, x_end, lp_end))
    table = g.op("ConcatFromSequence", done, axis=1)  # every row once: index, x, lp
    where = g.op("Cast", g.op("Gather", table, g.const(0, np.int64), axis=0), to=7)
    x_end, lp_end = (
        g.op("ScatterElements", x0, where, g.op("Gather", table, g.const(i, np.int64), axis=0))
        for i in (1, 2)
    )
    jets = g.op("Shape", loc_k, start=1, end=2)
    by_start = g.op("Concat", g.const([n_starts], np.int64), jets, axis=0)
    x_s, lp_s = (g.op("Reshape", v, by_start, allowzero=1) for v in (x_end, lp_end))
    best = g.op("ArgMax", lp_s, axis=0, keepdims=1)  # the first of equal maxima, as torch
    return g.op("Squeeze", g.op("GatherElements", x_s, best, axis=0), g.axes(0))
