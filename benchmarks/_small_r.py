"""The small-R quality sample that ``bench_quality_small_r`` and ``bench_peers`` share.

Both benchmarks fit on the same synthetic jets, evaluate on the same held-out jets and
summarise each calibrator the same way, so their rows stand in one table: the seeds,
the binning, the features and :func:`evaluate` live here, once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SEEDS = {"train": 1, "test": 2, "models": 0}
# The sizes of both benchmarks, so that their rows merge: the default and --quick.
SIZES = {"n_train": 1_000_000, "n_test": 500_000}
QUICK_SIZES = {"n_train": 200_000, "n_test": 100_000}
TRUTH = (
    "e_true",
    "pt_true",
    "eta_true",
    "phi_true",
    "m_true",
    "oracle_response",
    "flavour",
    "weight",
)
PT_EDGES = [20, 30, 40, 60, 80, 110, 160, 250, 400, 600, 1000, 1500, 3000]
ETA_EDGES = [0.0, 0.3, 0.8, 1.2, 1.6, 2.1, 2.5, 2.8, 3.2, 3.6, 4.5]
PT_MIN = 30.0  # closure and resolution are quoted for pT_true bins from here up
PT_MIN_CHECK = 50.0  # the resolution checks compare pT_true bins from here up
MIN_BIN_ENTRIES = 500
# Reconstructed kinematics, pile-up and calibration inputs: what the learned calibrators
# read (never truth).
FEATURES = [
    "e_reco",
    "pt_reco",
    "eta",
    "m_reco",
    "mu",
    "npv",
    "rho",
    "area",
    "em_frac",
    "em3_frac",
    "tile0_frac",
    "charged_frac",
    "n_trk",
    "trk_width",
    "width",
    "n90",
    "n_muon_segments",
    "detector_eta",
]
ORACLE = "oracle (floor)"
MDN = "MDN (K=3, log r)"  # the row the suite's checks hold against NI and LightGBM


def samples(n_train: int, n_test: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The training jets, the held-out jets and the training response ``E_reco / E_true``."""
    from skcal.datasets import make_jets

    train = make_jets(n_train, random_state=SEEDS["train"])
    test = make_jets(n_test, random_state=SEEDS["test"])
    return train, test, (train["e_reco"] / train["e_true"]).to_numpy()


def reco_columns(jets: pd.DataFrame) -> list[str]:
    """Every column that is not truth: what NI's chain may take."""
    return [c for c in jets.columns if c not in TRUTH]


def oracle_response(test: pd.DataFrame) -> np.ndarray:
    """``E_calib / E_true`` of the oracle: the generator's noise-free response divided out."""
    return (test["e_reco"] / test["oracle_response"] / test["e_true"]).to_numpy()


def evaluate(
    name: str,
    response: np.ndarray,
    test: pd.DataFrame,
    **extra: Any,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Summarise one calibrator from its calibrated response ``E_calib / E_true`` on ``test``.

    Returns the summary row (closure ``|mode - 1|`` in the worst and the median
    (pT_true, |eta_true|) bin with pT_true > 30 GeV and at least 500 jets, the worst
    bin's name, the median resolution over those bins, the mean resolution over
    pT_true bins from 50 GeV; ``extra`` is added as is) and the resolution
    ``(q84 - q16) / (2 mode)`` per pT_true bin from 30 GeV (all |eta_true|), keyed by
    the bin's label.
    """
    from skcal.response import closure_table

    table2d = closure_table(
        response, data=test, bins={"pt_true": PT_EDGES, "abs_eta_true": ETA_EDGES}, n_bootstrap=0
    )
    table1d = closure_table(
        response, data=test, bins={"pt_true": PT_EDGES, "abs_eta_true": [0.0, 4.5]}, n_bootstrap=0
    )
    usable = (
        (table2d["pt_true_low"] >= PT_MIN)
        & (table2d["entries"] >= MIN_BIN_ENTRIES)
        & (table2d["status"] == "ok")
    )
    off = (table2d["mode"] - 1).abs().where(usable)
    worst = int(off.idxmax())
    keep = table1d["pt_true_low"] >= PT_MIN
    resolution = {
        f"{lo:g}-{hi:g}": float(res)
        for lo, hi, res in zip(
            table1d["pt_true_low"][keep], table1d["pt_true_high"][keep], table1d["resolution"][keep]
        )
    }
    above = [v for label, v in resolution.items() if float(label.split("-")[0]) >= PT_MIN_CHECK]
    row = {
        "calibration": name,
        **extra,
        "bins": int(usable.sum()),
        "worst_closure": float(off.max()),
        "median_closure": float(off.median()),
        "worst_bin": f"pT {table2d['pt_true_low'][worst]:g}-{table2d['pt_true_high'][worst]:g}, "
        f"|eta| {table2d['abs_eta_true_low'][worst]:g}-{table2d['abs_eta_true_high'][worst]:g}",
        "bins_within_1pct": int((off < 0.01).sum()),
        "median_resolution_2d": float(table2d["resolution"].where(usable).median()),
        "mean_resolution_pt_gt_50": float(np.mean(above)),
    }
    return row, resolution
