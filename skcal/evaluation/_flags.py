"""The summary of one model: its headline numbers and the findings flagged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from skcal.evaluation._accumulate import ReportFill
from skcal.evaluation._pulls import inclusive_pulls


def pileup_tolerance(pt_true_high: Any, inner: float) -> Any:
    """The allowed top-minus-bottom decile shift: twice the inner band up to 30 GeV."""
    return np.where(np.asarray(pt_true_high) <= 30.0, 2.0 * inner, inner)


def _usable(table: pd.DataFrame, min_entries: float) -> pd.DataFrame:
    return table[(table["status"] == "ok") & (table["n_effective"] >= min_entries)]


def model_summary(
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
        allowed = pileup_tolerance(slopes["pt_true_high"].to_numpy(), tolerances[0])
        excess = slopes["shift"].abs() - allowed
        significant = slopes[excess > pileup_sigma * slopes["shift_err"]]
        summary[f"pileup_{variable}_max_significance"] = float(slopes["significance"].abs().max())
        summary[f"pileup_{variable}_max_shift"] = float(slopes["shift"].abs().max())
        summary[f"pileup_{variable}_n_significant"] = int(len(significant))
        flags += [
            f"pile-up slope dR/d{variable} = {row.slope:.2e} +- {row.slope_err:.1e}, a shift of "
            f"{row.shift:+.3f} +- {row.shift_err:.3f} between the top and bottom 10% of "
            f"{variable}, at pT_true [{row.pt_true_low:g}, {row.pt_true_high:g}) GeV, "
            f"|eta_true| [{row.abs_eta_true_low:g}, {row.abs_eta_true_high:g})"
            for row in significant.itertuples()
        ]
    spectrum = tables["spectrum"][name]
    ok = spectrum[(spectrum["status"] == "ok") & (spectrum["status_flat"] == "ok")]
    summary["spectrum_max_shift"] = float(ok["shift"].abs().max()) if len(ok) else float("nan")
    prediction = filled.models[name].prediction
    if prediction is not None:
        inc = inclusive_pulls(prediction.pulls)
        summary.update(pull_mean=inc["mean"], pull_std=inc["std"], pull_width68=inc["width68"])
    summary["flags"] = flags
    return summary
