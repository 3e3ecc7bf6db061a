"""``read_jets``: ROOT files (TTree or RNTuple, flat or per event) to the jet table, in
memory or as a lazy Dask DataFrame with one partition per file chunk.

The work is split by question: :mod:`skcal.io._plan` plans the read (mapping, columns,
cuts, layout, chunks), :mod:`skcal.io._process` turns a chunk into rows, and
:mod:`skcal.io._task` is the Dask task of a lazy read.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd

from skcal._params import Interval, check_params
from skcal.io._mapping import JetMapping
from skcal.io._matching import DeltaRMatch, IndexMatch
from skcal.io._plan import Cuts, Planner, entry_ranges, resolve_mapping
from skcal.io._process import Columns, ReadSummary, process, read_file
from skcal.io._source import Source, num_entries, open_tree, resolve_sources
from skcal.io._step import check_step_size
from skcal.io._task import Chunk, lazy_table

__all__ = ["ReadSummary", "read_jets"]

logger = logging.getLogger("skcal.io")

_DEFAULT_STEP = "100 MB"


def read_jets(
    source: Source,
    *,
    preset: str | JetMapping | None = None,
    mapping: JetMapping | Mapping[str, Any] | None = None,
    tree: str | None = None,
    columns: Sequence[str] | None = None,
    cuts: Cuts | None = None,
    match: IndexMatch | DeltaRMatch | None = None,
    step_size: int | str = _DEFAULT_STEP,
    dask: bool = False,
) -> Any:
    """Read ROOT files of simulated jets into the jet table (docs/design.md section 3).

    Flat trees (one row per matched jet, as ``write_root`` writes them) are read column
    for column; per-event files (CMS NanoAOD, ATLAS PHYSLITE, or any file described by a
    :class:`JetMapping`) are flattened to one row per reco jet, with event-level
    values broadcast to the jets and reco jets matched to truth jets. Unmatched jets are
    dropped and counted (:class:`ReadSummary`), never filled. TTrees and RNTuples are
    both read.

    Parameters
    ----------
    source : str, path, list or dict
        A file, a glob pattern, a directory (its ``*.root`` files), a list of those, or
        a dict of file (or pattern) -> tree name.
    preset : {"nanoaod", "physlite"} or JetMapping, optional
        A ready mapping for CMS NanoAOD or ATLAS DAOD_PHYSLITE files.
    mapping : JetMapping or dict, optional
        A user mapping; a plain dict maps columns to branches of a flat tree. Without
        a preset or a mapping, every numeric branch of a flat tree becomes a column of
        the same name.
    tree : str, optional
        The tree (or RNTuple) to read; by default the preset's, else the file's only
        tree, else ``"jets"``. A dict ``source`` names it per file.
    columns : list of str, optional
        The columns to return (only their branches are read); all by default, the
        standard columns first.
    cuts : dict, optional
        ``{column: (low, high)}``: keep rows with ``low <= value < high``; None for no
        limit. Cuts apply to matched jets, after matching and isolation.
    match : IndexMatch or DeltaRMatch, optional
        Overrides the mapping's matching, for example ``DeltaRMatch.atlas()`` for the
        ATLAS isolation requirements.
    step_size : int or str
        Entries per chunk, or a memory size such as ``"100 MB"`` (uncompressed size of
        the branches read). Bounds the memory of each step, and is the partition size
        with ``dask=True``.
    dask : bool
        Return a lazy Dask DataFrame with one partition per chunk of each file; nothing
        is read until it is computed. Works with any scheduler, ``dask.distributed``
        included.

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        The jet table. In memory, ``table.attrs["read_summary"]`` holds the counts of
        :class:`ReadSummary`.

    Raises
    ------
    ROOTFileError
        A missing, truncated or corrupt file, a missing tree or branch (with the
        closest names), files whose branches disagree, a preset on another kind of file.
    DataError
        An unknown column, a malformed cut or mapping.
    ParameterError
        A ``step_size`` that is neither a positive number of entries nor a size, a
        ``match`` that is neither an IndexMatch nor a DeltaRMatch.

    Examples
    --------
    >>> import numpy as np, tempfile, os, uproot
    >>> from skcal.io import read_jets
    >>> path = os.path.join(tempfile.mkdtemp(), "jets.root")
    >>> with uproot.recreate(path) as f:
    ...     t = f.mktree("jets", {"pt_reco": np.float64, "eta": np.float64, "m_reco": np.float64})
    ...     t.extend({"pt_reco": np.array([50.0, 80.0]), "eta": np.zeros(2), "m_reco": np.zeros(2)})
    >>> table = read_jets(path)
    >>> table[["e_reco", "pt_reco"]].to_numpy().tolist()
    [[50.0, 50.0], [80.0, 80.0]]
    >>> read_jets(path, dask=True, cuts={"pt_reco": (60, None)})["pt_reco"].sum().compute()
    np.float64(80.0)
    """
    pairs = resolve_sources(source)
    chosen, hint = resolve_mapping(preset, mapping)
    check_params(_CONSTRAINTS, {"step_size": step_size, "match": match}, "read_jets")
    step_size = check_step_size(step_size)  # before any file is opened
    planner = Planner(chosen, hint, tree, columns, cuts, match)
    parts: dict[str, list[np.ndarray]] = {}
    chunks: list[Chunk] = []
    summary = ReadSummary()
    for path, file_tree in pairs:
        with open_tree(path, file_tree or planner.default_tree, hint=hint) as (name, obj):
            plan = planner.check(path, name, obj)
            ranges = entry_ranges(obj, num_entries(obj, path), step_size, plan.branches, str(path))
            if dask:  # only plan: the chunks are read when the collection is computed
                # an empty dataset still needs one (empty) partition to carry its columns
                chunks += [(path, name, a, b) for a, b in ranges] or [(path, name, 0, 0)]
                continue
            summary += read_file(plan, obj, path, name, ranges, parts)
    schema = _schema(planner)
    if dask:
        assert planner.plan is not None
        return lazy_table(planner.plan, chunks, schema)
    return _in_memory(parts, schema, summary, len(pairs))


#: The parameters of read_jets that are checked by value (mappings and cuts are data).
_CONSTRAINTS: dict[str, list[Any]] = {
    "step_size": [Interval(Integral, 1, None, closed="left"), str],
    "match": [IndexMatch, DeltaRMatch, None],
}


def _schema(planner: Planner) -> Columns:
    """The output columns with no rows, typed as the first file's branches make them."""
    assert planner.plan is not None
    plan, empty = planner.plan, planner.empty
    if plan.layout == "flat":
        empty = {b: ak.to_numpy(empty[b]) for b in plan.branches}
    return process(plan, empty, 0, planner.reference[0])[0]


def _in_memory(
    parts: dict[str, list[np.ndarray]], schema: Columns, summary: ReadSummary, n_files: int
) -> pd.DataFrame:
    """The table from the chunks' columns, with the summary in ``attrs["read_summary"]``."""
    data = {
        c: (v[0] if len(v) == 1 else np.concatenate(v)) if v else schema[c]
        for c in schema
        for v in [parts.get(c, [])]
    }
    frame = pd.DataFrame(data, copy=False)
    frame.attrs["read_summary"] = dataclasses.asdict(summary)
    logger.info(
        "read %d jets from %d events in %d files "
        "(%d reco jets: %d unmatched, %d not isolated, %d cut)",
        summary.n_jets,
        summary.n_events,
        n_files,
        summary.n_reco,
        summary.n_unmatched,
        summary.n_not_isolated,
        summary.n_cut,
    )
    return frame
