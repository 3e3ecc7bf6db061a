"""Closure tables: the response mode and resolution in bins of true quantities."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from skcal._chunks import reduce_chunks
from skcal._params import Interval, check_params
from skcal._validation import as_response, as_weights, column, is_dask
from skcal.exceptions import DataError, ParameterError
from skcal.response import _modefit
from skcal.response._edges import DEFAULT_RESPONSE_EDGES
from skcal.response._estimate import MODE_CONSTRAINTS, RESOLUTION_KINDS
from skcal.response._histogram import ResponseHistogram

#: The constraints of the options of a closure table.
_TABLE_CONSTRAINTS = MODE_CONSTRAINTS | {
    "resolution_kind": [RESOLUTION_KINDS],
    "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
}


def _check_options(caller: str, **options: Any) -> None:
    """ParameterError for a bad option of the mode and resolution estimators."""
    check_params(_TABLE_CONSTRAINTS, options, caller)


def _select(data: Any, spec: Any, name: str) -> Any:
    """A column given by name, or the aligned array-like itself."""
    if isinstance(spec, str):
        if data is None:
            raise DataError(f"{name}={spec!r} names a column, but no data was given")
        return column(data, spec)
    return spec


def fill_histogram(
    r: Any,
    *,
    bins: Mapping[str, Any],
    data: Any,
    weights: Any = None,
    response_edges: Any = None,
    chunk_size: int = 1 << 20,
) -> ResponseHistogram:
    """Histogram ``r`` in the bins of ``data``'s columns, chunk by chunk (or per partition).

    The arguments are those of :func:`closure_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> from skcal.response import fill_histogram
    >>> jets = pd.DataFrame({"pt_true": [25.0, 60.0, 70.0], "r": [0.9, 1.0, 1.1]})
    >>> fill_histogram("r", bins={"pt_true": [20, 50, 100]}, data=jets).entries.tolist()
    [1, 2]
    """
    check_params(
        {"chunk_size": [Interval(Integral, 1, None, closed="left")]},
        {"chunk_size": chunk_size},
        "fill_histogram",
    )
    edges = DEFAULT_RESPONSE_EDGES if response_edges is None else response_edges
    template = ResponseHistogram(bins, edges)
    r_values = _select(data, r, "r")
    w_values = _select(data, weights, "weights")
    if data is None:
        raise DataError("data (the table holding the binning columns) is required")

    def fill(chunk: Any, r_chunk: Any, w_chunk: Any) -> ResponseHistogram:
        rr = as_response(r_chunk, "r")
        n = rr.size
        if len(chunk) != n:
            raise DataError(f"r has {n} entries but data has {len(chunk)} rows")
        variables = {name: np.asarray(column(chunk, name), dtype=np.float64) for name in bins}
        return template.empty_like().fill(rr, variables, as_weights(w_chunk, n, "weights"))

    if is_dask(data):
        return reduce_chunks(fill, data, r_values, w_values)
    if is_dask(r_values) or is_dask(w_values):
        raise DataError("r or weights is a Dask collection but data is not")
    r_values = (
        np.asarray(r_values, dtype=np.float64)
        if not isinstance(r_values, pd.Series)
        else r_values.to_numpy()
    )
    if w_values is not None and isinstance(w_values, pd.Series):
        w_values = w_values.to_numpy()
    n_data = (
        len(data)
        if hasattr(data, "__len__") and not isinstance(data, Mapping)
        else len(next(iter(data.values())))
        if isinstance(data, Mapping) and data
        else 0
    )
    if r_values.ndim != 1 or r_values.shape[0] != n_data:
        raise DataError(f"r has shape {r_values.shape} but data has {n_data} rows")
    if isinstance(data, Mapping):
        data = pd.DataFrame({k: np.asarray(v) for k, v in data.items()})
    return reduce_chunks(fill, data, r_values, w_values, chunk_size=chunk_size)


def closure_table(
    r: Any,
    *,
    bins: Mapping[str, Any] | None = None,
    data: Any = None,
    weights: Any = None,
    response_edges: Any = None,
    method: str = "gauss_iter",
    resolution_kind: str = "iqr68",
    min_entries: float = 50.0,
    n_sigma: float = 1.5,
    n_iter: int = 3,
    smooth: int | None = None,
    n_bootstrap: int = 50,
    random_state: int | np.random.Generator | None = 0,
    chunk_size: int = 1 << 20,
) -> pd.DataFrame:
    """A tidy table of the response mode and resolution per bin of true quantities.

    The responses are filled into weighted histograms chunk by chunk (one Dask
    partition at a time for Dask input), which are added; the mode and resolution of
    each bin come from its histogram (:func:`response_mode`, :func:`resolution`).

    Policies: a bin without entries keeps its row with ``entries = 0``, NaN mode and
    resolution and ``status = "empty"``; a bin with fewer than ``min_entries``
    effective entries (or whose Gaussian fit fails) gets the median, ``fallback =
    True`` and its ``status``. Jets outside the bins are not used and are counted in
    ``table.attrs["n_outside"]``; responses beyond ``response_edges`` fill the flow
    bins (counted in the quantiles, ``attrs["response_underflow"]`` and
    ``attrs["response_overflow"]``).

    Parameters
    ----------
    r : str, array-like, Dask Series or ResponseHistogram
        Calibrated responses ``E_calib / E_true`` (finite, positive), a column of
        ``data``, or an already filled histogram (then ``bins`` and ``data`` are not
        used).
    bins : mapping of str to array-like
        Edges per binning column of ``data``, for example ``{"pt_true": [...],
        "abs_eta_true": [...]}``; a name ``abs_<col>`` absent from ``data`` means
        ``|col|``. Any number of dimensions: add ``"npv"`` or ``"mu"`` edges for the
        closure in bins of pile-up as a third dimension (which a (pT, eta) table
        averages over).
    data : DataFrame, mapping of arrays, or Dask DataFrame
        The table holding the binning columns (and ``r``/``weights`` if named).
    weights : str or array-like, optional
        Non-negative event weights, or a column of ``data``.
    response_edges : array-like, optional
        Response histogram edges; default 0 to 3 in steps of 0.005.
    method : {"gauss_iter", "median", "kde"}, default "gauss_iter"
        Mode estimator (:func:`response_mode`).
    resolution_kind : {"iqr68", "shortest68"}, default "iqr68"
        Resolution estimator (:func:`resolution`).
    min_entries, n_sigma, n_iter, smooth
        Options of the mode estimator.
    n_bootstrap : int, default 50
        Poisson-bootstrap replicas for the resolution's error (0: NaN errors).
    random_state : int or Generator, default 0
        Seed of the bootstrap.
    chunk_size : int, default 2**20
        Rows per chunk for in-memory input.

    Returns
    -------
    DataFrame
        One row per bin: ``<var>_low``, ``<var>_high`` per binning variable,
        ``entries``, ``n_effective``, ``mode``, ``mode_err``, ``resolution``,
        ``resolution_err``, ``status``, ``fallback``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skcal.response import closure_table
    >>> rng = np.random.default_rng(0)
    >>> jets = pd.DataFrame({"pt_true": rng.uniform(20, 200, 20_000),
    ...                      "eta_true": rng.uniform(-2, 2, 20_000)})
    >>> jets["r"] = rng.normal(1.0, 0.1, 20_000)
    >>> table = closure_table("r", data=jets, bins={"pt_true": [20, 100, 200],
    ...                                             "abs_eta_true": [0, 1, 2]})
    >>> table[["pt_true_low", "abs_eta_true_low", "entries", "status"]].shape
    (4, 4)
    >>> bool(np.allclose(table["mode"], 1.0, atol=0.01))
    True
    >>> bool(np.allclose(table["resolution"], 0.1, atol=0.01))
    True
    """
    _check_options(
        "closure_table",
        method=method,
        resolution_kind=resolution_kind,
        min_entries=min_entries,
        n_sigma=n_sigma,
        n_iter=n_iter,
        smooth=smooth,
        n_bootstrap=n_bootstrap,
    )
    if isinstance(r, ResponseHistogram):
        if bins is not None or data is not None:
            raise ParameterError("r is a filled histogram: bins and data must not be given")
        hist = r
    else:
        if bins is None:
            raise ParameterError(
                "bins is required (for example {'pt_true': [...], 'abs_eta_true': [...]})"
            )
        hist = fill_histogram(
            r,
            bins=bins,
            data=data,
            weights=weights,
            response_edges=response_edges,
            chunk_size=chunk_size,
        )
    return table_from_histogram(
        hist,
        method=method,
        resolution_kind=resolution_kind,
        min_entries=min_entries,
        n_sigma=n_sigma,
        n_iter=n_iter,
        smooth=smooth,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )


def table_from_histogram(
    hist: ResponseHistogram,
    *,
    method: str = "gauss_iter",
    resolution_kind: str = "iqr68",
    min_entries: float = 50.0,
    n_sigma: float = 1.5,
    n_iter: int = 3,
    smooth: int | None = None,
    n_bootstrap: int = 50,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """The closure table of a filled :class:`ResponseHistogram` (see :func:`closure_table`).

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.response import ResponseHistogram, table_from_histogram
    >>> r = np.random.default_rng(0).normal(1.0, 0.1, 10_000)
    >>> hist = ResponseHistogram({"pt_true": [20, 100]}, np.linspace(0, 3, 601))
    >>> table = table_from_histogram(hist.fill(r, {"pt_true": np.full(r.size, 50.0)}))
    >>> round(float(table["mode"].iloc[0]), 2), table["status"].iloc[0]
    (1.0, 'ok')
    """
    _check_options(
        "table_from_histogram",
        method=method,
        resolution_kind=resolution_kind,
        min_entries=min_entries,
        n_sigma=n_sigma,
        n_iter=n_iter,
        smooth=smooth,
        n_bootstrap=n_bootstrap,
    )
    sumw, sumw2 = hist.flat()
    edges = hist.response_edges
    options: dict[str, Any] = dict(
        method=method, min_entries=min_entries, n_sigma=n_sigma, n_iter=n_iter, smooth=smooth
    )
    est = _modefit.estimate_modes(sumw, sumw2, edges, **options)
    res = _modefit.resolution_arrays(sumw, edges, est.mode, resolution_kind)
    res_err = np.full(res.shape, np.nan)
    mode_err = est.error.copy()
    filled = np.flatnonzero(est.status != _modefit.EMPTY)
    if n_bootstrap and filled.size:
        rng = np.random.default_rng(random_state)
        reps_w, reps_w2 = _modefit.poisson_replicas(sumw[filled], sumw2[filled], n_bootstrap, rng)
        n_r = sumw.shape[1]
        flat_w, flat_w2 = reps_w.reshape(-1, n_r), reps_w2.reshape(-1, n_r)
        boot_modes = _modefit.estimate_modes(flat_w, flat_w2, edges, **options).mode
        boot_res = _modefit.resolution_arrays(flat_w, edges, boot_modes, resolution_kind)
        shape = (n_bootstrap, filled.size)
        with np.errstate(invalid="ignore"):
            res_err[filled] = np.nanstd(boot_res.reshape(shape), axis=0, ddof=1)
            if method == "kde":  # no analytic error for the kernel density peak
                mode_err[filled] = np.nanstd(boot_modes.reshape(shape), axis=0, ddof=1)
    grids = np.meshgrid(*[np.arange(e.size - 1) for e in hist.edges.values()], indexing="ij")
    out: dict[str, Any] = {}
    for grid, (name, e) in zip(grids, hist.edges.items(), strict=True):
        out[f"{name}_low"] = e[grid.ravel()]
        out[f"{name}_high"] = e[grid.ravel() + 1]
    out["entries"] = hist.entries.ravel()
    out["n_effective"] = _modefit.effective_entries(sumw, sumw2)
    out["mode"] = est.mode
    out["mode_err"] = mode_err
    out["resolution"] = res
    out["resolution_err"] = res_err
    out["status"] = np.asarray(_modefit.STATUS, dtype=object)[est.status]
    out["fallback"] = est.fallback
    table = pd.DataFrame(out)
    total = sumw.sum()
    table.attrs.update(
        {
            "n_outside": int(hist.n_outside),
            "sumw_outside": float(hist.sumw_outside),
            "response_underflow": float(sumw[:, 0].sum() / total) if total > 0 else 0.0,
            "response_overflow": float(sumw[:, -1].sum() / total) if total > 0 else 0.0,
            "method": method,
            "resolution_kind": resolution_kind,
        }
    )
    return table
