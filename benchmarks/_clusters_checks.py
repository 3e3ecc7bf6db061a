"""The issue's checks of the topo-cluster benchmark: per training seed, then over the seeds.

Each check of one seed gives one figure (``value``, larger is worse: a ratio, a
linearity, a count of failing bins, a pull width) and a verdict; over the seeds a check
reports the median, the best and the worst figure and passes only where every seed
passes. Close resolution comparisons carry the significance ``z`` of the worst bin,
``(sigma_model - sigma_ref) / sqrt(err_model^2 + err_ref^2)`` from the bootstrap errors
(treated as independent: conservative, since both models are evaluated on the same
clusters).
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CHECK_E_MIN", "LCW_E_MIN", "seed_checks", "over_seeds", "summary_rows"]

CHECK_E_MIN = 1.0  # the checks of DNN-HGM hold above 1 GeV
LCW_E_MIN = 2.0  # and LCW's linearity above 2 GeV


def _model(per_bin: pd.DataFrame, name: str, e_min: float) -> pd.DataFrame:
    part = per_bin[(per_bin["model"] == name) & (per_bin["e_dep_low"] >= e_min)]
    return part.set_index("e_dep_low")


def _resolution_check(net: pd.DataFrame, ref: pd.DataFrame, label: str, what: str) -> dict:
    ratio = net["resolution"] / ref["resolution"]
    worst = ratio.idxmax()
    err = np.hypot(net.loc[worst, "resolution_err"], ref.loc[worst, "resolution_err"])
    diff = net.loc[worst, "resolution"] - ref.loc[worst, "resolution"]
    failing = [float(b) for b in net.index[net["resolution"] >= ref["resolution"]]]
    return {
        "check": f"{label} resolution below {what} in every E_dep bin above 1 GeV",
        "figure": f"worst ratio {label}/{what}",
        "value": float(ratio.max()),
        "detail": {
            "worst_bin": float(worst),
            "worst_bin_z": float(diff / err) if err > 0 else float("nan"),
            "bins_failing": failing,
        },
        "pass": not failing,
    }


def seed_checks(per_bin: pd.DataFrame, net: str = "hgm", label: str = "DNN-HGM") -> list[dict]:
    """The issue's checks on one seed's per-bin table (``cluster_performance`` rows)."""
    em, lcw, hgm = (_model(per_bin, n, CHECK_E_MIN) for n in ("em", "lcw", net))
    lcw_worse = lcw["linearity"].abs() > 0.02
    not_better = lcw_worse & ~(hgm["linearity"].abs() < lcw["linearity"].abs())
    lcw2, em2 = _model(per_bin, "lcw", LCW_E_MIN), _model(per_bin, "em", LCW_E_MIN)
    return [
        _resolution_check(hgm, lcw, label, "LCW"),
        _resolution_check(hgm, em, label, "EM scale"),
        {
            "check": f"{label} signal linearity within +-2% above 1 GeV",
            "figure": "worst |linearity|",
            "value": float(hgm["linearity"].abs().max()),
            "detail": {"worst_bin": float(hgm["linearity"].abs().idxmax())},
            "pass": bool((hgm["linearity"].abs() <= 0.02).all()),
        },
        {
            "check": f"{label} linearity better than LCW's where LCW's is worse than 2%",
            "figure": "bins where LCW is worse than 2% and the network not better",
            "value": float(not_better.sum()),
            "detail": {"bins_lcw_worse": [float(b) for b in lcw.index[lcw_worse]]},
            "pass": not bool(not_better.any()),
        },
        {
            "check": f"{label} pull width (std of t^log) per bin above 1 GeV; the seed: < 1",
            "figure": "largest pull std over the bins",
            "value": float(hgm["pull_std"].max()),
            "detail": {
                "pull_std_by_bin": {
                    float(b): round(float(v), 4) for b, v in hgm["pull_std"].items()
                },
                "pull_width68_by_bin": {
                    float(b): round(float(v), 4) for b, v in hgm["pull_width68"].items()
                },
            },
            "pass": bool((hgm["pull_std"] < 1).all()),
        },
        {
            "check": "LCW closes better than EM scale, linearity within +-5% above 2 GeV",
            "figure": "worst |linearity| of LCW",
            "value": float(lcw2["linearity"].abs().max()),
            "detail": {},
            "pass": bool(
                (lcw2["linearity"].abs() <= 0.05).all()
                and (lcw2["linearity"].abs() < em2["linearity"].abs()).all()
            ),
        },
    ]


def over_seeds(by_seed: dict[int, list[dict]]) -> list[dict[str, Any]]:
    """One row per check: the median, best and worst figure over the seeds, all verdicts."""
    seeds = sorted(by_seed)
    rows = []
    for i, first in enumerate(by_seed[seeds[0]]):
        per = [by_seed[s][i] for s in seeds]
        values = [p["value"] for p in per]
        rows.append(
            {
                "check": first["check"],
                "figure": first["figure"],
                "median": statistics.median(values),
                "best": min(values),
                "worst": max(values),
                "seeds_passing": f"{sum(p['pass'] for p in per)}/{len(per)}",
                "pass": all(p["pass"] for p in per),
                "by_seed": {
                    str(s): {"value": p["value"], **p["detail"]} for s, p in zip(seeds, per)
                },
            }
        )
    return rows


def summary_rows(per_bin: pd.DataFrame) -> list[dict[str, Any]]:
    """Per model and E_dep bin: the median, min and max over the seeds of the linearity,
    the resolution and the pull std."""
    rows = []
    for (model, low), part in per_bin.groupby(["model", "e_dep_low"], sort=False):
        row: dict[str, Any] = {
            "model": model,
            "e_dep_low": float(low),
            "e_dep_high": float(part["e_dep_high"].iloc[0]),
            "seeds": len(part),
        }
        for column in ("linearity", "resolution", "resolution_err", "pull_std"):
            values = part[column].astype(float)
            if values.isna().all():
                continue
            row[f"{column}_median"] = float(values.median())
            if column != "resolution_err":
                row[f"{column}_min"], row[f"{column}_max"] = (
                    float(values.min()),
                    float(values.max()),
                )
        rows.append(row)
    return rows
