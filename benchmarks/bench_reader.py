"""Throughput and peak memory of the ROOT reader (``skcal.io.read_jets``).

Two measurements on one flat TTree of synthetic jets (written once, then reused):

* in-memory throughput: ``read_jets(path)`` against a bare ``uproot`` read of the same
  branches of the same file into numpy arrays (``tree.arrays(branches, library="np")``),
  in the same process: ``--warmups`` rounds of both (the file is then in the page cache
  for both), then ``--repeats`` alternating rounds; the median ratio with its min and max;
* peak memory of a Dask reduction over the whole file (``read_jets(..., dask=True)``
  with chunks of ``--chunk-jets`` jets, ``.mean().compute()`` over every column) in a
  fresh process, for two chunk sizes, against the peak of an in-memory read of the same
  file (skcal and bare uproot) and of a process that only imports the libraries.

    python benchmarks/bench_reader.py [--n-jets 10000000] [--chunk-jets 1000000 250000]
                                      [--warmups 1] [--repeats 9]
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    RATIO_KEYS,
    RESULTS_DIR,
    add_repeat_arguments,
    measure_in_subprocess,
    speed_ratio,
    write_results,
)

SEEDS = {"file": 0}


def write_sample(path: Path, n_jets: int) -> Path:
    """A flat TTree of ``n_jets`` synthetic jets (baskets of 100 000), written in chunks."""
    import uproot

    from skcal.datasets import iter_jets
    from skcal.io import write_root

    if path.exists():
        with uproot.open(path) as file:
            if file["jets"].num_entries == n_jets:
                return path
    chunks = iter_jets(n_jets, chunk_size=1_000_000, random_state=SEEDS["file"])
    return write_root(chunks, path, overwrite=True, chunk_size=100_000)


def bare_uproot(path: Path) -> int:
    import uproot

    with uproot.open(path) as file:
        tree = file["jets"]
        arrays = tree.arrays(tree.keys(), library="np")
    return len(next(iter(arrays.values())))


def skcal_read(path: Path) -> int:
    from skcal.io import read_jets

    return len(read_jets(path))


def imports_only(path: Path) -> int:
    import dask.dataframe  # noqa: F401

    import skcal.io  # noqa: F401

    return 0


def dask_reduction(path: Path, chunk_jets: int) -> int:
    from skcal.io import read_jets

    lazy = read_jets(path, dask=True, step_size=chunk_jets)
    means = lazy.mean().compute()
    assert means.notna().all()
    return lazy.npartitions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jets", type=int, default=10_000_000)
    parser.add_argument(
        "--chunk-jets",
        type=int,
        nargs="+",
        default=[1_000_000, 250_000],
        help="chunk sizes of the Dask reduction (multiples of the file's 100 000-jet baskets)",
    )
    add_repeat_arguments(parser)
    parser.add_argument(
        "--file", type=Path, default=None, help="where to write (or reuse) the sample"
    )
    args = parser.parse_args(argv)

    path = args.file or RESULTS_DIR / f"reader_{args.n_jets}.root"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Each memory figure comes from a fresh process, measured before this one reads anything.
    written = measure_in_subprocess(write_sample, path, args.n_jets)
    print(
        f"sample: {path} ({os.path.getsize(path) / 2**20:.0f} MiB on disk), "
        f"{written['seconds']:.1f} s"
    )
    baseline = measure_in_subprocess(imports_only, path)
    in_memory = measure_in_subprocess(skcal_read, path)
    bare_memory = measure_in_subprocess(bare_uproot, path)
    chunked = {size: measure_in_subprocess(dask_reduction, path, size) for size in args.chunk_jets}

    speed = speed_ratio(
        partial(skcal_read, path),
        partial(bare_uproot, path),
        warmups=args.warmups,
        repeats=args.repeats,
    )
    skcal_times, bare_times = speed["times"]["skcal"], speed["times"]["bare"]

    from skcal.datasets import make_jets

    row_bytes = (
        float(make_jets(1000, random_state=SEEDS["file"]).memory_usage(index=False).sum()) / 1000
    )
    rows = [
        {
            "measure": "in-memory read, jets/s (median)",
            "skcal": args.n_jets / speed["skcal_s"],
            "bare_uproot": args.n_jets / speed["bare_s"],
            **{k: speed[k] for k in RATIO_KEYS},
        },
        {
            "measure": "in-memory read, seconds (each round, after the warm-up)",
            "skcal": ", ".join(f"{t:.2f}" for t in skcal_times),
            "bare_uproot": ", ".join(f"{t:.2f}" for t in bare_times),
        },
        {
            "measure": "peak RSS MiB: imports only",
            "skcal": baseline["peak_rss_mib"],
            "bare_uproot": "",
        },
        {
            "measure": "peak RSS MiB: in-memory read",
            "skcal": in_memory["peak_rss_mib"],
            "bare_uproot": bare_memory["peak_rss_mib"],
        },
        *(
            {
                "measure": f"peak RSS MiB: Dask mean, step_size={size}: {run['result']} chunks of "
                f"{args.n_jets // run['result']} jets "
                f"({args.n_jets // run['result'] * row_bytes / 2**20:.0f} MiB)",
                "skcal": run["peak_rss_mib"],
                "bare_uproot": "",
            }
            for size, run in chunked.items()
        ),
        {
            "measure": "table size MiB (whole file)",
            "skcal": args.n_jets * row_bytes / 2**20,
            "bare_uproot": "",
        },
    ]
    for row in rows:
        print(row)
    write_results(
        "reader",
        parameters={
            **vars(args),
            "seeds": SEEDS,
            "file": str(path),
            "file_mib": os.path.getsize(path) / 2**20,
        },
        rows=rows,
        title="ROOT reader: throughput against bare uproot, "
        "and peak memory of a chunked Dask reduction",
        notes="ratio: skcal's throughput over a bare `uproot` read of the same branches of the "
        f"same (warm) file, the median over {args.repeats} alternating rounds after "
        f"{args.warmups} warm-up round(s) of both, with its min and max (target >= 0.8). "
        "The Dask reduction runs on the default (threaded) scheduler, one thread per CPU; its peak "
        "grows with the chunk size, not with the file.",
    )


if __name__ == "__main__":
    main()
