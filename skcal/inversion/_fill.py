"""The histograms of a numerical inversion: responses in bins of cell and true value.

One chunk of the jet table at a time, :func:`fill_histogram` histograms the response
of the quantity as it reaches the stage (``y * scale``) in bins of the condition cell
(:func:`cell_index`, reco level) and of the true value ``t_true = t / (y * scale)``,
with the sum of ``log t_true`` per bin (where the curve is fitted).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skcal.inversion._curves import LOG_TRUE, TRUE_AXIS
from skcal.inversion._stage import ColumnSpec, Frame
from skcal.response import ResponseHistogram, bin_lookup


def cell_index(
    frame: Frame, condition: Sequence[tuple[ColumnSpec, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Flat condition-cell index of each jet (clipped) and whether it was outside."""
    cell = np.zeros(frame.n, dtype=np.intp)
    outside = np.zeros(frame.n, dtype=bool)
    for spec, edges in condition:
        index, out = bin_lookup(frame.get(spec, "condition"), edges)
        cell = cell * (edges.size - 1) + index
        outside |= out
    return cell, outside


def fill_histogram(
    frame: Frame,
    t: np.ndarray,
    response: np.ndarray,
    w: np.ndarray | None,
    *,
    condition: Sequence[tuple[ColumnSpec, np.ndarray]],
    true_edges: np.ndarray,
    response_edges: np.ndarray,
    clip_condition: bool,
) -> tuple[ResponseHistogram, int]:
    """The histogram of one chunk, and how many jets had their condition clipped.

    ``t`` is the quantity as it reaches the stage and ``response`` its response. Jets
    outside the condition edges are dropped (counted in ``n_outside``) or, with
    ``clip_condition``, counted in the outermost bins.
    """
    t_true = t / response
    cell, outside = cell_index(frame, condition)
    keep = ~outside if not clip_condition else np.ones(frame.n, dtype=bool)
    n_clipped = int(outside.sum()) if clip_condition else 0
    n_cells = int(np.prod([e.size - 1 for _, e in condition])) if condition else 1
    hist = ResponseHistogram(
        {"cell": n_cells, TRUE_AXIS: true_edges},
        response_edges,
        extras=(LOG_TRUE,),
    )
    dropped = int((~keep).sum())
    if dropped:
        response, t_true, cell = response[keep], t_true[keep], cell[keep]
        w = None if w is None else w[keep]
    hist.fill(
        response,
        {"cell": cell, TRUE_AXIS: t_true},
        w,
        {LOG_TRUE: np.log(t_true)},
        checked=True,
    )
    hist.n_outside += dropped
    return hist, n_clipped
