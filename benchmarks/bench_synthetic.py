"""Throughput and peak memory of the synthetic generator, generating in chunks.

Baseline in the same run: drawing the same number of float64 normal variates (one per
output column and jet) with numpy, the floor for any generator of such a table. Peak
memory: one fresh process per side. Throughput: both sides in this process, one after
the other, after a warm-up (``_harness.speed_ratio``).

    python benchmarks/bench_synthetic.py [--n-jets 10000000] [--chunk-size 1000000]
                                         [--warmups 1] [--repeats 9]
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    RATIO_KEYS,
    add_repeat_arguments,
    measure_in_subprocess,
    speed_ratio,
    write_results,
)

SEEDS = {"jets": 0, "bare": 0}


def generate(n_jets: int, chunk_size: int, kind: str) -> int:
    from skcal.datasets import iter_jets

    n_columns = 0
    for chunk in iter_jets(n_jets, chunk_size=chunk_size, kind=kind, random_state=SEEDS["jets"]):
        n_columns = chunk.shape[1]
    return n_columns


def bare_numpy(n_jets: int, chunk_size: int, n_columns: int) -> int:
    rng = np.random.default_rng(SEEDS["bare"])
    for start in range(0, n_jets, chunk_size):
        rng.standard_normal((min(chunk_size, n_jets - start), n_columns))
    return n_columns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jets", type=int, default=10_000_000)
    parser.add_argument("--chunk-size", type=int, default=1_000_000)
    add_repeat_arguments(parser)
    args = parser.parse_args(argv)

    rows = []
    for kind in ("small_r", "large_r"):
        skcal_run = measure_in_subprocess(generate, args.n_jets, args.chunk_size, kind)
        n_columns = skcal_run["result"]
        bare = measure_in_subprocess(bare_numpy, args.n_jets, args.chunk_size, n_columns)
        speed = speed_ratio(
            partial(generate, args.n_jets, args.chunk_size, kind),
            partial(bare_numpy, args.n_jets, args.chunk_size, n_columns),
            warmups=args.warmups,
            repeats=args.repeats,
        )
        rows.append(
            {
                "kind": kind,
                "n_jets": args.n_jets,
                "columns": n_columns,
                "skcal_jets_per_s": args.n_jets / speed["skcal_s"],
                "bare_numpy_jets_per_s": args.n_jets / speed["bare_s"],
                **{k: speed[k] for k in RATIO_KEYS},
                "skcal_peak_rss_mib": skcal_run["peak_rss_mib"],
                "bare_peak_rss_mib": bare["peak_rss_mib"],
            }
        )
        print(rows[-1])
    write_results(
        "synthetic",
        parameters=vars(args) | {"seeds": SEEDS},
        rows=rows,
        title="Synthetic generator: throughput and peak memory (chunked)",
        notes="ratio: skcal's throughput over drawing one normal variate per column and jet "
        f"with numpy, the median over {args.repeats} alternating rounds after {args.warmups} "
        "warm-up (min and max beside it); jets/s from the median times. Peak memory: each side "
        "once in a fresh process.",
    )


if __name__ == "__main__":
    main()
