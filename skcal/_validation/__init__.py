"""Input checks shared by skcal's estimators and functions: one home for every check.

Every check raises :class:`~skcal.exceptions.DataError` naming the offending column,
argument or parameter and value, so that a user sees *which* column of a jet table is
wrong, not only that something is. Tables (2-D: ``validate_table``, ``check_finite``,
``check_positive_columns``, ``as_float_table``) and per-jet vectors (1-D:
``as_finite_vector``, ``as_response``, ``as_weights``) have distinct names.

>>> import numpy as np
>>> from skcal._validation import check_finite
>>> check_finite(np.array([[1.0, np.nan]]), ["e_reco", "eta"])
Traceback (most recent call last):
...
skcal.exceptions.DataError: X has non-finite values: column 'eta' has 1 NaN (first at row 0)
"""

from skcal._validation._dask import dask_kind, dask_meta, is_dask
from skcal._validation._names import (
    check_input_features,
    default_feature_names,
    resolve_columns,
    suggest_name,
)
from skcal._validation._outputs import check_calibrated
from skcal._validation._tables import (
    FLOAT_DTYPES,
    as_float_table,
    check_finite,
    check_positive_columns,
    dask_float_dtype,
    validate_table,
)
from skcal._validation._vectors import (
    ABS_PREFIX,
    as_finite_vector,
    as_response,
    as_table,
    as_weights,
    check_positive_vector,
    column,
    iter_row_chunks,
)

__all__ = [
    "ABS_PREFIX",
    "FLOAT_DTYPES",
    "as_finite_vector",
    "as_float_table",
    "as_response",
    "as_table",
    "as_weights",
    "check_calibrated",
    "check_finite",
    "check_input_features",
    "check_positive_columns",
    "check_positive_vector",
    "column",
    "dask_float_dtype",
    "dask_kind",
    "dask_meta",
    "default_feature_names",
    "is_dask",
    "iter_row_chunks",
    "resolve_columns",
    "suggest_name",
    "validate_table",
]
