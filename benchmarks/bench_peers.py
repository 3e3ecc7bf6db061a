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

Per calibrator (``_small_r.evaluate``): the training and prediction time, the
worst-bin and median-bin closure ``|mode - 1|`` over (pT_true, |eta_true|) bins with
pT_true > 30 GeV and at least 500 jets, the resolution per pT_true bin and its ratio
to the oracle's. If ``quality_small_r{,_quick}.json`` from the same sizes is in the
results folder, its GDN, MDN and point rows are merged, and the checks of the suite
(MDN against NI and LightGBM) are written.

    python benchmarks/bench_peers.py [--quick] [--n-train 1000000] [--n-test 500000]
                                     [--n-estimators 500] [--threads 2]

Writes ``results/peers{,_quick}.{json,md}`` (summary),
``results/peers{,_quick}_resolution.{json,md}`` (resolution per pT_true bin) and
``results/peers{,_quick}_checks.{json,md}``. Without LightGBM (the ``bench`` extra) it
is skipped (``_harness.require``).
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
from _harness import RESULTS_DIR, require, write_results
from _small_r import (
    FEATURES,
    MDN,
    MIN_BIN_ENTRIES,
    ORACLE,
    PT_MIN_CHECK,
    QUICK_SIZES,
    SEEDS,
    SIZES,
    evaluate,
    oracle_response,
    reco_columns,
    samples,
)


def models(
    n_estimators: int, num_leaves: int, lr: float, threads: int
) -> dict[str, tuple[Any, list[str] | None]]:
    """Each calibrator and its features (None: every non-truth column, as NI's chain takes them)."""
    import lightgbm as lgb
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset

    boost = dict(
        n_estimators=n_estimators,
        num_leaves=num_leaves,
        learning_rate=lr,
        n_jobs=threads,
        random_state=SEEDS["models"],
        verbose=-1,
    )
    return {
        "NI": (NumericalInversion(), None),
        "pile-up + NI": (make_pipeline(PileupOffset(), NumericalInversion()), None),
        "pile-up + NI + GSC": (
            make_pipeline(PileupOffset(), NumericalInversion(), GlobalSequentialCalibration()),
            None,
        ),
        "LightGBM L1": (lgb.LGBMRegressor(objective="l1", **boost), FEATURES),
        "LightGBM quantile 0.5": (
            lgb.LGBMRegressor(objective="quantile", alpha=0.5, **boost),
            FEATURES,
        ),
        "HistGBR absolute_error": (
            HistGradientBoostingRegressor(
                loss="absolute_error",
                max_iter=n_estimators,
                max_leaf_nodes=num_leaves,
                learning_rate=lr,
                early_stopping=False,
                random_state=SEEDS["models"],
            ),
            FEATURES,
        ),
    }


def run(
    n_train: int,
    n_test: int,
    n_estimators: int,
    num_leaves: int,
    lr: float,
    threads: int,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    """Fit and evaluate each calibrator;
    return the summary rows and the resolution per pT_true bin."""
    train, test, y = samples(n_train, n_test)
    e_ratio = (test["e_reco"] / test["e_true"]).to_numpy()
    summary: list[dict[str, Any]] = []
    per_pt: dict[str, dict[str, float]] = {}
    for name, (model, features) in models(n_estimators, num_leaves, lr, threads).items():
        columns = features or reco_columns(train)
        start = time.perf_counter()
        model.fit(train[columns], y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        r_pred = np.asarray(model.predict(test[columns]), dtype=float)
        pred_s = time.perf_counter() - start
        if not np.all(np.isfinite(r_pred) & (r_pred > 0)):
            raise RuntimeError(
                f"{name} predicted {int(np.sum(~(r_pred > 0)))} non-positive or NaN responses"
            )
        row, per_pt[name] = evaluate(
            name,
            e_ratio / r_pred,
            test,
            source="bench_peers",
            fit_s=round(fit_s, 2),
            predict_s=round(pred_s, 2),
        )
        summary.append(row)
        print(row, flush=True)
    row, per_pt[ORACLE] = evaluate(
        ORACLE, oracle_response(test), test, source="bench_peers", fit_s=0.0, predict_s=0.0
    )
    summary.append(row)
    return summary, per_pt


def merge_neural(
    name: str,
    n_train: int,
    n_test: int,
    summary: list[dict[str, Any]],
    per_pt: dict[str, dict[str, float]],
) -> str:
    """Add the neural rows of ``<name>.json`` (bench_quality_small_r)
    when it was run on the same sample."""
    summary_path, res_path = RESULTS_DIR / f"{name}.json", RESULTS_DIR / f"{name}_resolution.json"
    if not (summary_path.exists() and res_path.exists()):
        return f"{summary_path.name} not found: neural calibrators not merged"
    quality = json.loads(summary_path.read_text())
    params = quality["parameters"]
    if (params.get("n_train"), params.get("n_test")) != (n_train, n_test):
        return (
            f"{summary_path.name} has n_train={params.get('n_train')}, "
            f"n_test={params.get('n_test')}, "
            f"not {n_train}, {n_test}: neural calibrators not merged"
        )
    resolution = {row["pt_true"]: row for row in json.loads(res_path.read_text())["results"]}
    columns = list(summary[0])
    for row in quality["results"]:
        if (
            row["calibration"] in per_pt
        ):  # NI, the chain and the oracle: this run's figures are kept
            continue
        summary.append({key: row.get(key) for key in columns} | {"source": name})
        per_pt[row["calibration"]] = {
            label: float(resolution[label][row["calibration"]]) for label in per_pt[ORACLE]
        }
    return f"neural rows merged from {summary_path.name} (same seeds and sizes)"


def with_oracle_ratios(summary: list[dict[str, Any]], per_pt: dict[str, dict[str, float]]) -> None:
    oracle = np.asarray(list(per_pt[ORACLE].values()))
    for row in summary:
        ratio = np.asarray(list(per_pt[row["calibration"]].values())) / oracle
        row["median_res_over_oracle"] = float(np.median(ratio))
        row["max_res_over_oracle"] = float(np.max(ratio))


def checks(
    summary: list[dict[str, Any]], per_pt: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """The suite's quality checks: the MDN against NI and against LightGBM L1.

    Each row: the check, skcal's figure (``value``), the figure it is held against
    (``versus``), the target and whether it is met.
    """
    if MDN not in per_pt:
        return [
            {
                "check": "MDN present",
                "value": "no",
                "versus": None,
                "target": "MDN rows merged",
                "pass": False,
            }
        ]
    above = [label for label in per_pt[MDN] if float(label.split("-")[0]) >= PT_MIN_CHECK]
    mdn = np.asarray([per_pt[MDN][label] for label in above])
    out = []
    for peer, target in (
        ("NI", "< 1 in every bin"),
        ("LightGBM L1", "<= 1 in every bin (at least matches)"),
    ):
        ratio = mdn / np.asarray([per_pt[peer][label] for label in above])
        worst = int(np.argmax(ratio))
        out.append(
            {
                "check": f"MDN resolution / {peer} resolution, worst pT_true bin "
                f"from {PT_MIN_CHECK:g} GeV "
                f"({above[worst]}; median over bins {np.median(ratio):.4g})",
                "value": float(ratio[worst]),
                "versus": 1.0,
                "target": target,
                "pass": bool(ratio.max() < 1) if peer == "NI" else bool(ratio.max() <= 1),
            }
        )
    worst_closure = {row["calibration"]: row["worst_closure"] for row in summary}
    out.append(
        {
            "check": "worst-bin closure |mode - 1|: MDN (value) vs LightGBM L1 (versus)",
            "value": worst_closure[MDN],
            "versus": worst_closure["LightGBM L1"],
            "target": "value < versus",
            "pass": bool(worst_closure[MDN] < worst_closure["LightGBM L1"]),
        }
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="200k training jets, 100k held out, 100 boosting rounds",
    )
    parser.add_argument("--n-train", type=int, default=SIZES["n_train"])
    parser.add_argument("--n-test", type=int, default=SIZES["n_test"])
    parser.add_argument("--n-estimators", type=int, default=500)
    parser.add_argument("--num-leaves", type=int, default=63)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    require("lightgbm", extra="bench")
    if args.quick:
        args.n_train, args.n_test, args.n_estimators = (
            QUICK_SIZES["n_train"],
            QUICK_SIZES["n_test"],
            100,
        )
    suffix = "_quick" if args.quick else ""
    summary, per_pt = run(
        args.n_train, args.n_test, args.n_estimators, args.num_leaves, args.lr, args.threads
    )
    merged = merge_neural(f"quality_small_r{suffix}", args.n_train, args.n_test, summary, per_pt)
    print(merged)
    with_oracle_ratios(summary, per_pt)
    parameters = vars(args) | {"seeds": SEEDS, "features": FEATURES, "merged": merged}
    write_results(
        f"peers{suffix}",
        parameters=parameters,
        rows=summary,
        title="Calibration quality on synthetic small-R jets: skcal "
        "against LightGBM and scikit-learn",
        notes="Held-out jets; closure = |mode - 1| over (pT_true, |eta_true|) bins "
        "with pT_true > 30 "
        f"GeV and at least {MIN_BIN_ENTRIES} jets (worst and median bin); res_over_oracle = "
        f"resolution / the oracle's per pT_true bin (median and worst bin). Boosted peers: "
        f"{args.n_estimators} rounds, {args.num_leaves} leaves, learning rate {args.lr}, "
        f"{args.threads} threads, same features as the neural calibrators; HistGBR uses "
        f"loss='absolute_error'. fit_s is the training time. {merged}.",
    )
    rows = [
        {"pt_true": label, **{name: resolution[label] for name, resolution in per_pt.items()}}
        for label in per_pt[ORACLE]
    ]
    write_results(
        f"peers{suffix}_resolution",
        parameters=parameters,
        rows=rows,
        title="Resolution per pT_true bin (all |eta_true|): skcal and its peers",
        notes="resolution = (q84 - q16) / (2 mode) of E_calib / E_true.",
    )
    check_rows = checks(summary, per_pt)
    write_results(
        f"peers{suffix}_checks",
        parameters=parameters,
        rows=check_rows,
        title="Quality checks: the MDN against NI and LightGBM L1",
    )
    for row in check_rows:
        print(row)


if __name__ == "__main__":
    main()
