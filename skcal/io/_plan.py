"""Planning a read: the mapping, the columns and cuts, the file layout and the chunks.

The first file of a dataset fixes the plan (:class:`Plan`): which branches to read,
which columns come out, flat or per-event layout; every later file is checked against
it as it is opened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import awkward as ak
from uproot.interpretation.identify import UnknownInterpretation
from uproot.interpretation.jagged import AsJagged

from skcal import columns as canonical
from skcal.exceptions import DataError, ROOTFileError
from skcal.io._expr import Branch, Expr
from skcal.io._mapping import JetMapping
from skcal.io._matching import DeltaRMatch, IndexMatch
from skcal.io._presets import get_preset
from skcal.io._source import branch_names, closest, cluster_offsets, corrupt, empty_arrays
from skcal.io._step import check_step_size

__all__ = ["Cuts", "Layout", "Plan", "Planner", "entry_ranges", "resolve_mapping"]

Layout = Literal["flat", "jagged"]
Cuts = Mapping[str, tuple[float | None, float | None]]
#: One cut of a plan: (column, low or None, high or None).
Cut = tuple[str, float | None, float | None]

_CANONICAL_ORDER = canonical.RECO + canonical.TRUTH + canonical.PILEUP + canonical.LABELS


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to turn a chunk of a file into jet-table rows."""

    sections: dict[str, dict[str, Expr]]
    match: IndexMatch | DeltaRMatch | None
    layout: Layout
    branches: tuple[str, ...]
    output: tuple[str, ...]
    cuts: tuple[Cut, ...]
    hint: str

    def section_branches(self, section: str) -> list[str]:
        names: set[str] = set()
        for expr in self.sections[section].values():
            names |= expr.branches()
        if section == "jets" and isinstance(self.match, IndexMatch):
            names |= self.match.index.branches()  # type: ignore[union-attr]
        return sorted(names)


# --------------------------------------------------------------------------- chunks


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
            f"{path}: tree {tree!r} holds per-event collections (for example {lists[0]!r} "
            "is a list per entry); read it with preset='nanoaod' or 'physlite', "
            "or with a JetMapping"
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


def resolve_mapping(preset: Any, mapping: Any) -> tuple[JetMapping | None, str]:
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
) -> tuple[dict[str, dict[str, Expr]], tuple[str, ...], tuple[Cut, ...]]:
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
    cut_list: list[Cut] = []
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


def entry_ranges(
    obj: Any, n_entries: int, step_size: int | str, branches: Sequence[str], path: str = ""
) -> list[tuple[int, int]]:
    """Chunks of whole baskets (clusters), at most ``step_size`` entries where they fit.

    A basket is decompressed whole, so a chunk boundary inside one costs a second
    decompression. With a number of entries, a basket larger than it is still split
    (the caller asked for that size); with a memory size it is kept whole, because
    reading part of it needs the whole basket in memory anyway.
    """
    step_size = check_step_size(step_size)
    if isinstance(step_size, str):  # checked: uproot can read it, nothing falls back
        try:
            step = int(obj.num_entries_for(step_size, list(branches)))
        except Exception as exc:  # the size is valid: the file's metadata is not
            raise corrupt(path, exc, "size its chunks") from exc
    else:
        step = step_size
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


class Planner:
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
        self.plan: Plan | None = None
        self.reference: tuple[str, dict[str, Any]] = ("", {})
        self.empty: Any = None  # the first file's branches with no entries: the schema

    def _start(self, path: str, name: str, obj: Any) -> Plan:
        mapping = self.mapping if self.mapping is not None else _identity_mapping(obj, path, name)
        if self.match is not None:
            mapping = dataclasses.replace(mapping, match=self.match)
        sections, output, cut_list = _select(
            mapping.sections(), mapping.match, self.columns, self.cuts
        )
        probe = Plan(sections, mapping.match, "flat", (), output, cut_list, self.hint)
        branches = sorted({b for s in sections for b in probe.section_branches(s)})
        if not branches:
            raise DataError(
                f"the columns {list(output)} read no branch; ask for at least one stored column"
            )
        self._check_branches(path, name, obj, dataclasses.replace(probe, branches=tuple(branches)))
        layout = _layout(path, self.reference[1], sections, probe, mapping)
        return dataclasses.replace(probe, layout=layout, branches=tuple(branches))

    def _check_branches(self, path: str, name: str, obj: Any, plan: Plan) -> None:
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
                    f"{path}: branch {b!r} of tree {name!r} is '{types[b]}' but "
                    f"'{self.reference[1][b]}' in {self.reference[0]}; "
                    "the files of a dataset must agree"
                )

    def check(self, path: str, name: str, obj: Any) -> Plan:
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
    probe: Plan,
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
            f"{path}: the jets section mixes per-event lists ({lists[0]!r}) with one value "
            f"per entry ({flat[0]!r}); move event-level branches to the 'event' section"
        )
    if mapping.match is not None or sections["truth"]:
        raise ROOTFileError(
            f"{path}: the jets branches hold one value per entry (a flat tree), but "
            f"{mapping.name!r} matches per-event collections{probe.hint}; "
            "read a flat tree without a match"
        )
    return "flat"


# --------------------------------------------------------------------------- public
