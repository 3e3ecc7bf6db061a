"""Declarative parameter constraints, checked in one place with one exception.

An estimator lists the values each parameter may take in ``_parameter_constraints``
(scikit-learn's vocabulary: types, :class:`Interval`, :class:`StrOptions`, ``None``,
...), beside its ``__init__``; :meth:`ParamsMixin._validate_params` checks them once,
at the start of ``fit``, and raises :class:`~skcal.exceptions.ParameterError`, which
names the parameter, the allowed values and the value given. Functions use
:func:`check_params` with the same constraints; the configuration checks its values
through the estimators' constraints.

>>> from numbers import Real
>>> constraints = {"clip": [Interval(Real, 0, None, closed="neither"), None]}
>>> check_params(constraints, {"clip": -1.0}, "flat_prior_weights")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
skcal.exceptions.ParameterError: The 'clip' parameter of flat_prior_weights must be a float ...
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

from skcal.exceptions import ParameterError

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "Options",
    "ParamsMixin",
    "StrOptions",
    "StrictInterval",
    "init_keywords",
    "check_params",
]


def check_params(
    constraints: Mapping[str, list[Any]], params: Mapping[str, Any], caller: str
) -> None:
    """Check ``params`` against ``constraints``; ParameterError naming the first bad one.

    Parameters
    ----------
    constraints : mapping of str to list
        For each parameter, the constraints of scikit-learn's ``validate_params``
        (any one of them may hold); parameters without an entry are not checked.
    params : mapping of str to object
        The values given.
    caller : str
        The estimator or function, for the message.
    """
    try:
        validate_parameter_constraints(dict(constraints), dict(params), caller_name=caller)
    except InvalidParameterError as exc:
        raise ParameterError(str(exc)) from None


class StrictInterval(Interval):
    """An :class:`Interval` that booleans do not satisfy (``True`` is not a count of 1).

    >>> from numbers import Integral
    >>> StrictInterval(Integral, 1, None, closed="left").is_satisfied_by(True)
    False
    """

    def is_satisfied_by(self, val: Any) -> bool:
        return not isinstance(val, bool) and bool(super().is_satisfied_by(val))


class ParamsMixin:
    """``_validate_params`` with skcal's :class:`~skcal.exceptions.ParameterError`.

    Mixed in before scikit-learn's ``BaseEstimator`` (or skorch's ``NeuralNet``); the
    subclass declares ``_parameter_constraints`` and calls ``self._validate_params()``
    first in ``fit`` (and ``partial_fit``).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}

    def _validate_params(self) -> None:
        params = self.get_params(deep=False)  # type: ignore[attr-defined]
        check_params(self._parameter_constraints, params, type(self).__name__)


def init_keywords(cls: Any) -> set[str] | None:
    """The keyword arguments of a class's constructor; None where it takes any (``**kwargs``).

    Used to check names routed to a class (skorch's ``module__*``, ``optimizer__*``)
    before it is built.

    Examples
    --------
    >>> import torch
    >>> sorted(init_keywords(torch.nn.Linear))[:3]
    ['bias', 'device', 'dtype']
    """
    if not isinstance(cls, type):
        return None
    try:
        signature = inspect.signature(cls)  # the constructor, without self
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return {
        name
        for name, p in signature.parameters.items()
        if name != "self" and p.kind is not p.VAR_POSITIONAL
    }
