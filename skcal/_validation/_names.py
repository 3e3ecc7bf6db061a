"""Column names: the fitted input names, ``get_feature_names_out``'s argument, and
resolving names or positions (with the closest known name in the message)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import numpy as np

from skcal.exceptions import DataError

__all__ = ["check_input_features", "default_feature_names", "resolve_columns", "suggest_name"]


def default_feature_names(estimator: Any) -> np.ndarray:
    """The fitted input names: ``feature_names_in_``, else ``x0, x1, ...``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> default_feature_names(SimpleNamespace(n_features_in_=2)).tolist()
    ['x0', 'x1']
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return np.asarray(names, dtype=object)
    return np.asarray([f"x{i}" for i in range(estimator.n_features_in_)], dtype=object)


def check_input_features(estimator: Any, input_features: Sequence[str] | None) -> np.ndarray:
    """Validate the ``input_features`` argument of ``get_feature_names_out``.

    Returns the input names to use: ``input_features`` if given (it must match
    ``feature_names_in_`` where the estimator was fitted on named columns), else the
    fitted names.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> est = SimpleNamespace(n_features_in_=2)
    >>> check_input_features(est, ["eta", "e_reco"]).tolist()
    ['eta', 'e_reco']
    >>> check_input_features(est, ["eta"])
    Traceback (most recent call last):
    ...
    ValueError: input_features should have length equal to number of features (2), got 1
    """
    fitted = default_feature_names(estimator)
    if input_features is None:
        return fitted
    names = np.asarray(input_features, dtype=object)
    if names.ndim != 1 or len(names) != estimator.n_features_in_:
        raise ValueError(
            "input_features should have length equal to number of features "
            f"({estimator.n_features_in_}), got {names.size}"
        )
    if getattr(estimator, "feature_names_in_", None) is not None and not np.array_equal(
        names, fitted
    ):
        raise ValueError(
            f"input_features is not equal to feature_names_in_: {names.tolist()} != "
            f"{fitted.tolist()}"
        )
    return names


def suggest_name(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def resolve_columns(
    spec: str | int | Sequence[str | int] | None,
    feature_names: Sequence[str] | None,
    n_features: int,
    *,
    param: str = "columns",
) -> list[int]:
    """Turn column names or positions into positions.

    Parameters
    ----------
    spec : str, int, sequence of str or int, or None
        The columns: names (looked up in ``feature_names``), positions, or ``None``
        for all of them.
    feature_names : sequence of str or None
        The names of the table's columns, or ``None`` for an unnamed array.
    n_features : int
        The number of columns.
    param : str, default="columns"
        The parameter being resolved, for the message.

    Returns
    -------
    positions : list of int
        One position per requested column, in the requested order, without repeats.

    Raises
    ------
    DataError
        For an unknown name (with the closest known name), a name given for an
        unnamed array, a position out of range, a repeated column or an empty list.

    Examples
    --------
    >>> resolve_columns(["e_reco", 0], ["eta", "e_reco"], 2)
    [1, 0]
    >>> resolve_columns("e_rec", ["eta", "e_reco"], 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.DataError: columns: unknown column 'e_rec' (did you mean 'e_reco'?); ...
    """
    if spec is None:
        return list(range(n_features))
    items = [spec] if isinstance(spec, (str, int, np.integer)) else list(spec)
    if not items:
        raise DataError(f"{param}: an empty list selects no column; pass None for all")
    names = None if feature_names is None else [str(n) for n in feature_names]
    positions: list[int] = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise DataError(f"{param}: expected a column name or position, got {item!r}")
        if isinstance(item, (int, np.integer)):
            position = int(item)
            if not -n_features <= position < n_features:
                raise DataError(
                    f"{param}: column position {position} is out of range: X has "
                    f"{n_features} feature(s)"
                )
            position %= n_features
        elif isinstance(item, str):
            if names is None:
                raise DataError(
                    f"{param}: column {item!r} is a name, but the input has no column "
                    "names (a numpy array); pass a DataFrame (in a Pipeline: "
                    "set_output(transform='pandas')), or the column's position"
                )
            if item not in names:
                raise DataError(
                    f"{param}: unknown column {item!r}{suggest_name(item, names)}; the "
                    f"columns are {names}"
                )
            position = names.index(item)
        else:
            raise DataError(f"{param}: expected a column name or position, got {item!r}")
        if position in positions:
            raise DataError(f"{param}: column {item!r} is selected twice")
        positions.append(position)
    return positions
