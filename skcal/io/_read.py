"""``read_jets``: ROOT files (TTree or RNTuple, flat or per event) to the jet table, in
memory or as a lazy Dask DataFrame with one partition per file chunk."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import awkward as ak
import numpy as np
import pandas as pd
from uproot.interpretation.identify import UnknownInterpretation
from uproot.interpretation.jagged import AsJagged

from skcal import columns as canonical
from skcal.exceptions import DataError, ROOTFileError
from skcal.io._mapping import Branch, Expr, JetMapping
from skcal.io._matching import DeltaRMatch, IndexMatch, MatchResult, delta_r_match, index_match
from skcal.io._presets import get_preset
from skcal.io._source import (
    Source,
    branch_names,
    closest,
    cluster_offsets,
    empty_arrays,
    num_entries,
    open_tree,
    read_arrays,
    resolve_sources,
)

__all__ = ["ReadSummary", "read_jets"]

logger = logging.getLogger("skcal.io")

Layout = Literal["flat", "jagged"]
Cuts = Mapping[str, tuple[float | None, float | None]]
Chunk = tuple[str, str, int, int]  # (file, tree, entry_start, entry_stop)

_DEFAULT_STEP = "100 MB"
_CANONICAL_ORDER = canonical.RECO + canonical.TRUTH + canonical.PILEUP + canonical.LABELS


@dataclass(frozen=True)
class ReadSummary:
    """What a read found: events, reco jets, and why jets were dropped.

    ``n_reco = n_jets + n_unmatched + n_not_isolated + n_cut``. An in-memory read stores
    it as a dict in ``table.attrs["read_summary"]``.

    Examples
    --------
    >>> from skcal.io import ReadSummary
    >>> s = ReadSummary(n_events=2, n_reco=5, n_unmatched=1, n_jets=4)
    >>> (s + s).n_jets
    8
    """

    n_events: int = 0
    n_reco: int = 0
    n_unmatched: int = 0
    n_not_isolated: int = 0
    n_cut: int = 0
    n_jets: int = 0

    def __add__(self, other: ReadSummary) -> ReadSummary:
        return ReadSummary(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in dataclasses.fields(self)
            }
        )


@dataclass(frozen=True)
class _Plan:
    """Everything a worker needs to turn a chunk of a file into jet-table rows."""

    sections: dict[str, dict[str, Expr]]
    match: IndexMatch | DeltaRMatch | None
    layout: Layout
    branches: tuple[str, ...]
    output: tuple[str, ...]
    cuts: tuple[tuple[str, float | None, float | None], ...]
    hint: str

    def section_branches(self, section: str) -> list[str]:
        names: set[str] = set()
        for expr in self.sections[section].values():
            names |= expr.branches()
        if section == "jets" and isinstance(self.match, IndexMatch):
            names |= self.match.index.branches()  # type: ignore[union-attr]
        return sorted(names)


# --------------------------------------------------------------------------- chunks


def _as_column(values: Any, n: int, column: str, path: str) -> np.ndarray:
    if np.isscalar(values):
        return np.full(n, values)
    if isinstance(values, ak.Array):
        try:
            values = ak.to_numpy(values)
        except Exception as exc:
            raise DataError(
                f"{path}: column {column!r} holds a list per row, not a number "
                f"(type {values.type}); select an element with At(...) or reduce it with InnerSum(...)"
            ) from exc
    values = np.asarray(values)
    if values.ndim != 1:
        raise DataError(
            f"{path}: column {column!r} holds {values.shape[1:]} values per row, not one number"
        )
    if len(values) != n:
        raise DataError(f"{path}: column {column!r} has {len(values)} values for {n} rows")
    return values


def _evaluate(
    section: dict[str, Expr], arrays: Mapping[str, Any], n: int, path: str
) -> dict[str, np.ndarray]:
    return {c: _as_column(e.evaluate(arrays), n, c, path) for c, e in section.items()}


def _flatten_section(
    plan: _Plan, arrays: Any, section: str, path: str
) -> tuple[dict[str, Any], np.ndarray | None]:
    """One entry per object of the section's collection, and the objects per event."""
    flat, counts, first = {}, None, None
    for name in plan.section_branches(section):
        values = arrays[name]
        n = ak.to_numpy(ak.num(values, axis=1)).astype(np.int64)
        if counts is None:
            counts, first = n, name
        elif not np.array_equal(counts, n):
            raise DataError(
                f"{path}: the branches {first!r} and {name!r} of the {section!r} section have different "
                f"numbers of entries per event; a section must read one collection"
            )
        flat[name] = ak.flatten(values, axis=1)
    return flat, counts


def _match(
    plan: _Plan,
    jets: dict[str, np.ndarray],
    truth: dict[str, np.ndarray],
    jets_ctx: Mapping[str, Any],
    reco_counts: np.ndarray,
    truth_counts: np.ndarray,
    path: str,
) -> MatchResult:
    if isinstance(plan.match, IndexMatch):
        n = int(reco_counts.sum())
        index = _as_column(plan.match.index.evaluate(jets_ctx), n, "the match index", path)  # type: ignore[union-attr]
        return index_match(index, reco_counts, truth_counts)
    assert isinstance(plan.match, DeltaRMatch)
    pts = (jets["pt_reco"], truth["pt_true"]) if plan.match.needs_pt else (None, None)
    return delta_r_match(
        jets["eta"],
        jets["phi"],
        reco_counts,
        truth["eta_true"],
        truth["phi_true"],
        truth_counts,
        plan.match,
        reco_pt=pts[0],
        truth_pt=pts[1],
    )


def _process(
    plan: _Plan, arrays: Any, n_entries: int, path: str
) -> tuple[dict[str, np.ndarray], ReadSummary]:
    """The jet-table columns of one chunk of raw branch arrays."""
    if plan.layout == "flat":
        table: dict[str, np.ndarray] = {}
        for section in plan.sections.values():
            table.update(_evaluate(section, arrays, n_entries, path))
        summary = ReadSummary(n_events=n_entries, n_reco=n_entries)
    else:
        event = _evaluate(plan.sections["event"], arrays, n_entries, path)
        jets_ctx, reco_counts = _flatten_section(plan, arrays, "jets", path)
        if reco_counts is None:  # only constant columns: the jets cannot be counted
            raise DataError(f"{path}: the mapping reads no branch of the reco jets")
        jets = _evaluate(plan.sections["jets"], jets_ctx, int(reco_counts.sum()), path)
        n_reco = int(reco_counts.sum())
        jet_event = np.repeat(np.arange(n_entries), reco_counts)
        if plan.match is None:
            rows, truth_rows, truth = np.arange(n_reco), None, {}
            unmatched = not_isolated = 0
        else:
            truth_ctx, truth_counts = _flatten_section(plan, arrays, "truth", path)
            if truth_counts is None:
                raise DataError(f"{path}: the mapping reads no branch of the truth jets")
            truth = _evaluate(plan.sections["truth"], truth_ctx, int(truth_counts.sum()), path)
            result = _match(plan, jets, truth, jets_ctx, reco_counts, truth_counts, path)
            rows, truth_rows = result.reco, result.truth
            unmatched, not_isolated = result.n_unmatched, result.n_not_isolated
        table = {c: v[rows] for c, v in jets.items()}
        table.update({c: v[truth_rows] for c, v in truth.items()})
        event_rows = jet_event[rows]
        table.update({c: v[event_rows] for c, v in event.items()})
        summary = ReadSummary(
            n_events=n_entries, n_reco=n_reco, n_unmatched=unmatched, n_not_isolated=not_isolated
        )

    n_rows = summary.n_reco - summary.n_unmatched - summary.n_not_isolated
    if plan.cuts:
        keep = np.ones(n_rows, dtype=bool)
        for column, lo, hi in plan.cuts:
            if lo is not None:
                keep &= table[column] >= lo
            if hi is not None:
                keep &= table[column] < hi
        if not keep.all():
            table = {c: v[keep] for c, v in table.items()}
        summary = dataclasses.replace(summary, n_cut=int(n_rows - keep.sum()))
        n_rows = int(keep.sum())
    return {c: table[c] for c in plan.output}, dataclasses.replace(summary, n_jets=n_rows)


def _read_ranges(plan: _Plan, obj: Any, path: str, tree: str, ranges: Sequence[tuple[int, int]]):
    """Yield (columns, summary) for each entry range of an open tree."""
    library = "np" if plan.layout == "flat" else "ak"
    for start, stop in ranges:
        arrays = read_arrays(obj, path, tree, plan.branches, start, stop, library)
        yield _process(plan, arrays, stop - start, path)


def _read_file(
    plan: _Plan,
    obj: Any,
    path: str,
    tree: str,
    ranges: Sequence[tuple[int, int]],
    parts: dict[str, list[np.ndarray]],
) -> ReadSummary:
    """Read the chunks of one open file and append its columns to ``parts``."""
    summary = ReadSummary()
    n_rows = sum(stop - start for start, stop in ranges)
    # Where every entry is a row (a flat tree without cuts), chunks are written into
    # arrays of the file's size: no second copy of the table when joining them.
    filled: dict[str, np.ndarray] = {}
    for table, part in _read_ranges(plan, obj, path, tree, ranges):
        summary += part
        if plan.layout == "flat" and not plan.cuts and len(ranges) > 1:
            if not filled:
                filled = {c: np.empty(n_rows, dtype=v.dtype) for c, v in table.items()}
            offset = summary.n_jets - part.n_jets
            for c, v in table.items():
                filled[c][offset : offset + len(v)] = v
        else:
            for c in plan.output:
                parts.setdefault(c, []).append(table[c])
    for c, v in filled.items():
        parts.setdefault(c, []).append(v)
    return summary


@dataclass(frozen=True)
class _ChunkTask:
    """The picklable function that makes one Dask partition from one chunk."""

    plan: _Plan

    def __call__(self, chunk: Chunk) -> pd.DataFrame:
        path, tree, start, stop = chunk
        with open_tree(path, tree, hint=self.plan.hint) as (name, obj):
            ((table, _),) = list(_read_ranges(self.plan, obj, path, name, [(start, stop)]))
        return pd.DataFrame(table, copy=False)


# --------------------------------------------------------------------------- planning


def _kind(typ: Any) -> str:
    """'number', 'list' (one var-length list per entry), or 'other'."""
    content = typ.content if isinstance(typ, ak.types.ArrayType) else typ
    if isinstance(content, ak.types.NumpyType):
        return "number"
    if isinstance(content, ak.types.ListType):
        return "list"
    return "other"


def _branch_types(obj: Any, path: str, tree: str, names: Sequence[str]) -> dict[str, Any]:
    return {name: array.type for name, array in empty_arrays(obj, path, tree, names).items()}


def _identity_mapping(obj: Any, path: str, tree: str) -> JetMapping:
    """A mapping of every numeric branch to a column of the same name (a flat file)."""
    # A branch that uproot cannot interpret (a custom class) is no column of a flat table.
    branch_names(obj, path)  # a damaged file fails here, with its name
    names = [
        n
        for n in obj.keys(recursive=False)
        if not isinstance(getattr(obj[n], "interpretation", None), UnknownInterpretation)
    ]
    # A TTree's jagged branches show without reading anything (NanoAOD has ~1500 branches).
    lists = [n for n in names if isinstance(getattr(obj[n], "interpretation", None), AsJagged)]
    types = {} if lists else _branch_types(obj, path, tree, names)
    lists += [n for n, t in types.items() if _kind(t) == "list"]
    if lists:
        raise ROOTFileError(
            f"{path}: tree {tree!r} holds per-event collections (for example {lists[0]!r} is a list per "
            f"entry); read it with preset='nanoaod' or 'physlite', or with a JetMapping"
        )
    numbers = [n for n, t in types.items() if _kind(t) == "number"]
    if not numbers:
        raise ROOTFileError(f"{path}: tree {tree!r} has no numeric branch to read as a column")
    return JetMapping(
        jets={n: Branch(n) for n in numbers},
        tree=tree,
        name="flat",
        description="a flat tree of jets",
    )


def _resolve_mapping(preset: Any, mapping: Any) -> tuple[JetMapping | None, str]:
    if preset is not None and mapping is not None:
        raise DataError(
            "pass either preset= or mapping=, not both; to extend a preset use "
            "NANOAOD.with_columns(jets={...})"
        )
    if preset is not None:
        chosen = get_preset(preset)
        return (
            chosen,
            f" (the preset {chosen.name!r} is for {chosen.description} files; is this one?)",
        )
    if mapping is None:
        return None, ""
    if isinstance(mapping, JetMapping):
        return mapping, ""
    if isinstance(mapping, Mapping):
        return JetMapping(jets=mapping), ""
    raise DataError(f"mapping must be a JetMapping or a dict of column -> branch, not {mapping!r}")


def _select(
    sections: dict[str, dict[str, Expr]],
    match: Any,
    columns: Sequence[str] | None,
    cuts: Cuts | None,
) -> tuple[dict[str, dict[str, Expr]], tuple[str, ...], tuple]:
    """Keep the sections' columns that are asked for, cut on, or matched on."""
    available = [c for s in sections.values() for c in s]
    if columns is None:
        output = [c for c in _CANONICAL_ORDER if c in available] + [
            c for c in available if c not in _CANONICAL_ORDER
        ]
    else:
        if isinstance(columns, str):
            columns = [columns]
        output = list(dict.fromkeys(columns))
    cut_list = []
    for column, bounds in (cuts or {}).items():
        try:
            lo, hi = bounds
        except (TypeError, ValueError):
            raise DataError(
                f"cuts[{column!r}] must be a (low, high) pair, None for no limit; got {bounds!r}"
            ) from None
        if lo is not None and hi is not None and not lo < hi:
            raise DataError(f"cuts[{column!r}] = {bounds!r} keeps nothing: low must be below high")
        cut_list.append((column, lo, hi))
    needed = set(output) | {c for c, _, _ in cut_list}
    if isinstance(match, DeltaRMatch):
        needed |= {"eta", "phi", "eta_true", "phi_true"}
        if match.needs_pt:
            needed |= {"pt_reco", "pt_true"}
    for column in sorted(needed):
        if column not in available:
            role = (
                "asked for"
                if column in output
                else "cut on"
                if column in dict(cuts or {})
                else "needed to match"
            )
            raise DataError(
                f"column {column!r} ({role}) is not provided by the mapping"
                f"{closest(column, available)}; it provides {available}"
            )
    chosen = {name: {c: e for c, e in sec.items() if c in needed} for name, sec in sections.items()}
    return chosen, tuple(output), tuple(cut_list)


def _entry_ranges(
    obj: Any, n_entries: int, step_size: int | str, branches: Sequence[str]
) -> list[tuple[int, int]]:
    """Chunks of whole baskets (clusters), at most ``step_size`` entries where they fit.

    A basket is decompressed whole, so a chunk boundary inside one costs a second
    decompression. With a number of entries, a basket larger than it is still split
    (the caller asked for that size); with a memory size it is kept whole, because
    reading part of it needs the whole basket in memory anyway.
    """
    if isinstance(step_size, str):
        try:
            step = int(obj.num_entries_for(step_size, list(branches)))
        except Exception:
            step = 100_000
    else:
        step = int(step_size)
    step = max(step, 1)
    ranges: list[tuple[int, int]] = []
    start = 0  # of the chunk being filled
    offsets = cluster_offsets(obj, branches, n_entries)
    for a, b in zip(offsets[:-1], offsets[1:]):
        if b - start <= step:
            continue  # the cluster fits in the current chunk
        if a > start:
            ranges.append((start, a))
            start = a
        if b - a > step:  # a cluster larger than a chunk
            stride = step if isinstance(step_size, int) else b - a
            ranges += [(x, min(x + stride, b)) for x in range(a, b, stride)]
            start = b
    if n_entries > start:
        ranges.append((start, n_entries))
    return ranges


class _Planner:
    """Checks each file of a dataset as it is opened; the first one fixes the plan."""

    def __init__(
        self,
        mapping: JetMapping | None,
        hint: str,
        tree: str | None,
        columns: Sequence[str] | None,
        cuts: Cuts | None,
        match: Any,
    ) -> None:
        if match is not None and not isinstance(match, (IndexMatch, DeltaRMatch)):
            raise DataError(f"match must be an IndexMatch or a DeltaRMatch, not {match!r}")
        self.mapping, self.hint, self.columns, self.cuts, self.match = (
            mapping,
            hint,
            columns,
            cuts,
            match,
        )
        self.default_tree = (
            tree if tree is not None else (mapping.tree if mapping is not None else None)
        )
        self.plan: _Plan | None = None
        self.reference: tuple[str, dict[str, Any]] = ("", {})
        self.empty: Any = None  # the first file's branches with no entries: the schema

    def _start(self, path: str, name: str, obj: Any) -> _Plan:
        mapping = self.mapping if self.mapping is not None else _identity_mapping(obj, path, name)
        if self.match is not None:
            mapping = dataclasses.replace(mapping, match=self.match)
        sections, output, cut_list = _select(
            mapping.sections(), mapping.match, self.columns, self.cuts
        )
        probe = _Plan(sections, mapping.match, "flat", (), output, cut_list, self.hint)
        branches = sorted({b for s in sections for b in probe.section_branches(s)})
        if not branches:
            raise DataError(
                f"the columns {list(output)} read no branch; ask for at least one stored column"
            )
        self._check_branches(path, name, obj, dataclasses.replace(probe, branches=tuple(branches)))
        layout = _layout(path, self.reference[1], sections, probe, mapping)
        return dataclasses.replace(probe, layout=layout, branches=tuple(branches))

    def _check_branches(self, path: str, name: str, obj: Any, plan: _Plan) -> None:
        available = branch_names(obj, path)
        missing = [b for b in plan.branches if b not in available]
        if missing:
            needed_by: dict[str, str] = {}
            for section in plan.sections.values():
                for column, expr in section.items():
                    for b in expr.branches():
                        needed_by.setdefault(b, column)
            details = "; ".join(
                f"no branch {b!r} (for column {needed_by.get(b, 'match')!r}){closest(b, available)}"
                for b in missing[:5]
            )
            other = f"; the first file {self.reference[0]} has them" if self.reference[0] else ""
            raise ROOTFileError(f"{path}: tree {name!r}: {details}{other}{self.hint}")
        empty = empty_arrays(obj, path, name, plan.branches)
        types = {b: empty[b].type.content for b in plan.branches}
        if not self.reference[0]:
            self.reference, self.empty = (path, types), empty
            return
        for b in plan.branches:
            if str(types[b]) != str(self.reference[1][b]):
                raise ROOTFileError(
                    f"{path}: branch {b!r} of tree {name!r} is '{types[b]}' but '{self.reference[1][b]}' "
                    f"in {self.reference[0]}; the files of a dataset must agree"
                )

    def check(self, path: str, name: str, obj: Any) -> _Plan:
        """Check one open file against the plan (made from it, for the first file)."""
        if self.plan is None:
            self.plan = self._start(path, name, obj)
        else:
            self._check_branches(path, name, obj, self.plan)
        return self.plan


def _layout(
    path: str,
    types: dict[str, Any],
    sections: dict[str, dict[str, Expr]],
    probe: _Plan,
    mapping: JetMapping,
) -> Layout:
    kinds = {b: _kind(types[b]) for b in probe.section_branches("jets")}
    if kinds and all(k == "list" for k in kinds.values()):
        for b in probe.section_branches("truth"):
            if _kind(types[b]) != "list":
                raise ROOTFileError(
                    f"{path}: branch {b!r} of the truth section is not a list per event "
                    f"(type {types[b]}); the truth jets must be a per-event collection"
                )
        return "jagged"
    lists = [b for b, k in kinds.items() if k == "list"]
    if lists:
        flat = [b for b, k in kinds.items() if k != "list"]
        raise ROOTFileError(
            f"{path}: the jets section mixes per-event lists ({lists[0]!r}) with one value per entry "
            f"({flat[0]!r}); move event-level branches to the 'event' section"
        )
    if mapping.match is not None or sections["truth"]:
        raise ROOTFileError(
            f"{path}: the jets branches hold one value per entry (a flat tree), but {mapping.name!r} "
            f"matches per-event collections{probe.hint}; read a flat tree without a match"
        )
    return "flat"


# --------------------------------------------------------------------------- public


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
    """Read ROOT files of simulated jets into the jet table (DESIGN.md section 3).

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
    chosen, hint = _resolve_mapping(preset, mapping)
    if (
        isinstance(step_size, bool)
        or not isinstance(step_size, (int, str))
        or (isinstance(step_size, int) and step_size < 1)
    ):
        raise DataError(
            f"step_size must be a positive number of entries or a size like '100 MB', not {step_size!r}"
        )
    planner = _Planner(chosen, hint, tree, columns, cuts, match)
    parts: dict[str, list[np.ndarray]] = {}
    chunks: list[Chunk] = []
    summary = ReadSummary()
    for path, file_tree in pairs:
        with open_tree(path, file_tree or planner.default_tree, hint=hint) as (name, obj):
            plan = planner.check(path, name, obj)
            ranges = _entry_ranges(obj, num_entries(obj, path), step_size, plan.branches)
            if dask:  # only plan: the chunks are read when the collection is computed
                # an empty dataset still needs one (empty) partition to carry its columns
                chunks += [(path, name, start, stop) for start, stop in ranges] or [
                    (path, name, 0, 0)
                ]
                continue
            summary += _read_file(plan, obj, path, name, ranges, parts)
    assert planner.plan is not None
    plan = planner.plan
    empty = planner.empty
    if plan.layout == "flat":
        empty = {b: ak.to_numpy(empty[b]) for b in plan.branches}
    schema = _process(plan, empty, 0, planner.reference[0])[0]

    if dask:
        import dask.dataframe as dd

        chunks = [c for c in chunks if c[3] > c[2]] or chunks[:1]
        meta = pd.DataFrame(schema, copy=False)
        return dd.from_map(
            _ChunkTask(plan), chunks, meta=meta, label="read-jets", enforce_metadata=False
        )

    data = {
        c: (v[0] if len(v) == 1 else np.concatenate(v)) if v else schema[c]
        for c in plan.output
        for v in [parts.get(c, [])]
    }
    frame = pd.DataFrame(data, copy=False)
    frame.attrs["read_summary"] = dataclasses.asdict(summary)
    logger.info(
        "read %d jets from %d events in %d files (%d reco jets: %d unmatched, %d not isolated, %d cut)",
        summary.n_jets,
        summary.n_events,
        len(pairs),
        summary.n_reco,
        summary.n_unmatched,
        summary.n_not_isolated,
        summary.n_cut,
    )
    return frame
