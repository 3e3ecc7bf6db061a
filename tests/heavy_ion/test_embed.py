"""embed_in_background: parameter checks, the missing extra, and a tiny real sample."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import uproot

from skcal.datasets import embed_in_background
from skcal.exceptions import MissingDependencyError, ParameterError
from skcal.heavy_ion._embed import COLUMNS

# One pT-hat slice and two radii: one block of 8 events is enough.
FAST = {"slices": (40.0, 80.0), "radius": (0.2, 0.4)}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"radius": 0.7}, r"radius must be one of \(0.2, 0.3, 0.4, 0.5, 0.6\).*got 0.7"),
        ({"radius": (0.2, 0.2)}, r"radius must list distinct radii"),
        ({"radius": "wide"}, r"radius must be one of"),
        ({"centrality": (10, 5)}, r"centrality must satisfy 0 <= low <= high <= 90"),
        ({"centrality": (0, 95)}, r"centrality must satisfy"),
        ({"centrality": 5}, r"centrality must be a \(low, high\) range"),
        ({"v2": 0.6}, r"'v2' parameter of embed_in_background"),
        ({"mean_pt": 0.0}, r"'mean_pt' parameter of embed_in_background"),
        ({"fragmentation": "hard"}, r"'fragmentation' parameter of embed_in_background"),
        ({"slices": (60, 20)}, r"slice 0 \(60.0, 20.0\) GeV is invalid"),
        ({"fakes": "yes"}, r"'fakes' parameter of embed_in_background"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        embed_in_background(10, **kwargs)


def test_bad_jet_count_is_named():
    with pytest.raises(ParameterError, match="'n_jets' parameter of embed_in_background"):
        embed_in_background(0)


@pytest.mark.parametrize("module", ["pythia8mc", "fastjet"])
def test_a_missing_sim_extra_names_it(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(
        MissingDependencyError, match=rf"embed_in_background needs .*'{module}'.*skcal\[sim\]"
    ):
        embed_in_background(10, **FAST)


def test_it_is_the_function_of_skcal_heavy_ion():
    from skcal.heavy_ion import embed_in_background as direct

    assert embed_in_background is direct


@pytest.fixture(scope="module")
def jets(tmp_path_factory):
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    cache = tmp_path_factory.getbasetemp() / "pythia-cache"
    return embed_in_background(4, cache_dir=cache, fakes=True, random_state=3, **FAST)


@pytest.mark.slow
def test_the_table_has_the_issues_columns(jets):
    assert list(jets.columns) == list(COLUMNS)
    for name in ("pt_reco", "pt_true", "area", "rho", "n_const", "angularity", "mean_const_pt"):
        assert name in jets
    assert [f"lead_pt_{k}" for k in range(1, 11)] == [c for c in jets if c.startswith("lead_pt")]
    assert np.isfinite(jets.select_dtypes("number").to_numpy()).all()
    matched = jets[jets["fake"] == 0]
    assert matched.groupby("radius").size().to_dict() == {0.2: 4, 0.4: 4}
    assert (matched["pt_true"] >= 5.0).all() and (jets.loc[jets["fake"] == 1, "pt_true"] == 0).all()


@pytest.mark.slow
def test_the_jets_are_physical(jets):
    matched = jets[jets["fake"] == 0]
    # Central Pb-Pb: 150-250 GeV per unit area; the area is about pi R^2.
    assert matched["rho"].between(120, 300).all()
    for r, group in matched.groupby("radius"):
        assert group["area"].median() == pytest.approx(np.pi * r * r, rel=0.25)
        assert (np.abs(group["eta"]) < 0.9 - r).all()
    lead = jets[[f"lead_pt_{k}" for k in range(1, 11)]].to_numpy()
    assert (np.diff(lead, axis=1) <= 0).all()  # in decreasing order
    assert (jets["pt_reco"] >= jets["lead_pt_1"]).all()
    # Fakes are kept only where rho A leaves them above 0.
    fakes = jets[jets["fake"] == 1]
    assert len(fakes) > 0 and (fakes["pt_reco"] > fakes["rho"] * fakes["area"]).all()


@pytest.mark.slow
def test_the_same_seed_gives_the_same_table(jets, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "pythia-cache"
    again = embed_in_background(4, cache_dir=cache, fakes=True, random_state=3, **FAST)
    np.testing.assert_array_equal(again.to_numpy(), jets.to_numpy())


@pytest.mark.slow
def test_the_sample_writes_to_root(jets, tmp_path):
    from skcal.io import write_root

    path = write_root(jets, tmp_path / "embedded.root")
    with uproot.open(path) as f:
        tree = f["jets"]
        assert tree.num_entries == len(jets)
        for name in ("pt_reco", "rho", "lead_pt_10", "fake"):
            np.testing.assert_allclose(tree[name].array(library="np"), jets[name])
