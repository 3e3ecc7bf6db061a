"""Functions of the mapping expressions: list elements and sums, counts, clipping, the
jet flavour and the energy from (pT, eta, m)."""

from __future__ import annotations

from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass

import awkward as ak
import numpy as np

from skcal.exceptions import DataError
from skcal.io._expr import ArrayLike, Expr, as_expr

__all__ = ["At", "Clip", "Count", "Energy", "Flavour", "InnerSum"]


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
    >>> vertex_type = {"vertexType": ak.Array([[1, 3, 0], [0]])}
    >>> Count("vertexType", exclude=(0,)).evaluate(vertex_type).tolist()
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
