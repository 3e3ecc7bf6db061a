"""The evaluation report: closure, resolution and robustness checks of one or more calibrators."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skcal.evaluation import _plots
from skcal.evaluation._accumulate import FLAVOURS, ReportBins, ReportFill, fill_report
from skcal.evaluation._apply import model_features
from skcal.evaluation._dependence import flavour_table, pileup_slopes, spectrum_tables
from skcal.evaluation._importance import feature_importance, shap_importance
from skcal.evaluation._pulls import inclusive_pulls, pull_table
from skcal.exceptions import DataError
from skcal.response import table_from_histogram

__all__ = ["CalibrationReport", "ReportBins", "report"]

_REQUIRED = ("e_reco", "e_true", "pt_true", "eta_true")


@dataclass
class CalibrationReport:
    """What :func:`report` wrote, and the tables behind every figure.

    Attributes
    ----------
    output_dir : Path
        The folder holding the PNGs, ``metrics.json`` and ``index.html``.
    metrics : dict
        The content of ``metrics.json``.
    tables : dict of str to dict of str to DataFrame
        Per section (``closure_pt``, ``closure_eta``, ``flavour``, ``pileup_npv``,
        ``pileup_mu``, ``spectrum``, ``pulls``), per model, the table behind its plots.
    figures : list of Path
        The PNGs written.
    """

    output_dir: Path
    metrics: dict[str, Any]
    tables: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)

    @property
    def html(self) -> Path:
        """The HTML page that shows every figure."""
        return self.output_dir / "index.html"

    def flagged(self, model: str) -> list[str]:
        """Human-readable findings for ``model`` (bins out of tolerance, pile-up slopes, ...)."""
        return list(self.metrics["summary"][model]["flags"])


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
    style: _plots.PlotStyle | None = None,
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
      pile-up dependence);
    - ``spectrum_<model>.png``: the closure shift when the test sample is re-weighted
      to a flat spectrum of ``bins.spectrum_column`` (``e_true``);
    - ``pulls_<model>.png`` and ``pulls.png``: pulls ``(R_pred - r) / sigma_pred`` of
      density calibrators, mean and width per bin;
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
        A pile-up slope is flagged beyond ``pileup_sigma`` standard errors from 0.
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
    low, high = (float(t) for t in tolerances)
    if not 0 < low < high:
        raise DataError(f"tolerances must be two increasing positive fractions, got {tolerances!r}")
    bins = (bins or ReportBins()).checked()
    style = style or _plots.PlotStyle()
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
    tables = _tables(filled, bins, options)
    importance = {}
    shap_values = {}
    if importance_jets:
        for name, model in named.items():
            importance[name] = feature_importance(model, filled.sample)
            if shap:
                shap_values[name] = shap_importance(model, filled.sample.iloc[:500])
    metrics = _metrics(
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
        result.figures = _draw(result, filled, bins, style, (low, high), importance)
    (out / "metrics.json").write_text(json.dumps(_jsonable(metrics), indent=1, allow_nan=False))
    _write_html(result, style)
    return result


def _tables(
    filled: ReportFill, bins: ReportBins, options: dict[str, Any]
) -> dict[str, dict[str, pd.DataFrame]]:
    tables: dict[str, dict[str, pd.DataFrame]] = {
        key: {}
        for key in (
            "closure_pt",
            "closure_eta",
            "flavour",
            "pileup_npv",
            "pileup_npv_points",
            "pileup_mu",
            "pileup_mu_points",
            "spectrum",
            "pulls",
        )
    }
    no_boot = {**options, "n_bootstrap": 0}
    for name, fill in filled.models.items():
        tables["closure_pt"][name] = table_from_histogram(fill.closure_pt, **options)
        tables["closure_eta"][name] = table_from_histogram(fill.closure_eta, **options)
        if fill.flavour is not None:
            tables["flavour"][name] = flavour_table(fill.flavour, list(FLAVOURS), **no_boot)
        for variable, hist in fill.pileup.items():
            slopes, points = pileup_slopes(hist, variable, **no_boot)
            tables[f"pileup_{variable}"][name] = slopes
            tables[f"pileup_{variable}_points"][name] = points
        tables["spectrum"][name] = spectrum_tables(
            fill.spectrum, filled.spectrum_counts, bins.spectrum, **no_boot
        )
        if fill.pulls is not None:
            tables["pulls"][name] = pull_table(fill.pulls)
    return {k: v for k, v in tables.items() if v}


def _usable(table: pd.DataFrame, min_entries: float) -> pd.DataFrame:
    return table[(table["status"] == "ok") & (table["n_effective"] >= min_entries)]


def _summary(
    name: str,
    filled: ReportFill,
    tables: dict[str, dict[str, pd.DataFrame]],
    tolerances: tuple[float, float],
    flag_sigma: float,
    pileup_sigma: float,
    min_entries: float,
) -> dict[str, Any]:
    closure = tables["closure_pt"][name]
    usable = _usable(closure, min_entries)
    deviation = (usable["mode"] - 1.0).abs()
    flagged = usable[deviation - tolerances[0] > flag_sigma * usable["mode_err"]]
    flags = [
        f"closure {row.mode:.3f} +- {row.mode_err:.3f} outside +-{100 * tolerances[0]:g}% at "
        f"pT_true [{row.pt_true_low:g}, {row.pt_true_high:g}) GeV, |eta_true| "
        f"[{row.abs_eta_true_low:g}, {row.abs_eta_true_high:g})"
        for row in flagged.itertuples()
    ]
    summary: dict[str, Any] = {
        "n_bins": int(len(closure)),
        "n_bins_usable": int(len(usable)),
        "worst_closure": float(deviation.max()) if len(usable) else float("nan"),
        "mean_abs_closure": float(deviation.mean()) if len(usable) else float("nan"),
        "n_outside_inner": int((deviation > tolerances[0]).sum()),
        "n_outside_outer": int((deviation > tolerances[1]).sum()),
        "n_flagged": int(len(flagged)),
        "median_resolution": float(usable["resolution"].median()) if len(usable) else float("nan"),
    }
    for variable in ("npv", "mu"):
        slopes = tables.get(f"pileup_{variable}", {}).get(name)
        if slopes is None:
            continue
        significant = slopes[slopes["significance"].abs() > pileup_sigma]
        summary[f"pileup_{variable}_max_significance"] = float(slopes["significance"].abs().max())
        summary[f"pileup_{variable}_n_significant"] = int(len(significant))
        flags += [
            f"pile-up slope dR/d{variable} = {row.slope:.2e} +- {row.slope_err:.1e} at pT_true "
            f"[{row.pt_true_low:g}, {row.pt_true_high:g}) GeV, |eta_true| [{row.abs_eta_true_low:g}, "
            f"{row.abs_eta_true_high:g})"
            for row in significant.itertuples()
        ]
    spectrum = tables["spectrum"][name]
    ok = spectrum[(spectrum["status"] == "ok") & (spectrum["status_flat"] == "ok")]
    summary["spectrum_max_shift"] = float(ok["shift"].abs().max()) if len(ok) else float("nan")
    pulls = tables.get("pulls", {}).get(name)
    if pulls is not None:
        inc = inclusive_pulls(filled.models[name].pulls)
        summary.update(pull_mean=inc["mean"], pull_std=inc["std"], pull_width68=inc["width68"])
    summary["flags"] = flags
    return summary


def _metrics(
    filled: ReportFill,
    tables: dict[str, dict[str, pd.DataFrame]],
    bins: ReportBins,
    tolerances: tuple[float, float],
    flag_sigma: float,
    pileup_sigma: float,
    min_entries: float,
    importance: dict[str, pd.Series],
    shap_values: dict[str, pd.Series],
) -> dict[str, Any]:
    names = list(filled.models)
    metrics: dict[str, Any] = {
        "models": names,
        "n_jets": filled.n_jets,
        "definitions": {
            "closure": "mode (iterative Gaussian core fit) of E_calib / E_true per bin of true quantities",
            "resolution": "(q84 - q16) / (2 * mode) of E_calib / E_true",
            "pileup_slope": "weighted straight-line slope of the closure mode against the mean NPV (mu)",
            "spectrum_shift": f"closure re-weighted to a flat {bins.spectrum_column} spectrum minus nominal",
            "pull": "(R_pred - r) / sigma_pred per jet, r = E_reco / E_true",
            "importance": "mean over jets of |R(x +- 0.01 std_j) - R(x)| / R(x), averaged over both signs",
        },
        "tolerances": list(tolerances),
        "binning": {k: np.asarray(v).tolist() for k, v in vars(bins).items()},
        "summary": {
            name: _summary(name, filled, tables, tolerances, flag_sigma, pileup_sigma, min_entries)
            for name in names
        },
    }
    for section, per_model in tables.items():
        metrics[section] = {
            name: table.to_dict(orient="records") for name, table in per_model.items()
        }
    metrics["response_distributions"] = _distributions(filled, bins)
    metrics["pulls_inclusive"] = {
        name: inclusive_pulls(fill.pulls)
        for name, fill in filled.models.items()
        if fill.pulls is not None
    }
    metrics["importance"] = {name: series.to_dict() for name, series in importance.items()}
    if shap_values:
        metrics["shap"] = {name: series.to_dict() for name, series in shap_values.items()}
    return metrics


def _distributions(filled: ReportFill, bins: ReportBins) -> list[dict[str, Any]]:
    edges = bins.density_response
    out = []
    for k, box in enumerate(bins.density_bins):
        entry: dict[str, Any] = {
            "pt_true": list(box[:2]),
            "abs_eta_true": list(box[2:]),
            "edges": edges,
            "density": {},
            "density_err": {},
            "predicted_density": {},
        }
        for name, fill in filled.models.items():
            hist = fill.density[k]
            sumw, sumw2 = hist.sumw.reshape(-1)[1:-1], hist.sumw2.reshape(-1)[1:-1]
            total = hist.sumw.sum()
            norm = total * np.diff(edges) if total > 0 else np.ones(edges.size - 1)
            entry["density"][name] = sumw / norm
            entry["density_err"][name] = np.sqrt(sumw2) / norm
            if fill.predicted_density is not None and fill.predicted_weight[k] > 0:
                entry["predicted_density"][name] = (
                    fill.predicted_density[k] / fill.predicted_weight[k]
                )
        out.append(entry)
    return out


def _slices(edges: np.ndarray) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _draw(
    result: CalibrationReport,
    filled: ReportFill,
    bins: ReportBins,
    style: _plots.PlotStyle,
    tolerances: tuple[float, float],
    importance: dict[str, pd.Series],
) -> list[Path]:
    out, tables, figures = result.output_dir, result.tables, []
    for i, sl in enumerate(_slices(bins.abs_eta)):
        figures.append(
            _plots.plot_binned(
                tables["closure_pt"],
                x="pt_true",
                y="mode",
                yerr="mode_err",
                slice_var="abs_eta_true",
                slice_range=sl,
                path=out / f"closure_pt_eta{i}.png",
                style=style,
                ylabel=_plots.CLOSURE_LABEL,
                closure=True,
                bands=tolerances,
            )
        )
        figures.append(
            _plots.plot_binned(
                tables["closure_pt"],
                x="pt_true",
                y="resolution",
                yerr="resolution_err",
                slice_var="abs_eta_true",
                slice_range=sl,
                path=out / f"resolution_pt_eta{i}.png",
                style=style,
                ylabel=_plots.RESOLUTION_LABEL,
                closure=False,
            )
        )
    for i, sl in enumerate(_slices(bins.eta_pt)):
        figures.append(
            _plots.plot_binned(
                tables["closure_eta"],
                x="eta_true",
                y="mode",
                yerr="mode_err",
                slice_var="pt_true",
                slice_range=sl,
                path=out / f"closure_eta_pt{i}.png",
                style=style,
                ylabel=_plots.CLOSURE_LABEL,
                closure=True,
                bands=tolerances,
            )
        )
    for i, entry in enumerate(result.metrics["response_distributions"]):
        hists = {
            name: (entry["density"][name], entry["density_err"][name]) for name in entry["density"]
        }
        figures.append(
            _plots.plot_distribution(
                hists,
                entry["predicted_density"],
                bins.density_response,
                bins.density_bins[i],
                out / f"response_{i}.png",
                style,
            )
        )
    for k, (name, table) in enumerate(tables.get("flavour", {}).items()):
        figures.append(
            _plots.plot_flavour(table, name, out / f"flavour_{k}.png", style, bands=tolerances)
        )
    for variable in ("npv", "mu"):
        slopes = tables.get(f"pileup_{variable}")
        if slopes:
            for i, sl in enumerate(_slices(bins.pileup_pt)):
                figures.append(
                    _plots.plot_pileup(
                        slopes, variable, sl, out / f"pileup_{variable}_pt{i}.png", style
                    )
                )
    for k, (name, table) in enumerate(tables["spectrum"].items()):
        figures.append(
            _plots.plot_spectrum(
                table, name, out / f"spectrum_{k}.png", style, bands=(tolerances[0],)
            )
        )
    inclusive = result.metrics["pulls_inclusive"]
    for k, (name, table) in enumerate(tables.get("pulls", {}).items()):
        figures.append(
            _plots.plot_pulls(table, inclusive[name], name, out / f"pulls_{k}.png", style)
        )
    if inclusive:
        figures.append(_plots.plot_pull_distribution(inclusive, out / "pulls.png", style))
    if importance:
        figures.append(_plots.plot_importance(importance, out / "importance.png", style))
    return figures


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value if value is None or isinstance(value, str) else str(value)


_SECTIONS = (
    ("Closure versus pT", "closure_pt_eta"),
    ("Closure versus eta", "closure_eta_pt"),
    ("Resolution versus pT", "resolution_pt_eta"),
    ("Response distributions", "response_"),
    ("Flavour dependence", "flavour_"),
    ("Pile-up dependence (NPV)", "pileup_npv"),
    ("Pile-up dependence (mu)", "pileup_mu"),
    ("Spectrum dependence", "spectrum_"),
    ("Pulls", "pulls"),
    ("Feature importance", "importance"),
)


def _write_html(result: CalibrationReport, style: _plots.PlotStyle) -> Path:
    summary = result.metrics["summary"]
    keys = [k for k in next(iter(summary.values())) if k != "flags"]
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(f"<td>{_fmt(s.get(k))}</td>" for k in keys)
        + "</tr>"
        for name, s in summary.items()
    )
    head = "<tr><th>model</th>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>"
    flags = "".join(
        f"<h3>{html.escape(name)}: {len(s['flags'])} finding(s)</h3><ul>"
        + "".join(f"<li>{html.escape(f)}</li>" for f in s["flags"][:50])
        + ("<li>...</li>" if len(s["flags"]) > 50 else "")
        + "</ul>"
        for name, s in summary.items()
    )
    names = sorted(p.name for p in result.figures)
    body = []
    for title, prefix in _SECTIONS:
        shown = [n for n in names if n.startswith(prefix)]
        if shown:
            body.append(
                f"<h2>{html.escape(title)}</h2><div class='grid'>"
                + "".join(f"<a href='{n}'><img src='{n}' alt='{n}'></a>" for n in shown)
                + "</div>"
            )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>skcal calibration report</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}} .grid img{{width:32%;min-width:380px}}</style>
</head><body>
<h1>Calibration report: {html.escape(", ".join(result.metrics["models"]))}</h1>
<p>{result.metrics["n_jets"]:,} jets. {html.escape(style.sample)} Definitions and every number in the plots:
<a href="metrics.json">metrics.json</a>.</p>
<h2>Summary</h2><table>{head}{rows}</table>{flags}
{"".join(body)}
</body></html>
"""
    path = result.html
    path.write_text(page)
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if not math.isfinite(value) else f"{value:.4g}"
    return html.escape(str(value))
