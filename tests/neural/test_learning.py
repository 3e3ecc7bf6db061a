"""On synthetic jets the density calibrators recover the oracle response, with honest widths.

Stated tolerances (20k training jets, 10k held out, a small network, 25 epochs):
- ``median(R_pred / oracle_response) - 1`` within +-2%, its central 68% half-width below 4%;
- pulls ``(R_pred - r) / sigma_pred``: half-width of their central 68% within 0.9-1.1.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skcal import columns
from skcal.datasets import make_jets
from skcal.neural import GDNCalibrator, MDNCalibrator
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

FEATURES = ["e_reco", "pt_reco", "eta", "mu", "npv", "rho", *columns.SMALL_R_INPUTS]


@pytest.fixture(scope="module")
def jets():
    return make_jets(30_000, random_state=11)


def _pipe(est):
    return make_pipeline(
        LogTransformer(columns=["e_reco", "pt_reco"]), EtaAnnotation(), SymmetricScaler(), est
    ).set_output(transform="pandas")


@pytest.mark.slow
@pytest.mark.parametrize(
    "est",
    [
        GDNCalibrator(
            max_epochs=25, batch_size=512, lr=3e-3, random_state=0, module__hidden_sizes=(64, 64)
        ),
        MDNCalibrator(
            n_components=3,
            max_epochs=25,
            batch_size=512,
            lr=3e-3,
            random_state=0,
            module__hidden_sizes=(64, 64),
        ),
    ],
    ids=["gdn", "mdn"],
)
def test_recovers_oracle_with_calibrated_widths(jets, est):
    train, test = jets.iloc[:20_000], jets.iloc[20_000:]
    r_train = (train.e_reco / train.e_true).to_numpy()
    r_test = (test.e_reco / test.e_true).to_numpy()
    pipe = _pipe(clone(est)).fit(train[FEATURES], r_train)
    mode, std = pipe.predict(test[FEATURES], return_std=True)
    ratio = mode / test.oracle_response.to_numpy()
    q16, q50, q84 = np.quantile(ratio, [0.16, 0.5, 0.84])
    assert abs(q50 - 1) < 0.02, q50
    assert (q84 - q16) / 2 < 0.04, (q16, q84)
    p16, p84 = np.quantile((mode - r_test) / std, [0.16, 0.84])
    assert 0.9 < (p84 - p16) / 2 < 1.1, (p16, p84)
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(again.predict(test[FEATURES].iloc[:200]), mode[:200])
