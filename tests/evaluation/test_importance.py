"""Feature importance by the +-1% of sigma method."""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.evaluation import feature_importance
from skcal.inversion import NumericalInversion


def test_shifts_stay_physical_for_the_softest_jets() -> None:
    """1% of the spread of e_reco exceeds the energy of soft jets: the shift must not go negative."""
    jets = make_jets(150_000, random_state=4)
    features = ["e_reco", "pt_reco", "eta"]
    ni = make_pipeline(NumericalInversion()).fit(jets[features], jets.e_reco / jets.e_true)
    sample = jets.sample(2000, random_state=0)
    assert (sample.e_reco < 0.01 * sample.e_reco.std()).any()
    importance = feature_importance(ni, sample[features])
    assert np.isfinite(importance).all() and importance["e_reco"] > 0
