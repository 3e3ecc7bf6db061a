"""The binned baseline (IBU) and the binned views: histograms, covariance, chi2, drawing."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import uproot

from skcal.exceptions import DataError, ParameterError
from skcal.unfolding import (
    MultiFold,
    bin_index,
    chi2,
    covariance,
    histogram,
    iterative_bayesian_unfolding,
    make_gaussian_toy,
    plot_covariance,
    track_efficiency_mask,
    unfolded_table,
    write_unfolded,
)
from tests.unfolding.conftest import fast_classifier

matplotlib.use("Agg")
EDGES = np.linspace(-3, 3, 9)


def test_ibu_of_the_simulation_itself_gives_its_truth(toy_with_misses_and_fakes) -> None:
    t = toy_with_misses_and_fakes
    masks = {"reco_mask": t["reco_mask"], "truth_mask": t["truth_mask"]}
    data = t["sim_reco"][t["reco_mask"]]
    out = iterative_bayesian_unfolding(t["sim_reco"], t["sim_truth"], data, EDGES, EDGES, **masks)
    truth = histogram(t["sim_truth"][t["truth_mask"]], EDGES)
    np.testing.assert_allclose(out.counts, truth, rtol=1e-10)
    assert (out.efficiency < 1).all() and (out.fake_fraction > 0).all()


def test_ibu_unfolds_the_toy_in_two_dimensions() -> None:
    sim_reco, sim_truth, data_reco, data_truth = make_gaussian_toy(20000, dims=2, random_state=2)
    edges = [np.linspace(-2, 2, 5)] * 2
    out = iterative_bayesian_unfolding(
        sim_reco, sim_truth, data_reco, edges, edges, n_replicas=20, random_state=0
    )
    truth, prior = histogram(data_truth, edges), histogram(sim_truth, edges)
    assert out.counts.shape == (16,) and out.replicas_data.shape == (20, 16)
    assert np.abs(out.counts - truth).sum() < 0.5 * np.abs(prior - truth).sum()
    value, ndf = chi2(out.counts, truth, out.covariance())
    assert ndf == 16 and value / ndf < 5
    with pytest.raises(ParameterError, match="n_iterations"):
        iterative_bayesian_unfolding(sim_reco, sim_truth, data_reco, edges, edges, n_iterations=0)
    with pytest.raises(DataError, match="sim_truth has 5 rows"):
        iterative_bayesian_unfolding(sim_reco, sim_truth[:5], data_reco, edges, edges)


def test_bins_histograms_covariance_and_chi2() -> None:
    values = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [5.0, 0.5]])
    assert bin_index(values, [[0, 1, 2], [0, 1, 2]]).tolist() == [0, 2, 1, -1]
    assert histogram(values, [[0, 1, 2], [0, 1, 2]]).tolist() == [1.0, 1.0, 1.0, 0.0]
    with pytest.raises(DataError, match="increasing"):
        histogram([0.5], [1, 0])
    with pytest.raises(DataError, match="2 arrays of bin edges for 1 column"):
        histogram([0.5], [[0, 1], [0, 1]])
    rng = np.random.default_rng(0)
    replicas = rng.poisson(1.0, size=(400, 2000))
    cov = covariance(rng.uniform(0, 2, 2000), [0, 1, 2], replicas)
    assert cov[0, 0] == pytest.approx(1000, rel=0.2) and abs(cov[0, 1]) < 150
    assert chi2([2.0, 0.0], [0.0, 0.0], [[4.0, 0.0], [0.0, 0.0]]) == (1.0, 1)  # an empty bin
    fig = plot_covariance(cov, title="toy")
    assert [a.get_title() for a in fig.axes[:2]] == ["toy covariance", "toy correlation"]


def test_weighted_events_to_root(tmp_path, toy_with_misses_and_fakes) -> None:
    t = toy_with_misses_and_fakes
    mf = MultiFold(fast_classifier(), n_iterations=1, random_state=0).fit(
        t["sim_reco"], t["sim_truth"], t["data_reco"],
        reco_mask=t["reco_mask"], truth_mask=t["truth_mask"],
    )  # fmt: skip
    mf.bootstrap(2, random_state=0)
    mf.systematic("prior x2", sim_weights=np.where(t["truth_mask"], 2.0, 1.0))
    table = unfolded_table(mf, t["sim_truth"])
    assert list(table.columns) == [
        "x", "weight", "weight_data_0", "weight_data_1", "weight_syst_prior_x2",
    ]  # fmt: skip
    assert len(table) == int(t["truth_mask"].sum())  # the fakes have no particle level
    path = write_unfolded(mf, t["sim_truth"], tmp_path / "unfolded.root")
    with uproot.open(path) as f:
        back = f["unfolded"].arrays(library="pd")
    np.testing.assert_allclose(back["weight"], table["weight"])
    np.testing.assert_allclose(back["weight_data_1"], table["weight_data_1"])
    with pytest.raises(FileExistsError):
        write_unfolded(mf, t["sim_truth"], path)
    with pytest.raises(DataError, match="already has the weight column"):
        unfolded_table(mf, t["sim_truth"].assign(weight=1.0))


def test_track_efficiency_drops_more_tracks_below_the_threshold() -> None:
    pt = np.r_[np.full(200_000, 5.0), np.full(200_000, 50.0)]
    keep = track_efficiency_mask(pt, random_state=1)
    assert 1 - keep[:200_000].mean() == pytest.approx(0.021, abs=0.002)
    assert 1 - keep[200_000:].mean() == pytest.approx(0.01, abs=0.002)
    with pytest.raises(ParameterError, match="loss_below"):
        track_efficiency_mask(pt, loss_below=1.5)


def test_chi2_dof_removes_the_bias_of_a_covariance_from_few_replicas() -> None:
    # 9 bins, 8 + 8 replicas (issue 23's first 2-D measurement): the inverse of the
    # replicas' covariance is biased high, the chi2/ndf 3.5 on average where it is 1
    rng = np.random.default_rng(0)
    n_bins, n_replicas = 9, 8
    raw, corrected = [], []
    for _ in range(2000):
        cov = sum(np.cov(rng.normal(size=(n_replicas, n_bins)), rowvar=False) for _ in range(2))
        d = rng.normal(scale=np.sqrt(2.0), size=n_bins)  # the covariance it estimates: 2 I
        raw.append(chi2(d, np.zeros(n_bins), cov)[0] / n_bins)
        value, ndf = chi2(d, np.zeros(n_bins), cov, dof=2 * (n_replicas - 1))
        corrected.append(value / ndf)
    assert 3.0 < np.mean(raw) < 4.0
    assert 0.85 < np.mean(corrected) < 1.15
    with pytest.raises(DataError, match="dof=10"):
        chi2(d, np.zeros(n_bins), cov, dof=10)
