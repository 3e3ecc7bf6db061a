"""cluster_performance: the seed's linearity, resolution and pulls, per bin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skcal.clusters import LocalHadronicCalibration, cluster_performance, make_dnn_hgm
from skcal.columns import CLUSTER_INPUTS
from skcal.datasets import make_clusters
from skcal.exceptions import DataError, ParameterError

EDGES = [1.0, 10.0, 100.0, 2000.0]


@pytest.fixture(scope="module")
def clusters() -> pd.DataFrame:
    return make_clusters(20_000, random_state=21)


def test_em_scale_figures_match_their_definitions(clusters: pd.DataFrame) -> None:
    table = cluster_performance({"em": "em"}, clusters, edges=EDGES, n_bootstrap=20)
    assert list(table["e_dep_low"]) == EDGES[:-1]
    r = clusters["e_em"] / clusters["e_dep"]
    for _, row in table.iterrows():
        sel = r[(clusters["e_dep"] >= row["e_dep_low"]) & (clusters["e_dep"] < row["e_dep_high"])]
        assert row["entries"] == len(sel)
        assert row["linearity"] == pytest.approx(sel.median() - 1, abs=2e-3)
        q16, q84 = np.quantile(sel, [0.15865, 0.84135])
        assert row["resolution"] == pytest.approx((q84 - q16) / (2 * sel.median()), rel=0.03)
        assert row["resolution_err"] > 0
    assert table["pull_std"].isna().all()


def test_calibrations_side_by_side_with_pulls(clusters: pd.DataFrame) -> None:
    y = clusters["e_em"] / clusters["e_dep"]
    lcw = LocalHadronicCalibration().fit(clusters, y)
    hgm = make_dnn_hgm(max_epochs=2, batch_size=1024, lr=1e-3, random_state=0)
    hgm.fit(clusters[list(CLUSTER_INPUTS)], y)
    table = cluster_performance(
        {"em": "em", "lcw": lcw, "hgm": hgm}, clusters, edges=EDGES, n_bootstrap=0
    )
    assert list(table["model"].unique()) == ["em", "lcw", "hgm"]
    hgm_rows = table[table["model"] == "hgm"]
    assert np.isfinite(hgm_rows[["pull_mean", "pull_std", "pull_width68"]].to_numpy()).all()
    assert table[table["model"] == "lcw"]["pull_std"].isna().all()
    lin = table.pivot(index="e_dep_low", columns="model", values="linearity")
    assert (lin["lcw"].abs() < lin["em"].abs()).all()
    by_feature = cluster_performance({"lcw": lcw}, clusters, by="lambda_clus", n_bootstrap=0)
    assert len(by_feature) == 10 and by_feature["entries"].sum() > 0.99 * len(clusters)


def test_bad_arguments_are_refused(clusters: pd.DataFrame) -> None:
    with pytest.raises(ParameterError):
        cluster_performance({}, clusters)
    with pytest.raises(ParameterError, match="only 'em'"):
        cluster_performance({"x": "lcw"}, clusters)
    with pytest.raises(DataError, match="'e_dep'"):
        cluster_performance({"em": "em"}, clusters.drop(columns="e_dep"))
