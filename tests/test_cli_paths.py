"""Issue 18, failures 6-8: the command line never loses data and parses strictly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skcal._cli_paths import calibrate_outputs, simulate_outputs
from skcal.cli import main
from skcal.datasets import make_jets
from skcal.exceptions import ParameterError
from skcal.io import write_root
from skcal.tracking import save_calibrator


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skcal.inversion import NumericalInversion

    jets = make_jets(20_000, random_state=3)
    X = jets[["e_reco", "pt_reco", "eta", "m_reco"]]
    ni = NumericalInversion(min_entries=30).fit(X, jets["e_reco"] / jets["e_true"])
    return Path(save_calibrator(ni, tmp_path_factory.mktemp("model") / "ni.joblib"))


def _jets(path: Path, seed: int) -> bytes:
    write_root(make_jets(300, random_state=seed), path)
    return path.read_bytes()


def test_calibrate_never_overwrites_an_input_even_with_overwrite(
    tmp_path: Path, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The case: x_calib.root is both an input and the output of x.root.
    before = {name: _jets(tmp_path / name, i) for i, name in enumerate(["x.root", "x_calib.root"])}
    argv = ["calibrate", str(tmp_path / "x.root"), str(tmp_path / "x_calib.root")]
    assert main([*argv, "-m", str(model), "-o", str(tmp_path), "--overwrite", "-q"]) == 2
    assert "calibrate never overwrites its inputs" in capsys.readouterr().err
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.root", "x_calib.root"]


def test_calibrate_never_writes_two_outputs_to_one_file(
    tmp_path: Path, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("a", "b", "out"):
        (tmp_path / folder).mkdir()
    _jets(tmp_path / "a" / "jets.root", 1)
    _jets(tmp_path / "b" / "jets.root", 2)
    argv = ["calibrate", str(tmp_path / "a" / "jets.root"), str(tmp_path / "b" / "jets.root")]
    assert main([*argv, "-m", str(model), "-o", str(tmp_path / "out"), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "would both be written to" in err and "jets_calib.root" in err
    assert list((tmp_path / "out").iterdir()) == []  # nothing written


def test_calibrate_checks_every_output_before_writing_the_first(
    tmp_path: Path, model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _jets(tmp_path / "a.root", 1)
    _jets(tmp_path / "b.root", 2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "b_calib.root").write_bytes(b"keep")  # the second output exists
    argv = ["calibrate", str(tmp_path / "a.root"), str(tmp_path / "b.root"), "-m", str(model)]
    assert main([*argv, "-o", str(out), "-q"]) == 2
    assert "b_calib.root exists" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["b_calib.root"]  # a's not written
    assert (out / "b_calib.root").read_bytes() == b"keep"
    assert main([*argv, "-o", str(out), "-q", "--overwrite"]) == 0  # asked: replaced
    assert sorted(p.name for p in out.iterdir()) == ["a_calib.root", "b_calib.root"]


def test_calibrate_refuses_an_input_given_twice_and_the_model_as_output(
    tmp_path: Path, model: Path
) -> None:
    _jets(tmp_path / "a.root", 1)
    with pytest.raises(FileExistsError, match="given twice"):
        calibrate_outputs(
            [tmp_path / "a.root", tmp_path / "." / "a.root"], tmp_path / "o", "_c", overwrite=True
        )
    with pytest.raises(FileExistsError, match="never overwrites its inputs"):
        calibrate_outputs(
            [tmp_path / "a.root"],
            model.parent,
            "",
            overwrite=True,
            keep=[model.parent / "a.root"],
        )


def test_simulate_validates_the_split_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "2", "-o", str(tmp_path / "few.root"), "--files", "3", "-q"]) == 2
    assert "--files 3 splits 2 jets" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert simulate_outputs(tmp_path / "few.root", 3, 3, overwrite=False)[2].name == "few_002.root"
    with pytest.raises(ParameterError, match="at most 2 files"):
        simulate_outputs(tmp_path / "few.root", 2, 3, overwrite=True)


@pytest.mark.parametrize("bad", ["lots", "-5 MB", "0", "0 MB", "5 parsecs"])
def test_a_bad_step_size_is_refused_naming_it(
    tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from skcal.io import read_jets

    path = tmp_path / "jets.root"
    _jets(path, 0)
    with pytest.raises(ParameterError, match=f"step_size: .*got {bad!r}"):
        read_jets(path, step_size=bad)
    with pytest.raises(ParameterError, match=f"got {bad!r}"):
        read_jets(path, step_size=bad, dask=True)
    with pytest.raises(SystemExit):
        main(["calibrate", str(path), "-m", "m.joblib", "-o", str(tmp_path), "--step-size", bad])
    assert "argument --step-size: step size: expected a positive number" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("good", ["100", "1 kB", "2.5 MiB", 150])
def test_good_step_sizes_still_read_every_jet(tmp_path: Path, good: object) -> None:
    from skcal.io import read_jets

    path = tmp_path / "jets.root"
    _jets(path, 0)
    table = read_jets(path, step_size=good, dask=True)  # type: ignore[arg-type]
    assert len(table.compute()) == 300
    assert np.isfinite(table["e_reco"].compute()).all()
