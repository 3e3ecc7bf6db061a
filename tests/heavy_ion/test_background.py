"""The thermal background: its multiplicity, pT spectrum, flow, and the rho estimate."""

from __future__ import annotations

import numpy as np
import pytest

from skcal.datasets.pythia._events import Particles
from skcal.heavy_ion._background import ThermalBackground, dndeta


def test_dndeta_follows_the_alice_measurement():
    assert 1900 < dndeta(2.5) < 2000  # 0-5%: 1943
    assert 1500 < dndeta(5.0) < 2000  # the central range
    assert dndeta(45.0) == pytest.approx(318.0)
    assert np.all(np.diff(dndeta(np.linspace(1.25, 85.0, 50))) < 0)  # flat beyond the ends


def test_the_multiplicity_has_the_density_of_its_centrality():
    rng = np.random.default_rng(1)
    fixed = ThermalBackground(centrality=(5.0, 5.0)).generate(rng, 150)
    expected = dndeta(5.0) * 1.8
    # Poisson about the mean: mean and variance agree with it, to 4 standard errors.
    assert abs(fixed.counts.mean() - expected) < 4 * np.sqrt(expected / 150)
    assert fixed.counts.var() == pytest.approx(expected, rel=0.35)
    # Over 0-10% the centrality adds its own fluctuation: far above Poisson.
    wide = ThermalBackground(centrality=(0.0, 10.0)).generate(rng, 150)
    assert wide.counts.std() > 5 * np.sqrt(wide.counts.mean())
    assert 1500 * 1.8 < wide.counts.mean() < 2000 * 1.8


def test_the_pt_spectrum_is_gamma_with_the_requested_mean():
    rng = np.random.default_rng(2)
    events = ThermalBackground(mean_pt=0.7).generate(rng, 20)
    pt = events.pt
    assert pt.size > 50_000 and (pt > 0).all()
    assert pt.mean() == pytest.approx(0.7, rel=0.01)
    theta = 0.35  # Gamma(2, theta): P(pT > x) = (1 + x / theta) exp(-x / theta)
    for x in (0.5, 1.0, 2.0):
        assert (pt > x).mean() == pytest.approx((1 + x / theta) * np.exp(-x / theta), rel=0.05)
    assert np.abs(events.eta).max() <= 0.9


def test_elliptic_flow_modulates_the_azimuth():
    rng = np.random.default_rng(3)
    flow = ThermalBackground(v2=0.1).generate(rng, 10)
    psi = np.repeat(flow.event_plane, flow.counts)
    assert np.mean(np.cos(2 * (flow.phi - psi))) == pytest.approx(0.1, abs=0.01)
    flat = ThermalBackground().generate(rng, 10)
    psi = np.repeat(flat.event_plane, flat.counts)
    assert abs(np.mean(np.cos(2 * (flat.phi - psi)))) < 0.01


def test_rho_median_is_within_five_percent_of_the_input_density():
    pytest.importorskip("fastjet")
    from skcal.heavy_ion._jets import Event

    rng = np.random.default_rng(4)
    model = ThermalBackground()
    bg = model.generate(rng, 12)
    none = np.zeros(12, np.int64)
    empty, ids = np.empty(0), np.empty(0, np.int32)
    ev = Event(rng, Particles(none, empty, empty, empty, empty, empty, ids, ids), bg)
    density = model.density(bg)
    assert 150 < np.median(density) < 250  # the 100-250 GeV per unit area
    assert np.median(ev.rho / density) == pytest.approx(1.0, abs=0.05)
    # rho follows each event's own density (its multiplicity fluctuates).
    assert np.corrcoef(ev.rho, density)[0, 1] > 0.8
