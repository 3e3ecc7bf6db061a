"""Embedded heavy-ion jet samples for the benchmark, generated in pieces and cached.

A sample of ``n`` jets per radius is the concatenation of pieces of ``piece`` jets per
radius, piece ``i`` being ``embed_in_background(piece, random_state=seed * 10_000 + i,
**settings)``; each piece is kept in the cache folder (a pickle named by its settings),
so that an interrupted run, or another size on the same sample, generates only the
pieces it lacks.

    python benchmarks/_heavy_ion_sample.py --n-jets 3000 --seed 1 --cache DIR [--fakes]
        [--fragmentation soft] [--radius 0.2 0.4 0.6] [--piece 250]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd


def _name(seed: int, index: int, piece: int, settings: dict[str, Any]) -> str:
    key = json.dumps({"seed": seed, "piece": piece, **settings}, sort_keys=True, default=list)
    return f"heavy-ion-{hashlib.sha1(key.encode()).hexdigest()[:12]}-{index:05d}.pkl"


def sample(n: int, seed: int, cache: Path, piece: int, **settings: Any) -> pd.DataFrame:
    """``n`` jets per radius: the first pieces of the sample of ``seed`` and ``settings``;
    ``event`` is renumbered so that it stays unique across pieces."""
    from skcal.datasets import embed_in_background

    cache.mkdir(parents=True, exist_ok=True)
    pieces, offset = [], 0
    for index in range(-(-n // piece)):
        path = cache / _name(seed, index, piece, settings)
        if path.exists():
            table = pd.read_pickle(path)
        else:
            start = time.perf_counter()
            table = embed_in_background(piece, random_state=seed * 10_000 + index, **settings)
            table.to_pickle(path)
            took = time.perf_counter() - start
            print(f"seed {seed} piece {index}: {piece} jets per radius in {took:.0f} s", flush=True)
        table = table.assign(event=table["event"] + offset)
        offset = int(table["event"].max()) + 1
        pieces.append(table)
    jets = pd.concat(pieces, ignore_index=True)
    # The first n matched jets of each radius (the fakes of their pieces stay).
    rank = (jets["fake"] == 0).groupby(jets["radius"]).cumsum()
    return jets[(rank <= n) | (jets["fake"] == 1)].reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jets", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--piece", type=int, default=250)
    parser.add_argument("--radius", type=float, nargs="+", default=[0.2, 0.4, 0.6])
    parser.add_argument("--fragmentation", default="default")
    parser.add_argument("--fakes", action="store_true")
    args = parser.parse_args(argv)
    settings = {
        "radius": tuple(args.radius),
        "fragmentation": args.fragmentation,
        "fakes": args.fakes,
    }
    sample(args.n_jets, args.seed, args.cache, args.piece, **settings)


if __name__ == "__main__":
    main()
