"""The expression language of mappings: branches, constants and arithmetic on them.

Expressions are trees of frozen dataclasses built with ordinary operators
(``Branch("Jet_pt") * 0.001``), never strings handed to ``eval``; each knows the
branches it reads and evaluates elementwise on numpy or awkward arrays. The functions
on lists and the physics helpers (:class:`At`, :class:`Energy`, ...) are in
:mod:`skcal.io._functions`.
"""

from __future__ import annotations

from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from skcal.exceptions import DataError

__all__ = ["ArrayLike", "BinOp", "Branch", "Const", "Expr", "as_expr"]

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
