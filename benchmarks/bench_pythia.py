"""The Pythia sample: throughput against bare Pythia, the physics that must emerge, and
the realistic quality table (the standard chain against the MDN).

- **Speed**: one block of events (every slice) through pile-up, the detector, the
  clustering and the matching (``generate_block``) against bare Pythia generating the
  same events (``Pythia.next``, same instances and seeds), alternating rounds after a
  warm-up; the ratio is bare time over skcal's (the throughput ratio; target >= 0.5).
  The pile-up library is built before (its one-off time is reported).
- **Physics** (issue 19's "What it must show"), on cached samples
  (``_pythia_sample.py``): without pile-up, the response against pT, gluon against
  light-quark jets, tracks and width, the b-jet tail, the GSC's resolution; with
  pile-up (mu flat in 0-60), the pT offset against mu.
- **Quality**: NI, the pile-up + NI + GSC chain and the MDN fitted on 70% of the
  pile-up sample and evaluated on the rest, per pT_true bin (all |eta_true|).

    python benchmarks/bench_pythia.py [--ratio-slices 20 60 160 400] [--cache DIR]
        [--n-physics 10000] [--n-pileup 20000] [--epochs 20] [--skip-speed] [--skip-quality]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import add_repeat_arguments, require, speed_ratio, verdict, write_results
from _pythia_sample import cached, sample

PT_EDGES = [20, 30, 40, 60, 100, 200, 400, 1000, 3000]
QUALITY_PT = [20, 30, 50, 80, 120, 200, 400, 3000]
NO_PILEUP = {"mu_range": (0.0, 0.0), "shower": "pythia", "kind": "small_r", "topology": "dijet"}
PILEUP = {"mu_range": (0.0, 60.0), "shower": "pythia", "kind": "small_r", "topology": "dijet"}
MIN_ENTRIES = 30.0
#: Coarser bins than NI's and the GSC's defaults, for samples of thousands of jets.
ABS_ETA = [0.0, 0.8, 1.5, 2.5, 3.2, 4.5]


def _ni(**extra: Any) -> Any:
    from skcal.inversion import NumericalInversion

    return NumericalInversion(
        condition={"abs_eta": ABS_ETA},
        target_bins=np.geomspace(20, 5000, 16),
        min_entries=MIN_ENTRIES,
        **extra,
    )


def _gsc_stage() -> Any:
    from skcal.inversion import GlobalSequentialCalibration

    # Coarse variable bins too (three or four per variable).
    bins = {
        "charged_frac": [0.0, 0.2, 0.4, 0.6, 0.8, 1.2],
        "tile0_frac": [0.0, 0.1, 0.2, 0.3, 1.0],
        "em3_frac": [0.0, 0.008, 0.012, 0.016, 1.0],
        "n_trk": [0, 3, 6, 10, 40],
        "trk_width": [0.0, 0.05, 0.1, 0.15, 0.5],
        "n_muon_segments": [0, 1, 5, 20, 1000],
    }
    return GlobalSequentialCalibration(
        variable_bins=bins,
        abs_eta_bins=ABS_ETA,
        pt_bins=np.geomspace(20, 3000, 8),
        min_entries=MIN_ENTRIES,
    )


SEEDS = {"no_pileup": 1, "pileup": 2, "speed": 5, "models": 0}


def _speed(args: argparse.Namespace) -> list[dict[str, Any]]:
    from skcal.datasets.pythia._block import EVENTS_PER_SLICE, generate_block
    from skcal.datasets.pythia._events import cache_path, pythia_instance, seed_of
    from skcal.datasets.pythia._pileup import make_library
    from skcal.datasets.pythia._settings import check_settings

    settings, _ = check_settings(
        {
            "n_jets": 1,
            "kind": "small_r",
            "topology": "dijet",
            "shower": "pythia",
            "n_jobs": 1,
            "pileup_library": args.pileup_library,
            "random_state": SEEDS["speed"],
            "mu_range": tuple(args.ratio_mu),
            "slices": tuple(args.ratio_slices),
            "radius": None,
        }
    )
    cache = cache_path(args.cache / "mpi")
    start = time.perf_counter()
    library = make_library(settings, cache)
    library_s = time.perf_counter() - start
    instances = [pythia_instance(settings, s, cache)[0] for s in settings.slices]
    block = iter(range(10_000))
    n_jets: list[int] = []

    def skcal() -> None:
        n_jets.append(len(generate_block(settings, next(block), library, cache)))

    def bare() -> None:
        b = next(block)
        for s, pythia in enumerate(instances):
            pythia.rndm.init(seed_of(settings.entropy, b, s))
            for _ in range(EVENTS_PER_SLICE):
                pythia.next()

    ratio = speed_ratio(skcal, bare, warmups=args.warmups, repeats=args.repeats)
    n_events = EVENTS_PER_SLICE * len(settings.slices)
    return [
        {
            "measure": "throughput: detector + pile-up + clustering + matching / bare Pythia",
            "events_per_round": n_events,
            "mu_range": list(settings.mu_range),
            "slices": list(args.ratio_slices),
            "jets_per_round": float(np.mean(n_jets)),
            "skcal_events_per_s": n_events / ratio["skcal_s"],
            "bare_events_per_s": n_events / ratio["bare_s"],
            **{k: ratio[k] for k in ("ratio", "ratio_min", "ratio_max", "repeats")},
            "target": ">= 0.5",
            "result": verdict(ratio["ratio_min"], ratio["ratio_max"], ">= 0.5"),
            "library_events": args.pileup_library,
            "library_s": round(library_s, 1),
        }
    ]


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
            "response (|eta|<1.2)": r[central].groupby(bins[central], observed=False).median(),
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
    resp = per_bin["response (|eta|<1.2)"][per_bin["jets"] >= 30]
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


def _gsc(jets: pd.DataFrame) -> dict[str, Any]:
    """NI alone against NI + GSC, fitted on half the no-pile-up jets, on the other half."""
    from sklearn.pipeline import make_pipeline

    from skcal.evaluation import apply_calibration

    train, test = jets.iloc[::2], jets.iloc[1::2]
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    resolutions = {}
    for name, model in (("NI", _ni()), ("NI + GSC", make_pipeline(_ni(), _gsc_stage()))):
        model.fit(train[_reco(train)], y)
        resolutions[name] = _resolution(apply_calibration(model, test), test, [50, 100, 200, 3000])
    ratio = float(np.mean(resolutions["NI + GSC"] / resolutions["NI"]))
    return _check(
        "GSC narrows the resolution: NI+GSC / NI, mean over pT > 50 GeV",
        ratio,
        "< 1",
        ratio < 1,
        detail=f"NI {np.round(resolutions['NI'], 3).tolist()}, NI+GSC "
        f"{np.round(resolutions['NI + GSC'], 3).tolist()}",
    )


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


def _reco(jets: pd.DataFrame) -> list[str]:
    from skcal import columns

    drop = {*columns.TRUTH, *columns.ORACLE, "flavour", "weight"}
    return [c for c in jets.columns if c not in drop]


def _resolution(calibrated: pd.DataFrame, test: pd.DataFrame, edges: list[float]) -> np.ndarray:
    from skcal.response import closure_table

    table = closure_table(
        (calibrated["e_calib"] / test["e_true"]).to_numpy(),
        data=test,
        bins={"pt_true": edges},
        n_bootstrap=0,
    )
    return table["resolution"].to_numpy()


def _quality(jets: pd.DataFrame, epochs: int, pileup: bool) -> list[dict[str, Any]]:
    from bench_quality_small_r import models

    from skcal.evaluation import apply_calibration
    from skcal.response import closure_table

    n_train = int(0.7 * len(jets))
    train, test = jets.iloc[:n_train], jets.iloc[n_train:]
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import PileupOffset

    # Without pile-up the chain has no offset stage (its fit needs mu, NPV and rho to vary).
    chain = "pile-up + NI + GSC" if pileup else "NI + GSC"
    chosen = ("NI", chain, "MDN (K=3, log r)")
    stages = [PileupOffset()] if pileup else []
    candidates = {
        "NI": (_ni(), None),
        chain: (make_pipeline(*stages, _ni(), _gsc_stage()), None),
        chosen[2]: models(epochs, (64, 64), 512, 1e-3)[chosen[2]],
    }
    table: dict[str, pd.DataFrame] = {}
    for name, (model, features) in candidates.items():
        model.fit(train[features or _reco(train)], y)
        cal = apply_calibration(model, test)
        table[name] = closure_table(
            (cal["e_calib"] / test["e_true"]).to_numpy(),
            data=test,
            bins={"pt_true": QUALITY_PT},
            n_bootstrap=0,
        )
        print(name, table[name][["mode", "resolution"]].round(3).to_dict("list"), flush=True)
    rows = []
    ref = table[chosen[0]]
    for i in range(len(ref)):
        row: dict[str, Any] = {
            "pt_true": f"{ref['pt_true_low'][i]:g}-{ref['pt_true_high'][i]:g}",
            "test jets": int(ref["entries"][i]),
        }
        for name in chosen:
            row[f"{name} closure"] = float(table[name]["mode"][i])
            row[f"{name} resolution"] = float(table[name]["resolution"][i])
        row["MDN / chain resolution"] = (
            row[f"{chosen[2]} resolution"] / row[f"{chosen[1]} resolution"]
        )
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("pythia-cache"))
    parser.add_argument("--ratio-slices", type=float, nargs="+", default=[20, 60, 160, 400])
    parser.add_argument("--ratio-mu", type=float, nargs=2, default=[0.0, 60.0])
    parser.add_argument("--pileup-library", type=int, default=1000)
    parser.add_argument("--n-physics", type=int, default=10_000)
    parser.add_argument("--n-pileup", type=int, default=20_000)
    parser.add_argument(
        "--cached-only",
        action="store_true",
        help="use the cached jets of each sample (up to the sizes), generate none",
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--quality-sample",
        choices=["pileup", "no_pileup"],
        default="pileup",
        help="the sample of the quality table",
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-physics", action="store_true", help="and the quality table")
    add_repeat_arguments(parser)
    args = parser.parse_args(argv)
    require("pythia8mc", "sim")
    require("fastjet", "sim")

    params = vars(args) | {"seeds": SEEDS}
    if not args.skip_speed:
        rows = _speed(args)
        print(rows, flush=True)
        write_results(
            "pythia_speed",
            parameters=params,
            rows=rows,
            title="Pythia sample: throughput against bare Pythia generation",
            notes="ratio: bare Pythia's time over skcal's for the same events (median "
            f"of {args.repeats} alternating rounds after {args.warmups} warm-up).",
        )
    if args.skip_physics:
        return
    sizes = {}
    for key, n, settings in (
        ("no_pileup", args.n_physics, NO_PILEUP),
        ("pileup", args.n_pileup, PILEUP),
    ):
        sizes[key] = cached(n, SEEDS[key], args.cache, **settings) if args.cached_only else n
    jets = sample(sizes["no_pileup"], SEEDS["no_pileup"], args.cache, **NO_PILEUP)
    pileup = sample(sizes["pileup"], SEEDS["pileup"], args.cache, **PILEUP)
    params = params | {"sizes": sizes}
    checks, per_bin = _physics(jets, pileup)
    for row in checks:
        print(row, flush=True)
    write_results(
        "pythia_physics",
        parameters=params,
        rows=checks,
        title="Pythia sample: the physics that emerges",
        notes=f"{sizes['no_pileup']} jets without pile-up (the checks but the "
        f"offset), {sizes['pileup']} with mu flat in 0-60; medians per pT_true bin.",
    )
    write_results(
        "pythia_bins",
        parameters=params,
        rows=[
            {k: (str(v) if k == "pt_true bin" else v) for k, v in row.items()}
            for row in per_bin.to_dict("records")
        ],
        title="Pythia sample: response, tracks and width per pT_true bin (no pile-up)",
    )
    if not args.skip_quality:
        with_pileup = args.quality_sample == "pileup"
        rows = _quality(pileup if with_pileup else jets, args.epochs, with_pileup)
        write_results(
            "pythia_quality" + ("" if with_pileup else "_no_pileup"),
            parameters=params,
            rows=rows,
            title="Realistic quality table: NI, the standard chain and the MDN on "
            f"Pythia jets ({'mu 0-60' if with_pileup else 'no pile-up'})",
            notes=f"fitted on 70% of {sizes[args.quality_sample]} jets, evaluated on 30%; "
            "closure (mode) and resolution per pT_true bin over all |eta_true|.",
        )


if __name__ == "__main__":
    main()
