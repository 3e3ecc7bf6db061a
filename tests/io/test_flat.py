"""Reading flat trees of matched jets (one row per jet), as ``write_root`` writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import uproot

import skcal.io._process as reader
from skcal.io import read_jets, write_root

FORMATS = ["ttree", "rntuple"]


@pytest.fixture(scope="module")
def flat_files(jets: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("flat")
    return {
        fmt: write_root(jets, folder / f"jets_{fmt}.root", format=fmt, chunk_size=1000)
        for fmt in FORMATS
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_gives_the_written_table(
    jets: pd.DataFrame, flat_files: dict[str, Path], fmt: str
) -> None:
    table = read_jets(flat_files[fmt])
    pd.testing.assert_frame_equal(table, jets)  # values, column order and dtypes
    assert table.attrs["read_summary"]["n_jets"] == len(jets)


@pytest.mark.parametrize("fmt", FORMATS)
def test_columns_are_returned_in_order_and_only_their_branches_read(
    jets: pd.DataFrame, flat_files: dict[str, Path], fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: list[tuple[str, ...]] = []
    real = reader.read_arrays

    def spy(obj, path, tree, branches, start, stop, library):
        if stop > start:  # entries read, not only the types of the branches
            requested.append(tuple(branches))
        return real(obj, path, tree, branches, start, stop, library)

    monkeypatch.setattr(reader, "read_arrays", spy)
    table = read_jets(flat_files[fmt], columns=["pt_true", "e_reco"], cuts={"eta": (-1.0, 1.0)})
    assert list(table.columns) == ["pt_true", "e_reco"]
    assert {b for call in requested for b in call} == {"pt_true", "e_reco", "eta"}
    expected = jets.loc[(jets.eta >= -1) & (jets.eta < 1), ["pt_true", "e_reco"]].reset_index(
        drop=True
    )
    pd.testing.assert_frame_equal(table, expected)


def test_cuts_keep_half_open_ranges_and_are_counted(
    jets: pd.DataFrame, flat_files: dict[str, Path]
) -> None:
    cuts = {"pt_true": (50.0, None), "eta_true": (None, 0.5)}
    table = read_jets(flat_files["ttree"], cuts=cuts)
    keep = (jets.pt_true >= 50) & (jets.eta_true < 0.5)
    pd.testing.assert_frame_equal(table, jets[keep].reset_index(drop=True))
    summary = table.attrs["read_summary"]
    assert summary["n_cut"] == (~keep).sum() > 0
    assert summary["n_jets"] + summary["n_cut"] == len(jets)


def test_energy_is_derived_and_weight_defaults_to_one(jets: pd.DataFrame, tmp_path: Path) -> None:
    path = write_root(jets.drop(columns=["e_reco", "e_true", "weight"]), tmp_path / "noenergy.root")
    table = read_jets(path)
    expected = np.sqrt((jets.pt_reco * np.cosh(jets.eta)) ** 2 + jets.m_reco**2)
    np.testing.assert_allclose(table.e_reco, expected, rtol=1e-12)
    np.testing.assert_allclose(table.e_true, jets.e_true, rtol=1e-9)  # the generator's own energies
    assert (table.weight == 1.0).all()
    assert list(table.columns[:2]) == ["e_reco", "pt_reco"]


def test_user_mapping_renames_branches(jets: pd.DataFrame, tmp_path: Path) -> None:
    odd = pd.DataFrame(
        {"JetE": jets.e_reco, "TruthE": jets.e_true, "Mu": jets.mu.astype(np.float32)}
    )
    path = write_root(odd, tmp_path / "odd.root", tree="calib")
    table = read_jets(path, mapping={"e_reco": "JetE", "e_true": "TruthE", "mu": "Mu"})
    assert list(table.columns) == ["e_reco", "e_true", "mu", "weight"]
    np.testing.assert_array_equal(table.e_true, jets.e_true)
    assert table.mu.dtype == np.float32  # stored types are kept


@pytest.mark.parametrize("how", ["glob", "list", "directory", "dict"])
def test_sources_of_several_files(jets: pd.DataFrame, tmp_path: Path, how: str) -> None:
    parts = [jets.iloc[:1000], jets.iloc[1000:]]
    paths = [write_root(p, tmp_path / f"part{i}.root", tree="t") for i, p in enumerate(parts)]
    source = {
        "glob": str(tmp_path / "part*.root"),
        "list": paths,
        "directory": tmp_path,
        "dict": {str(p): "t" for p in paths},
    }[how]
    table = read_jets(source)
    pd.testing.assert_frame_equal(table, jets)
    assert table.attrs["read_summary"]["n_jets"] == len(jets)


@pytest.mark.parametrize("step_size", [1, 700, "40 kB"])
def test_chunking_does_not_change_the_jets(
    jets: pd.DataFrame, flat_files: dict[str, Path], step_size
) -> None:
    subset = jets.iloc[:300] if step_size == 1 else jets
    path = flat_files["rntuple"]
    if step_size == 1:  # one entry per chunk: a small file keeps it quick
        path = write_root(subset, path.with_name("small.root"), overwrite=True)
    table = read_jets(path, step_size=step_size, columns=["e_reco", "eta", "npv"])
    pd.testing.assert_frame_equal(table, subset[["e_reco", "eta", "npv"]].reset_index(drop=True))


def test_memory_step_size_makes_several_chunks(flat_files: dict[str, Path]) -> None:
    lazy = read_jets(flat_files["ttree"], step_size="40 kB", columns=["e_reco", "eta"], dask=True)
    # 3000 entries x 16 bytes = 48 kB: more than one chunk, fewer than a chunk per entry
    assert 1 < lazy.npartitions < 10


def test_several_trees_pick_jets_by_default(jets: pd.DataFrame, tmp_path: Path) -> None:
    path = write_root(jets, tmp_path / "two.root")
    with uproot.update(path) as file:
        file.mktree("other", {"x": np.float64}).extend({"x": np.arange(3.0)})
    assert len(read_jets(path)) == len(jets)
    assert list(read_jets(path, tree="other").columns) == ["weight", "x"]  # standard columns first
