"""The DNN-HGM preset: the seed's settings on the existing MDN, and its step schedule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from torch.optim.lr_scheduler import MultiStepLR

from skcal.clusters import SEED_MILESTONES, make_dnn_hgm
from skcal.columns import CLUSTER_INPUTS
from skcal.datasets import make_clusters
from skcal.exceptions import ParameterError
from skcal.neural import MDNCalibrator
from skcal.preprocessing import LogTransformer, SymmetricScaler


def _schedule(pipe):
    return dict(pipe[-1].callbacks)["lr_schedule"]


def test_preset_has_the_seed_settings() -> None:
    pipe = make_dnn_hgm()
    log, scaler, mdn = pipe
    assert isinstance(log, LogTransformer) and isinstance(scaler, SymmetricScaler)
    assert isinstance(mdn, MDNCalibrator)
    assert (mdn.n_components, mdn.training_space, mdn.mode_space) == (3, "log10", "training")
    assert mdn.module__hidden_sizes == (64, 64, 64, 64)
    assert mdn.module__activation == "relu"
    assert (mdn.lr, mdn.batch_size, mdn.max_epochs) == (1e-4, 4096, 150)
    schedule = _schedule(pipe)
    assert schedule.policy is MultiStepLR
    assert schedule.kwargs == {"milestones": list(SEED_MILESTONES), "gamma": 0.1}
    assert set(log.columns) <= set(CLUSTER_INPUTS)


def test_milestones_scale_with_the_epochs() -> None:
    assert _schedule(make_dnn_hgm(max_epochs=30)).kwargs["milestones"] == [5, 20]
    assert _schedule(make_dnn_hgm(max_epochs=3, milestones=(1, 2))).kwargs["milestones"] == [1, 2]
    with pytest.raises(ParameterError):
        make_dnn_hgm(max_epochs=0)


def test_fit_steps_the_learning_rate_and_predicts_with_uncertainty() -> None:
    clusters = make_clusters(3000, random_state=5)
    X, y = clusters[list(CLUSTER_INPUTS)], clusters["e_em"] / clusters["e_dep"]
    pipe = make_dnn_hgm(max_epochs=3, milestones=(1, 2), batch_size=512, lr=1e-3, random_state=0)
    pipe.fit(X, y)
    mdn = pipe[-1]
    assert mdn.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-5)
    mode = pipe.predict(X[:50])
    assert mode.shape == (50,) and (mode > 0).all()
    u = mdn.predict_uncertainty(pipe[:-1].transform(X[:50]))
    assert isinstance(u, pd.DataFrame) and (u["sigma_stat"] == 0).all()
    assert (u["sigma_tot"] > 0).all() and np.isfinite(u.to_numpy()).all()
    # the mode in log10 R, mapped back, lies above the mode of the density of R
    mdn.set_params(mode_space="response")
    assert (pipe.predict(X[:50]) <= mode + 1e-9).all()


def test_bayesian_preset_is_the_bnn_with_the_same_settings() -> None:
    from skcal.neural import BayesianMDNCalibrator

    pipe = make_dnn_hgm(
        bayesian=True, max_epochs=2, milestones=(1,), batch_size=256, lr=1e-3, n_samples=4
    )
    bnn = pipe[-1]
    assert isinstance(bnn, BayesianMDNCalibrator)
    assert (bnn.n_components, bnn.training_space, bnn.mode_space) == (3, "log10", "training")
    assert bnn.module__hidden_sizes == (64, 64, 64, 64)
    assert _schedule(pipe).kwargs["milestones"] == [1]
    clusters = make_clusters(1500, random_state=6)
    X, y = clusters[list(CLUSTER_INPUTS)], clusters["e_em"] / clusters["e_dep"]
    pipe.fit(X, y)
    u = bnn.predict_uncertainty(pipe[:-1].transform(X[:20]))
    assert (u["sigma_stat"] > 0).all() and (u["sigma_tot"] >= u["sigma_syst"]).all()
    with pytest.raises(ParameterError):
        make_dnn_hgm(bayesian="yes")
