"""The mapping schema: which branch or expression of a file becomes which jet-table column.

A :class:`JetMapping` is an explicit dict of column -> branch name or expression (see
:mod:`skcal.io._expr`) per section: the reco jets, the truth jets and the event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from skcal.exceptions import DataError
from skcal.io._expr import Const, Expr, as_expr
from skcal.io._functions import Energy

if TYPE_CHECKING:
    from skcal.io._matching import DeltaRMatch, IndexMatch

__all__ = ["DERIVED_ENERGY", "JetMapping", "MappingInput", "Section"]

Section = dict[str, Expr]
MappingInput = AbcMapping[str, str | Expr | float]
_SECTIONS = ("jets", "truth", "event")

#: Derived energies: column -> (pt, eta, m) columns of the same object.
DERIVED_ENERGY = {
    "e_reco": ("pt_reco", "eta", "m_reco"),
    "e_true": ("pt_true", "eta_true", "m_true"),
}


def _section(values: MappingInput | None, what: str) -> Section:
    if values is None:
        return {}
    if not isinstance(values, AbcMapping):
        raise DataError(
            f"JetMapping.{what} must be a dict of column -> branch or expression, not {values!r}"
        )
    out = {}
    for column, value in values.items():
        if not isinstance(column, str) or not column:
            raise DataError(
                f"JetMapping.{what}: column names must be non-empty strings, not {column!r}"
            )
        out[column] = as_expr(value)
    return out


@dataclass(frozen=True)
class JetMapping:
    """An explicit map from a file's branches to the columns of the jet table.

    Parameters
    ----------
    jets : dict
        Column -> branch name or :class:`Expr`, for values stored per reconstructed
        jet. In a flat tree (one row per matched jet) every column goes here.
    truth : dict, optional
        Column -> branch or expression for the truth-jet collection of a per-event
        file; the reco jets are matched to it by ``match``.
    event : dict, optional
        Column -> branch or expression with one value per event (mu, NPV, rho, weight),
        broadcast to the event's jets.
    match : IndexMatch or DeltaRMatch, optional
        How reco jets find their truth jet in a per-event file. Required with ``truth``.
    tree : str, optional
        The tree (or RNTuple) to read when the caller names none.
    name : str
        A label for messages (the presets use ``"nanoaod"`` and ``"physlite"``).
    description : str
        What kind of file the mapping is for, for messages.

    Notes
    -----
    Where ``e_reco`` (``e_true``) is not mapped but ``pt_reco``, ``eta``, ``m_reco``
    (``pt_true``, ``eta_true``, ``m_true``) are, the reader derives it with
    :class:`Energy`. Where ``weight`` is not mapped, the reader adds ``weight = 1.0``.

    Examples
    --------
    >>> from skcal.io import Branch, DeltaRMatch, JetMapping
    >>> mapping = JetMapping(
    ...     jets={"pt_reco": "jet_pt", "eta": "jet_eta", "phi": "jet_phi", "m_reco": "jet_m"},
    ...     truth={"pt_true": "tj_pt", "eta_true": "tj_eta", "phi_true": "tj_phi",
    ...            "m_true": "tj_m"},
    ...     event={"mu": Branch("mu")},
    ...     match=DeltaRMatch(max_dr=0.3),
    ...     tree="events",
    ... )
    >>> sorted(mapping.columns())[:4]
    ['e_reco', 'e_true', 'eta', 'eta_true']
    """

    # Given as branch names, expressions or constants; stored as expressions (__post_init__).
    jets: MappingInput = field(default_factory=dict)
    truth: MappingInput = field(default_factory=dict)
    event: MappingInput = field(default_factory=dict)
    match: IndexMatch | DeltaRMatch | None = None
    tree: str | None = None
    name: str = "custom"
    description: str = "a user mapping"

    def __post_init__(self) -> None:
        from skcal.io._matching import DeltaRMatch, IndexMatch

        sections = {s: _section(getattr(self, s), s) for s in _SECTIONS}
        for s, values in sections.items():
            object.__setattr__(self, s, values)
        seen: dict[str, str] = {}
        for s, values in sections.items():
            for column in values:
                if column in seen:
                    raise DataError(
                        f"JetMapping: column {column!r} is mapped in both "
                        f"{seen[column]!r} and {s!r}"
                    )
                seen[column] = s
        if not sections["jets"]:
            raise DataError(
                "JetMapping: the 'jets' section is empty; map at least one column of the reco jets"
            )
        if self.match is not None and not isinstance(self.match, (IndexMatch, DeltaRMatch)):
            raise DataError(
                f"JetMapping.match must be an IndexMatch or a DeltaRMatch, not {self.match!r}"
            )
        if sections["truth"] and self.match is None:
            raise DataError(
                "JetMapping: a 'truth' section needs a match (IndexMatch or DeltaRMatch)"
            )

    def sections(self) -> dict[str, Section]:
        """The three sections, ``{"jets": ..., "truth": ..., "event": ...}``, with derived
        energies and the default weight added."""
        sections = {s: dict(self._stored(s)) for s in _SECTIONS}
        for column, parts in DERIVED_ENERGY.items():
            if any(column in s for s in sections.values()):
                continue
            owner = [s for s in sections.values() if all(p in s for p in parts)]
            if owner:
                sec = owner[0]
                sec[column] = Energy(*(sec[p] for p in parts))
        if not any("weight" in s for s in sections.values()):
            sections["jets"]["weight"] = Const(1.0)
        return sections

    def _stored(self, section: str) -> Section:
        """A section as stored: every value an :class:`Expr` (``__post_init__`` converts)."""
        return cast(Section, getattr(self, section))

    def columns(self) -> list[str]:
        """Every column this mapping provides, derived ones included."""
        return [c for s in self.sections().values() for c in s]

    def with_columns(
        self,
        *,
        jets: MappingInput | None = None,
        truth: MappingInput | None = None,
        event: MappingInput | None = None,
    ) -> JetMapping:
        """A copy with more (or replaced) columns.

        Examples
        --------
        >>> from skcal.io import NANOAOD
        >>> "qgl" in NANOAOD.with_columns(jets={"qgl": "Jet_qgl"}).columns()
        True
        """
        updates: dict[str, Section] = {}
        for s, extra in (("jets", jets), ("truth", truth), ("event", event)):
            merged = dict(self._stored(s))
            merged.update(_section(extra, s))
            updates[s] = merged
        return dataclasses.replace(
            self, jets=updates["jets"], truth=updates["truth"], event=updates["event"]
        )

    def without(self, *columns: str) -> JetMapping:
        """A copy without the named columns.

        Examples
        --------
        >>> from skcal.io import NANOAOD
        >>> "flavour" in NANOAOD.without("flavour").columns()
        False
        """
        unknown = [c for c in columns if not any(c in self._stored(s) for s in _SECTIONS)]
        if unknown:
            raise DataError(
                f"JetMapping.without: {unknown} are not columns of the mapping {self.name!r}"
            )
        return dataclasses.replace(
            self,
            jets={c: e for c, e in self._stored("jets").items() if c not in columns},
            truth={c: e for c, e in self._stored("truth").items() if c not in columns},
            event={c: e for c, e in self._stored("event").items() if c not in columns},
        )
