"""The ``skcal`` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import uproot

from skcal.cli import main
from skcal.datasets import make_jets


def test_simulate_splits_one_sample_over_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "jets.root"
    assert (
        main(
            [
                "simulate",
                "2501",
                "-o",
                str(out),
                "--files",
                "3",
                "--seed",
                "4",
                "--chunk-size",
                "700",
                "--quiet",
            ]
        )
        == 0
    )
    paths = [tmp_path / f"jets_{i:03d}.root" for i in range(3)]
    assert capsys.readouterr().out.split() == [str(p) for p in paths]
    parts = [uproot.open(p)["jets"].arrays(library="pd") for p in paths]
    assert [len(p) for p in parts] == [834, 834, 833]
    pd.testing.assert_frame_equal(
        pd.concat(parts, ignore_index=True), make_jets(2501, random_state=4), check_index_type=False
    )


def test_simulate_large_r_rntuple(tmp_path: Path) -> None:
    out = tmp_path / "top.root"
    assert (
        main(
            [
                "simulate",
                "100",
                "-o",
                str(out),
                "--kind",
                "large_r",
                "--topology",
                "top",
                "--format",
                "rntuple",
                "--quiet",
            ]
        )
        == 0
    )
    with uproot.open(out) as file:
        assert "RNTuple" in type(file["jets"]).__name__
        assert "tau32" in file["jets"].keys()


def test_simulate_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "jets_001.root").write_bytes(b"keep")
    assert (
        main(["simulate", "100", "-o", str(tmp_path / "jets.root"), "--files", "2", "--quiet"]) == 2
    )
    assert "jets_001.root exists; pass --overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jets_001.root"]


def test_simulate_reports_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "10", "-o", str(tmp_path / "nowhere" / "jets.root"), "--quiet"]) == 2
    assert "the folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["simulate", "0", "-o", "x.root"], ["simulate", "10", "-o", "x.root", "--kind", "medium_r"]],
)
def test_bad_arguments_are_refused_by_the_parser(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_the_installed_command_runs(tmp_path: Path) -> None:
    out = tmp_path / "jets.root"
    done = subprocess.run(
        [sys.executable, "-m", "skcal.cli", "simulate", "50", "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert uproot.open(out)["jets"].num_entries == 50
