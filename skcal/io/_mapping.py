"""How a file's branches become jet-table columns: small expressions and the mapping.

A mapping is an explicit dict of column -> branch name or expression; expressions are
trees of frozen dataclasses built with ordinary operators (``Branch("Jet_pt") * 0.001``),
never strings handed to ``eval``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import awkward as ak
import numpy as np

from skcal.exceptions import DataError

if TYPE_CHECKING:
    from skcal.io._matching import DeltaRMatch, IndexMatch

__all__ = [
    "At",
    "Branch",
    "BinOp",
    "Clip",
    "Const",
    "Count",
    "Energy",
    "Expr",
    "Flavour",
    "InnerSum",
    "JetMapping",
]

ArrayLike = Any  # a numpy array, an awkward array, or a scalar


class Expr:
    """Base class of mapping expressions: arithmetic on branches, evaluated per chunk.

    Expressions combine with ``+ - * /`` and numbers; each knows the branches it reads
    (:meth:`branches`) and computes its value from a dict of branch arrays
    (:meth:`evaluate`), elementwise on numpy or awkward arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io import Branch
    >>> raw_pt = Branch("Jet_pt") * (1 - Branch("Jet_rawFactor"))
    >>> sorted(raw_pt.branches())
    ['Jet_pt', 'Jet_rawFactor']
    >>> raw_pt.evaluate({"Jet_pt": np.array([50.0]), "Jet_rawFactor": np.array([0.1])})
    array([45.])
    """

    def branches(self) -> frozenset[str]:
        """The names of the branches this expression reads."""
        raise NotImplementedError

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        """The value of the expression, given the arrays of its branches."""
        raise NotImplementedError

    def _binop(self, op: str, other: Any, *, reflected: bool = False) -> BinOp:
        other_expr = as_expr(other)
        return BinOp(op, other_expr, self) if reflected else BinOp(op, self, other_expr)

    def __add__(self, other: Any) -> BinOp:
        return self._binop("+", other)

    def __radd__(self, other: Any) -> BinOp:
        return self._binop("+", other, reflected=True)

    def __sub__(self, other: Any) -> BinOp:
        return self._binop("-", other)

    def __rsub__(self, other: Any) -> BinOp:
        return self._binop("-", other, reflected=True)

    def __mul__(self, other: Any) -> BinOp:
        return self._binop("*", other)

    def __rmul__(self, other: Any) -> BinOp:
        return self._binop("*", other, reflected=True)

    def __truediv__(self, other: Any) -> BinOp:
        return self._binop("/", other)

    def __rtruediv__(self, other: Any) -> BinOp:
        return self._binop("/", other, reflected=True)

    def __neg__(self) -> BinOp:
        return BinOp("*", Const(-1.0), self)


def as_expr(value: Any) -> Expr:
    """A branch name, a number or an expression, as an expression."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, str):
        return Branch(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return Const(float(value))
    raise DataError(
        f"a mapping entry must be a branch name, a number or an expression, not {value!r} "
        f"({type(value).__name__})"
    )


@dataclass(frozen=True, eq=True)
class Branch(Expr):
    """The values of one branch (or RNTuple field), as stored.

    Parameters
    ----------
    name : str
        The branch name, exactly as in the file.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io import Branch
    >>> Branch("Jet_area").evaluate({"Jet_area": np.array([0.5, 0.49])})
    array([0.5 , 0.49])
    """

    name: str

    def branches(self) -> frozenset[str]:
        return frozenset({self.name})

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        return arrays[self.name]


@dataclass(frozen=True, eq=True)
class Const(Expr):
    """A constant, broadcast to every row (for example a weight of 1.0).

    Examples
    --------
    >>> from skcal.io import Const
    >>> Const(1.0).evaluate({})
    1.0
    """

    value: float

    def branches(self) -> frozenset[str]:
        return frozenset()

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        return self.value


_OPS = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
}


@dataclass(frozen=True, eq=True)
class BinOp(Expr):
    """``left op right`` elementwise, for ``op`` in ``+ - * /``; built by the operators.

    A division by zero gives ``inf`` or ``nan`` without a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io import Branch
    >>> (Branch("pt") * 0.001).evaluate({"pt": np.array([20000.0])})
    array([20.])
    """

    op: str
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise DataError(
                f"unknown operator {self.op!r} in a mapping expression; use one of {list(_OPS)}"
            )

    def branches(self) -> frozenset[str]:
        return self.left.branches() | self.right.branches()

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _OPS[self.op](self.left.evaluate(arrays), self.right.evaluate(arrays))


@dataclass(frozen=True, eq=True)
class At(Expr):
    """Element ``index`` of a list stored per jet (or per event).

    Parameters
    ----------
    expr : Expr or str
        A branch holding a list per object, for example ATLAS ``NumTrkPt1000``
        (one entry per primary vertex).
    index : int
        The position in the list (0: the first, which is the hard-scatter vertex in
        ATLAS ``PrimaryVertices``).
    default : float, optional
        The value where the list is too short. Without one, a short list is an error.

    Examples
    --------
    >>> import awkward as ak
    >>> from skcal.io import At
    >>> At("n_trk", 0, default=0.0).evaluate({"n_trk": ak.Array([[3, 1], []])}).tolist()
    [3.0, 0.0]
    """

    expr: Expr | str
    index: int = 0
    default: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", as_expr(self.expr))

    def branches(self) -> frozenset[str]:
        return self.expr.branches()  # type: ignore[union-attr]

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        values = ak.Array(self.expr.evaluate(arrays))  # type: ignore[union-attr]
        if self.default is None:
            short = int(ak.sum(ak.num(values, axis=-1) <= self.index))
            if short:
                raise DataError(
                    f"{self!r}: {short} lists are shorter than {self.index + 1} entries; "
                    f"give a default to use there"
                )
        padded = ak.pad_none(values, self.index + 1, axis=-1)[..., self.index]
        if self.default is not None:
            padded = ak.fill_none(padded, self.default)
        return padded


@dataclass(frozen=True, eq=True)
class InnerSum(Expr):
    """The sum of a list stored per object, or of its entries at ``indices``.

    Parameters
    ----------
    expr : Expr or str
        A branch holding a list per object (for example ATLAS ``EnergyPerSampling``).
    indices : tuple of int, optional
        The positions to add up; all of them by default.

    Examples
    --------
    >>> import awkward as ak
    >>> from skcal.io import InnerSum
    >>> e = {"eps": ak.Array([[1.0, 2.0, 3.0, 4.0]])}
    >>> InnerSum("eps").evaluate(e).tolist(), InnerSum("eps", (1, 3)).evaluate(e).tolist()
    ([10.0], [6.0])
    """

    expr: Expr | str
    indices: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", as_expr(self.expr))
        if self.indices is not None:
            object.__setattr__(self, "indices", tuple(int(i) for i in self.indices))

    def branches(self) -> frozenset[str]:
        return self.expr.branches()  # type: ignore[union-attr]

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        values = self.expr.evaluate(arrays)  # type: ignore[union-attr]
        if self.indices is None:
            return ak.sum(values, axis=-1)
        total = None
        for i in self.indices:
            part = ak.fill_none(ak.pad_none(values, i + 1, axis=-1)[..., i], 0.0)
            total = part if total is None else total + part
        return total


@dataclass(frozen=True, eq=True)
class Count(Expr):
    """The number of entries of a list whose value is not in ``exclude``.

    Used for the number of primary vertices, for example ATLAS vertices that are not
    dummies (``vertexType != 0``).

    Examples
    --------
    >>> import awkward as ak
    >>> from skcal.io import Count
    >>> Count("vertexType", exclude=(0,)).evaluate({"vertexType": ak.Array([[1, 3, 0], [0]])}).tolist()
    [2, 0]
    """

    expr: Expr | str
    exclude: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", as_expr(self.expr))
        object.__setattr__(self, "exclude", tuple(self.exclude))

    def branches(self) -> frozenset[str]:
        return self.expr.branches()  # type: ignore[union-attr]

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        values = self.expr.evaluate(arrays)  # type: ignore[union-attr]
        keep = ak.ones_like(values, dtype=bool)
        for v in self.exclude:
            keep = keep & (values != v)
        return ak.sum(keep, axis=-1)


@dataclass(frozen=True, eq=True)
class Clip(Expr):
    """``expr`` limited to ``[lower, upper]``, for example a track width of -1 (no
    tracks) set to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io import Clip
    >>> Clip("w", lower=0.0).evaluate({"w": np.array([-1.0, 0.2])})
    array([0. , 0.2])
    """

    expr: Expr | str
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", as_expr(self.expr))

    def branches(self) -> frozenset[str]:
        return self.expr.branches()  # type: ignore[union-attr]

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        values = self.expr.evaluate(arrays)  # type: ignore[union-attr]
        if self.lower is not None:
            values = np.maximum(values, self.lower)
        if self.upper is not None:
            values = np.minimum(values, self.upper)
        return values


@dataclass(frozen=True, eq=True)
class Flavour(Expr):
    """The jet table's ``flavour`` from a hadron label and a parton label.

    ``hadron`` where it is 4 (charm) or 5 (bottom); otherwise the parton label where that
    is 1-3 (light quark) or 21 (gluon); otherwise 0 (unknown). This is the usual
    combination of CMS ``hadronFlavour``/``partonFlavour`` and of ATLAS
    ``HadronConeExclTruthLabelID``/``PartonTruthLabelID``.

    Parameters
    ----------
    hadron, parton : Expr or str
        The hadron-based and parton-based labels.
    signed : bool
        Whether the parton label is a signed PDG id, antiquarks negative (CMS
        ``partonFlavour``, 0 for none); otherwise negative values mean no label (ATLAS
        ``PartonTruthLabelID``, -1 for none).

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io import Flavour
    >>> arrays = {"h": np.array([5, 0, 0, 0]), "p": np.array([5, -2, 21, -1])}
    >>> Flavour("h", "p").evaluate(arrays)
    array([ 5,  2, 21,  1], dtype=int32)
    >>> Flavour("h", "p", signed=False).evaluate(arrays)
    array([ 5,  0, 21,  0], dtype=int32)
    """

    hadron: Expr | str
    parton: Expr | str
    signed: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "hadron", as_expr(self.hadron))
        object.__setattr__(self, "parton", as_expr(self.parton))

    def branches(self) -> frozenset[str]:
        return self.hadron.branches() | self.parton.branches()  # type: ignore[union-attr]

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        hadron = np.asarray(_to_numpy(self.hadron.evaluate(arrays)))  # type: ignore[union-attr]
        parton = np.asarray(_to_numpy(self.parton.evaluate(arrays)))  # type: ignore[union-attr]
        parton = np.abs(parton) if self.signed else np.where(parton < 0, 0, parton)
        light_or_gluon = np.isin(parton, (1, 2, 3, 21))
        out = np.where(np.isin(hadron, (4, 5)), hadron, np.where(light_or_gluon, parton, 0))
        return out.astype(np.int32)


@dataclass(frozen=True, eq=True)
class Energy(Expr):
    """The energy of a jet from its transverse momentum, pseudorapidity and mass:
    ``E = sqrt((pT cosh eta)^2 + m^2)``; how ``e_reco``/``e_true`` are derived when a
    file stores no energy.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io import Energy
    >>> Energy("pt", "eta", "m").evaluate({"pt": np.array([30.0]), "eta": np.array([0.0]),
    ...                                    "m": np.array([40.0])})
    array([50.])
    """

    pt: Expr | str
    eta: Expr | str
    m: Expr | str

    def __post_init__(self) -> None:
        for name in ("pt", "eta", "m"):
            object.__setattr__(self, name, as_expr(getattr(self, name)))

    def branches(self) -> frozenset[str]:
        return self.pt.branches() | self.eta.branches() | self.m.branches()  # type: ignore[union-attr]

    def evaluate(self, arrays: AbcMapping[str, ArrayLike]) -> ArrayLike:
        pt = self.pt.evaluate(arrays)  # type: ignore[union-attr]
        eta = self.eta.evaluate(arrays)  # type: ignore[union-attr]
        m = self.m.evaluate(arrays)  # type: ignore[union-attr]
        return np.sqrt((pt * np.cosh(eta)) ** 2 + m * m)


def _to_numpy(values: ArrayLike) -> ArrayLike:
    return ak.to_numpy(values) if isinstance(values, ak.Array) else values


Section = dict[str, Expr]
MappingInput = AbcMapping[str, str | Expr | float]

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
    ...     truth={"pt_true": "tj_pt", "eta_true": "tj_eta", "phi_true": "tj_phi", "m_true": "tj_m"},
    ...     event={"mu": Branch("mu")},
    ...     match=DeltaRMatch(max_dr=0.3),
    ...     tree="events",
    ... )
    >>> sorted(mapping.columns())[:4]
    ['e_reco', 'e_true', 'eta', 'eta_true']
    """

    jets: dict[str, Expr] = field(default_factory=dict)
    truth: dict[str, Expr] = field(default_factory=dict)
    event: dict[str, Expr] = field(default_factory=dict)
    match: IndexMatch | DeltaRMatch | None = None
    tree: str | None = None
    name: str = "custom"
    description: str = "a user mapping"

    def __post_init__(self) -> None:
        from skcal.io._matching import DeltaRMatch, IndexMatch

        sections = {s: _section(getattr(self, s), s) for s in ("jets", "truth", "event")}
        for s, values in sections.items():
            object.__setattr__(self, s, values)
        seen: dict[str, str] = {}
        for s, values in sections.items():
            for column in values:
                if column in seen:
                    raise DataError(
                        f"JetMapping: column {column!r} is mapped in both {seen[column]!r} and {s!r}"
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
        sections = {"jets": dict(self.jets), "truth": dict(self.truth), "event": dict(self.event)}
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
        updates = {}
        for s, extra in (("jets", jets), ("truth", truth), ("event", event)):
            merged = dict(getattr(self, s))
            merged.update(_section(extra, s))
            updates[s] = merged
        return dataclasses.replace(self, **updates)

    def without(self, *columns: str) -> JetMapping:
        """A copy without the named columns.

        Examples
        --------
        >>> from skcal.io import NANOAOD
        >>> "flavour" in NANOAOD.without("flavour").columns()
        False
        """
        unknown = [
            c for c in columns if c not in self.jets and c not in self.truth and c not in self.event
        ]
        if unknown:
            raise DataError(
                f"JetMapping.without: {unknown} are not columns of the mapping {self.name!r}"
            )
        return dataclasses.replace(
            self,
            jets={c: e for c, e in self.jets.items() if c not in columns},
            truth={c: e for c, e in self.truth.items() if c not in columns},
            event={c: e for c, e in self.event.items() if c not in columns},
        )
