"""The heavy-ion benchmark's checks (issue 24's "What it must show") over training seeds.

``table`` is the benchmark's per-bin table (:func:`skcal.heavy_ion.delta_pt_table` rows
with ``estimator``, ``sample`` and ``seed`` columns; rho*A, which is not trained, has its
rows once, under the seed :data:`BASELINE_SEED`). Each check is evaluated per training
seed, with the bootstrap error of that seed's figure, and reported as the median over
the seeds (``value``, with ``error`` the bootstrap error of the median seed), the range
over the seeds (``min``, ``max``), the worst seed's figure (``worst``, ``worst_error``,
``worst_seed``; ``worst_at``: its bin, or its two gains) and every seed's figure
(``seeds``). A check passes when it holds for every seed (the project's rule: a quality
claim holds over at least three training seeds)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

ML = ("LightGBM", "point", "GDN")
BASELINE = "rho*A"
BASELINE_SEED = -1  # the seed column of rho*A's rows: it is not trained
LOW_BIN = 20.0  # the 20-40 GeV bin of the width and shift checks
GAIN_TARGET = 0.30
MEAN_TARGET = 1.0  # GeV, |residual mean| from MEAN_FROM GeV
MEAN_FROM = 20.0

Figure = tuple[float, float, str]  # value, bootstrap error, where (a bin, or "")


def _aggregate(
    check: str,
    per_seed: dict[int, Figure],
    target: str,
    passes: Callable[[float], bool],
    worst_is_low: bool,
) -> dict[str, Any]:
    """The row of a check from its figure per seed."""
    seeds = sorted(per_seed)
    values = np.array([per_seed[s][0] for s in seeds])
    median_seed = seeds[int(np.argsort(values)[(len(seeds) - 1) // 2])]
    worst_seed = seeds[int(np.argmin(values) if worst_is_low else np.argmax(values))]
    value, error, _ = per_seed[median_seed]
    worst, worst_error, where = per_seed[worst_seed]
    row: dict[str, Any] = {
        "check": check,
        "value": round(float(value), 3),
        "error": round(float(error), 3),
        "min": round(float(values.min()), 3),
        "max": round(float(values.max()), 3),
        "worst": round(float(worst), 3),
        "worst_error": round(float(worst_error), 3),
        "worst_seed": worst_seed,
        "seeds": "; ".join(f"{s}: {per_seed[s][0]:.3f} +- {per_seed[s][1]:.3f}" for s in seeds),
        "target": target,
        "pass": bool(all(passes(float(v)) for v in values)),
    }
    if where:
        row["worst_at"] = where
    return row


def _gain(of_seed: pd.DataFrame, est: str, radius: float, width: str) -> tuple[float, float]:
    """1 - width(est) / width(rho*A) in the 20-40 GeV bin, and its error (independent)."""
    ml, base = of_seed.loc[(est, radius, LOW_BIN)], of_seed.loc[(BASELINE, radius, LOW_BIN)]
    ratio = ml[width] / base[width]
    err = ratio * np.hypot(ml[f"{width}_err"] / ml[width], base[f"{width}_err"] / base[width])
    return float(1.0 - ratio), float(err)


def _worst_mean(of_seed: pd.DataFrame, est: str) -> Figure:
    """The largest |residual mean| of ``est`` from MEAN_FROM GeV over every R, its error, bin."""
    means = of_seed.loc[est]
    means = means[means.index.get_level_values("pt_low") >= MEAN_FROM]
    worst = means["mean"].abs().idxmax()
    where = f"R={worst[0]:g}, {worst[1]:g} GeV"
    return float(abs(means.loc[worst, "mean"])), float(means.loc[worst, "mean_err"]), where


def _by_seed(table: pd.DataFrame, sample: str) -> dict[int, pd.DataFrame]:
    """Each training seed's rows of ``sample``, with rho*A's (under BASELINE_SEED)."""
    part = table[table["sample"] == sample]
    base = part[part["seed"] == BASELINE_SEED]
    return {
        int(s): pd.concat([base, g]).set_index(["estimator", "radius", "pt_low"])
        for s, g in part[part["seed"] != BASELINE_SEED].groupby("seed")
    }


def quality_checks(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The width, gain-with-R and residual-mean checks of the ML estimators."""
    test = _by_seed(table, "default")
    radii = sorted(next(iter(test.values())).index.get_level_values("radius").unique())
    rows = []
    for est in ML:
        if 0.4 in radii:
            for width in ("sigma", "iqr"):
                rows.append(
                    _aggregate(
                        f"{est}: R=0.4, 20-40 GeV, delta pT {width} narrower than rho*A",
                        {s: (*_gain(t, est, 0.4, width), "") for s, t in test.items()},
                        f">= {GAIN_TARGET:.2f}",
                        lambda v: v >= GAIN_TARGET,
                        worst_is_low=True,
                    )
                )
        if 0.2 in radii and 0.6 in radii:
            per_seed: dict[int, Figure] = {}
            for s, t in test.items():
                (g2, e2), (g6, e6) = _gain(t, est, 0.2, "sigma"), _gain(t, est, 0.6, "sigma")
                per_seed[s] = (g6 - g2, float(np.hypot(e2, e6)), f"{g6:.3f} vs {g2:.3f}")
            rows.append(
                _aggregate(
                    f"{est}: gain (1 - sigma ratio) at 20-40 GeV, R=0.6 minus R=0.2",
                    per_seed,
                    "> 0 (larger at R=0.6)",
                    lambda v: v > 0,
                    worst_is_low=True,
                )
            )
        rows.append(
            _aggregate(
                f"{est}: |residual mean| in every pT_true bin from 20 GeV, every R",
                {s: _worst_mean(t, est) for s, t in test.items()},
                f"<= {MEAN_TARGET:g} GeV",
                lambda v: v <= MEAN_TARGET,
                worst_is_low=False,
            )
        )
    return rows


def _median_figure(per_seed: Sequence[tuple[float, float]]) -> str:
    values = np.array([v for v, _ in per_seed])
    mid = int(np.argsort(values)[(len(values) - 1) // 2])
    text = f"{per_seed[mid][0]:+.2f} +- {per_seed[mid][1]:.2f}"
    if len(values) > 1:
        text += f" (seeds {values.min():+.2f} to {values.max():+.2f})"
    return text


def shift_checks(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The shift of the mean delta pT (20-40 GeV) of each modified sample, per estimator."""
    test = _by_seed(table, "default")
    radii = sorted(next(iter(test.values())).index.get_level_values("radius").unique())
    rows = []
    for modified in sorted(set(table["sample"]) - {"default"}):
        other = _by_seed(table, modified)
        for r in radii:
            parts = []
            for est in (BASELINE, *ML):
                per_seed = []
                for s in sorted(test):
                    a, b = other[s].loc[(est, r, LOW_BIN)], test[s].loc[(est, r, LOW_BIN)]
                    per_seed.append((a["mean"] - b["mean"], np.hypot(a["mean_err"], b["mean_err"])))
                parts.append(
                    f"{est} {_median_figure(per_seed[:1] if est == BASELINE else per_seed)}"
                )
            rows.append(
                {
                    "check": (
                        f"{modified} fragmentation: shift of mean delta pT, R={r:g}, 20-40 GeV"
                    ),
                    "value": "; ".join(parts) + " GeV",
                    "target": "reported",
                    "pass": None,
                }
            )
    return rows


def fake_checks(fakes: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    """The fake fraction above ``threshold`` per R (``fakes``: one row per radius and seed)."""
    rows = []
    for r in sorted({f["radius"] for f in fakes}):
        of_r = [f for f in fakes if f["radius"] == r]
        parts = []
        for est in (BASELINE, *ML):
            values = np.array([f[est] for f in of_r])
            part = f"{est} {float(np.median(values)):.3f}"
            if est != BASELINE and len(values) > 1:
                part += f" ({values.min():.3f}-{values.max():.3f})"
            parts.append(part)
        rows.append(
            {
                "check": f"fake fraction above {threshold:g} GeV, R={r:g}",
                "value": "; ".join(parts),
                "target": "reported",
                "pass": None,
            }
        )
    return rows
