"""Large-R jets: the energy-and-mass network against sequential numerical inversion.

Reproduces the comparison of MLST 5 (2024) 035051 (section 6) on synthetic large-R
jets (``make_jets(kind="large_r")``):

- trains :class:`~skcal.neural.EnergyMassCalibrator` (the paper's
  architecture and table-3 schedule, scaled down) and sequential numerical inversion
  (energy in bins of (E, |eta|), then mass in bins of (calibrated E, |eta|) against
  the true mass) on the same dijets;
- evaluates on held-out dijets and on W, Z, top and Higgs jets: closure (the mode of
  ``E_calib / E_true`` and ``m_calib / m_true``) and resolution (half the central 68%
  over the mode) per bin of pT_true, for no calibration, NI and the network (mass
  only for ``m_true > 40 GeV``, as the paper);
- the eta-annotation ablation (the paper's figure 6): the same training without the
  annotation, closure against |eta_true|.

Writes ``results/large_r.{json,md}`` (closure and resolution vs pT_true),
``results/large_r_eta.{json,md}`` (the ablation) and ``results/large_r_summary.{json,md}``
(the checks of the issue). ``--quick`` takes under a minute (``large_r_quick*``).

Usage: ``python benchmarks/bench_large_r.py [--quick] [--n-train N] [--epoch-scale F]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write_results

from skcal import columns
from skcal.datasets import make_jets
from skcal.inversion import NumericalInversion
from skcal.neural import EnergyMassCalibrator
from skcal.response import closure_table

TOPOLOGIES = ("dijet", "w", "z", "top", "higgs")
PT_BINS = [200, 300, 500, 800, 1200, 2000, 3000]
ETA_BINS = np.round(np.arange(0.0, 2.01, 0.1), 2)
TRANSITION = (1.2, 1.7)  # |eta_true| around the barrel/end-cap crack at 1.45
M_TRUE_MIN = 40.0
SEEDS = {"train": 1, "test": 2, "other_topologies": 10, "network": 0}  # other topology i: 10 + i


def features(jets: pd.DataFrame) -> pd.DataFrame:
    """The 21 inputs of the paper's table 2: log E, log m, eta, substructure, detector, mu, NPV."""
    out = pd.DataFrame(
        {
            "log_e_reco": np.log(jets["e_reco"]),
            "log_m_reco": np.log(jets["m_reco"]),
            "eta": jets["eta"],
        }
    )
    for name in (*columns.LARGE_R_INPUTS, "mu", "npv"):
        out[name] = jets[name].to_numpy(dtype=np.float64)
    return out


def responses(jets: pd.DataFrame) -> np.ndarray:
    return np.column_stack([jets["e_reco"] / jets["e_true"], jets["m_reco"] / jets["m_true"]])


# ------------------------------------------------------------------ sequential NI
def fit_sequential_ni(train: pd.DataFrame) -> tuple[NumericalInversion, NumericalInversion]:
    """Energy in bins of (E, |eta|); then the mass of the energy-calibrated jets in bins of
    (calibrated E, |eta|) against the true mass."""
    reco = train[["e_reco", "pt_reco", "eta", "m_reco"]]
    y = responses(train)
    ni_e = NumericalInversion(
        condition={"abs_eta": ETA_BINS}, momentum=("e_reco", "pt_reco"), scale_column="calib_scale"
    ).fit(reco, y[:, 0])
    calibrated = ni_e.transform(reco)
    ni_m = NumericalInversion(
        "m_reco",
        condition={"e_reco": np.geomspace(200.0, 7000.0, 9), "abs_eta": [0.0, 0.5, 1.0, 1.5, 2.0]},
        target_bins=np.geomspace(10.0, 2000.0, 25),
        momentum=("m_reco",),
        scale_column="calib_scale_m",
        clip_condition=True,
    ).fit(calibrated, y[:, 1])
    return ni_e, ni_m


def predict_sequential_ni(
    models: tuple[NumericalInversion, NumericalInversion], jets: pd.DataFrame
) -> np.ndarray:
    ni_e, ni_m = models
    reco = jets[["e_reco", "pt_reco", "eta", "m_reco"]]
    r_e = ni_e.predict(reco)
    r_m = ni_m.predict(ni_e.transform(reco))
    return np.column_stack([np.asarray(r_e), np.asarray(r_m)])


# ---------------------------------------------------------------------- network
def fit_network(
    train: pd.DataFrame, *, eta_annotation: bool, config: dict[str, Any]
) -> EnergyMassCalibrator:
    cal = EnergyMassCalibrator(
        eta_annotation=eta_annotation,
        random_state=SEEDS["network"],
        epoch_scale=config["epoch_scale"],
        batch_scale=config["batch_scale"],
        module__core_sizes=(config["width"],) * config["core_layers"],
        module__branch_sizes=(config["width"],) * config["branch_layers"],
        module__residual_sizes=(config["width"],) * config["residual_layers"],
    )
    return cal.fit(features(train), responses(train))


# ------------------------------------------------------------------- evaluation
def closure_rows(
    jets: pd.DataFrame, R: np.ndarray, *, sample: str, calibration: str
) -> list[dict[str, Any]]:
    rows = []
    r = responses(jets) / R
    for k, quantity in enumerate(("energy", "mass")):
        keep = (
            np.ones(len(jets), bool)
            if quantity == "energy"
            else jets["m_true"].to_numpy() > M_TRUE_MIN
        )
        table = closure_table(
            r[keep, k], data=jets.loc[keep, ["pt_true"]], bins={"pt_true": PT_BINS}, n_bootstrap=20
        )
        for row in table.itertuples():
            rows.append(
                {
                    "sample": sample,
                    "quantity": quantity,
                    "calibration": calibration,
                    "pt_true_low": row.pt_true_low,
                    "pt_true_high": row.pt_true_high,
                    "entries": int(row.entries),
                    "closure": float(row.mode),
                    "resolution": float(row.resolution),
                    "resolution_err": float(row.resolution_err),
                    "status": row.status,
                }
            )
    return rows


def eta_rows(jets: pd.DataFrame, R: np.ndarray, *, calibration: str) -> list[dict[str, Any]]:
    rows = []
    r = responses(jets) / R
    for k, quantity in enumerate(("energy", "mass")):
        keep = (
            np.ones(len(jets), bool)
            if quantity == "energy"
            else jets["m_true"].to_numpy() > M_TRUE_MIN
        )
        table = closure_table(
            r[keep, k],
            data=jets.loc[keep, ["eta_true"]],
            bins={"abs_eta_true": ETA_BINS},
            n_bootstrap=0,
        )
        for row in table.itertuples():
            rows.append(
                {
                    "quantity": quantity,
                    "calibration": calibration,
                    "abs_eta_true_low": row.abs_eta_true_low,
                    "abs_eta_true_high": row.abs_eta_true_high,
                    "entries": int(row.entries),
                    "closure": float(row.mode),
                }
            )
    return rows


def _mean_abs_nonclosure(
    rows: list[dict[str, Any]], quantity: str, calibration: str, low: float, high: float
) -> float:
    vals = [
        abs(r["closure"] - 1.0)
        for r in rows
        if r["quantity"] == quantity
        and r["calibration"] == calibration
        and r["abs_eta_true_low"] >= low - 1e-9
        and r["abs_eta_true_high"] <= high + 1e-9
    ]
    return float(np.mean(vals))


def summarise(rows: list[dict[str, Any]], eta: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    frame = pd.DataFrame(rows)
    for sample in TOPOLOGIES:
        for quantity in ("energy", "mass"):
            sel = frame[
                (frame["sample"] == sample)
                & (frame["quantity"] == quantity)
                & (frame["pt_true_low"] >= 500)
                & (frame["entries"] >= 200)
            ]
            if sel.empty:
                continue
            res = {
                c: float(sel[sel["calibration"] == c]["resolution"].mean()) for c in ("ni", "dnn")
            }
            clo = {
                c: float((sel[sel["calibration"] == c]["closure"] - 1).abs().max())
                for c in ("ni", "dnn")
            }
            out.append(
                {
                    "check": f"{sample} {quantity}, pT_true > 500 GeV",
                    "ni_resolution": res["ni"],
                    "dnn_resolution": res["dnn"],
                    "ni_worst_nonclosure": clo["ni"],
                    "dnn_worst_nonclosure": clo["dnn"],
                    "dnn_better_resolution": bool(res["dnn"] < res["ni"]),
                }
            )
    for quantity in ("energy", "mass"):
        with_a = _mean_abs_nonclosure(eta, quantity, "dnn", *TRANSITION)
        without = _mean_abs_nonclosure(eta, quantity, "dnn_no_annotation", *TRANSITION)
        out.append(
            {
                "check": f"eta annotation, {quantity}, mean |closure - 1| "
                f"for {TRANSITION[0]} < |eta_true| "
                f"< {TRANSITION[1]}",
                "with_annotation": with_a,
                "without_annotation": without,
                "annotation_helps": bool(with_a < without),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="50k training jets, a 32-wide network, a tenth of the epochs: under a minute",
    )
    parser.add_argument("--n-train", type=int, default=150_000)
    parser.add_argument("--n-test", type=int, default=60_000, help="held-out dijets")
    parser.add_argument(
        "--n-other", type=int, default=30_000, help="jets per W, Z, top, Higgs sample"
    )
    parser.add_argument("--epoch-scale", type=float, default=0.15)
    parser.add_argument("--batch-scale", type=float, default=0.03)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    config = {
        "epoch_scale": args.epoch_scale,
        "batch_scale": args.batch_scale,
        "width": args.width,
        "core_layers": 3,
        "branch_layers": 3,
        "residual_layers": 1,
    }
    n_train, n_test, n_other = args.n_train, args.n_test, args.n_other
    if args.quick:
        n_train, n_test, n_other = 50_000, 30_000, 15_000
        config.update(epoch_scale=0.1, width=32)
    torch.set_num_threads(args.threads)
    suffix = "_quick" if args.quick else ""
    timings: dict[str, float] = {}

    start = time.perf_counter()
    train = make_jets(n_train, kind="large_r", topology="dijet", random_state=SEEDS["train"])
    tests = {
        "dijet": make_jets(n_test, kind="large_r", topology="dijet", random_state=SEEDS["test"])
    }
    for i, topo in enumerate(TOPOLOGIES[1:]):
        tests[topo] = make_jets(
            n_other, kind="large_r", topology=topo, random_state=SEEDS["other_topologies"] + i
        )
    timings["generate_s"] = time.perf_counter() - start

    start = time.perf_counter()
    ni = fit_sequential_ni(train)
    timings["fit_ni_s"] = time.perf_counter() - start
    start = time.perf_counter()
    net = fit_network(train, eta_annotation=True, config=config)
    timings["fit_dnn_s"] = time.perf_counter() - start
    start = time.perf_counter()
    net_plain = fit_network(train, eta_annotation=False, config=config)
    timings["fit_dnn_no_annotation_s"] = time.perf_counter() - start
    print(f"trained: {timings}", flush=True)

    rows: list[dict[str, Any]] = []
    for sample, jets in tests.items():
        rows += closure_rows(jets, np.ones((len(jets), 2)), sample=sample, calibration="none")
        rows += closure_rows(jets, predict_sequential_ni(ni, jets), sample=sample, calibration="ni")
        rows += closure_rows(jets, net.predict(features(jets)), sample=sample, calibration="dnn")
    dijets = tests["dijet"]
    eta = eta_rows(dijets, np.ones((len(dijets), 2)), calibration="none")
    eta += eta_rows(dijets, net.predict(features(dijets)), calibration="dnn")
    eta += eta_rows(dijets, net_plain.predict(features(dijets)), calibration="dnn_no_annotation")
    eta += eta_rows(dijets, predict_sequential_ni(ni, dijets), calibration="ni")

    stages = [
        {
            "epochs": s.epochs,
            "batch_size": s.batch_size,
            "lr": s.lr,
            "optimizer": s.optimizer,
            "loss": s.loss,
            "truncation": s.truncation,
            "frozen": s.frozen,
        }
        for s in net.schedule_
    ]
    n_params = sum(p.numel() for p in net.module_.parameters())
    parameters = {
        "seeds": SEEDS,
        "n_train": n_train,
        "n_test_dijet": n_test,
        "n_test_other": n_other,
        **config,
        "n_parameters": n_params,
        "schedule": stages,
        "pt_bins": PT_BINS,
        "m_true_min_for_mass": M_TRUE_MIN,
        "timings": timings,
        "torch_threads": args.threads,
    }
    write_results(
        f"large_r{suffix}",
        parameters=parameters,
        rows=rows,
        title="Large-R jets: closure and resolution vs pT_true, "
        "sequential NI and the energy-and-mass DNN",
        notes="closure: mode of E_calib/E_true (m_calib/m_true, m_true > 40 GeV); resolution: "
        "(q84 - q16) / (2 mode). Calibrations: none, sequential NI (energy, then mass), dnn.",
    )
    write_results(
        f"large_r_eta{suffix}",
        parameters=parameters,
        rows=eta,
        title="Eta-annotation ablation: closure vs |eta_true| "
        "on held-out dijets (the paper's figure 6)",
    )
    summary = summarise(rows, eta)
    write_results(
        f"large_r_summary{suffix}",
        parameters=parameters,
        rows=summary,
        title="Large-R checks: DNN vs sequential NI above 500 GeV; the eta annotation",
    )
    for row in summary:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
