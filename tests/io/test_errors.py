"""Bad input gives an error that names the file and what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import uproot

from skcal.exceptions import DataError, ParameterError, ROOTFileError
from skcal.io import DeltaRMatch, IndexMatch, JetMapping, read_jets, write_root


@pytest.fixture(scope="module")
def small(jets: pd.DataFrame) -> pd.DataFrame:
    return jets.iloc[:500].reset_index(drop=True)


@pytest.fixture(scope="module")
def good(small: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_root(small, tmp_path_factory.mktemp("good") / "good.root")


def test_missing_file_and_empty_glob(tmp_path: Path) -> None:
    with pytest.raises(
        ROOTFileError, match=re.escape(f"file not found: '{tmp_path / 'nope.root'}'")
    ):
        read_jets(tmp_path / "nope.root")
    with pytest.raises(ROOTFileError, match="no file matches the pattern"):
        read_jets(str(tmp_path / "nothing-*.root"))
    with pytest.raises(ROOTFileError, match="holds no '\\*.root' file"):
        read_jets(tmp_path)


def test_missing_tree_lists_the_trees_and_the_closest(good: Path) -> None:
    expected = r"good.root: no tree 'jet' in the file; it holds \['jets'\]; closest: 'jets'"
    with pytest.raises(ROOTFileError, match=expected):
        read_jets(good, tree="jet")


def test_missing_branch_suggests_the_closest(good: Path) -> None:
    with pytest.raises(
        ROOTFileError,
        match=r"good.root: tree 'jets': no branch 'pt_rco' \(for column 'pt_reco'\); "
        r"closest: 'pt_reco'",
    ):
        read_jets(good, mapping={"pt_reco": "pt_rco", "eta": "eta"})


def test_unknown_column_suggests_the_closest(good: Path) -> None:
    expected = r"column 'pt_rec' \(asked for\) is not provided by the mapping; closest: 'pt_reco'"
    with pytest.raises(DataError, match=expected):
        read_jets(good, columns=["pt_rec"])
    with pytest.raises(DataError, match=r"column 'etaa' \(cut on\)"):
        read_jets(good, cuts={"etaa": (0, 1)})


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
@pytest.mark.parametrize("fraction", [0.3, 0.95])
def test_truncated_file(small: pd.DataFrame, tmp_path: Path, fmt: str, fraction: float) -> None:
    data = write_root(small, tmp_path / "whole.root", format=fmt).read_bytes()
    cut = tmp_path / "cut.root"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(
        ROOTFileError,
        match=r"cut.root: cannot .*: the file is truncated, corrupt or not a ROOT file",
    ):
        read_jets(cut)


def test_corrupt_basket_is_caught_when_its_chunk_is_read(
    jets: pd.DataFrame, tmp_path: Path
) -> None:
    path = write_root(jets, tmp_path / "whole.root", chunk_size=500)
    with uproot.open(path) as file:
        branch = file["jets"]["eta"]
        last_basket = int(branch.member("fBasketSeek")[branch.num_baskets - 1])
    data = bytearray(path.read_bytes())
    data[last_basket + 200 : last_basket + 264] = b"\xff" * 64
    bad = tmp_path / "bad.root"
    bad.write_bytes(bytes(data))
    lazy = read_jets(bad, dask=True, step_size=500)  # the damage is past the first chunk
    with pytest.raises(
        ROOTFileError, match=r"bad.root: cannot read entries 2500-3000 of 'jets': .*corrupt"
    ):
        lazy.compute(scheduler="sync")
    with pytest.raises(ROOTFileError, match=r"bad.root: cannot read entries .*corrupt"):
        read_jets(bad)


def test_corrupt_rntuple(small: pd.DataFrame, tmp_path: Path) -> None:
    data = bytearray(write_root(small, tmp_path / "whole.root", format="rntuple").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    bad = tmp_path / "bad.root"
    bad.write_bytes(bytes(data))
    with pytest.raises(ROOTFileError, match="bad.root: cannot .*corrupt"):
        read_jets(bad)


def test_not_a_root_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.root"
    text.write_text("these are not jets")
    with pytest.raises(ROOTFileError, match="notes.root: cannot open it: .*not a ROOT file"):
        read_jets(text)


def test_files_whose_branches_disagree(small: pd.DataFrame, good: Path, tmp_path: Path) -> None:
    other_type = small.assign(npv=small.npv.astype(np.float64))
    retyped = write_root(other_type, tmp_path / "retyped.root")
    expected = r"retyped.root: branch 'npv' of tree 'jets' is 'float64' but 'int32' in .*good.root"
    with pytest.raises(ROOTFileError, match=expected):
        read_jets([good, retyped])
    lacking = write_root(small.drop(columns=["mu"]), tmp_path / "lacking.root")
    expected = r"lacking.root: tree 'jets': no branch 'mu' .*the first file .*good.root has them"
    with pytest.raises(ROOTFileError, match=expected):
        read_jets([good, lacking])


def test_preset_on_the_wrong_kind_of_file(good: Path, data_dir: Path) -> None:
    with pytest.raises(
        ROOTFileError,
        match=r"PHYSLITE_example.root: no tree 'Events' .*'CollectionTree'.*"
        r"the preset 'nanoaod' is for CMS NanoAOD files",
    ):
        read_jets(data_dir / "PHYSLITE_example.root", preset="nanoaod")
    with pytest.raises(
        ROOTFileError, match=r"good.root: no tree 'CollectionTree'.*ATLAS DAOD_PHYSLITE"
    ):
        read_jets(good, preset="physlite")
    with pytest.raises(
        ROOTFileError,
        match=r"good.root: tree 'jets': no branch 'GenJet_eta' \(for column 'eta_true'\)"
        r".*the preset 'nanoaod'",
    ):
        read_jets(good, preset="nanoaod", tree="jets")


def test_per_event_file_without_a_mapping(data_dir: Path) -> None:
    with pytest.raises(
        ROOTFileError, match="nano_dy.root: tree 'Events' holds per-event collections .*preset="
    ):
        read_jets(data_dir / "nano_dy.root", tree="Events")


def test_match_on_a_flat_tree(good: Path) -> None:
    mapping = JetMapping(
        jets={"pt_reco": "pt_reco", "eta": "eta", "phi": "phi"},
        truth={"eta_true": "eta_true", "phi_true": "phi_true"},
        match=DeltaRMatch(),
    )
    with pytest.raises(
        ROOTFileError, match="good.root: the jets branches hold one value per entry"
    ):
        read_jets(good, mapping=mapping)


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_empty_tree_gives_an_empty_table_with_the_columns(
    small: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    path = write_root(small.iloc[:0], tmp_path / "empty.root", format=fmt)
    table = read_jets(path)
    assert len(table) == 0 and list(table.columns) == list(small.columns)
    assert (table.dtypes == small.dtypes).all()
    lazy = read_jets(path, dask=True)
    assert lazy.npartitions == 1
    pd.testing.assert_frame_equal(lazy.compute(), table)


def test_empty_per_event_tree(tmp_path: Path) -> None:
    path = tmp_path / "noevents.root"
    with uproot.recreate(path) as file:
        file.mktree(
            "Events",
            {"Jet_pt": "var * float32", "Jet_idx": "var * int32", "GenJet_pt": "var * float32"},
        )
    mapping = JetMapping(
        jets={"pt_reco": "Jet_pt"}, truth={"pt_true": "GenJet_pt"}, match=IndexMatch("Jet_idx")
    )
    table = read_jets(path, mapping=mapping)
    assert list(table.columns) == ["pt_reco", "pt_true", "weight"] and len(table) == 0
    assert table.pt_reco.dtype == np.float32


def test_bad_arguments(good: Path) -> None:
    with pytest.raises(DataError, match="unknown preset 'cms'"):
        read_jets(good, preset="cms")
    with pytest.raises(DataError, match="either preset= or mapping="):
        read_jets(good, preset="nanoaod", mapping={"a": "b"})
    with pytest.raises(DataError, match=r"cuts\['eta'\] = \(1, -1\) keeps nothing"):
        read_jets(good, cuts={"eta": (1, -1)})
    with pytest.raises(DataError, match=r"cuts\['eta'\] must be a \(low, high\) pair"):
        read_jets(good, cuts={"eta": 1})
    with pytest.raises(ParameterError, match=r"'step_size' parameter of read_jets must be an int"):
        read_jets(good, step_size=0)
    with pytest.raises(ParameterError, match=r"'step_size' .* or an instance of 'str'. Got 1.5"):
        read_jets(good, step_size=1.5)
    with pytest.raises(ParameterError, match="'match' parameter of read_jets must be an instance"):
        read_jets(good, match="dr")
    with pytest.raises(DataError, match="a mapping entry must be a branch name"):
        JetMapping(jets={"pt_reco": ["a"]})
    with pytest.raises(DataError, match="mapped in both 'jets' and 'event'"):
        JetMapping(jets={"mu": "a"}, event={"mu": "b"})
