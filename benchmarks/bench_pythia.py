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
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RATIO_KEYS, add_repeat_arguments, require, speed_ratio, verdict, write_results
from _pythia_calib import _closures, _quality
from _pythia_checks import _physics
from _pythia_sample import cached, sample

NO_PILEUP = {"mu_range": (0.0, 0.0), "shower": "pythia", "kind": "small_r", "topology": "dijet"}


PILEUP = {"mu_range": (0.0, 60.0), "shower": "pythia", "kind": "small_r", "topology": "dijet"}


VINCIA = {**NO_PILEUP, "shower": "vincia"}


SEEDS = {"no_pileup": 1, "pileup": 2, "vincia": 3, "speed": 5, "models": 0}


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
            **{k: ratio[k] for k in RATIO_KEYS},
            "target": ">= 0.5",
            "result": verdict(ratio["ratio_low"], ratio["ratio_high"], ">= 0.5"),
            "library_events": args.pileup_library,
            "library_s": round(library_s, 1),
        }
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("pythia-cache"))
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes that generate a piece"
    )
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
    parser.add_argument("--n-vincia", type=int, default=10_000)
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
    jets = sample(sizes["no_pileup"], SEEDS["no_pileup"], args.cache, args.jobs, **NO_PILEUP)
    pileup = sample(sizes["pileup"], SEEDS["pileup"], args.cache, args.jobs, **PILEUP)
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
    n_vincia = (
        cached(args.n_vincia, SEEDS["vincia"], args.cache, **VINCIA)
        if args.cached_only
        else args.n_vincia
    )
    vincia = None
    if n_vincia:
        vincia = sample(n_vincia, SEEDS["vincia"], args.cache, args.jobs, **VINCIA)
    generator, flavour = _closures(jets, vincia, args.epochs)
    notes = (
        f"fitted on half of the {sizes['no_pileup']} no-pile-up jets (default shower); "
        f"closure (mode of E_calib / E_true) on the other half and on {n_vincia} Vincia jets"
    )
    if generator:
        write_results(
            "pythia_generator",
            parameters=params,
            rows=generator,
            notes=notes,
            title="Generator dependence: trained on Pythia's shower, applied to Vincia",
        )
    write_results(
        "pythia_flavour",
        parameters=params,
        rows=flavour,
        notes=notes,
        title="Flavour closure on Pythia jets (no pile-up)",
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
