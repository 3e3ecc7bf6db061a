"""Pythia jet samples for the benchmarks, generated in pieces and cached.

A sample of ``n`` jets is the concatenation of pieces of :data:`PIECE` jets, piece ``i``
being ``make_pythia_jets(PIECE, random_state=seed * 10_000 + i, **settings)``; each piece
is kept in the cache folder (a pickle named by its settings), so that an interrupted
run, or a later benchmark on the same sample, only generates the pieces it lacks.

    python benchmarks/_pythia_sample.py --n-jets 40000 --seed 1 --mu 0 60 --cache DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

PIECE = 2000


def _name(seed: int, index: int, settings: dict[str, Any]) -> str:
    key = json.dumps({"seed": seed, **settings}, sort_keys=True, default=list)
    return f"pythia-{hashlib.sha1(key.encode()).hexdigest()[:12]}-{index:05d}.pkl"


def sample(n: int, seed: int, cache: Path, n_jobs: int = 1, **settings: Any) -> pd.DataFrame:
    """``n`` jets (the first pieces of the sample of ``seed`` and ``settings``), each piece
    generated in ``n_jobs`` processes (the same jets for any ``n_jobs``)."""
    from skcal.datasets.pythia import make_pythia_jets

    cache.mkdir(parents=True, exist_ok=True)
    pieces = []
    for index in range(-(-n // PIECE)):
        path = cache / _name(seed, index, settings)
        if path.exists():
            pieces.append(pd.read_pickle(path))
            continue
        start = time.perf_counter()
        piece = make_pythia_jets(
            PIECE, random_state=seed * 10_000 + index, n_jobs=n_jobs, **settings
        )
        piece.to_pickle(path)
        print(f"piece {index}: {PIECE} jets in {time.perf_counter() - start:.0f} s", flush=True)
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True).iloc[:n]


def cached(n_max: int, seed: int, cache: Path, **settings: Any) -> int:
    """How many jets of the sample are cached (consecutive pieces from the first)."""
    count = 0
    while count < n_max and (cache / _name(seed, count // PIECE, settings)).exists():
        count += PIECE
    return min(count, n_max)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jets", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mu", type=float, nargs=2, default=(0.0, 60.0))
    parser.add_argument("--shower", default="pythia")
    parser.add_argument("--kind", default="small_r")
    parser.add_argument("--topology", default="dijet")
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = {
        "mu_range": tuple(args.mu),
        "shower": args.shower,
        "kind": args.kind,
        "topology": args.topology,
    }
    sample(args.n_jets, args.seed, args.cache, **settings)


if __name__ == "__main__":
    main()
