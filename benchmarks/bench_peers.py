"""Calibration quality of the tools a user would otherwise pick, beside skcal's, on one sample.

Fit on ``--n-train`` synthetic small-R jets and evaluate on ``--n-test`` held-out jets,
with the seeds, binning and features of ``bench_quality_small_r.py`` (so that its
neural rows can be merged into the same tables):

- numerical inversion (NI) alone, pile-up offset + NI, pile-up offset + NI + GSC;
- LightGBM with an L1 loss (``objective="l1"``) and with a quantile loss at 0.5,
  and scikit-learn's ``HistGradientBoostingRegressor`` with ``loss="absolute_error"``,
  each regressing the response ``r = E_reco / E_true`` on the neural calibrators'
  features (reconstructed kinematics, pile-up, calibration inputs; no truth), with
  ``E_calib = E_reco / r_pred``;
- the oracle floor (``r / oracle_response``).

Per calibrator: the training and prediction time, the worst-bin and median-bin closure
``|mode - 1|`` over (pT_true, |eta_true|) bins with pT_true > 30 GeV and at least 500
jets, the resolution per pT_true bin and its ratio to the oracle's. If
``quality_small_r{,_quick}.json`` from the same sizes is in the results folder, its
GDN, MDN and point rows are merged, and the checks of the suite (MDN against NI and
LightGBM) are written.

    python benchmarks/bench_peers.py [--quick] [--n-train 500000] [--n-test 300000]
                                     [--n-estimators 500] [--threads 2]

Writes ``results/peers{,_quick}.{json,md}`` (summary),
``results/peers{,_quick}_resolution.{json,md}`` (resolution per pT_true bin) and
``results/peers{,_quick}_checks.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, write_results  # noqa: E402

TRUTH = ("e_true", "pt_true", "eta_true", "phi_true", "m_true", "oracle_response", "flavour", "weight")
PT_EDGES = [20, 30, 40, 60, 80, 110, 160, 250, 400, 600, 1000, 1500, 3000]
ETA_EDGES = [0.0, 0.3, 0.8, 1.2, 1.6, 2.1, 2.5, 2.8, 3.2, 3.6, 4.5]
MIN_BIN_ENTRIES = 500
PT_MIN_CHECK = 50.0  # the checks compare pT_true bins whose lower edge is at least this
# The features of bench_quality_small_r.NEURAL_FEATURES (copied: that script is not imported for a list).
FEATURES = ["e_reco", "pt_reco", "eta", "m_reco", "mu", "npv", "rho", "area", "em_frac", "em3_frac",
            "tile0_frac", "charged_frac", "n_trk", "trk_width", "width", "n90", "n_muon_segments", "detector_eta"]
ORACLE = "oracle (floor)"
MDN = "MDN (K=3, log r)"


def models(n_estimators: int, num_leaves: int, lr: float, threads: int) -> dict[str, tuple[Any, list[str] | None]]:
    """Each calibrator and its features (None: every non-truth column, as NI's chain takes them)."""
    import lightgbm as lgb
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset

    boost = dict(n_estimators=n_estimators, num_leaves=num_leaves, learning_rate=lr, n_jobs=threads,
                 random_state=0, verbose=-1)
    return {
        "NI": (NumericalInversion(), None),
        "pile-up + NI": (make_pipeline(PileupOffset(), NumericalInversion()), None),
        "pile-up + NI + GSC": (make_pipeline(PileupOffset(), NumericalInversion(), GlobalSequentialCalibration()),
                               None),
        "LightGBM L1": (lgb.LGBMRegressor(objective="l1", **boost), FEATURES),
        "LightGBM quantile 0.5": (lgb.LGBMRegressor(objective="quantile", alpha=0.5, **boost), FEATURES),
        "HistGBR absolute_error": (HistGradientBoostingRegressor(
            loss="absolute_error", max_iter=n_estimators, max_leaf_nodes=num_leaves, learning_rate=lr,
            early_stopping=False, random_state=0), FEATURES),
    }


def _closure_summary(table2d: Any) -> dict[str, Any]:
    usable = (table2d["pt_true_low"] >= 30) & (table2d["entries"] >= MIN_BIN_ENTRIES) & (table2d["status"] == "ok")
    off = (table2d["mode"] - 1).abs().where(usable)
    worst = int(off.idxmax())
    return {"bins": int(usable.sum()), "worst_closure": float(off.max()), "median_closure": float(off.median()),
            "worst_bin": f"pT {table2d['pt_true_low'][worst]:g}-{table2d['pt_true_high'][worst]:g}, "
                         f"|eta| {table2d['abs_eta_true_low'][worst]:g}-{table2d['abs_eta_true_high'][worst]:g}"}


def run(n_train: int, n_test: int, n_estimators: int, num_leaves: int, lr: float, threads: int,
        ) -> tuple[list[dict[str, Any]], dict[str, list[float]], list[str]]:
    """Fit and evaluate each calibrator; return the summary rows, resolution per pT bin, and the bin labels."""
    from skcal.datasets import make_jets
    from skcal.evaluation import closure_table

    train = make_jets(n_train, random_state=1)
    test = make_jets(n_test, random_state=2)
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    all_features = [c for c in train.columns if c not in TRUTH]
    bins2d = {"pt_true": PT_EDGES, "abs_eta_true": ETA_EDGES}
    bins1d = {"pt_true": PT_EDGES, "abs_eta_true": [0.0, 4.5]}
    e_ratio = (test["e_reco"] / test["e_true"]).to_numpy()
    summary: list[dict[str, Any]] = []
    per_pt: dict[str, list[float]] = {}
    labels: list[str] = []

    def evaluate(name: str, r: np.ndarray, fit_s: float, pred_s: float) -> None:
        t2 = closure_table(r, data=test, bins=bins2d, n_bootstrap=0)
        t1 = closure_table(r, data=test, bins=bins1d, n_bootstrap=0)
        keep = t1["pt_true_low"] >= 30
        labels[:] = [f"{lo:g}-{hi:g}" for lo, hi in zip(t1["pt_true_low"][keep], t1["pt_true_high"][keep])]
        per_pt[name] = [float(v) for v in t1["resolution"][keep]]
        summary.append({"calibration": name, "source": "bench_peers", "fit_s": round(fit_s, 2),
                        "predict_s": round(pred_s, 2), **_closure_summary(t2)})
        print(summary[-1], flush=True)

    for name, (model, features) in models(n_estimators, num_leaves, lr, threads).items():
        X_train, X_test = train[features or all_features], test[features or all_features]
        start = time.perf_counter()
        model.fit(X_train, y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        r_pred = np.asarray(model.predict(X_test), dtype=float)
        pred_s = time.perf_counter() - start
        if not np.all(np.isfinite(r_pred) & (r_pred > 0)):
            raise RuntimeError(f"{name} predicted {int(np.sum(~(r_pred > 0)))} non-positive or NaN responses")
        evaluate(name, e_ratio / r_pred, fit_s, pred_s)
    evaluate(ORACLE, e_ratio / test["oracle_response"].to_numpy(), 0.0, 0.0)
    return summary, per_pt, labels


def merge_neural(name: str, n_train: int, n_test: int, summary: list[dict[str, Any]],
                 per_pt: dict[str, list[float]], labels: list[str]) -> str:
    """Add the neural rows of ``<name>.json`` (bench_quality_small_r) when it was run on the same sample."""
    summary_path, res_path = RESULTS_DIR / f"{name}.json", RESULTS_DIR / f"{name}_resolution.json"
    if not (summary_path.exists() and res_path.exists()):
        return f"{summary_path.name} not found: neural calibrators not merged"
    quality = json.loads(summary_path.read_text())
    params = quality["parameters"]
    if (params.get("n_train"), params.get("n_test")) != (n_train, n_test):
        return (f"{summary_path.name} has n_train={params.get('n_train')}, n_test={params.get('n_test')}, "
                f"not {n_train}, {n_test}: neural calibrators not merged")
    resolution = {row["pt_true"]: row for row in json.loads(res_path.read_text())["results"]}
    for row in quality["results"]:
        if row["calibration"] in per_pt:  # NI, the chain and the oracle: this run's figures are kept
            continue
        summary.append({"calibration": row["calibration"], "source": name, "fit_s": row["fit_s"],
                        "predict_s": row["predict_s"], "bins": row["bins"], "worst_closure": row["worst_closure"],
                        "median_closure": None, "worst_bin": row["worst_bin"]})
        per_pt[row["calibration"]] = [float(resolution[label][row["calibration"]]) for label in labels]
    return f"neural rows merged from {summary_path.name} (same seeds and sizes; median_closure not recorded there)"


def with_oracle_ratios(summary: list[dict[str, Any]], per_pt: dict[str, list[float]]) -> None:
    oracle = np.asarray(per_pt[ORACLE])
    for row in summary:
        ratio = np.asarray(per_pt[row["calibration"]]) / oracle
        row["median_res_over_oracle"] = float(np.median(ratio))
        row["max_res_over_oracle"] = float(np.max(ratio))


def checks(summary: list[dict[str, Any]], per_pt: dict[str, list[float]], labels: list[str]) -> list[dict[str, Any]]:
    """The suite's quality checks: the MDN against NI and against LightGBM L1."""
    if MDN not in per_pt:
        return [{"check": "MDN present", "value": "no", "target": "MDN rows merged", "pass": False}]
    above = [i for i, label in enumerate(labels) if float(label.split("-")[0]) >= PT_MIN_CHECK]
    mdn = np.asarray(per_pt[MDN])[above]
    worst = {row["calibration"]: row["worst_closure"] for row in summary}
    out = []
    for peer in ("NI", "LightGBM L1"):
        ratio = mdn / np.asarray(per_pt[peer])[above]
        out.append({"check": f"MDN resolution / {peer}, pT_true bins from {PT_MIN_CHECK:g} GeV (worst bin)",
                    "value": float(ratio.max()), "median": float(np.median(ratio)),
                    "target": "< 1 in every bin" if peer == "NI" else "<= 1 in every bin (at least matches)",
                    "pass": bool(ratio.max() < 1) if peer == "NI" else bool(ratio.max() <= 1)})
    out.append({"check": "worst-bin closure: MDN vs LightGBM L1", "value": worst[MDN],
                "median": worst["LightGBM L1"], "target": "MDN below LightGBM L1 (value < median column)",
                "pass": bool(worst[MDN] < worst["LightGBM L1"])})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k jets, 100 boosting rounds")
    parser.add_argument("--n-train", type=int, default=500_000)
    parser.add_argument("--n-test", type=int, default=300_000)
    parser.add_argument("--n-estimators", type=int, default=500)
    parser.add_argument("--num-leaves", type=int, default=63)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.n_estimators = 100_000, 100_000, 100
    suffix = "_quick" if args.quick else ""
    summary, per_pt, labels = run(args.n_train, args.n_test, args.n_estimators, args.num_leaves, args.lr,
                                  args.threads)
    merged = merge_neural(f"quality_small_r{suffix}", args.n_train, args.n_test, summary, per_pt, labels)
    print(merged)
    with_oracle_ratios(summary, per_pt)
    parameters = vars(args) | {"seeds": {"train": 1, "test": 2}, "features": FEATURES, "merged": merged}
    write_results(f"peers{suffix}", parameters=parameters, rows=summary,
                  title="Calibration quality on synthetic small-R jets: skcal against LightGBM and scikit-learn",
                  notes=f"Held-out jets; closure = |mode - 1| over (pT_true, |eta_true|) bins with pT_true > 30 "
                        f"GeV and at least {MIN_BIN_ENTRIES} jets (worst and median bin); res_over_oracle = "
                        f"resolution / the oracle's per pT_true bin (median and worst bin). Boosted peers: "
                        f"{args.n_estimators} rounds, {args.num_leaves} leaves, learning rate {args.lr}, "
                        f"{args.threads} threads, same features as the neural calibrators; HistGBR uses "
                        f"loss='absolute_error'. fit_s is the training time. {merged}.")
    rows = [{"pt_true": label, **{name: values[i] for name, values in per_pt.items()}}
            for i, label in enumerate(labels)]
    write_results(f"peers{suffix}_resolution", parameters=parameters, rows=rows,
                  title="Resolution per pT_true bin (all |eta_true|): skcal and its peers",
                  notes="resolution = (q84 - q16) / (2 mode) of E_calib / E_true.")
    check_rows = checks(summary, per_pt, labels)
    write_results(f"peers{suffix}_checks", parameters=parameters, rows=check_rows,
                  title="Quality checks: the MDN against NI and LightGBM L1")
    for row in check_rows:
        print(row)


if __name__ == "__main__":
    main()
