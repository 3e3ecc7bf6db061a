"""Issue 18: model files and MLflow stores that fail are clear errors, never silent writes."""

from __future__ import annotations

import socket
import sqlite3
import threading
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor

import mlflow
from skcal.cli import main
from skcal.datasets import make_jets
from skcal.exceptions import DataError, ModelNotFoundError, ParameterError, TrackingStoreError
from skcal.io import write_root
from skcal.tracking import load_calibrator, log_calibrator, save_calibrator, use_store

EXAMPLE = pd.DataFrame({"e_reco": [50.0, 80.0]})


@pytest.fixture(scope="module")
def model() -> DummyRegressor:
    return DummyRegressor().fit(EXAMPLE, [0.9, 1.0])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_root_file_passed_as_the_model_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jets = write_root(make_jets(200, random_state=0), tmp_path / "jets.root")
    with pytest.raises(ModelNotFoundError, match=r"jets\.root is a ROOT file, not a model file"):
        load_calibrator(jets)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["calibrate", str(jets), "-m", str(jets), "-o", str(out), "-q"]) == 2
    assert "is a ROOT file, not a model file" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_a_truncated_model_file_is_named(tmp_path: Path, model: DummyRegressor) -> None:
    whole = save_calibrator(model, tmp_path / "m.joblib").read_bytes()
    cut = tmp_path / "cut.joblib"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ModelNotFoundError, match=r"cut\.joblib is not a readable model file"):
        load_calibrator(cut)
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    with pytest.raises(ModelNotFoundError, match="holds a dict, not a calibration"):
        load_calibrator(tmp_path / "dict.joblib")


def test_an_http_store_with_nothing_behind_it_fails_fast_and_clearly(
    monkeypatch: pytest.MonkeyPatch, model: DummyRegressor
) -> None:
    for variable in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    uri = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ParameterError, match=rf"tracking_uri '{uri}': the store cannot be used"):
        use_store(uri)
    # the retries are bounded (MLflow's default retries for minutes)
    import os

    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "1"
    missing = f"no calibration at 'models:/x@champion' in the store {uri}"
    with pytest.raises(ModelNotFoundError, match=missing):
        load_calibrator("models:/x@champion")
    with pytest.raises(TrackingStoreError, match=f"the MLflow store {uri} cannot be written"):
        log_calibrator(model, EXAMPLE)


def test_log_calibrator_without_a_store_refuses_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model: DummyRegressor
) -> None:
    from mlflow.tracking._tracking_service import utils

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(utils, "_tracking_uri", None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match="no MLflow store is set"):
        log_calibrator(model, EXAMPLE)
    with pytest.raises(ParameterError, match="no MLflow store is set"):
        load_calibrator("models:/jes@champion")
    assert list(tmp_path.iterdir()) == []  # no ./mlruns, no ./mlflow.db


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "high"])
def test_metrics_that_are_not_finite_are_refused(
    tmp_path: Path, model: DummyRegressor, bad: object
) -> None:
    use_store(root=tmp_path)
    with pytest.raises(DataError, match=r"metrics: \['closure'\] are not finite numbers"):
        log_calibrator(model, EXAMPLE, metrics={"closure": bad, "resolution": 0.1})
    assert mlflow.search_runs(output_format="list") == []


def _registered(root: Path) -> dict[str, list[str]]:
    use_store(root=root)
    client = mlflow.MlflowClient()
    return {
        m.name: [v.version for v in client.search_model_versions(f"name='{m.name}'")]
        for m in client.search_registered_models()
    }


def test_a_read_only_store_is_a_clear_error_with_nothing_registered(
    tmp_path: Path, model: DummyRegressor
) -> None:
    use_store(root=tmp_path)
    log_calibrator(model, EXAMPLE, name="kept")
    db = tmp_path / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///file:{db}?mode=ro&uri=true")
    mlflow.set_registry_uri(f"sqlite:///file:{db}?mode=ro&uri=true")
    with pytest.raises(TrackingStoreError, match="cannot be written.*readonly database"):
        log_calibrator(model, EXAMPLE, name="new", alias="champion")
    assert _registered(tmp_path) == {"kept": [1]}
    assert mlflow.active_run() is None


@pytest.mark.slow
def test_a_locked_store_is_a_clear_error_with_nothing_registered(
    tmp_path: Path, model: DummyRegressor
) -> None:
    use_store(root=tmp_path)
    log_calibrator(model, EXAMPLE, name="kept")
    lock = sqlite3.connect(tmp_path / "mlflow.db", check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")  # another process writing: nobody else may
    try:
        with pytest.raises(TrackingStoreError, match="cannot be written.*database is locked"):
            log_calibrator(model, EXAMPLE, name="new", alias="champion")
    finally:
        lock.rollback()
        lock.close()
    assert _registered(tmp_path) == {"kept": [1]}
    assert mlflow.active_run() is None


def test_the_alias_failing_after_registration_leaves_no_version(
    tmp_path: Path, model: DummyRegressor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store locks between the registration and the alias: the version is removed.
    use_store(root=tmp_path)
    lock = sqlite3.connect(tmp_path / "mlflow.db", check_same_thread=False)
    real = mlflow.MlflowClient.set_registered_model_alias
    released = threading.Event()

    def locked_alias(self: mlflow.MlflowClient, *args: object) -> None:
        lock.execute("BEGIN EXCLUSIVE")
        threading.Timer(0.5, lambda: (lock.rollback(), released.set())).start()
        raise mlflow.exceptions.MlflowException("database is locked")

    monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", locked_alias)
    with pytest.raises(TrackingStoreError, match="no model version was left registered"):
        log_calibrator(model, EXAMPLE, name="half", alias="champion")
    released.wait(10)
    lock.close()
    monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", real)
    assert _registered(tmp_path).get("half", []) == []
    assert np.isfinite(model.predict(EXAMPLE)).all()
