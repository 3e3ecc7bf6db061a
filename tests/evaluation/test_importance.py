"""Feature importance by the +-1% of sigma method."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.evaluation import feature_importance
from skcal.exceptions import DataError, ParameterError
from skcal.inversion import NumericalInversion


def test_shifts_stay_physical_for_the_softest_jets() -> None:
    """1% of the spread of e_reco exceeds the energy of soft jets: no shift may go negative."""
    jets = make_jets(150_000, random_state=4)
    features = ["e_reco", "pt_reco", "eta"]
    ni = make_pipeline(NumericalInversion()).fit(jets[features], jets.e_reco / jets.e_true)
    sample = jets.sample(2000, random_state=0)
    assert (sample.e_reco < 0.01 * sample.e_reco.std()).any()
    importance = feature_importance(ni, sample[features])
    assert np.isfinite(importance).all() and importance["e_reco"] > 0


@pytest.mark.parametrize("fraction", [0.0, -0.01, float("nan"), "0.01"])
def test_bad_fraction_is_a_parameter_error(fraction) -> None:
    jets = make_jets(200, random_state=0)
    model = DummyRegressor().fit(jets[["e_reco"]], jets.e_reco / jets.e_true)
    with pytest.raises(ParameterError, match="fraction"):
        feature_importance(model, jets[["e_reco"]], fraction=fraction)
    with pytest.raises(DataError, match="empty"):
        feature_importance(model, jets[["e_reco"]].iloc[:0])
