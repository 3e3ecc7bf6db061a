"""make_pythia_jets: the block loop, serial or over worker processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from skcal._optional import import_optional
from skcal.datasets.pythia._block import generate_block
from skcal.datasets.pythia._events import cache_path
from skcal.datasets.pythia._pileup import Library, make_library
from skcal.datasets.pythia._settings import Settings, check_settings

_WORKER: dict[str, object] = {}


def make_pythia_jets(
    n_jets: int,
    *,
    kind: str = "small_r",
    topology: str = "dijet",
    mu_range: tuple[float, float] = (10.0, 70.0),
    slices: tuple[float, ...] | None = None,
    radius: float | None = None,
    shower: str = "pythia",
    pileup_library: int = 1000,
    n_jobs: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Generate a jet table from Pythia 8 events, FastJet and a parametric detector.

    The same table as :func:`skcal.datasets.make_jets` (same columns and dtypes), from
    simulated collisions instead of a formula: see :mod:`skcal.datasets.pythia` for the
    physics and its sources. Needs the ``sim`` extra (``pip install 'skcal[sim]'``).

    Parameters
    ----------
    n_jets : int
        Number of matched jets, positive.
    kind : {"small_r", "large_r"}, default "small_r"
        Anti-kt R = 0.4 jets with the standard chain's inputs, or trimmed anti-kt
        R = 1.0 jets with the substructure inputs of the ATLAS energy-and-mass DNN.
    topology : {"dijet", "w", "z", "top", "higgs"}, default "dijet"
        QCD dijets, or (large-R only) boosted W, Z, top or H -> bb.
    mu_range : (float, float), default (10, 70)
        Range of mu (flat), within [0, 200]; (0, 0) for no pile-up.
    slices : sequence of float, optional
        pT-hat slice edges in GeV; default the JZ1-JZ8 slices 20-3200 GeV (small-R) or
        200-3200 GeV (large-R). Every block has the same number of events per slice.
    radius : float, optional
        Jet radius, in [0.2, 1.5]; default 0.4 (small-R) or 1.0 (large-R).
    shower : {"pythia", "vincia"}, default "pythia"
        Parton shower: Pythia's default or Vincia (generator-dependence checks).
    pileup_library : int, default 1000
        Minimum-bias events in the pile-up library (generated once per sample).
    n_jobs : int, default 1
        Worker processes; the table does not depend on it.
    cache_dir : path, optional
        Where Pythia's multiparton-interaction tables are kept between runs (default
        ``skcal-pythia`` in the temporary directory).
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same table, for any ``n_jobs``.

    Returns
    -------
    DataFrame
        The jet table of ``kind``, ``weight`` the cross-section per event normalised
        to mean 1, and the oracle columns (see the module's notes for their meaning).

    Raises
    ------
    ParameterError
        For a bad ``n_jets``, ``kind``, ``topology``, ``mu_range``, ``slices``, ``radius``,
        ``shower``, ``pileup_library``, ``n_jobs`` or ``random_state``.
    MissingDependencyError
        If the ``sim`` extra (pythia8mc, fastjet) is not installed.

    Examples
    --------
    >>> from skcal.datasets.pythia import make_pythia_jets
    >>> jets = make_pythia_jets(20, slices=(60, 160), mu_range=(0, 0),
    ...                         random_state=0)  # doctest: +SKIP
    >>> len(jets)  # doctest: +SKIP
    20
    """
    settings, n_jobs = check_settings(
        {
            "n_jets": n_jets,
            "kind": kind,
            "topology": topology,
            "shower": shower,
            "n_jobs": n_jobs,
            "pileup_library": pileup_library,
            "random_state": random_state,
            "mu_range": mu_range,
            "slices": slices,
            "radius": radius,
        }
    )
    import_optional("pythia8mc", purpose="make_pythia_jets")
    import_optional("fastjet", purpose="make_pythia_jets")
    cache = cache_path(cache_dir)
    library = make_library(settings, cache)
    pieces, held = [], 0
    for table in _blocks(settings, library, cache, n_jobs):
        pieces.append(table)
        held += len(table)
        if held >= n_jets:
            break
    jets = pd.concat(pieces, ignore_index=True).iloc[:n_jets].reset_index(drop=True)
    jets["weight"] = jets["weight"] / jets["weight"].mean()
    return jets


def _blocks(
    settings: Settings, library: Library | None, cache: Path, n_jobs: int
) -> Iterator[pd.DataFrame]:
    """The blocks 0, 1, 2, ... in order, computed ``n_jobs`` at a time."""
    if n_jobs == 1:
        block = 0
        while True:
            yield generate_block(settings, block, library, cache)
            block += 1
    with ProcessPoolExecutor(
        n_jobs, initializer=_init_worker, initargs=(settings, library, cache)
    ) as pool:
        pending: list[Future[pd.DataFrame]] = []
        block = 0
        try:
            while True:
                while len(pending) < 2 * n_jobs:
                    pending.append(pool.submit(_worker_block, block))
                    block += 1
                yield pending.pop(0).result()
        finally:
            for future in pending:
                future.cancel()


def _init_worker(settings: Settings, library: Library | None, cache: Path) -> None:
    _WORKER.update(settings=settings, library=library, cache=cache)


def _worker_block(block: int) -> pd.DataFrame:
    return generate_block(
        _WORKER["settings"],  # type: ignore[arg-type]
        block,
        _WORKER["library"],  # type: ignore[arg-type]
        _WORKER["cache"],  # type: ignore[arg-type]
    )
