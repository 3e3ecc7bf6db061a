"""The standard calibration on synthetic jets: closure and resolution per stage, and speed.

Three measurements, each written by ``_harness.write_results``:

- ``inversion_closure``: fit on ``--n-train`` synthetic small-R jets, evaluate on
  ``--n-test`` held-out jets: the worst-bin closure |mode - 1| over (pT_true,
  |eta_true|) bins with pT_true > 30 GeV, and the resolution, for numerical inversion
  (NI) alone, pile-up offset + NI, + GSC, and the generator's oracle response (the
  floor). Per-bin values go to ``results/inversion_closure_bins.csv``.
- ``inversion_throughput``: the histogram accumulation of the NI fit against a bare
  ``numpy.histogramdd`` over the same values (true energy, |eta|, response), same run,
  alternating after a warm-up (``_harness.speed_ratio``: median, min and max).
- ``inversion_dask_root``: wall time and peak memory of an NI fit over ``--n-dask``
  jets read from ROOT files through Dask (``skcal.io.read_jets(..., dask=True)``, in
  partitions of ``--step-size`` jets),
  beside the in-memory fit of the same files, and the largest difference between
  their corrections.

    python benchmarks/bench_inversion.py [--n-train 1000000] [--n-test 1000000]
                                         [--n-dask 20000000] [--data-dir DIR] [--skip-dask]
                                         [--warmups 1] [--repeats 9]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    RATIO_KEYS,
    RESULTS_DIR,
    ROOT_FILE_SEEDS,
    add_repeat_arguments,
    measure_in_subprocess,
    peak_rss_mib,
    rss_mib,
    speed_ratio,
    spread,
    synthetic_root_files,
    time_alternating,
    write_results,
)
from _small_r import ETA_EDGES, PT_EDGES, reco_columns

SEEDS = {"train": 1, "test": 2, "throughput": 3, "bootstrap": 0, "dask_files": ROOT_FILE_SEEDS}

CLOSURE_BINS = {"pt_true": PT_EDGES, "abs_eta_true": ETA_EDGES}
MIN_BIN_ENTRIES = 500
NI_COLUMNS = ["e_reco", "pt_reco", "eta"]


def _stages() -> dict[str, Any]:
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset

    return {
        "NI": NumericalInversion(),
        "pile-up + NI": make_pipeline(PileupOffset(), NumericalInversion()),
        "pile-up + NI + GSC": make_pipeline(
            PileupOffset(), NumericalInversion(), GlobalSequentialCalibration()
        ),
    }


def _summary(
    stage: str, table: Any, reference: Any, previous: Any, fit_seconds: float
) -> dict[str, Any]:
    usable = (
        (table["pt_true_low"] >= 30)
        & (table["entries"] >= MIN_BIN_ENTRIES)
        & (table["status"] == "ok")
    )
    off = (table["mode"] - 1).abs().where(usable)
    worst = int(off.idxmax())
    ratio = (table["resolution"] / reference["resolution"]).where(usable)
    step = (table["resolution"] / previous["resolution"]).where(usable)
    tracker = table["abs_eta_true_high"] <= 2.5
    return {
        "stage": stage,
        "fit_s": round(fit_seconds, 2),
        "bins": int(usable.sum()),
        "worst_closure": float(off.max()),
        "worst_bin": f"pT {table['pt_true_low'][worst]:g}-{table['pt_true_high'][worst]:g}, "
        f"abs(eta) {table['abs_eta_true_low'][worst]:g}-{table['abs_eta_true_high'][worst]:g}",
        "bins_within_1pct": int((off < 0.01).sum()),
        "bins_within_5pct": int((off < 0.05).sum()),
        "median_resolution": float(table["resolution"].where(usable).median()),
        "res_ratio_to_NI_median": float(ratio.median()),
        "res_ratio_to_NI_tracker": float(ratio.where(tracker).median()),
        "res_ratio_to_NI_forward": float(ratio.where(~tracker).median()),
        "res_ratio_to_previous_tracker": float(step.where(tracker).median()),
        "res_ratio_to_previous_forward": float(step.where(~tracker).median()),
        "fallback_bins": int(table["fallback"].where(usable, False).sum()),
    }


def closure_study(n_train: int, n_test: int) -> list[dict[str, Any]]:
    import pandas as pd

    from skcal.datasets import make_jets
    from skcal.response import closure_table

    train = make_jets(n_train, random_state=SEEDS["train"])
    test = make_jets(n_test, random_state=SEEDS["test"])
    features = reco_columns(train)
    y = train["e_reco"] / train["e_true"]
    tables, rows = {}, []
    previous = None
    for stage, model in _stages().items():
        start = time.perf_counter()
        model.fit(train[features], y)
        seconds = time.perf_counter() - start
        r = (test["e_reco"] / model.predict(test[features]) / test["e_true"]).to_numpy()
        tables[stage] = closure_table(
            r, data=test, bins=CLOSURE_BINS, random_state=SEEDS["bootstrap"]
        )
        previous = stage if previous is None else previous
        rows.append(_summary(stage, tables[stage], tables["NI"], tables[previous], seconds))
        previous = stage
        print(rows[-1], flush=True)
    oracle = (test["e_reco"] / test["oracle_response"] / test["e_true"]).to_numpy()
    tables["oracle (floor)"] = closure_table(
        oracle, data=test, bins=CLOSURE_BINS, random_state=SEEDS["bootstrap"]
    )
    rows.append(
        _summary("oracle (floor)", tables["oracle (floor)"], tables["NI"], tables[previous], 0.0)
    )
    print(rows[-1], flush=True)
    raw = (test["e_reco"] / test["e_true"]).to_numpy()
    tables["uncalibrated"] = closure_table(raw, data=test, bins=CLOSURE_BINS, n_bootstrap=0)
    per_bin = pd.concat(
        {name: t for name, t in tables.items()}, names=["stage", "bin"]
    ).reset_index()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    per_bin.to_csv(RESULTS_DIR / "inversion_closure_bins.csv", index=False)
    return rows


def throughput(n_jets: int, warmups: int, repeats: int) -> list[dict[str, Any]]:
    from skcal.datasets import make_jets
    from skcal.inversion import NumericalInversion
    from skcal.inversion._ni_params import DEFAULT_CONDITION, DEFAULT_TARGET_BINS
    from skcal.inversion._numerical import _add_parts
    from skcal.response import DEFAULT_RESPONSE_EDGES

    jets = make_jets(n_jets, random_state=SEEDS["throughput"])[
        ["e_reco", "pt_reco", "eta", "e_true"]
    ]
    y = (jets["e_reco"] / jets["e_true"]).to_numpy()
    X = jets[NI_COLUMNS]
    ni = NumericalInversion()

    def accumulate() -> Any:  # the histogram pass of NumericalInversion.fit, as fit runs it
        return ni._reduce(ni._fill, X, y, None, combine=_add_parts)

    sample = np.column_stack([jets["e_true"].to_numpy(), np.abs(jets["eta"].to_numpy()), y])
    edges = [DEFAULT_TARGET_BINS, DEFAULT_CONDITION["abs_eta"], DEFAULT_RESPONSE_EDGES]
    speed = speed_ratio(
        accumulate,
        lambda: np.histogramdd(sample, bins=edges),
        warmups=warmups,
        repeats=repeats,
    )
    fit = time_alternating(
        {"fit": lambda: NumericalInversion().fit(X, y)}, warmups=warmups, repeats=repeats
    )["fit"]
    hist, _ = accumulate()
    bare, _ = np.histogramdd(sample, bins=edges)
    agree = bool(
        np.isclose(hist.entries.sum() + hist.n_outside, n_jets)
        and np.isclose(hist.sumw[..., 1:-1].sum(), bare.sum(), rtol=1e-3)
    )
    return [
        {
            "n_jets": n_jets,
            "skcal_accumulate_jets_per_s": n_jets / speed["skcal_s"],
            "bare_histogramdd_jets_per_s": n_jets / speed["bare_s"],
            **{k: speed[k] for k in RATIO_KEYS},
            **spread(fit, "skcal_full_fit_s"),
            "counts_agree": agree,
        }
    ]


def fit_from_root(paths: list[str], use_dask: bool, step_size: int) -> dict[str, Any]:
    """The NI fit over ``paths``;
    ``imports_rss_mib``: the resident size before reading, every library loaded."""
    import dask.dataframe  # noqa: F401  (loaded before the baseline in both modes)
    import uproot  # noqa: F401

    from skcal.inversion import NumericalInversion
    from skcal.io import read_jets

    imports_rss = rss_mib()
    jets = read_jets(paths, columns=[*NI_COLUMNS, "e_true"], step_size=step_size, dask=use_dask)
    ni = NumericalInversion().fit(jets[NI_COLUMNS], jets["e_reco"] / jets["e_true"])
    n_used = int(ni.bin_table_["entries"].sum())
    return {
        "n_used": n_used,
        "n_outside": ni.n_outside_,
        "grid": ni.response_grid_,
        "partitions": jets.npartitions if use_dask else 1,
        "peak_rss_mib": peak_rss_mib(),
        "imports_rss_mib": imports_rss,
    }


def dask_root(n_jets: int, data_dir: Path, n_files: int, step_size: int) -> list[dict[str, Any]]:
    paths = [str(p) for p in synthetic_root_files(n_jets, data_dir, n_files)]
    lazy = measure_in_subprocess(fit_from_root, paths, True, step_size)
    memory = measure_in_subprocess(fit_from_root, paths, False, step_size)
    # The same fit over one file: a streaming fit's peak memory does not grow with the sample.
    one_file = measure_in_subprocess(fit_from_root, paths[:1], True, step_size)
    difference = float(np.max(np.abs(lazy["result"]["grid"] / memory["result"]["grid"] - 1)))
    rows = []
    for name, run, n_files in (
        ("dask (read_jets dask=True)", lazy, len(paths)),
        ("in memory (read_jets)", memory, len(paths)),
        ("dask, first file only", one_file, 1),
    ):
        n_read = run["result"]["n_used"] + run["result"]["n_outside"]
        rows.append(
            {
                "fit": name,
                "n_jets": n_read,
                "files": n_files,
                "partitions": run["result"]["partitions"],
                "wall_s": run["seconds"],
                "jets_per_s": n_read / run["seconds"],
                "peak_rss_mib": run["result"]["peak_rss_mib"],
                "fit_rss_mib": run["result"]["peak_rss_mib"] - run["result"]["imports_rss_mib"],
                "max_rel_diff_of_correction": difference if n_files == len(paths) else float("nan"),
            }
        )
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1_000_000)
    parser.add_argument("--n-test", type=int, default=1_000_000)
    parser.add_argument("--n-throughput", type=int, default=5_000_000)
    parser.add_argument("--n-dask", type=int, default=20_000_000)
    parser.add_argument("--n-files", type=int, default=4)
    parser.add_argument("--step-size", type=int, default=1_000_000, help="jets per Dask partition")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/skcal-bench-inversion"))
    parser.add_argument("--skip-closure", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    add_repeat_arguments(parser)
    args = parser.parse_args(argv)
    parameters = {k: str(v) for k, v in vars(args).items()} | {"seeds": SEEDS}

    if not args.skip_closure:
        rows = closure_study(args.n_train, args.n_test)
        write_results(
            "inversion_closure",
            parameters=parameters,
            rows=rows,
            title="Standard calibration on synthetic small-R jets: "
            "closure and resolution per stage",
            notes="Held-out jets binned in pT_true x |eta_true|; bins with pT_true > 30 GeV "
            "and at "
            f"least {MIN_BIN_ENTRIES} jets. worst_closure = max |mode - 1|; res_ratio_to_NI = "
            f"median over bins of the resolution over NI's (tracker: |eta| < 2.5). Default "
            f"parameters, unweighted fits; per-bin values in inversion_closure_bins.csv.",
        )
    if not args.skip_throughput:
        rows = throughput(args.n_throughput, args.warmups, args.repeats)
        print(rows[-1], flush=True)
        write_results(
            "inversion_throughput",
            parameters=parameters,
            rows=rows,
            title="NI histogram accumulation against a bare numpy.histogramdd",
            notes="Same values (true energy, |eta|, response) and edges, same run. "
            "skcal's pass also validates the columns, derives E_true and |eta|, fills "
            "sum w, sum w^2, entries and mean log E_true per bin; ratio = bare time / "
            f"skcal time, the median over {args.repeats} alternating rounds after "
            f"{args.warmups} warm-up, with its min and max (target >= 0.5); the full fit: "
            "median, min and max of as many fits.",
        )
    if not args.skip_dask:
        rows = dask_root(args.n_dask, args.data_dir, args.n_files, args.step_size)
        write_results(
            "inversion_dask_root",
            parameters=parameters,
            rows=rows,
            title="NI fit over jets in ROOT files: through Dask and in memory",
            notes="Each fit runs in a fresh process; peak RSS is its VmHWM (ru_maxrss would "
            "report the parent's peak, inherited through fork and exec). The Dask fit "
            "reads each partition once and sums its histograms; max_rel_diff_of_correction "
            "compares the two fitted response grids. fit_rss_mib = peak RSS - the RSS "
            "before reading (every library already loaded): the memory the read and the "
            "fit add.",
        )


if __name__ == "__main__":
    main()
