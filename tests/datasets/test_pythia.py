"""make_pythia_jets: the parameter checks, the missing extra, and a real sample."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import uproot

from skcal import columns
from skcal.datasets import make_jets, make_pythia_jets
from skcal.exceptions import MissingDependencyError, ParameterError

# One slice and a small pile-up library keep the sample to seconds of generation.
FAST = {"slices": (60.0, 160.0), "pileup_library": 50, "mu_range": (0.0, 10.0)}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mu_range": (0, 250)}, r"mu_range must lie within \[0, 200\]"),
        ({"mu_range": (-1, 5)}, r"mu_range must be finite with 0 <= low <= high"),
        ({"mu_range": (30, 10)}, r"mu_range must be finite"),
        ({"mu_range": "high"}, r"mu_range must be a pair"),
        ({"radius": 0.05}, r"radius must be a jet radius in \[0.2, 1.5\], got 0.05"),
        ({"radius": 3}, r"radius must be a jet radius"),
        ({"radius": True}, r"radius must be a jet radius"),
        ({"slices": (60,)}, r"slices needs at least two edges"),
        ({"slices": (60, 20)}, r"slice 0 \(60.0, 20.0\) GeV is invalid"),
        ({"slices": (20, 60, 9000)}, r"slice 1 \(60.0, 9000.0\) GeV is invalid"),
        ({"slices": (0, 60)}, r"slice 0 \(0.0, 60.0\)"),
        ({"slices": "JZ1"}, r"slices must be a sequence of pT-hat edges"),
        ({"topology": "top"}, r"topology 'top' needs kind='large_r'"),
        ({"shower": "herwig"}, r"'shower' parameter of make_pythia_jets"),
        ({"n_jobs": 0}, r"'n_jobs' parameter of make_pythia_jets"),
        ({"kind": "medium_r"}, r"'kind' parameter of make_pythia_jets"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        make_pythia_jets(10, **kwargs)


def test_bad_jet_count_is_named():
    with pytest.raises(ParameterError, match="'n_jets' parameter of make_pythia_jets"):
        make_pythia_jets(0)


@pytest.mark.parametrize("module", ["pythia8mc", "fastjet"])
def test_a_missing_sim_extra_names_it(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(
        MissingDependencyError, match=rf"make_pythia_jets needs .*'{module}'.*skcal\[sim\]"
    ):
        make_pythia_jets(10, **FAST)


# The generation tests take tens of seconds on two free cores (minutes under load): slow,
# and still in the default run.
@pytest.fixture(scope="module")
def jets(tmp_path_factory):
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    cache = tmp_path_factory.getbasetemp() / "pythia-cache"
    return make_pythia_jets(2000, cache_dir=cache, random_state=7, **FAST)


@pytest.mark.slow
def test_the_table_has_the_columns_and_dtypes_of_make_jets(jets):
    synthetic = make_jets(10, random_state=0)
    assert list(jets.columns) == list(synthetic.columns)
    assert dict(jets.dtypes) == dict(synthetic.dtypes)
    assert len(jets) == 2000


@pytest.mark.slow
def test_the_jets_are_physical(jets):
    numeric = jets.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(numeric).all()
    assert (jets["pt_true"] >= 20).all() and (jets["eta_true"].abs() < 4.5).all()
    assert (jets["e_reco"] > 0).all() and (jets["e_true"] >= jets["pt_true"]).all()
    dr = np.hypot(
        jets["eta"] - jets["eta_true"], np.angle(np.exp(1j * (jets["phi"] - jets["phi_true"])))
    )
    assert (dr < 0.3).all()  # matched as the readers match
    assert set(jets["flavour"]) <= {0, 1, 2, 3, 4, 5, 21}
    assert {21, 1, 2}.issubset(set(jets["flavour"]))
    assert jets["mu"].between(0, 10).all() and (jets["npv"] >= 1).all()
    assert jets["weight"].mean() == pytest.approx(1.0)
    # A jet's area is about pi R^2 (ghost cells of 0.0098).
    assert 0.4 < jets["area"].median() < 0.6
    for name in ("em_frac", "em3_frac", "tile0_frac"):
        assert jets[name].between(0, 1).all()
    central = jets["eta"].abs() < 2.0
    assert (jets.loc[central, "n_trk"] > 0).mean() > 0.9
    # Outside the tracker (|eta| > 2.5 for the whole cone of R = 0.4).
    assert (jets.loc[jets["eta"].abs() > 3.0, "n_trk"] == 0).all()


@pytest.mark.slow
def test_the_response_rises_with_pt_and_pile_up_adds_energy(jets):
    response = jets["pt_reco"] / jets["pt_true"]
    low = response[jets["pt_true"].between(20, 40)].median()
    high = response[jets["pt_true"] > 100].median()
    assert 0.3 < low and high < 1.3
    assert high > low
    # Pile-up adds pT in proportion to mu: the top third in mu responds higher.
    soft = jets["pt_true"].between(20, 60)
    assert response[soft & (jets["mu"] > 7)].median() > response[soft & (jets["mu"] < 3)].median()


@pytest.mark.slow
def test_the_sample_is_the_same_for_the_same_seed_and_any_n_jobs(tmp_path_factory):
    pytest.importorskip("pythia8mc")
    cache = tmp_path_factory.getbasetemp() / "pythia-cache"
    kwargs = dict(cache_dir=cache, random_state=11, **FAST)
    serial = make_pythia_jets(60, **kwargs)
    parallel = make_pythia_jets(60, n_jobs=2, **kwargs)
    assert serial.equals(parallel)
    prefix = make_pythia_jets(25, **kwargs)
    # The same jets; the weights are normalised to mean 1 over each table.
    assert prefix.drop(columns="weight").equals(serial.iloc[:25].drop(columns="weight"))
    other = make_pythia_jets(25, **{**kwargs, "random_state": 12})
    assert not other["e_true"].equals(prefix["e_true"])


@pytest.mark.slow
def test_large_r_jets_have_the_large_r_columns(tmp_path_factory):
    pytest.importorskip("pythia8mc")
    cache = tmp_path_factory.getbasetemp() / "pythia-cache"
    top = make_pythia_jets(
        30,
        kind="large_r",
        topology="top",
        slices=(400, 800),
        mu_range=(0, 0),
        cache_dir=cache,
        random_state=3,
    )
    synthetic = make_jets(10, kind="large_r", topology="top", random_state=0)
    assert list(top.columns) == list(synthetic.columns)
    assert (top["pt_true"] >= 200).all() and (top["eta_true"].abs() < 2.0).all()
    # Boosted tops: the truth mass peaks near the top mass, with a b-hadron label.
    assert 120 < top["m_true"].median() < 220
    assert (top["flavour"] == columns.BOTTOM).mean() > 0.5
    assert top["tau32"].between(0, 1).all() and (top["split12"] > 0).all()


@pytest.mark.slow
def test_the_sample_writes_to_root(jets, tmp_path):
    from skcal.io import write_root

    path = write_root(jets, tmp_path / "pythia.root")
    with uproot.open(path) as f:
        tree = f["jets"]
        assert tree.num_entries == len(jets)
        np.testing.assert_allclose(tree["e_reco"].array(library="np"), jets["e_reco"])


@pytest.mark.slow
def test_the_vincia_shower_gives_another_sample(tmp_path_factory):
    pytest.importorskip("pythia8mc")
    cache = tmp_path_factory.getbasetemp() / "pythia-cache"
    kwargs = dict(n_jets=20, slices=(60, 160), mu_range=(0, 0), cache_dir=cache, random_state=5)
    default = make_pythia_jets(**kwargs)
    vincia = make_pythia_jets(shower="vincia", **kwargs)
    assert list(vincia.columns) == list(default.columns)
    assert not np.allclose(vincia["pt_true"].to_numpy(), default["pt_true"].to_numpy())
    assert (vincia["pt_true"] >= 20).all()
