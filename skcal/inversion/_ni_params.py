"""The parameters of a numerical inversion: defaults, constraints, and what they mean.

The constraints (checked by ``_validate_params`` at the start of ``fit``) say which
values each parameter may take; :func:`check_ni_params` checks what they cannot say
(edges, ``fit_p0`` with ``fit_function``, the deprecated ``target``), and the other
functions turn the parameters into the bins and the column that the fit uses.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from skcal._params import Interval, StrOptions
from skcal.exceptions import ParameterError
from skcal.inversion._stage import STAGE_CONSTRAINTS, ColumnSpec, condition_items
from skcal.response import DEFAULT_RESPONSE_EDGES, check_edges
from skcal.response import _modefit as modefit

#: Default binning: |eta| in steps of 0.1 up to 4.5.
DEFAULT_CONDITION: dict[ColumnSpec, np.ndarray] = {
    "abs_eta": np.round(np.linspace(0.0, 4.5, 46), 10)
}
#: Default truth-level bins of the calibrated quantity: 40 logarithmic bins, 10 GeV to 10 TeV.
DEFAULT_TARGET_BINS = np.geomspace(10.0, 10_000.0, 41)
#: The default of the deprecated ``target`` parameter: not given.
NOT_GIVEN = "deprecated"

#: The constraints of the mode and curve fit, shared with the GSC.
FIT_CONSTRAINTS: dict[str, list[Any]] = {
    "poly_order": [Interval(Integral, 0, None, closed="left")],
    "method": [StrOptions(set(modefit.METHODS))],
    "min_entries": [Interval(Real, 0, None, closed="left")],
    "min_points": [Interval(Integral, 1, None, closed="left")],
    "response_edges": ["array-like", None],
}

#: The constraints of NumericalInversion's parameters.
NI_CONSTRAINTS: dict[str, list[Any]] = {
    "quantity": [str, Integral],
    "condition": [Mapping, None],
    "target_bins": ["array-like", None],
    "fit_function": [callable, None],
    "fit_p0": ["array-like", None],
    "clip_condition": ["boolean"],
    "n_grid": [Interval(Integral, 2, None, closed="left")],
    "target": [str, Integral],
    **FIT_CONSTRAINTS,
    **STAGE_CONSTRAINTS,
}


def resolve_quantity(params: Mapping[str, Any]) -> ColumnSpec:
    """The column calibrated: ``quantity``, or the deprecated ``target`` where given."""
    target: ColumnSpec = params["target"]
    return params["quantity"] if target == NOT_GIVEN else target


def condition_of(params: Mapping[str, Any]) -> list[tuple[ColumnSpec, np.ndarray]]:
    """The ``(column, edges)`` of the reco-level binning."""
    condition = params["condition"]
    return condition_items(DEFAULT_CONDITION if condition is None else condition)


def true_edges_of(params: Mapping[str, Any]) -> np.ndarray:
    """The bins of the true value of the quantity (positive: they bin its logarithm)."""
    given = params["target_bins"]
    edges = check_edges(DEFAULT_TARGET_BINS if given is None else given, "target_bins")
    if edges[0] <= 0:
        raise ParameterError(
            f"target_bins must be positive (they bin log t_true), got {edges[0]!r}"
        )
    return edges


def response_edges_of(params: Mapping[str, Any]) -> np.ndarray:
    """The edges of the response histograms."""
    given = params["response_edges"]
    return check_edges(DEFAULT_RESPONSE_EDGES if given is None else given, "response_edges")


def check_ni_params(params: Mapping[str, Any]) -> None:
    """What the constraints cannot say; a FutureWarning for the deprecated ``target``."""
    target, quantity = params["target"], params["quantity"]
    if target != NOT_GIVEN:
        if quantity != "e_reco" and quantity != target:
            raise ParameterError(
                f"target (deprecated) and quantity are both given ({target!r}, "
                f"{quantity!r}): give quantity only"
            )
        warnings.warn(
            "NumericalInversion's 'target' was renamed 'quantity' (the column calibrated) "
            f"and will be removed in the next release; use quantity={target!r}",
            FutureWarning,
            stacklevel=4,
        )
    if params["fit_function"] is not None and params["fit_p0"] is None:
        raise ParameterError("fit_p0 must be given with fit_function: its starting parameters")
    condition_of(params)
    true_edges_of(params)
    response_edges_of(params)
