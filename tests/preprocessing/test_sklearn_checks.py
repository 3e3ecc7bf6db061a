"""scikit-learn's common estimator checks, on every public transformer.

No check is expected to fail. scikit-learn itself skips its array-API checks unless
the environment sets SCIPY_ARRAY_API=1 (skcal's transformers take numpy, pandas and
Dask input, not other array libraries).
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

# The checks feed arrays without column names, so the eta column is chosen by position.
# LogTransformer is tagged positive_only: the checks then shift their data to start at
# 0, and offset=1 keeps it positive (zero has no log; that refusal is tested elsewhere).
ESTIMATORS = [
    EtaAnnotation(column=0),
    EtaAnnotation(column=1, symmetric=False),
    LogTransformer(offset=1.0),
    LogTransformer(columns=[1, 0], offset=0.5, prefix=""),
    SymmetricScaler(),
    SymmetricScaler(quantile_range=(0.0, 100.0), clip=True),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
