"""Chunk processing: raw branch arrays of one chunk of a file to jet-table rows.

Per-event collections are flattened to one row per reco jet, event values broadcast to
the jets, reco jets matched to truth jets, and the cuts applied; :class:`ReadSummary`
counts what was dropped and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from skcal.exceptions import DataError
from skcal.io._expr import Expr
from skcal.io._matching import DeltaRMatch, IndexMatch, MatchResult, delta_r_match, index_match
from skcal.io._plan import Plan
from skcal.io._source import read_arrays

__all__ = ["ReadSummary", "process", "read_file", "read_ranges"]

Columns = dict[str, np.ndarray]


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


def _as_column(values: Any, n: int, column: str, path: str) -> np.ndarray:
    if np.isscalar(values):
        return np.full(n, values)
    if isinstance(values, ak.Array):
        try:
            values = ak.to_numpy(values)
        except Exception as exc:
            raise DataError(
                f"{path}: column {column!r} holds a list per row, not a number "
                f"(type {values.type}); select an element with At(...) "
                "or reduce it with InnerSum(...)"
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
    plan: Plan, arrays: Any, section: str, path: str
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
                f"{path}: the branches {first!r} and {name!r} of the {section!r} section have "
                f"different numbers of entries per event; a section must read one collection"
            )
        flat[name] = ak.flatten(values, axis=1)
    return flat, counts


def _match(
    plan: Plan,
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


def _flat_rows(plan: Plan, arrays: Any, n_entries: int, path: str) -> tuple[Columns, ReadSummary]:
    """A flat tree: every entry is a row."""
    table: Columns = {}
    for section in plan.sections.values():
        table.update(_evaluate(section, arrays, n_entries, path))
    return table, ReadSummary(n_events=n_entries, n_reco=n_entries)


def _jagged_rows(plan: Plan, arrays: Any, n_entries: int, path: str) -> tuple[Columns, ReadSummary]:
    """Per-event collections: one row per matched reco jet, event values broadcast."""
    event = _evaluate(plan.sections["event"], arrays, n_entries, path)
    jets_ctx, reco_counts = _flatten_section(plan, arrays, "jets", path)
    if reco_counts is None:  # only constant columns: the jets cannot be counted
        raise DataError(f"{path}: the mapping reads no branch of the reco jets")
    n_reco = int(reco_counts.sum())
    jets = _evaluate(plan.sections["jets"], jets_ctx, n_reco, path)
    jet_event = np.repeat(np.arange(n_entries), reco_counts)
    truth: Columns = {}
    rows, truth_rows, unmatched, not_isolated = np.arange(n_reco), None, 0, 0
    if plan.match is not None:
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
    return table, summary


def _apply_cuts(plan: Plan, table: Columns, summary: ReadSummary) -> tuple[Columns, ReadSummary]:
    """The rows inside the plan's cuts; ``n_cut`` and ``n_jets`` counted."""
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
    return table, dataclasses.replace(summary, n_jets=n_rows)


def process(plan: Plan, arrays: Any, n_entries: int, path: str) -> tuple[Columns, ReadSummary]:
    """The jet-table columns of one chunk of raw branch arrays, and what it found."""
    rows = _flat_rows if plan.layout == "flat" else _jagged_rows
    table, summary = _apply_cuts(plan, *rows(plan, arrays, n_entries, path))
    return {c: table[c] for c in plan.output}, summary


def read_ranges(
    plan: Plan, obj: Any, path: str, tree: str, ranges: Sequence[tuple[int, int]]
) -> Iterator[tuple[Columns, ReadSummary]]:
    """Yield (columns, summary) for each entry range of an open tree."""
    library = "np" if plan.layout == "flat" else "ak"
    for start, stop in ranges:
        arrays = read_arrays(obj, path, tree, plan.branches, start, stop, library)
        yield process(plan, arrays, stop - start, path)


def read_file(
    plan: Plan,
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
    for table, part in read_ranges(plan, obj, path, tree, ranges):
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
