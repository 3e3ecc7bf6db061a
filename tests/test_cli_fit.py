"""The ``skcal fit`` and ``skcal calibrate`` commands on real ROOT files and a real MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import uproot
import yaml

import mlflow
from skcal.cli import main
from skcal.config import Config, DataConfig, load_config
from skcal.datasets import make_jets
from skcal.exceptions import ConfigError
from skcal.io import write_root
from skcal.tracking import load_calibrator, use_store

FEATURES = ["e_reco", "pt_reco", "eta", "m_reco"]


@pytest.fixture(scope="module")
def jet_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jets")
    write_root(make_jets(120_000, random_state=1), folder / "train.root")
    write_root(make_jets(5_000, random_state=2), folder / "test.root")
    return folder


def write_config(path: Path, jet_files: Path, **changes: object) -> Path:
    config = {
        "data": {"source": str(jet_files / "train.root"), "dask": True, "step_size": 40_000},
        "features": FEATURES,
        "pipeline": [{"NumericalInversion": {"min_entries": 50}}],
        "output": {"model": str(path.parent / "model.joblib")},
    }
    config.update(changes)
    path.write_text(yaml.safe_dump(config))
    return path


def test_fit_then_calibrate_writes_calibrated_copies(
    tmp_path: Path, jet_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "ni.yaml", jet_files)
    assert main(["fit", str(config)]) == 0
    model = load_calibrator(tmp_path / "model.joblib")
    assert list(model.feature_names_in_) == FEATURES

    out_dir = tmp_path / "calibrated"
    out_dir.mkdir()
    assert (
        main(
            [
                "calibrate",
                str(jet_files / "test.root"),
                "-m",
                str(tmp_path / "model.joblib"),
                "-o",
                str(out_dir),
                "--step-size",
                "2000",
                "-q",
            ]
        )
        == 0
    )
    written = out_dir / "test_calib.root"
    assert str(written) in capsys.readouterr().out
    table = uproot.open(written)["jets"].arrays(library="pd")
    original = uproot.open(jet_files / "test.root")["jets"].arrays(library="pd")
    assert len(table) == len(original) == 5000
    np.testing.assert_allclose(table.r_pred, model.predict(original[FEATURES]))
    np.testing.assert_allclose(table.e_calib, original.e_reco / table.r_pred)


def test_fit_logs_and_registers_in_mlflow(tmp_path: Path, jet_files: Path) -> None:
    store = tmp_path / "store"
    config = write_config(
        tmp_path / "ni.yaml",
        jet_files,
        weights="weight",
        output={"mlflow": {"store": str(store), "register": "jes-ni", "alias": "champion"}},
    )
    assert main(["fit", str(config)]) == 0
    use_store(root=store)
    try:
        model = load_calibrator("models:/jes-ni@champion")
        assert model.steps[0][0] == "numericalinversion"
    finally:
        mlflow.set_tracking_uri(None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"featurs": ["e_reco"]}, "unknown key config.featurs (did you mean 'features'?)"),
        ({"data": {"source": "x.root", "dask": "yes"}}, "data.dask must be bool, got str: 'yes'"),
        (
            {"pipeline": [{"NumericalInversoin": {}}]},
            "unknown step 'NumericalInversoin' (did you mean 'NumericalInversion'?)",
        ),
        (
            {"pipeline": [{"NumericalInversion": {"min_entrie": 5}}]},
            "unknown parameter 'min_entrie' (did you mean 'min_entries'?)",
        ),
        ({"target": "energy"}, "target must be one of"),
        ({"response": "response"}, "response must be one of ['energy', 'mass', 'pt']"),
        ({"target": "response", "response": "energy"}, "not both"),
        (
            {"pipeline": [{"SymmetricScaler": {"clip": 3}}, {"NumericalInversion": {}}]},
            "pipeline[0].SymmetricScaler.clip: The 'clip' parameter of SymmetricScaler must be",
        ),
        (
            {"pipeline": [{"StandardScaler": {"with_mean": "no"}}, {"NumericalInversion": {}}]},
            "pipeline[0].StandardScaler.with_mean: The 'with_mean' parameter of StandardScaler",
        ),
        ({"weights": "flat"}, "weights must be one of"),
        ({"output": {"mlflow": {"alias": "champion"}}}, "alias needs output.mlflow.register"),
    ],
)
def test_invalid_configs_name_the_key(
    tmp_path: Path, jet_files: Path, change: dict, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "bad.yaml", jet_files, **change)
    assert main(["fit", str(config)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "model.joblib").exists()


def test_a_bad_step_value_fails_when_the_configuration_is_loaded(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "bad.yaml",
        tmp_path / "no-such-folder",  # never read: the value fails first
        pipeline=[{"EtaAnnotation": {}}, {"SymmetricScaler": {"clip": 3}}],
    )
    with pytest.raises(ConfigError, match=r"pipeline\[1\]\.SymmetricScaler\.clip: .*'clip'"):
        load_config(config)


def test_the_old_target_key_still_works_with_a_future_warning(tmp_path: Path) -> None:
    config = write_config(tmp_path / "old.yaml", tmp_path, target="response_pt")
    with pytest.warns(FutureWarning, match="write 'response: pt' instead of 'target: response_pt'"):
        loaded = load_config(config)
    assert loaded.response == "pt" and loaded.response_columns() == ("pt_reco", "pt_true")
    with pytest.warns(FutureWarning, match="use Config.response"):
        assert loaded.target == "response_pt"
    new = load_config(write_config(tmp_path / "new.yaml", tmp_path, response="mass"))
    assert new.response_columns() == ("m_reco", "m_true")


def test_the_old_target_keyword_of_config_still_works_with_a_future_warning() -> None:
    args = (DataConfig("jets.root"), ["e_reco"], [{"NumericalInversion": {}}])
    with pytest.warns(FutureWarning, match=r"use Config\(response='mass'\)"):
        old = Config(*args, target="response_m")
    assert old == Config(*args, response="mass")
    with pytest.raises(ConfigError, match="target must be one of"):
        Config(*args, target="response_e")
    with pytest.raises(ConfigError, match="response must be one of"):
        Config(*args, response="energie")


def test_fit_refuses_to_overwrite_a_model(
    tmp_path: Path, jet_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "model.joblib").write_bytes(b"keep")
    assert main(["fit", str(write_config(tmp_path / "ni.yaml", jet_files))]) == 2
    assert "model.joblib exists; pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "model.joblib").read_bytes() == b"keep"


def test_missing_config_and_data_files(
    tmp_path: Path, jet_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fit", str(tmp_path / "nope.yaml")]) == 2
    assert "no configuration file" in capsys.readouterr().err
    config = write_config(
        tmp_path / "ni.yaml", jet_files, data={"source": str(tmp_path / "missing.root")}
    )
    assert main(["fit", str(config)]) == 2
    assert "missing.root" in capsys.readouterr().err


def test_calibrate_bad_inputs(
    tmp_path: Path,
    jet_files: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    test_file = str(jet_files / "test.root")
    calibrate = ["calibrate", test_file, "-m", "models:/nothing@champion", "-o", str(out_dir)]
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main([*calibrate, "-q"]) == 2
    assert "no MLflow store is set" in capsys.readouterr().err
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert main([*calibrate, "-q"]) == 2
    assert "no calibration at 'models:/nothing@champion'" in capsys.readouterr().err
    assert (
        main(
            ["calibrate", test_file, "-m", str(tmp_path / "none.joblib"), "-o", str(out_dir), "-q"]
        )
        == 2
    )
    assert "not a file, nor a model URI" in capsys.readouterr().err
    assert (
        main(["calibrate", test_file, "-m", "x.joblib", "-o", str(jet_files), "--suffix", "", "-q"])
        == 2
    )
    assert "calibrate never overwrites its inputs" in capsys.readouterr().err
    (out_dir / "test_calib.root").write_bytes(b"keep")
    assert main(["calibrate", test_file, "-m", "x.joblib", "-o", str(out_dir), "-q"]) == 2
    assert "test_calib.root exists" in capsys.readouterr().err
    assert (
        main(
            [
                "calibrate",
                str(tmp_path / "missing.root"),
                "-m",
                "x.joblib",
                "-o",
                str(tmp_path),
                "-q",
            ]
        )
        == 2
    )
    assert "missing.root" in capsys.readouterr().err


def test_evaluate_compares_named_models(
    tmp_path: Path, jet_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import NumericalInversion
    from skcal.tracking import save_calibrator

    train = make_jets(120_000, random_state=1)
    ni = make_pipeline(NumericalInversion(min_entries=50)).fit(
        train[FEATURES], train.e_reco / train.e_true
    )
    save_calibrator(ni, tmp_path / "ni.joblib")
    out = tmp_path / "report"
    assert (
        main(
            [
                "evaluate",
                "-m",
                f"NI={tmp_path / 'ni.joblib'}",
                "-m",
                str(tmp_path / "ni.joblib"),
                "-d",
                str(jet_files / "test.root"),
                "-o",
                str(out),
                "--dask",
                "--step-size",
                "2000",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "NI: worst closure" in printed and "ni: worst closure" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["summary"]) == {"NI", "ni"}
    assert (out / "index.html").is_file()


def test_evaluate_unknown_model(
    tmp_path: Path,
    jet_files: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert (
        main(
            [
                "evaluate",
                "-m",
                "models:/nothing/1",
                "-d",
                str(jet_files / "test.root"),
                "-o",
                str(tmp_path / "r"),
            ]
        )
        == 2
    )
    assert "no calibration at 'models:/nothing/1'" in capsys.readouterr().err


@pytest.mark.slow
def test_mlproject_train_entry_point(tmp_path: Path, jet_files: Path) -> None:
    import os
    import subprocess
    import sys

    config = write_config(tmp_path / "train.yaml", jet_files)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")
    }  # no experiment or run of ours
    env = dict(
        clean,
        MLFLOW_TRACKING_URI=store,
        MLFLOW_DISABLE_TELEMETRY="true",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    project = Path(__file__).resolve().parents[1] / "mlflow"
    done = subprocess.run(
        [
            "mlflow",
            "run",
            str(project),
            "-e",
            "train",
            "--env-manager",
            "local",
            "-P",
            f"config={config}",
            "--experiment-name",
            "mlproject",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    mlflow.set_tracking_uri(store)
    try:
        runs = mlflow.search_runs(experiment_names=["mlproject"])
        assert len(runs) == 1 and runs.status[0] == "FINISHED"
        assert runs["params.numericalinversion__quantity"][0] == "e_reco"
    finally:
        mlflow.set_tracking_uri(None)
    assert (tmp_path / "model.joblib").is_file()
