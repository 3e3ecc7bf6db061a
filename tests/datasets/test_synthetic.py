"""The synthetic generator: the physics that calibrations rely on, and its contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skcal import columns
from skcal.datasets import BLOCK_SIZE, iter_jets, make_jets
from skcal.exceptions import ParameterError


def core_mode(r: np.ndarray) -> float:
    """Iterative Gaussian-core mean (+-1.5 sigma, three iterations)."""
    centre, sigma = np.median(r), np.std(r)
    for _ in range(3):
        core = r[np.abs(r - centre) < 1.5 * sigma]
        centre, sigma = core.mean(), core.std()
    return float(centre)


def iqr68(r: np.ndarray) -> float:
    q16, q84 = np.quantile(r, [0.16, 0.84])
    return float((q84 - q16) / 2 / core_mode(r))


def asymmetry(r: np.ndarray) -> float:
    """(upper - lower half-width of the central 68%, about the mode) / full width."""
    mode = core_mode(r)
    q16, q84 = np.quantile(r, [0.16, 0.84])
    return float(((q84 - mode) - (mode - q16)) / (q84 - q16))


@pytest.fixture(scope="module")
def jets() -> pd.DataFrame:
    table = make_jets(300_000, random_state=11)
    return table.assign(r=table.e_reco / table.e_true, abs_eta_true=table.eta_true.abs())


@pytest.fixture(scope="module")
def jets_no_pileup() -> pd.DataFrame:
    table = make_jets(200_000, mu_range=(0.0, 0.0), random_state=12)
    return table.assign(r=table.e_reco / table.e_true, abs_eta_true=table.eta_true.abs())


def test_columns_follow_the_jet_table_contract(jets: pd.DataFrame) -> None:
    expected = (
        *columns.RECO,
        *columns.TRUTH,
        *columns.PILEUP,
        *columns.LABELS,
        *columns.SMALL_R_INPUTS,
        "oracle_response",
    )
    assert tuple(make_jets(10, random_state=0).columns) == expected
    assert np.isfinite(jets.drop(columns="flavour").to_numpy()).all()
    assert (jets[["e_reco", "pt_reco", "e_true", "pt_true", "m_true"]] > 0).all().all()
    assert set(np.unique(jets.flavour)) == {1, 2, 3, 4, 5, 21}


def test_response_mode_rises_with_true_energy_at_fixed_eta(jets_no_pileup: pd.DataFrame) -> None:
    central = jets_no_pileup[jets_no_pileup.abs_eta_true < 0.8]
    bins = [20, 40, 80, 160, 320, 640, 1280, 3000]
    modes = [
        core_mode(central.r[(central.pt_true > lo) & (central.pt_true < hi)].to_numpy())
        for lo, hi in zip(bins[:-1], bins[1:])
    ]
    assert np.all(np.diff(modes) > 0.005), modes
    assert 0.4 < modes[0] < 0.7 and 0.7 < modes[-1] < 0.95


def test_response_dips_at_the_calorimeter_crack(jets: pd.DataFrame) -> None:
    sel = jets[(jets.pt_true > 100) & (jets.pt_true < 400)]
    mode_at = {
        c: core_mode(sel.r[(sel.abs_eta_true - c).abs() < 0.05].to_numpy())
        for c in (1.0, 1.45, 1.9)
    }
    assert mode_at[1.45] < min(mode_at[1.0], mode_at[1.9]) - 0.05, mode_at


def test_measured_eta_is_pushed_away_from_the_crack(jets: pd.DataFrame) -> None:
    shift = jets.eta.abs() - jets.abs_eta_true
    below = shift[(jets.abs_eta_true > 1.38) & (jets.abs_eta_true < 1.43)].mean()
    above = shift[(jets.abs_eta_true > 1.47) & (jets.abs_eta_true < 1.52)].mean()
    assert below < -0.005 and above > 0.005


def test_pileup_offset_grows_with_mu_and_area(jets: pd.DataFrame) -> None:
    sel = jets[(jets.pt_true > 30) & (jets.pt_true < 40) & (jets.abs_eta_true < 1.0)]
    design = np.column_stack([np.ones(len(sel)), sel.pt_true, sel.mu, sel.rho * sel.area])
    # pT_reco against pT_true, mu and rho*A: mu at fixed rho*A carries the residual
    # out-of-time term, rho*A the area-based offset (coefficient near 1 at EM scale).
    coef, *_ = np.linalg.lstsq(design, sel.pt_reco.to_numpy(), rcond=None)
    assert 0.6 < coef[3] < 1.4, coef
    slope_mu = np.polyfit(sel.mu, sel.pt_reco - 0.6 * sel.pt_true, 1)[0]
    slope_area = np.polyfit(sel.area, sel.pt_reco - 0.6 * sel.pt_true, 1)[0]
    assert slope_mu > 0.2 and slope_area > 5.0, (slope_mu, slope_area)


def test_gluon_and_quark_jets_respond_differently(jets_no_pileup: pd.DataFrame) -> None:
    sel = jets_no_pileup[
        (jets_no_pileup.pt_true > 50)
        & (jets_no_pileup.pt_true < 150)
        & (jets_no_pileup.abs_eta_true < 1.2)
    ]
    gluon = core_mode(sel.r[sel.flavour == columns.GLUON].to_numpy())
    light = core_mode(sel.r[sel.flavour.isin(columns.LIGHT)].to_numpy())
    assert light - gluon > 0.01, (light, gluon)


@pytest.mark.parametrize(
    ("variable", "sign"),
    [("charged_frac", -1), ("width", -1), ("em_frac", 1), ("tile0_frac", -1), ("em3_frac", -1)],
)
def test_gsc_inputs_carry_information_about_the_response(
    jets_no_pileup: pd.DataFrame, variable: str, sign: int
) -> None:
    sel = jets_no_pileup[
        (jets_no_pileup.pt_true > 80)
        & (jets_no_pileup.pt_true < 120)
        & (jets_no_pileup.abs_eta_true < 1.0)
    ]
    corr = np.corrcoef(sel[variable], sel.r)[0, 1]
    assert sign * corr > 0.1, corr


def test_muon_segments_tag_punch_through_losses(jets_no_pileup: pd.DataFrame) -> None:
    sel = jets_no_pileup[(jets_no_pileup.pt_true > 800) & (jets_no_pileup.abs_eta_true < 1.0)]
    quiet = core_mode(sel.r[sel.n_muon_segments == 0].to_numpy())
    punching = np.median(sel.r[sel.n_muon_segments >= 5])
    assert (sel.n_muon_segments >= 5).sum() > 100
    assert punching < quiet - 0.015, (quiet, punching)


def test_bottom_jets_have_a_longer_low_tail(jets_no_pileup: pd.DataFrame) -> None:
    sel = jets_no_pileup[(jets_no_pileup.pt_true > 60) & (jets_no_pileup.abs_eta_true < 2.0)]
    rel = sel.r / sel.oracle_response.median()

    def low_tail(mask: pd.Series) -> float:
        x = (sel.r[mask] / core_mode(sel.r[mask].to_numpy())).to_numpy()
        return float(np.mean(x < 0.8))

    assert rel.size > 0
    assert low_tail(sel.flavour == columns.BOTTOM) > 2 * low_tail(sel.flavour.isin(columns.LIGHT))


def test_oracle_floor_is_narrower_than_the_raw_resolution(jets: pd.DataFrame) -> None:
    for lo, hi in ((30, 60), (200, 400), (1000, 3000)):
        sel = jets[(jets.pt_true > lo) & (jets.pt_true < hi) & (jets.abs_eta_true < 1.0)]
        raw = iqr68(sel.r.to_numpy())
        floor = iqr68((sel.r / sel.oracle_response).to_numpy())
        assert floor < 0.8 * raw, (lo, raw, floor)


def test_large_r_mass_response_is_wider_and_more_asymmetric_than_energy() -> None:
    jets = make_jets(100_000, kind="large_r", random_state=5)
    assert {"oracle_response_m", *columns.LARGE_R_INPUTS} <= set(jets.columns)
    assert jets.eta_true.abs().max() <= 2.0
    for lo, hi in ((250, 400), (600, 1000)):
        sel = jets[(jets.pt_true > lo) & (jets.pt_true < hi)]
        r_e = (sel.e_reco / sel.e_true).to_numpy()
        r_m = (sel.m_reco / sel.m_true).to_numpy()
        assert iqr68(r_m) > 1.5 * iqr68(r_e)
        assert asymmetry(r_m) > 2 * abs(asymmetry(r_e)), (asymmetry(r_m), asymmetry(r_e))


@pytest.mark.parametrize(("topology", "mass"), [("w", 80.4), ("top", 172.5), ("higgs", 125.1)])
def test_boosted_resonances_peak_at_their_mass_with_prong_substructure(
    topology: str, mass: float
) -> None:
    signal = make_jets(
        20_000, kind="large_r", topology=topology, pt_range=(600, 1500), random_state=1
    )
    qcd = make_jets(20_000, kind="large_r", pt_range=(600, 1500), random_state=1)
    assert abs(np.median(signal.m_true) - mass) < 0.05 * mass
    ratio = "tau32" if topology == "top" else "tau21"
    assert signal[ratio].median() < qcd[ratio].median() - 0.1


def test_sliced_weights_restore_the_physical_spectrum() -> None:
    sliced = make_jets(200_000, spectrum="sliced", random_state=3)
    physical = make_jets(200_000, spectrum="physical", random_state=4)
    bins = np.geomspace(20, 3000, 12)
    h_sliced, _ = np.histogram(sliced.pt_true, bins, weights=sliced.weight)
    h_phys, _ = np.histogram(physical.pt_true, bins)
    enough = h_phys > 400
    np.testing.assert_allclose(h_sliced[enough] / h_phys[enough], 1.0, rtol=0.12)
    assert (physical.weight == 1).all()
    assert abs(sliced.weight.mean() - 1) < 0.1


def test_same_seed_same_table_other_seed_other_table() -> None:
    pd.testing.assert_frame_equal(make_jets(5000, random_state=7), make_jets(5000, random_state=7))
    assert not make_jets(100, random_state=7).equals(make_jets(100, random_state=8))
    gen_a, gen_b = np.random.default_rng(1), np.random.default_rng(1)
    pd.testing.assert_frame_equal(
        make_jets(100, random_state=gen_a), make_jets(100, random_state=gen_b)
    )


@pytest.mark.parametrize("chunk_size", [1, 999, BLOCK_SIZE, BLOCK_SIZE + 17, 10**6])
def test_chunked_generation_gives_the_same_jets(chunk_size: int) -> None:
    n = BLOCK_SIZE + 5000 if chunk_size > 1 else 50
    whole = make_jets(n, random_state=21)
    chunks = list(iter_jets(n, chunk_size=chunk_size, random_state=21))
    assert all(len(c) <= chunk_size for c in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


def test_start_continues_the_same_sequence() -> None:
    whole = make_jets(BLOCK_SIZE + 300, kind="large_r", random_state=2)
    tail = pd.concat(
        iter_jets(400, start=BLOCK_SIZE - 100, chunk_size=150, kind="large_r", random_state=2)
    )
    pd.testing.assert_frame_equal(tail, whole.iloc[BLOCK_SIZE - 100 :])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_jets": 0}, r"'n_jets' parameter of make_jets must be an int in the range \[1, inf\)"),
        ({"n_jets": -5}, "'n_jets' .* Got -5 instead"),
        ({"n_jets": 2.5}, "'n_jets' .* Got 2.5 instead"),
        ({"n_jets": True}, "'n_jets' .* Got True instead"),
        ({"kind": "medium_r"}, "'kind' parameter of make_jets must be a str among .* 'medium_r'"),
        ({"topology": "graviton"}, "'topology' parameter .* Got 'graviton' instead"),
        ({"topology": "top"}, "topology 'top' needs kind='large_r'"),
        ({"spectrum": "flat"}, "'spectrum' parameter of make_jets must be a str among"),
        ({"mu_range": (70, 10)}, r"mu_range must be finite .* got \(70, 10\)"),
        ({"mu_range": (-1, 10)}, "mu_range"),
        ({"mu_range": "high"}, "mu_range must be a pair"),
        ({"pt_range": (0, 100)}, "pt_range"),
        ({"random_state": -3}, "'random_state' parameter of make_jets .* Got -3 instead"),
        ({"random_state": False}, "'random_state' .* Got False instead"),
    ],
)
def test_bad_parameters_give_a_clear_error(kwargs: dict, match: str) -> None:
    n = kwargs.pop("n_jets", 10)
    with pytest.raises(ParameterError, match=match):
        make_jets(n, **kwargs)
    with pytest.raises(ValueError):  # ParameterError is a ValueError for other callers
        make_jets(n, **kwargs)


def test_bad_chunking_gives_a_clear_error() -> None:
    chunk = r"'chunk_size' parameter of iter_jets must be an int in the range \[1, inf\) or None"
    with pytest.raises(ParameterError, match=chunk):
        next(iter_jets(10, chunk_size=0))
    with pytest.raises(ParameterError, match=r"'start' parameter of iter_jets .* Got -1 instead"):
        next(iter_jets(10, start=-1))
    with pytest.raises(ParameterError, match="'n_jets' parameter of iter_jets"):
        next(iter_jets(0))


def test_hl_lhc_pileup_up_to_mu_200_follows_the_documented_model() -> None:
    jets = make_jets(100_000, mu_range=(0.0, 200.0), random_state=17)
    assert 0.0 <= jets.mu.min() < 1.0 and 199.0 < jets.mu.max() <= 200.0
    high = jets[jets.mu > 190]
    # NPV = 1 + Poisson(0.65 mu), rho = 0.6 (NPV - 1) + 0.1 mu (+-1 GeV).
    assert np.mean(high.npv - 1) == pytest.approx(0.65 * high.mu.mean(), rel=0.01)
    expected_rho = 0.6 * (high.npv - 1) + 0.1 * high.mu
    assert np.mean(high.rho - expected_rho) == pytest.approx(0.0, abs=0.05)
    # The offset keeps growing linearly: central 20-30 GeV jets gain ~85 GeV at mu = 200
    # (rho A + alpha (NPV - 1) + beta mu: 0.27 + 0.09 + 0.08 GeV per interaction).
    soft = jets[(jets.pt_true < 30) & (jets.eta.abs() < 0.8)]
    slope, _ = np.polyfit(soft.mu, soft.pt_reco, 1)
    assert 0.38 < slope < 0.50, slope
    # The default sample is unchanged: Run-2/3 conditions.
    assert make_jets(1000, random_state=17).mu.between(10, 70).all()
