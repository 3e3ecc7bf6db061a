"""MultiFold on the Gaussian toy: it unfolds, is reproducible, and treats misses and fakes."""

from __future__ import annotations

import pickle

import dask.dataframe as dd
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFitted

from skcal.exceptions import DataError, NotFittedError, ParameterError
from skcal.unfolding import MultiFold, reweight
from tests.unfolding.conftest import fast_classifier


def _moments(values, weights):
    mean = np.average(values, weights=weights)
    return mean, np.sqrt(np.average((values - mean) ** 2, weights=weights))


@pytest.fixture(scope="module")
def fitted(toy):
    sim_reco, sim_truth, data_reco, _ = toy
    return MultiFold(fast_classifier(), n_iterations=3, random_state=0).fit(
        sim_reco, sim_truth, data_reco
    )


def test_unfolding_moves_the_simulation_to_the_data_truth(toy, fitted) -> None:
    sim_reco, sim_truth, data_reco, data_truth = toy
    w = fitted.unfolded_weights()
    assert w.shape == (len(sim_truth),) and np.isfinite(w).all() and (w > 0).all()
    assert fitted.weights_.shape == fitted.detector_weights_.shape == (3, len(sim_truth))
    assert np.array_equal(w, fitted.weights_[-1])
    mean, width = _moments(sim_truth["x"], w)
    true_mean, true_width = data_truth["x"].mean(), data_truth["x"].std()
    assert abs(mean - true_mean) < 0.05 and abs(width - true_width) < 0.06
    # the prior was 0.2 away in the mean and 0.2 in the width
    assert abs(sim_truth["x"].mean() - true_mean) > 0.15
    # the normalisation is the data's
    assert w.sum() == pytest.approx(len(data_reco), rel=0.02)
    assert list(fitted.feature_names_in_) == ["x"]
    assert list(fitted.truth_feature_names_in_) == ["x"]


def test_the_same_seed_gives_the_same_weights(toy, fitted) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    again = clone(fitted).fit(sim_reco, sim_truth, data_reco)
    np.testing.assert_array_equal(again.weights_, fitted.weights_)
    # a classifier that draws random numbers (a validation split) gets a seed per step
    seeded = MultiFold(fast_classifier().set_params(early_stopping=True, validation_fraction=0.2))
    first = clone(seeded).set_params(random_state=0).fit(sim_reco, sim_truth, data_reco)
    second = clone(seeded).set_params(random_state=1).fit(sim_reco, sim_truth, data_reco)
    assert not np.array_equal(first.weights_, second.weights_)


def test_dask_tables_give_the_same_weights(toy, fitted) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    lazy = clone(fitted).fit(
        dd.from_pandas(sim_reco, npartitions=3),
        dd.from_pandas(sim_truth, npartitions=3),
        dd.from_pandas(data_reco, npartitions=2),
    )
    np.testing.assert_array_equal(lazy.weights_, fitted.weights_)


def test_misses_get_the_efficiency_step_and_fakes_no_particle_weight(
    toy_with_misses_and_fakes,
) -> None:
    t = toy_with_misses_and_fakes
    mf = MultiFold(fast_classifier(), n_iterations=3, random_state=0).fit(
        t["sim_reco"], t["sim_truth"], t["data_reco"],
        reco_mask=t["reco_mask"], truth_mask=t["truth_mask"],
    )  # fmt: skip
    w = mf.unfolded_weights()
    fakes, misses = ~t["truth_mask"], ~t["reco_mask"]
    assert (w[fakes] == 0).all() and (w[~fakes] > 0).all()
    assert (mf.detector_weights_[:, misses] == 0).all()
    # the efficiency is corrected: the unfolded events are the data's particle level
    assert w.sum() == pytest.approx(len(t["data_truth"]), rel=0.04)
    mean, width = _moments(t["sim_truth"]["x"][~fakes], w[~fakes])
    assert abs(mean - t["data_truth"]["x"].mean()) < 0.06
    assert abs(width - t["data_truth"]["x"].std()) < 0.07


def test_weights_of_the_prior_are_kept(toy, fitted) -> None:
    sim_reco, sim_truth, data_reco, _ = toy
    prior = np.where(sim_truth["x"] > 0, 2.0, 1.0)
    mf = clone(fitted).fit(sim_reco, sim_truth, data_reco, sim_weights=prior)
    mean, width = _moments(sim_truth["x"], mf.unfolded_weights())
    assert abs(mean - toy[3]["x"].mean()) < 0.06


def test_not_fitted_and_parameters(toy) -> None:
    with pytest.raises(NotFittedError):
        MultiFold().unfolded_weights()
    assert issubclass(NotFittedError, SklearnNotFitted)
    sim_reco, sim_truth, data_reco, _ = toy
    with pytest.raises(ParameterError, match="n_iterations"):
        MultiFold(n_iterations=0).fit(sim_reco, sim_truth, data_reco)
    with pytest.raises(ParameterError, match="max_weight"):
        MultiFold(max_weight=1.0).fit(sim_reco, sim_truth, data_reco)
    assert MultiFold(n_iterations=2).get_params()["n_iterations"] == 2


def test_a_pickled_unfolding_keeps_its_weights_not_its_events(fitted) -> None:
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.unfolded_weights(), fitted.unfolded_weights())
    with pytest.raises(DataError, match="fit it again"):
        loaded.bootstrap(2)


def test_systematic_variations(toy, fitted) -> None:
    sim_reco, sim_truth, data_reco, data_truth = toy
    n = len(sim_truth)
    # the nominal simulation again: the same weights, bit for bit (the same seeds)
    same = fitted.systematic("nominal", sim_weights=np.ones(n))
    np.testing.assert_array_equal(same, fitted.unfolded_weights())
    # a prior reweighted to the data's truth: the unfolding hardly depends on it
    template = reweight(sim_truth, data_truth, classifier=fast_classifier(), random_state=0)
    prior = fitted.systematic("prior", sim_weights=template)
    assert abs(_moments(sim_truth["x"], prior)[0] - _moments(sim_truth["x"], same)[0]) < 0.03
    # the closure of the nominal simulation with itself: a small non-closure
    closure = fitted.systematic("closure", sim_weights=template, scheme="closure")
    assert closure.shape == (n,) and np.isfinite(closure).all()
    assert abs(closure.sum() / same.sum() - 1) < 0.02
    # a detector variation: a 10% wider smearing moves the unfolded width down
    wider = sim_reco + np.random.default_rng(0).normal(0, 0.23, (n, 1))
    varied = fitted.systematic("smearing", sim_reco=wider)
    assert _moments(sim_truth["x"], varied)[1] < _moments(sim_truth["x"], same)[1]
    assert set(fitted.systematic_weights_) == {"nominal", "prior", "closure", "smearing"}
    with pytest.raises(ParameterError, match="scheme"):
        fitted.systematic("x", scheme="other")
    with pytest.raises(DataError, match="rows"):
        fitted.systematic("x", sim_reco=wider.iloc[:10])
