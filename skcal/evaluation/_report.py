"""The evaluation report: closure, resolution and robustness checks of one or more calibrators.

This module orchestrates: it checks the arguments, fills the histograms in one pass
(:mod:`._accumulate`), derives the tables (:mod:`._tables`), the metrics and flags
(:mod:`._metrics`, :mod:`._flags`), and writes the figures (:mod:`._figures`),
``metrics.json`` and the HTML page (:mod:`._html`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from skcal._params import Interval, check_params
from skcal.evaluation._accumulate import fill_report
from skcal.evaluation._apply import model_features
from skcal.evaluation._bins import ReportBins
from skcal.evaluation._figures import draw_report
from skcal.evaluation._html import write_html
from skcal.evaluation._importance import feature_importance, shap_importance
from skcal.evaluation._metrics import jsonable, report_metrics
from skcal.evaluation._result import CalibrationReport
from skcal.evaluation._style import PlotStyle, check_style
from skcal.evaluation._tables import report_tables
from skcal.exceptions import DataError, ParameterError

__all__ = ["report"]

_NON_NEGATIVE_INT = [Interval(Integral, 0, None, closed="left")]
#: The constraints of report's parameters (``models`` and ``table`` are its data).
_CONSTRAINTS: dict[str, list[Any]] = {
    "output_dir": [str, os.PathLike],
    "bins": [ReportBins, None],
    "weights": [str, None],
    "tolerances": ["array-like"],
    "flag_sigma": [Interval(Real, 0, None, closed="left")],
    "pileup_sigma": [Interval(Real, 0, None, closed="left")],
    "min_entries": [Interval(Real, 0, None, closed="left")],
    "n_bootstrap": _NON_NEGATIVE_INT,
    "importance_jets": _NON_NEGATIVE_INT,
    "shap": ["boolean"],
    "style": [PlotStyle, None],
    "plots": ["boolean"],
    "random_state": _NON_NEGATIVE_INT,
    "chunk_size": [Interval(Integral, 1, None, closed="left")],
}
_REQUIRED = ("e_reco", "e_true", "pt_true", "eta_true")


def _as_models(models: Any) -> dict[str, Any]:
    if isinstance(models, Mapping):
        if not models:
            raise DataError("models is an empty mapping: give at least one fitted model")
        out = {str(k): v for k, v in models.items()}
    else:
        out = {type(models[-1] if hasattr(models, "steps") else models).__name__: models}
    for name, model in out.items():
        if not hasattr(model, "predict"):
            raise DataError(f"model {name!r} ({type(model).__name__}) has no predict method")
        model_features(model)
    return out


def _tolerances(tolerances: Any) -> tuple[float, float]:
    """The inner and outer closure bands; ParameterError unless ``0 < inner < outer``."""
    try:
        low, high = (float(t) for t in tolerances)
    except (TypeError, ValueError):
        low = high = math.nan
    if not 0 < low < high:
        raise ParameterError(
            "The 'tolerances' parameter of report must be two increasing positive fractions "
            f"(inner, outer). Got {tolerances!r} instead."
        )
    return low, high


def _columns(table: Any) -> list[str]:
    if not hasattr(table, "columns"):
        raise DataError(
            f"table must be a pandas or Dask DataFrame (a jet table), got {type(table).__name__}"
        )
    return [str(c) for c in table.columns]


def report(
    models: Any,
    table: Any,
    *,
    output_dir: str | Path,
    bins: ReportBins | None = None,
    weights: str | None = None,
    tolerances: tuple[float, float] = (0.01, 0.05),
    flag_sigma: float = 2.0,
    pileup_sigma: float = 3.0,
    min_entries: float = 50.0,
    n_bootstrap: int = 20,
    importance_jets: int = 2000,
    shap: bool = False,
    style: PlotStyle | None = None,
    plots: bool = True,
    random_state: int = 0,
    chunk_size: int = 1 << 18,
) -> CalibrationReport:
    """Write the closure, resolution and robustness report of one or several calibrators.

    The jet table is read once: each chunk (or Dask partition) is calibrated by every
    model and filled into weighted response histograms; every figure and number is
    derived from their sums (:class:`ResponseHistogram`). Written to ``output_dir``:

    - ``closure_pt_eta<i>.png``: closure (the mode of ``E_calib / E_true``) against
      pT_true per |eta_true| slice, with the +-1% and +-5% bands;
      ``closure_eta_pt<i>.png``: against eta_true per pT_true slice;
      ``resolution_pt_eta<i>.png``: ``(q84 - q16) / (2 mode)`` against pT_true;
    - ``response_<i>.png``: calibrated-response distributions in chosen bins, with
      each density calibrator's predicted density (averaged over the jets) dashed;
    - ``flavour_<model>.png``: closure per gluon, light, charm and bottom jets;
    - ``pileup_<npv|mu>_pt<i>.png``: the slope of the calibrated response mode
      against NPV (mu) per |eta_true| bin (compatible with 0 for a calibration free of
      pile-up dependence), with the band of slopes that move the response by less than
      +-1% between the top and the bottom 10% of NPV (mu) (+-2% up to 30 GeV);
    - ``spectrum_<model>.png``: the closure shift when the test sample is re-weighted
      to a flat spectrum of ``bins.spectrum_column`` (``e_true``);
    - ``pulls_<model>.png`` and ``pulls.png``: pulls ``(R_pred - r) / sigma_tot`` of
      density calibrators, mean and width per (pT_true, |eta_true|) bin; ``sigma_tot``
      from ``predict_uncertainty`` (an ensemble's includes its ``sigma_stat``); for a
      model trained in a log space the pulls are taken there,
      ``(ln R_pred - ln r) / (sigma_tot / R_pred)``;
    - ``importance.png``: the inputs' importance (each moved by +-1% of its standard
      deviation: mean relative change of the predicted response), and SHAP values
      with ``shap=True`` (needs the ``shap`` package);
    - ``metrics.json`` (every number in the plots, and a summary with flags per model)
      and ``index.html`` (every figure and the summary).

    Parameters
    ----------
    models : fitted estimator or Pipeline, or mapping of name to one
        Calibrators predicting the response ``E_reco / E_true`` from the table's
        columns they were fitted on (``feature_names_in_``).
    table : DataFrame or Dask DataFrame
        Held-out jets with ``e_reco``, ``e_true``, ``pt_true``, ``eta_true`` and the
        models' inputs; ``flavour``, ``npv`` and ``mu`` enable those checks.
    output_dir : str or Path
        Created if missing; existing report files in it are replaced.
    bins : ReportBins, optional
        The binnings (defaults: :class:`ReportBins`).
    weights : str, optional
        A column of event weights; unweighted by default (closure is usually shown
        unweighted in narrow truth bins).
    tolerances : (float, float), default (0.01, 0.05)
        The closure bands.
    flag_sigma : float, default 2
        A bin is flagged when ``|R - 1|`` exceeds the inner tolerance by more than
        ``flag_sigma`` times its statistical error.
    pileup_sigma : float, default 3
        A pile-up slope is flagged when the shift it implies between the top and the
        bottom 10% of NPV (mu) in its cell exceeds the inner tolerance (twice it up to
        pT_true = 30 GeV) by more than ``pileup_sigma`` times its error: the criterion
        of ``benchmarks/bench_pileup.py`` (which measures the decile modes directly,
        at one error).
    min_entries : float, default 50
        Bins with fewer effective jets fall back to the median and are not flagged.
    n_bootstrap : int, default 20
        Bootstrap replicas of the resolution error.
    importance_jets : int, default 2000
        Jets (a random subset of each chunk, the first chunks first) used for the
        feature importance; 0 to skip it.
    shap : bool, default False
        Also compute mean absolute SHAP values (optional ``shap`` package).
    style : PlotStyle, optional
        The mplhep style and labels of the figures.
    plots : bool, default True
        Draw the PNGs (False: only ``metrics.json`` and the HTML summary).
    random_state : int, default 0
        Seeds the subsets and the bootstrap.
    chunk_size : int, default 2**18
        Rows per chunk of an in-memory table.

    Returns
    -------
    CalibrationReport

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from skcal.datasets import make_jets
    >>> from skcal.evaluation import ReportBins, report
    >>> jets = make_jets(3000, random_state=0)
    >>> model = DummyRegressor(strategy="median").fit(jets[["e_reco"]], jets.e_reco / jets.e_true)
    >>> small = ReportBins(pt=[20, 100, 3000], abs_eta=[0, 2.5, 4.5], density_bins=())
    >>> with tempfile.TemporaryDirectory() as out:
    ...     result = report({"constant": model}, jets, output_dir=out, bins=small, n_bootstrap=0,
    ...                     importance_jets=200, plots=False)
    ...     sorted(p.name for p in result.output_dir.iterdir())
    ['index.html', 'metrics.json']
    >>> result.metrics["summary"]["constant"]["n_bins"]
    4
    """
    params = {k: v for k, v in locals().items() if k in _CONSTRAINTS}
    check_params(_CONSTRAINTS, params, "report")
    low, high = _tolerances(tolerances)
    style = style or PlotStyle()
    if plots:
        check_style(style)
    named = _as_models(models)
    columns = _columns(table)
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise DataError(
            f"the table lacks the truth column {missing[0]!r} that the report needs "
            f"(it needs {list(_REQUIRED)})"
        )
    if weights is not None and weights not in columns:
        raise DataError(f"weights={weights!r} is not a column of the table")
    bins = (bins or ReportBins()).checked()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)

    filled = fill_report(
        named,
        table,
        bins,
        weights=weights,
        max_sample=max(int(importance_jets), 1),
        random_state=random_state,
        chunk_size=chunk_size,
    )
    options = dict(min_entries=min_entries, n_bootstrap=n_bootstrap, random_state=random_state)
    tables = report_tables(filled, bins, options)
    importance = {}
    shap_values = {}
    if importance_jets:
        for name, model in named.items():
            importance[name] = feature_importance(model, filled.sample)
            if shap:
                shap_values[name] = shap_importance(model, filled.sample.iloc[:500])
    metrics = report_metrics(
        filled,
        tables,
        bins,
        (low, high),
        flag_sigma,
        pileup_sigma,
        min_entries,
        importance,
        shap_values,
    )
    result = CalibrationReport(output_dir=out, metrics=metrics, tables=tables)
    if plots:
        result.figures = draw_report(result, filled, bins, style, (low, high), importance)
    (out / "metrics.json").write_text(json.dumps(jsonable(metrics), indent=1, allow_nan=False))
    write_html(result, style)
    return result
