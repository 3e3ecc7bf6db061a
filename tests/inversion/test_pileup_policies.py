"""PileupOffset on samples it cannot fit: few jets, no spread in NPV or mu (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from skcal.datasets import make_jets
from skcal.exceptions import DataError, ParameterError
from skcal.inversion import PileupOffset

RECO = ["e_reco", "pt_reco", "eta", "mu", "npv", "rho", "area"]


def _fit(jets, **params):
    return PileupOffset(**params).fit(jets[RECO], jets.e_reco / jets.e_true)


@pytest.fixture(scope="module")
def jets():
    return make_jets(60_000, mu_range=(0.0, 200.0), random_state=3)


def test_fifty_jets_are_refused_naming_each_bin_and_its_count():
    few = make_jets(50, random_state=0)
    counts = np.histogram(few.eta.abs(), bins=np.linspace(0, 4.5, 10))[0]
    with pytest.raises(DataError, match="no |eta| bin can be fitted") as info:
        _fit(few)
    message = str(info.value)
    for low, count in zip(np.linspace(0, 4, 9), counts, strict=True):
        assert f"|eta| [{low:g}, {low + 0.5:g}): {count} jets (fewer than min_jets=500)" in message
    # The documented fallback: alpha = beta = 0, only rho * A subtracted; factors <= 1.
    zero = _fit(few, unfitted="zero")
    assert list(zero.eta_status_) == ["zero"] * 9
    assert np.all(zero.alpha_ == 0) and np.all(zero.beta_ == 0)
    scale = zero.transform(few[RECO])["calib_scale"]
    np.testing.assert_allclose(scale, 1 - few.rho * few.area / few.pt_reco)
    assert scale.between(0.1, 1.0).all()


def test_constant_mu_and_npv_are_refused_naming_the_missing_spread(jets):
    flat = jets.assign(mu=40.0, npv=27)
    with pytest.raises(DataError, match="without spread in NPV and mu at fixed true pT"):
        _fit(flat)
    with pytest.raises(DataError, match="without spread in mu"):
        _fit(jets.assign(mu=40.0))
    # Without the constant column the other slope is fitted.
    alone = _fit(jets.assign(mu=40.0), mu=None)
    assert (alone.eta_status_ == "fitted").all() and np.all(alone.beta_ == 0)
    zero = _fit(flat, unfitted="zero")
    assert (zero.eta_status_ == "zero").all() and np.all(zero.alpha_ == 0)
    assert all("without spread in NPV and mu" in reason for reason in zero.eta_reason_)
    scale = zero.transform(flat[RECO])["calib_scale"]
    assert scale.between(0.1, 1.0).all()


def test_the_checks_do_not_depend_on_units_or_sample_size(jets):
    base = _fit(jets)
    # NPV and mu in other units: the same status, slopes scaled inversely.
    scaled = _fit(jets.assign(npv=1 + 1e-6 * (jets.npv - 1), mu=1e6 * jets.mu))
    assert list(scaled.eta_status_) == list(base.eta_status_) == ["fitted"] * 9
    np.testing.assert_allclose(scaled.alpha_ * 1e-6, base.alpha_, rtol=1e-6)
    np.testing.assert_allclose(scaled.beta_ * 1e6, base.beta_, rtol=1e-6)
    # Weights in other units: the same fit.
    weighted = PileupOffset().fit(jets[RECO], jets.e_reco / jets.e_true, np.full(len(jets), 1e-9))
    np.testing.assert_allclose(weighted.alpha_, base.alpha_, rtol=1e-9)
    # NPV and mu proportional: alpha and beta cannot be told apart.
    with pytest.raises(DataError, match=r"\[0, 0.5\): \d+ jets whose NPV and mu are proportional"):
        _fit(jets.assign(npv=1 + 0.65 * jets.mu))


def test_bins_without_enough_jets_borrow_or_raise(jets):
    central = jets[jets.eta.abs() < 2.0]
    offset = _fit(central, abs_eta_bins=[0, 1, 2, 3])
    assert list(offset.eta_status_) == ["fitted", "fitted", "borrowed"]
    assert offset.alpha_[2] == offset.alpha_[1] and offset.n_jets_[2] == 0
    assert offset.eta_reason_[2] == "0 jets (fewer than min_jets=500)"
    with pytest.raises(DataError, match=r"\|eta\| \[2, 3\): 0 jets"):
        _fit(central, abs_eta_bins=[0, 1, 2, 3], unfitted="raise")
    with pytest.raises(ParameterError, match="unfitted"):
        _fit(central, unfitted="nearest")


def test_factors_beyond_max_scale_are_bounded_with_a_warning(jets):
    offset = _fit(jets)
    offset.alpha_ = offset.alpha_ - 2.0  # a (wrong) negative offset scales jets up
    with pytest.warns(UserWarning, match=r"jets up by more than max_scale=1.5"):
        scale = offset.transform(jets[RECO])["calib_scale"]
    assert scale.max() == pytest.approx(1.5)


def test_the_output_guard_refuses_a_broken_stage():
    """A stage whose fitted correction turned NaN raises CalibrationError, never a NaN."""
    from skcal.datasets import make_jets
    from skcal.exceptions import CalibrationError
    from skcal.inversion import NumericalInversion

    jets = make_jets(100_000, random_state=5)
    ni = NumericalInversion().fit(jets, jets.e_reco / jets.e_true)
    assert np.isfinite(ni.predict(jets)).all()
    ni.response_grid_ = np.full_like(ni.response_grid_, np.nan)
    with pytest.raises(CalibrationError, match=r"NumericalInversion predicted 100000 .*row 0"):
        ni.predict(jets)
    with pytest.raises(CalibrationError, match="correction factors"):
        ni.transform(jets)
