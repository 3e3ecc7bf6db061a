"""The exceptions that skcal raises.

All derive from :class:`SkcalError`, so ``except SkcalError`` catches everything that
skcal raises on purpose, while each also derives from the built-in (or scikit-learn)
exception that a user would catch without knowing skcal:

>>> from skcal.exceptions import DataError, NotFittedError
>>> issubclass(DataError, ValueError)
True
>>> import sklearn.exceptions
>>> issubclass(NotFittedError, sklearn.exceptions.NotFittedError)
True
"""

from __future__ import annotations

import sklearn.exceptions
from sklearn.utils._param_validation import InvalidParameterError

__all__ = [
    "CalibrationError",
    "ConfigError",
    "DataError",
    "ExportError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "NotFittedError",
    "ParameterError",
    "ROOTFileError",
    "SkcalError",
    "TrackingStoreError",
]


class SkcalError(Exception):
    """Base class of every exception that skcal raises on purpose."""


class DataError(SkcalError, ValueError):
    """Input data that cannot be used: a missing or unknown column, NaN or infinite
    values, non-positive energies, empty input, mismatched lengths.

    The message names the column, parameter or file and the offending value.
    """


class ExportError(SkcalError, ValueError):
    """A fitted model that cannot be exported (:mod:`skcal.export`): an unsupported
    step, or a setting the target format cannot express; the message names the step
    and the reason."""


class ParameterError(SkcalError, InvalidParameterError):
    """A parameter of an estimator or function with a value it cannot take.

    Raised by the declarative constraints that sit beside each ``__init__``
    (``_parameter_constraints``), checked once in ``fit``; also a ``ValueError`` and
    a ``TypeError``, and scikit-learn's ``InvalidParameterError``:

    >>> from skcal.exceptions import ParameterError
    >>> issubclass(ParameterError, ValueError) and issubclass(ParameterError, TypeError)
    True
    """


class ROOTFileError(DataError):
    """A ROOT file that cannot be read as asked: missing, truncated, without the tree
    or branch, or with branches that disagree with the other files of a dataset."""


class NotFittedError(SkcalError, sklearn.exceptions.NotFittedError):
    """An estimator used before ``fit``; also scikit-learn's ``NotFittedError``."""


class MissingDependencyError(SkcalError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class ModelNotFoundError(SkcalError, LookupError):
    """No model at the given URI or path (an unknown registered name, alias or run)."""


class TrackingStoreError(SkcalError, OSError):
    """An MLflow store that cannot be written (read-only, locked, unreachable)."""


class ConfigError(SkcalError, ValueError):
    """An invalid configuration: an unknown key, a wrong type, an unknown step or parameter."""


class CalibrationError(SkcalError, ValueError):
    """A calibration produced a response that is not one: NaN, infinite or non-positive.

    Raised by every calibrator's output guard instead of returning the value; the
    message names the count, the first offending row and its inputs.
    """
