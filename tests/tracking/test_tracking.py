"""MLflow tracking on a real SQLite store: logging, registry aliases, loading back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

import mlflow
from skcal.datasets import make_jets
from skcal.exceptions import DataError, ModelNotFoundError, NotFittedError, ParameterError
from skcal.inversion import NumericalInversion
from skcal.tracking import epoch_logger, load_calibrator, log_calibrator, use_store

FEATURES = ["e_reco", "pt_reco", "eta", "m_reco"]


@pytest.fixture(scope="module")
def jets() -> pd.DataFrame:
    return make_jets(200_000, random_state=3)


@pytest.fixture(scope="module")
def fitted(jets: pd.DataFrame):
    return make_pipeline(NumericalInversion()).fit(jets[FEATURES], jets.e_reco / jets.e_true)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    use_store(root=tmp_path / "store")
    yield tmp_path / "store"
    mlflow.set_tracking_uri(None)


def test_registered_model_loads_by_alias_in_a_fresh_process(
    store: Path, fitted, jets: pd.DataFrame, tmp_path: Path
) -> None:
    logged = log_calibrator(
        fitted, jets.head(), name="jes-smallR", alias="champion", metrics={"worst_closure": 0.004}
    )
    assert logged.registry_uri == "models:/jes-smallR@champion" and logged.version == 1
    test = jets.iloc[:2000]
    test.to_parquet(tmp_path / "test.parquet")
    np.save(tmp_path / "expected.npy", fitted.predict(test[FEATURES]))
    script = f"""
import numpy as np, pandas as pd, mlflow
from skcal.tracking import load_calibrator, use_store
use_store(root={str(store)!r})
test = pd.read_parquet({str(tmp_path / "test.parquet")!r})
pipe = load_calibrator("models:/jes-smallR@champion")
assert np.array_equal(pipe.predict(test[{FEATURES!r}]), np.load({str(tmp_path / "expected.npy")!r}))
out = mlflow.pyfunc.load_model("models:/jes-smallR@champion").predict(test)
assert np.array_equal(out["r_pred"].to_numpy(), np.load({str(tmp_path / "expected.npy")!r}))
assert np.allclose(out["e_calib"], test.e_reco / out["r_pred"])
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_run_records_parameters_metrics_and_report(
    store: Path, fitted, jets: pd.DataFrame, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    report.mkdir()
    (report / "metrics.json").write_text(
        json.dumps(
            {
                "summary": {"NI+GSC": {"worst": 0.012, "bins": [1.0, 0.99]}, "note": "text"},
                "bins": [0.5],
            }
        )
    )
    (report / "index.html").write_text("<html></html>")
    logged = log_calibrator(
        fitted, jets.head(), metrics={"resolution_100gev": 0.08}, report_dir=report
    )
    run = mlflow.get_run(logged.run_id)
    assert run.data.metrics["resolution_100gev"] == pytest.approx(0.08)
    assert run.data.metrics["report.NI_GSC.worst"] == pytest.approx(0.012)
    assert run.data.metrics["report.NI_GSC.bins.1"] == pytest.approx(0.99)
    assert not any(key.startswith("report.bins") for key in run.data.metrics)
    assert run.data.params["numericalinversion__quantity"] == "e_reco"
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(logged.run_id, "report")}
    assert artifacts == {"report/metrics.json", "report/index.html"}
    assert logged.registered_name is None and logged.registry_uri is None


def test_versions_increment_and_the_alias_moves(store: Path, fitted, jets: pd.DataFrame) -> None:
    first = log_calibrator(fitted, jets.head(), name="jes", alias="champion")
    second = log_calibrator(fitted, jets.head(), name="jes", alias="champion")
    assert (first.version, second.version) == (1, 2)
    assert int(mlflow.MlflowClient().get_model_version_by_alias("jes", "champion").version) == 2
    assert load_calibrator("models:/jes/1") is not None


def test_an_active_run_is_used_and_left_open(store: Path, fitted, jets: pd.DataFrame) -> None:
    with mlflow.start_run() as run:
        logged = log_calibrator(fitted, jets.head())
        assert mlflow.active_run().info.run_id == run.info.run_id == logged.run_id


def test_epoch_logger_records_per_epoch_losses_without_ending_the_run(
    store: Path, jets: pd.DataFrame
) -> None:
    from skcal.neural import GDNCalibrator

    net = GDNCalibrator(
        max_epochs=3,
        batch_size=512,
        module__hidden_sizes=(8,),
        random_state=0,
        callbacks=[epoch_logger()],
        verbose=0,
    )
    with mlflow.start_run() as run:
        net.fit(jets[FEATURES].iloc[:3000], (jets.e_reco / jets.e_true).iloc[:3000])
        assert mlflow.active_run() is not None
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
    assert len(history) == 3


@pytest.mark.parametrize(
    "uri", ["models:/no-such-model@champion", "models:/jes/99", "runs:/0123456789abcdef/model"]
)
def test_an_unknown_model_uri_is_a_clear_error(store: Path, uri: str) -> None:
    with pytest.raises(ModelNotFoundError, match="no calibration at"):
        load_calibrator(uri)


def test_bad_calls(store: Path, fitted, jets: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="alias 'champion' needs a registered model name"):
        log_calibrator(fitted, jets.head(), alias="champion")
    with pytest.raises(DataError, match="input_example lacks the model's input column 'm_reco'"):
        log_calibrator(fitted, jets.head()[["e_reco", "pt_reco", "eta"]])
    with pytest.raises(NotFittedError, match="no feature_names_in_"):
        log_calibrator(NumericalInversion(), jets.head())
    with pytest.raises(DataError, match="report_dir .* is not a folder"):
        log_calibrator(fitted, jets.head(), report_dir=store / "nowhere")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": 3}, "'name' parameter of log_calibrator must be an instance of 'str' or None"),
        ({"alias": ["champion"]}, "'alias' parameter of log_calibrator"),
        ({"metrics": [("closure", 0.01)]}, "'metrics' parameter of log_calibrator"),
        ({"report_dir": 7}, "'report_dir' parameter of log_calibrator"),
        ({"artifact_name": None}, "'artifact_name' parameter of log_calibrator"),
    ],
)
def test_bad_parameters_are_parameter_errors(
    store: Path, fitted, jets: pd.DataFrame, kwargs: dict, match: str
) -> None:
    with pytest.raises(ParameterError, match=match):
        log_calibrator(fitted, jets.head(), **kwargs)
