"""The physics checks of ``bench_pythia`` (issue 19's "What it must show")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from _pythia_calib import _gsc

PT_EDGES = [20, 30, 40, 60, 100, 200, 400, 1000, 3000]


def _bins(jets: pd.DataFrame, edges: list[float]) -> pd.Series:
    return pd.cut(jets["pt_true"], edges, right=False)


def _check(name: str, value: float, target: str, holds: bool, **extra: Any) -> dict[str, Any]:
    return {
        "check": name,
        "value": value,
        "target": target,
        "result": "pass" if holds else "fail",
        **extra,
    }


def _physics(jets: pd.DataFrame, pileup: pd.DataFrame) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    r = jets["pt_reco"] / jets["pt_true"]
    central = jets["eta_true"].abs() < 1.2
    tracked = jets["eta_true"].abs() < 2.0
    gluon, light = jets["flavour"] == 21, jets["flavour"].isin([1, 2, 3])
    bottom = jets["flavour"] == 5
    bins = _bins(jets, PT_EDGES)
    per_bin = pd.DataFrame(
        {
            "response (abs eta < 1.2)": r[central].groupby(bins[central], observed=False).median(),
            "gluon": r[central & gluon].groupby(bins[central & gluon], observed=False).median(),
            "light": r[central & light].groupby(bins[central & light], observed=False).median(),
            "n_trk gluon": jets["n_trk"][tracked & gluon]
            .groupby(bins[tracked & gluon], observed=False)
            .mean(),
            "n_trk light": jets["n_trk"][tracked & light]
            .groupby(bins[tracked & light], observed=False)
            .mean(),
            "width gluon": jets["width"][tracked & gluon]
            .groupby(bins[tracked & gluon], observed=False)
            .mean(),
            "width light": jets["width"][tracked & light]
            .groupby(bins[tracked & light], observed=False)
            .mean(),
            "jets": bins[central].value_counts(sort=False),
        }
    )
    counts_g = bins[central & gluon].value_counts(sort=False)
    counts_l = bins[central & light].value_counts(sort=False)
    ok = (counts_g >= 30) & (counts_l >= 30)
    resp = per_bin["response (abs eta < 1.2)"][per_bin["jets"] >= 30]
    rows = [
        _check(
            "response rises with pT: last bin / first bin",
            float(resp.iloc[-1] / resp.iloc[0]),
            "> 1",
            resp.iloc[-1] > resp.iloc[0],
            detail=f"{resp.index[0]}: {resp.iloc[0]:.3f}, {resp.index[-1]}: {resp.iloc[-1]:.3f}",
        ),
        _check(
            "gluon response below light-quark: fraction of pT bins",
            float((per_bin["gluon"] < per_bin["light"])[ok].mean()),
            "== 1",
            bool((per_bin["gluon"] < per_bin["light"])[ok].all()),
            bins=int(ok.sum()),
        ),
        _check(
            "gluon jets have more tracks: fraction of pT bins",
            float((per_bin["n_trk gluon"] > per_bin["n_trk light"])[ok].mean()),
            "== 1",
            bool((per_bin["n_trk gluon"] > per_bin["n_trk light"])[ok].all()),
            bins=int(ok.sum()),
        ),
        _check(
            "gluon jets are wider: fraction of pT bins",
            float((per_bin["width gluon"] > per_bin["width light"])[ok].mean()),
            "== 1",
            bool((per_bin["width gluon"] > per_bin["width light"])[ok].all()),
            bins=int(ok.sum()),
        ),
    ]
    # The b-jet low-side tail: responses below 0.8 of the light-quark median of their bin.
    ref = r[light].groupby(bins[light], observed=False).median()
    low = r < 0.8 * bins.map(ref).astype(float)
    sel = jets["pt_true"].between(30, 400) & tracked
    tail_b, tail_l = float(low[sel & bottom].mean()), float(low[sel & light].mean())
    rows.append(
        _check(
            "b-jet low tail: fraction below 0.8 x light median, b / light",
            tail_b / tail_l,
            "> 1",
            tail_b > tail_l,
            detail=f"b {tail_b:.3f} ({int((sel & bottom).sum())} jets), light {tail_l:.3f}",
        )
    )
    rows.append(_gsc(jets))
    rows.append(_offset(pileup))
    return rows, per_bin.reset_index().rename(columns={"pt_true": "pt_true bin"})


def _offset(jets: pd.DataFrame) -> dict[str, Any]:
    """The pT offset (pT_reco - pT_true, central 20-40 GeV jets) against mu: linear fit."""
    sel = jets["pt_true"].between(20, 40) & (jets["eta_true"].abs() < 1.2)
    d = jets[sel]
    edges = np.linspace(0, 60, 7)
    centre = 0.5 * (edges[1:] + edges[:-1])
    groups = pd.cut(d["mu"], edges)
    offset = (d["pt_reco"] - d["pt_true"]).groupby(groups, observed=False).mean().to_numpy()
    lin = np.polyfit(centre, offset, 1)
    quad = np.polyfit(centre, offset, 2)
    residual = float(np.max(np.abs(np.polyval(lin, centre) - offset)))
    span = float(np.polyval(lin, 60) - np.polyval(lin, 0))
    return _check(
        "pile-up pT offset linear in mu: largest residual of a line / its rise over 0-60",
        residual / span,
        "< 0.1",
        residual / span < 0.1 and lin[0] > 0,
        detail=f"slope {lin[0]:.3f} GeV per interaction, quadratic term "
        f"{quad[0]:.2e}; offsets {np.round(offset, 2).tolist()} GeV; {int(sel.sum())} jets",
    )
