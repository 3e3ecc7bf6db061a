"""Writing jet tables to ROOT files: formats, chunks, atomicity, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import uproot

import skcal.datasets
from skcal.datasets import iter_jets, make_jets
from skcal.exceptions import DataError, ParameterError
from skcal.io import write_root


@pytest.mark.parametrize(("fmt", "model"), [("ttree", "TTree"), ("rntuple", "RNTuple")])
def test_round_trip_keeps_every_column_and_value(tmp_path: Path, fmt: str, model: str) -> None:
    jets = make_jets(3000, random_state=1)
    path = write_root(jets, tmp_path / "jets.root", format=fmt, chunk_size=1000)
    with uproot.open(path) as file:
        assert model in type(file["jets"]).__name__
        back = file["jets"].arrays(library="pd")
    pd.testing.assert_frame_equal(back, jets, check_index_type=False)
    assert back.flavour.dtype == np.int32


def test_chunks_are_written_in_order(tmp_path: Path) -> None:
    path = write_root(
        iter_jets(2500, chunk_size=1000, random_state=2), tmp_path / "jets.root", tree="t"
    )
    with uproot.open(path) as file:
        back = file["t"].arrays(library="pd")
    pd.testing.assert_frame_equal(back, make_jets(2500, random_state=2), check_index_type=False)


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "jets.root"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="jets.root exists; pass overwrite=True"):
        write_root(make_jets(10, random_state=0), path)
    assert path.read_bytes() == b"precious"
    write_root(make_jets(10, random_state=0), path, overwrite=True)
    assert uproot.open(path)["jets"].num_entries == 10


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="the folder .*missing does not exist"):
        write_root(make_jets(10, random_state=0), tmp_path / "missing" / "jets.root")


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "jets.root"
    path.write_bytes(b"precious")
    good = make_jets(10, random_state=0)
    bad = good.rename(columns={"e_reco": "energy"})
    with pytest.raises(DataError, match="a chunk has columns"):
        write_root(iter([good, bad]), path, overwrite=True)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jets.root"]


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (pd.DataFrame({"label": ["a", "b"]}), "column 'label' has dtype object, not a number"),
        (iter([]), "the table has no chunks"),
    ],
)
def test_bad_tables(tmp_path: Path, table: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        write_root(table, tmp_path / "jets.root")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"format": "hdf5"}, "'format' parameter of write_root must be a str among .* 'hdf5'"),
        ({"chunk_size": 0}, r"'chunk_size' parameter of write_root .*\[1, inf\)\. Got 0"),
        ({"chunk_size": 2.5}, "'chunk_size' parameter of write_root .* Got 2.5"),
    ],
)
def test_bad_parameters(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        write_root(pd.DataFrame({"e": [1.0]}), tmp_path / "jets.root", **kwargs)
    assert not list(tmp_path.iterdir())


def test_write_root_from_datasets_is_deprecated() -> None:
    with pytest.warns(FutureWarning, match=r"skcal\.io\.write_root"):
        old = skcal.datasets.write_root
    assert old is write_root
    assert "write_root" not in skcal.datasets.__all__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = skcal.datasets.nope
