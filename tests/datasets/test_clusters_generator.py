"""The synthetic topo-clusters: contract, determinism, ROOT, and the physics they encode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import uproot

from skcal.columns import CLUSTER_INPUTS, CLUSTER_TRUTH
from skcal.datasets import iter_clusters, make_clusters
from skcal.exceptions import ParameterError
from skcal.io import write_root

EM = [22, 111]


@pytest.fixture(scope="module")
def clusters() -> pd.DataFrame:
    return make_clusters(60_000, random_state=3)


def _bins(table: pd.DataFrame, edges: list[float]) -> pd.Series:
    return pd.cut(table["e_dep"], edges)


def test_columns_are_the_seed_features_and_the_truth(clusters: pd.DataFrame) -> None:
    assert list(clusters.columns) == [*CLUSTER_INPUTS, *CLUSTER_TRUTH]
    assert len(CLUSTER_INPUTS) == 15
    assert np.isfinite(clusters.to_numpy(dtype=float)).all()
    assert (clusters["e_em"] > 0).all() and (clusters["e_dep"] > 0).all()
    assert (clusters["zeta_clus"] >= 2).all()
    assert set(np.unique(np.abs(clusters["particle"]))) == {22, 111, 211, 2112, 2212}
    assert clusters["e_dep"].min() < 0.5 and clusters["e_dep"].max() > 1000
    assert clusters["y_true"].abs().max() <= 4.5


def test_same_seed_same_clusters_in_any_chunking() -> None:
    whole = make_clusters(3000, random_state=7)
    pd.testing.assert_frame_equal(make_clusters(3000, random_state=7), whole)
    chunks = list(iter_clusters(3000, chunk_size=700, random_state=7))
    assert [len(c) for c in chunks] == [700, 700, 700, 700, 200]
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)
    later = next(iter_clusters(500, start=1000, chunk_size=None, random_state=7))
    pd.testing.assert_frame_equal(later, whole.iloc[1000:1500])
    assert not make_clusters(3000, random_state=8).equals(whole)


def test_clusters_round_trip_through_root(tmp_path) -> None:
    table = make_clusters(500, random_state=1)
    path = write_root(table, tmp_path / "clusters.root", tree="clusters")
    with uproot.open(path) as file:
        back = file["clusters"].arrays(library="pd")
    np.testing.assert_allclose(back[list(table.columns)].to_numpy(float), table.to_numpy(float))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_clusters": 0},
        {"n_clusters": 10, "mu_range": (5, 1)},
        {"n_clusters": 10, "random_state": -1},
    ],
)
def test_bad_parameters_are_refused(kwargs: dict) -> None:
    with pytest.raises(ParameterError):
        make_clusters(**kwargs)


def test_em_clusters_are_shallower_and_denser_than_hadronic(clusters: pd.DataFrame) -> None:
    em = clusters["particle"].isin(EM)
    by = [_bins(clusters, [1, 5, 20, 100, 2000]), em]
    depth = clusters.groupby(by, observed=True)["lambda_clus"].median().unstack()
    density = clusters.groupby(by, observed=True)["rho_cell"].median().unstack()
    assert (depth[True] < 0.6 * depth[False]).all(), depth
    assert (density[True] > 2 * density[False]).all(), density
    lateral = clusters.groupby(em)["m_lat2"].median()
    assert lateral[True] < lateral[False]


def test_hadron_em_scale_response_is_below_one_and_rises(clusters: pd.DataFrame) -> None:
    r = clusters["e_em"] / clusters["e_dep"]
    had = ~clusters["particle"].isin(EM)
    edges = [1, 2, 5, 10, 20, 50, 100, 200, 500, 2000]
    median = r[had].groupby(_bins(clusters[had], edges), observed=True).median().to_numpy()
    assert (median < 0.8).all(), median
    assert (np.diff(median) > 0).all(), median
    em_median = r[~had].groupby(_bins(clusters[~had], edges), observed=True).median()
    assert ((em_median > 0.9) & (em_median < 1.0)).all(), em_median


def test_features_carry_the_hadronic_response(clusters: pd.DataFrame) -> None:
    """At fixed energy, a longer, wider, later hadron shower has the lower response."""
    had = clusters[~clusters["particle"].isin(EM) & clusters["e_dep"].between(20, 50)]
    r = had["e_em"] / had["e_dep"]
    for feature, sign in [("m_long2", -1), ("m_lat2", -1), ("var_t_cell", -1), ("rho_cell", 1)]:
        corr = r.corr(had[feature], method="spearman")
        assert sign * corr > 0.1, (feature, corr)


def test_losses_and_pile_up_are_in_the_response(clusters: pd.DataFrame) -> None:
    r = clusters["e_em"] / clusters["e_dep"]
    em = clusters["particle"].isin(EM) & (clusters["e_dep"] > 20)
    crack = clusters["y_clus"].abs().between(1.4, 1.5)
    central = clusters["y_clus"].abs() < 1.0
    assert r[em & crack].median() < r[em & central].median() - 0.05  # dead material
    soft = ~clusters["particle"].isin(EM) & clusters["e_dep"].between(1, 3)
    isolated = clusters["f_iso"] > 0.8
    assert r[soft & isolated].median() < r[soft & ~isolated].median()  # out of cluster
    spread = [
        r[soft & (clusters["mu"] < lo + 20) & (clusters["mu"] >= lo)].std() for lo in (10, 50)
    ]
    assert spread[1] > spread[0]  # pile-up noise
