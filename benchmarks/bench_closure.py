"""Closure of the neural calibrators at their defaults, over training seeds and two binnings.

For each training seed, fit on ``--n-train`` synthetic small-R jets and evaluate on
``--n-test`` held-out jets (``_small_r.samples``):

- ``MDN`` and ``GDN``: ``make_pipeline(EtaAnnotation(), SymmetricScaler(), <calibrator>)``
  at the calibrator's defaults (``random_state`` the seed; ``--epochs`` if given);
- ``MDN + residual NI`` and ``GDN + residual NI``: the same fitted network followed by
  :class:`skcal.inversion.ResidualInversion`'s numerical inversion of what it leaves;
- ``point`` and ``point + residual NI``: the same for PointCalibrator;
- the standard chain (pile-up offset + NI + GSC) and NI alone, fitted on the same jets
  (deterministic: once).

Per calibration, seed and binning (the suite's fine 12 x 10 one, and a coarse 6 x 6 one
from 30 GeV): the worst-bin closure ``|mode - 1|`` at 30-50 GeV and from 50 GeV (bins
with at least 500 jets), and the resolution per pT_true bin (all |eta_true|). The summary
gives the median and the worst over seeds, the ratio of the worst bin to the chain's,
whether the resolution is below the chain's in every pT_true bin from 50 GeV (every
seed), and the largest resolution / NI above 500 GeV.

Positivity (issue 26): each network's pipeline (without the residual NI) also predicts
``--n-positivity`` more held-out jets (another seed; default 2M); the table counts the
responses that are not finite, not positive or outside the range of responses seen in
training (``response_range_``), and records any error ``predict`` raised.

    python benchmarks/bench_closure.py [--quick] [--n-train N] [--n-test N] [--epochs E]
                                       [--seeds 0 1 2] [--threads 2] [--n-positivity N]

Writes ``results/closure{,_quick}.{json,md}`` (summary),
``results/closure{,_quick}_seeds.{json,md}`` (every seed and binning) and
``results/closure{,_quick}_positivity.{json,md}`` (every network and seed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write_results
from _small_r import ETA_EDGES, FEATURES, MIN_BIN_ENTRIES, PT_EDGES, QUICK_SIZES, reco_columns

BINNINGS = {
    "fine": (PT_EDGES, ETA_EDGES),
    "coarse": ([30, 50, 100, 200, 500, 1000, 3000], [0.0, 0.8, 1.5, 2.1, 2.8, 3.2, 4.5]),
}
CHAIN = "pile-up + NI + GSC"
LOW, HIGH = (30.0, 50.0), 50.0  # the closure ranges that the targets name
TARGETS = {"low": 0.02, "high": 0.01, "vs_chain": 1.5, "vs_ni_above_500": 0.75}


def closure(response: np.ndarray, test: Any) -> dict[str, dict[str, Any]]:
    """Per binning: worst |mode - 1| at 30-50 GeV and from 50 GeV; resolution per pT bin."""
    from skcal.response import closure_table

    out = {}
    for binning, (pt_edges, eta_edges) in BINNINGS.items():
        bins = {"pt_true": pt_edges, "abs_eta_true": eta_edges}
        table = closure_table(response, data=test, bins=bins, n_bootstrap=0)
        usable = (table["entries"] >= MIN_BIN_ENTRIES) & (table["status"] == "ok")
        off = (table["mode"] - 1).abs().where(usable & (table["pt_true_low"] >= LOW[0]))
        low = table["pt_true_low"] < LOW[1]
        per_pt = closure_table(
            response,
            data=test,
            bins={"pt_true": pt_edges, "abs_eta_true": [0.0, 4.5]},
            n_bootstrap=0,
        )
        out[binning] = {
            "low": float(off[low].max()),
            "high": float(off[~low].max()),
            "resolution": {
                float(lo): float(res)
                for lo, res in zip(per_pt["pt_true_low"], per_pt["resolution"])
                if lo >= LOW[0]
            },
        }
    return out


def networks(seed: int, epochs: int | None) -> dict[str, Any]:
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import ResidualInversion
    from skcal.neural import GDNCalibrator, MDNCalibrator, PointCalibrator
    from skcal.preprocessing import EtaAnnotation, SymmetricScaler

    kwargs: dict[str, Any] = {"random_state": seed}
    if epochs is not None:
        kwargs["max_epochs"] = epochs
    return {
        name: ResidualInversion(make_pipeline(EtaAnnotation(), SymmetricScaler(), cal(**kwargs)))
        for name, cal in {
            "MDN": MDNCalibrator,
            "GDN": GDNCalibrator,
            "point": PointCalibrator,
        }.items()
    }


def positivity(name: str, seed: int, pipeline: Any, jets: Any) -> dict[str, Any]:
    """Issue 26: a finite, positive response within the training range for every jet."""
    low, high = (float(v) for v in pipeline[-1].response_range_[:, 0])
    row: dict[str, Any] = {"calibration": name, "seed": seed, "n_jets": len(jets)}
    row |= {"training_min": low, "training_max": high}
    try:
        R = np.asarray(pipeline.predict(jets[FEATURES]), dtype=np.float64)
    except Exception as err:  # the check is that predict raises nothing
        return row | {"error": f"{type(err).__name__}: {err}"}
    finite = np.isfinite(R)
    return row | {
        "not_finite": int((~finite).sum()),
        "not_positive": int((R[finite] <= 0).sum()),
        "outside_training_range": int(((R < low) | (R > high)).sum()),
        "min": float(R[finite].min()),
        "max": float(R[finite].max()),
        "error": None,
    }


def measure(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One row per (calibration, seed): its closure in both binnings; and one per
    (network, seed): its positivity on the extra held-out jets."""
    from sklearn.pipeline import make_pipeline

    from skcal.datasets import make_jets
    from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset

    train = make_jets(args.n_train, random_state=args.train_seed)
    test = make_jets(args.n_test, random_state=args.train_seed + 1)
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    truth = (test["e_reco"] / test["e_true"]).to_numpy()
    extra = make_jets(args.n_positivity, random_state=args.train_seed + 2)
    rows: list[dict[str, Any]] = []
    positive: list[dict[str, Any]] = []
    fixed = {
        CHAIN: make_pipeline(PileupOffset(), NumericalInversion(), GlobalSequentialCalibration()),
        "NI": NumericalInversion(),
    }
    for name, model in fixed.items():
        model.fit(train[reco_columns(train)], y)
        R = np.asarray(model.predict(test[reco_columns(test)]))
        rows.append({"calibration": name, "seed": None, **closure(truth / R, test)})
    for seed in args.seeds:
        for name, model in networks(seed, args.epochs).items():
            start = time.perf_counter()
            model.fit(train[FEATURES], y)
            fit_s = round(time.perf_counter() - start, 1)
            positive.append(positivity(name, seed, model.calibrator_, extra))
            print(positive[-1], flush=True)
            for label, predictor in ((name, model.calibrator_), (f"{name} + residual NI", model)):
                R = np.asarray(predictor.predict(test[FEATURES]))
                rows.append(
                    {"calibration": label, "seed": seed, "fit_s": fit_s, **closure(truth / R, test)}
                )
                print(
                    label,
                    seed,
                    {b: (v["low"], v["high"]) for b, v in rows[-1].items() if b in BINNINGS},
                    flush=True,
                )
    return rows, positive


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median and worst over seeds, against the chain, per calibration and binning."""
    reference = {r["calibration"]: r for r in rows if r["seed"] is None}
    out = []
    for name in dict.fromkeys(r["calibration"] for r in rows):
        runs = [r for r in rows if r["calibration"] == name]
        for binning in BINNINGS:
            chain = reference[CHAIN][binning]
            low = [r[binning]["low"] for r in runs]
            high = [r[binning]["high"] for r in runs]
            above = [lo for lo in chain["resolution"] if lo >= HIGH]
            sharper = all(
                r[binning]["resolution"][lo] < chain["resolution"][lo] for r in runs for lo in above
            )
            vs_ni = max(
                r[binning]["resolution"][lo] / reference["NI"][binning]["resolution"][lo]
                for r in runs
                for lo in above
                if lo >= 500
            )
            worst = max(max(low), max(high))
            chain_worst = max(chain["low"], chain["high"])
            row = {
                "calibration": name,
                "binning": binning,
                "seeds": len(runs) if runs[0]["seed"] is not None else 0,
                "worst_30_50_median": float(np.median(low)),
                "worst_30_50_max": max(low),
                "worst_ge_50_median": float(np.median(high)),
                "worst_ge_50_max": max(high),
                "worst_vs_chain": worst / chain_worst,
                "resolution_below_chain_ge_50": sharper,
                "resolution_vs_ni_ge_500_max": vs_ni,
            }
            row["meets_targets"] = bool(
                row["worst_30_50_max"] <= TARGETS["low"]
                and row["worst_ge_50_max"] <= TARGETS["high"]
                and row["worst_vs_chain"] <= TARGETS["vs_chain"]
                and sharper
                and vs_ni <= TARGETS["vs_ni_above_500"]
            )
            out.append(row)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="200k/100k jets, 8 epochs, unless given"
    )
    parser.add_argument("--n-train", type=int, default=None, help="default 1M")
    parser.add_argument("--n-test", type=int, default=None, help="default 400k")
    parser.add_argument("--epochs", type=int, default=None, help="default: the calibrators'")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--train-seed", type=int, default=1077, help="held-out: this + 1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-positivity", type=int, default=None, help="default 2M (--quick: 50k)")
    parser.add_argument(
        "--name", default=None, help="results' base name (default closure_quick or closure)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else {"n_train": 1_000_000, "n_test": 400_000}
    args.n_train = args.n_train or sizes["n_train"]
    args.n_test = args.n_test or sizes["n_test"]
    if args.n_positivity is None:
        args.n_positivity = 50_000 if args.quick else 2_000_000
    if args.quick:
        args.epochs = args.epochs or 8
    import torch

    torch.set_num_threads(args.threads)
    rows, positive = measure(args)
    name = args.name or ("closure_quick" if args.quick else "closure")
    parameters = vars(args) | {"features": FEATURES, "targets": TARGETS}
    flat = [
        {
            "calibration": r["calibration"],
            "seed": r["seed"],
            "binning": b,
            "worst_30_50": r[b]["low"],
            "worst_ge_50": r[b]["high"],
            **{f"res_{lo:g}": v for lo, v in r[b]["resolution"].items()},
        }
        for r in rows
        for b in BINNINGS
    ]
    write_results(
        f"{name}_seeds",
        parameters=parameters,
        rows=flat,
        title="Closure and resolution per training seed and binning (small-R jets)",
        notes="worst_30_50, worst_ge_50 = largest |mode - 1| over (pT_true, |eta_true|) bins "
        f"with at least {MIN_BIN_ENTRIES} jets; res_<pT> = resolution (q84 - q16) / (2 mode) in "
        "the pT_true bin from <pT> GeV, all |eta_true|.",
    )
    write_results(
        name,
        parameters=parameters,
        rows=summarise(rows),
        title="Closure of the neural calibrators at their defaults: over seeds, two binnings",
        notes="Targets (issue 16): worst bin <= 2% at 30-50 GeV and <= 1% from 50 GeV for every "
        "seed, at most 1.5x the chain's worst bin, resolution below the chain's in every pT_true "
        "bin from 50 GeV, and at most 0.75 of NI's above 500 GeV.",
    )
    write_results(
        f"{name}_positivity",
        parameters=parameters,
        rows=positive,
        title="Positivity of the default network pipelines on extra held-out jets (issue 26)",
        notes=f"{args.n_positivity} held-out jets (seed {args.train_seed + 2}) per network and "
        "training seed: responses not finite, not positive, or outside the range of responses "
        "seen in training (training_min, training_max); error: what predict raised, if anything.",
    )


if __name__ == "__main__":
    main()
