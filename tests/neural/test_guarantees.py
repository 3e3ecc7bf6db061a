"""What every neural calibrator guarantees: positive, bounded, checked output; divergence,
tiny samples and empty partitions handled (issues "positive by construction" and "no
silent failure")."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.exceptions import CalibrationError, DataError
from skcal.io import read_jets, write_root
from skcal.neural import (
    BayesianMDNCalibrator,
    GDNCalibrator,
    MDNCalibrator,
    PointCalibrator,
    TrainingDivergedError,
)
from skcal.neural._jets import MIN_JETS
from skcal.preprocessing import EtaAnnotation, SymmetricScaler

FEATURES = ["e_reco", "pt_reco", "eta", "mu", "npv", "charged_frac", "n_trk", "width"]
SMALL = {"max_epochs": 2, "batch_size": 512, "module__hidden_sizes": (16,), "random_state": 0}
CALIBRATORS = {
    "gdn": lambda **kw: GDNCalibrator(**SMALL, **kw),
    "gdn-asym": lambda **kw: GDNCalibrator(asymmetric=True, **SMALL, **kw),
    "mdn": lambda **kw: MDNCalibrator(**SMALL, **kw),
    "mdn-asym": lambda **kw: MDNCalibrator(asymmetric=True, **SMALL, **kw),
    "point": lambda **kw: PointCalibrator(**SMALL, **kw),
    "bnn": lambda **kw: BayesianMDNCalibrator(n_samples=4, **SMALL, **kw),
}


@pytest.fixture(scope="module")
def jets():
    train = make_jets(4000, random_state=11)
    held_out = make_jets(60_000, random_state=12)  # includes the response's far tails
    return train, held_out, (train.e_reco / train.e_true).to_numpy()


def _pipeline(name: str, space: str):
    return make_pipeline(
        EtaAnnotation(), SymmetricScaler(), CALIBRATORS[name](training_space=space)
    ).set_output(transform="pandas")


@pytest.mark.parametrize("space", ["response", "log", "log10"])
@pytest.mark.parametrize("name", sorted(CALIBRATORS))
def test_positive_and_bounded_on_a_large_held_out_sample(jets, name, space):
    train, held_out, y = jets
    pipe = _pipeline(name, space).fit(train[FEATURES], y)
    r = pipe.predict(held_out[FEATURES])
    assert r.shape == (len(held_out),)
    assert np.isfinite(r).all() and (r > 0).all()
    low, high = pipe[-1].response_range_[:, 0]
    assert low == pytest.approx(y.min(), rel=1e-6) and high == pytest.approx(y.max(), rel=1e-6)
    assert (r >= low).all() and (r <= high).all()
    if name != "point":
        dist = pipe[-1].predict_dist(pipe[:-1].transform(held_out[FEATURES].head(2000)))
        assert (dist.quantile([0.001, 0.16, 0.84]) > 0).all()
        assert (dist.sample(20, random_state=0) > 0).all()
        assert (dist.mode() > 0).all()


def test_a_mixture_mode_lies_between_its_component_modes():
    from torch.distributions import Categorical, MixtureSameFamily, Normal

    from skcal.neural._prediction import DensityPrediction

    rng = np.random.default_rng(0)
    loc = torch.tensor(rng.uniform(0.05, 2.0, size=(500, 3)))
    scale = torch.tensor(rng.uniform(0.01, 1.5, size=(500, 3)))
    logits = torch.tensor(rng.normal(size=(500, 3)))

    def build(raw):
        return MixtureSameFamily(Categorical(logits=raw[:, 6:]), Normal(raw[:, :3], raw[:, 3:6]))

    mode = DensityPrediction(torch.cat([loc, scale, logits], 1), build).mode()
    assert (mode >= loc.min(1).values.numpy() - 1e-12).all()
    assert (mode <= loc.max(1).values.numpy() + 1e-12).all()
    assert (mode > 0).all()


def test_a_jet_far_in_a_feature_tail_is_bounded_and_a_non_physical_one_refused(jets):
    train, held_out, y = jets
    pipe = _pipeline("mdn", "response").fit(train[FEATURES], y)
    odd = held_out[FEATURES].head(3).copy()
    odd["charged_frac"] = [3.8, 0.5, 0.2]  # beyond anything in training
    r = pipe.predict(odd)
    low, high = pipe[-1].response_range_[:, 0]
    assert np.isfinite(r).all() and (r >= low).all() and (r <= high).all()
    for value in (1e30, 1e39):  # 1e39 is finite in float64, infinite in float32
        bad = odd.assign(eta=[0.1, value, 0.3])
        with pytest.raises(DataError, match=r"column 'eta' has 1 value.*row 1"):
            pipe.predict(bad)


@pytest.mark.parametrize("space", ["response", "log"])
@pytest.mark.parametrize("name", ["gdn", "mdn", "point", "bnn"])
def test_a_diverging_fit_is_an_error_naming_the_epoch_and_lr(jets, name, space):
    train, _, y = jets
    cal = CALIBRATORS[name](training_space=space)
    cal.set_params(lr=1e3, max_epochs=3)
    pipe = make_pipeline(SymmetricScaler(), cal)
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+ \(lr=1000\)"):
        pipe.fit(train[FEATURES], y)


def test_a_normal_fit_is_not_called_diverged(jets):
    train, _, y = jets
    pipe = make_pipeline(SymmetricScaler(), MDNCalibrator(**{**SMALL, "max_epochs": 6}))
    pipe.fit(train[FEATURES], y)
    assert pipe[-1].best_loss_ <= pipe[-1].history[0, "train_loss"]


@pytest.mark.parametrize("n", [1, MIN_JETS - 1])
@pytest.mark.parametrize("name", sorted(CALIBRATORS))
def test_too_few_jets_are_refused(jets, name, n):
    train, _, y = jets
    with pytest.raises(DataError, match=f"at least {MIN_JETS} jets.*got {n} sample"):
        CALIBRATORS[name]().fit(train[FEATURES].head(n), y[:n])


def test_the_output_guard_refuses_a_broken_network(jets):
    train, held_out, y = jets
    pipe = make_pipeline(SymmetricScaler(), GDNCalibrator(**SMALL)).set_output(transform="pandas")
    pipe.fit(train[FEATURES], y)
    with torch.no_grad():
        pipe[-1].module_.head.bias[0] = float("nan")
    with pytest.raises(CalibrationError, match=r"GDNCalibrator predicted 100 .* row 0.*e_reco="):
        pipe.predict(held_out[FEATURES].head(100))
    with pytest.raises(CalibrationError, match="non-finite network outputs"):
        pipe[-1].predict_dist(pipe[:-1].transform(held_out[FEATURES].head(10)))
    lazy = pipe.predict(dd.from_pandas(held_out[FEATURES].head(100), npartitions=2))
    with pytest.raises(CalibrationError, match="GDNCalibrator predicted 50 "):
        lazy.compute()


@pytest.mark.parametrize("name", ["mdn", "point"])
def test_empty_partitions_from_cuts_on_several_files(tmp_path, name):
    for i, (low, high) in enumerate([(20, 60), (60, 300), (300, 3000)]):  # pT-sliced files
        write_root(make_jets(3000, pt_range=(low, high), random_state=i), tmp_path / f"s{i}.root")
    jets = read_jets(
        str(tmp_path / "s*.root"),
        columns=[*FEATURES, "e_true", "pt_true"],
        cuts={"pt_true": (100, None)},
        dask=True,
        step_size=3000,
    )
    sizes = jets.map_partitions(len).compute().tolist()
    assert 0 in sizes and sum(sizes) > 0
    y = jets.e_reco / jets.e_true
    pipe = make_pipeline(SymmetricScaler(), CALIBRATORS[name]()).set_output(transform="pandas")
    pipe.fit(jets[FEATURES], y)
    r = pipe.predict(jets[FEATURES])
    assert isinstance(r, dd.Series)
    values = r.compute().to_numpy()
    assert len(values) == sum(sizes) and np.isfinite(values).all() and (values > 0).all()


def test_the_energy_mass_network_is_positive_and_bounded():
    from skcal.neural import EnergyMassCalibrator, Stage

    features = ["e_reco", "m_reco", "eta", "d2", "tau32", "eff_n_consts"]
    train = make_jets(3000, kind="large_r", random_state=21)
    held_out = make_jets(40_000, kind="large_r", random_state=22)
    y = np.column_stack([train.e_reco / train.e_true, train.m_reco / train.m_true])
    cal = EnergyMassCalibrator(
        schedule=[Stage(2, 256, 3e-3, optimizer="adam")],
        eta_column="eta",
        random_state=0,
        module__core_sizes=(16,),
        module__branch_sizes=(12,),
        module__residual_sizes=(8,),
    ).fit(train[features], y)
    r = cal.predict(held_out[features])
    low, high = cal.response_range_
    assert np.isfinite(r).all() and (r > 0).all()
    assert (r >= low).all() and (r <= high).all()
    dists = cal.predict_dist(held_out[features].head(2000))
    for dist in dists.values():
        assert (dist.sample(10, random_state=0) > 0).all()
        assert (dist.quantile([0.001, 0.5]) > 0).all()
