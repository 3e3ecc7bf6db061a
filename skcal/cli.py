"""The ``skcal`` command: composes the library's functions, holds no logic of its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skcal.exceptions import SkcalError

if TYPE_CHECKING:
    import pandas as pd
    from tqdm import tqdm

__all__ = ["main"]


def _simulate(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from skcal.datasets import iter_jets, write_root

    outputs = _output_paths(args.output, args.files)
    for path in outputs:  # fail before writing anything
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
        if path.exists() and not args.overwrite:
            raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    per_file, extra = divmod(args.n_jets, len(outputs))
    start = 0
    with tqdm(total=args.n_jets, unit="jet", unit_scale=True, desc="simulate", disable=args.quiet) as bar:
        for i, path in enumerate(outputs):
            n = per_file + (i < extra)
            chunks = iter_jets(n, start=start, chunk_size=args.chunk_size, kind=args.kind,
                               topology=args.topology, spectrum=args.spectrum,
                               mu_range=tuple(args.mu_range), random_state=args.seed)
            write_root(_counted(chunks, bar), path, tree=args.tree,
                       format=args.format, overwrite=args.overwrite)
            start += n
    for path in outputs:
        print(path)


def _counted(chunks: Iterator[pd.DataFrame], bar: tqdm) -> Iterator[pd.DataFrame]:
    for chunk in chunks:
        bar.update(len(chunk))
        yield chunk


def _output_paths(output: Path, files: int) -> list[Path]:
    if files == 1:
        return [output]
    return [output.with_name(f"{output.stem}_{i:03d}{output.suffix}") for i in range(files)]


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skcal`` command."""
    parser = argparse.ArgumentParser(prog="skcal", description="Jet calibration with scikit-learn estimators.")
    commands = parser.add_subparsers(dest="command", required=True)

    sim = commands.add_parser("simulate", help="write synthetic jets with a known truth to ROOT files")
    sim.add_argument("n_jets", type=_positive_int, help="number of jets in all")
    sim.add_argument("-o", "--output", type=Path, required=True,
                     help="output file; with --files N, N files named STEM_000.root, ...")
    sim.add_argument("--files", type=_positive_int, default=1, help="split the jets over this many files")
    sim.add_argument("--kind", choices=["small_r", "large_r"], default="small_r")
    sim.add_argument("--topology", choices=["dijet", "w", "z", "top", "higgs"], default="dijet")
    sim.add_argument("--spectrum", choices=["sliced", "physical"], default="sliced")
    sim.add_argument("--mu-range", type=float, nargs=2, default=(10.0, 70.0), metavar=("LOW", "HIGH"))
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--format", choices=["ttree", "rntuple"], default="ttree")
    sim.add_argument("--tree", default="jets", help="name of the tree (default: jets)")
    sim.add_argument("--chunk-size", type=_positive_int, default=1_000_000, help="jets generated at a time")
    sim.add_argument("--overwrite", action="store_true", help="replace existing files")
    sim.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(handler=_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skcal`` command; return its exit status.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skcal.cli import main
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "jets.root"
    >>> main(["simulate", "1000", "-o", str(out), "--quiet"])  # doctest: +ELLIPSIS
    /.../jets.root
    0
    """
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (SkcalError, OSError) as exc:
        print(f"skcal {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
