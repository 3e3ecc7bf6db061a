"""A calibrator that is perfect by construction: it predicts the generator's noise-free response."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


class Oracle(RegressorMixin, BaseEstimator):
    """Predicts ``scale * oracle_response`` (scale 1: perfect closure up to the smearing)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, X, y=None):
        self.feature_names_in_ = np.array(["oracle_response"], dtype=object)
        self.n_features_in_ = 1
        return self

    def predict(self, X):
        return self.scale * np.asarray(X["oracle_response"], dtype=np.float64)
