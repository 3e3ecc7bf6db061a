"""``skcal export`` on the command line, and ``log_calibrator(..., export=...)``."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.pipeline import make_pipeline

from skcal.cli import main
from skcal.inversion import NumericalInversion
from skcal.neural import GDNCalibrator
from skcal.preprocessing import SymmetricScaler
from skcal.tracking import save_calibrator

from .conftest import standalone_inputs

COLUMNS = ["e_reco", "pt_reco", "eta"]


@pytest.fixture(scope="module")
def models(jets, tmp_path_factory):
    train, r, _ = jets
    folder = tmp_path_factory.mktemp("models")
    gdn = make_pipeline(
        SymmetricScaler(), GDNCalibrator(max_epochs=1, module__hidden_sizes=(8,), random_state=0)
    ).set_output(transform="pandas")
    gdn.fit(train[COLUMNS], r)
    ni = NumericalInversion(condition={"abs_eta": [0, 2, 4.5]}, n_grid=16).fit(train[COLUMNS], r)
    save_calibrator(gdn, folder / "gdn.joblib")
    save_calibrator(ni, folder / "ni.joblib")
    return folder, gdn, ni


def test_export_command_writes_onnx_and_json(models, jets, tmp_path, capsys):
    folder, gdn, ni = models
    test = jets[2]
    assert main(["export", str(folder / "gdn.joblib"), "-o", str(tmp_path / "c.onnx")]) == 0
    session = ort.InferenceSession(str(tmp_path / "c.onnx"), providers=["CPUExecutionProvider"])
    (response,) = session.run(["response"], standalone_inputs(test, COLUMNS))
    assert np.max(np.abs(response / gdn.predict(test[COLUMNS]) - 1)) < 1e-5
    assert main(["export", str(folder / "ni.joblib"), "-o", str(tmp_path / "c.json")]) == 0
    assert (tmp_path / "c.json").read_text().startswith("{")
    assert str(tmp_path / "c.json") in capsys.readouterr().out


def test_export_command_errors(models, tmp_path, capsys):
    folder, _, _ = models
    assert main(["export", str(folder / "gdn.joblib"), "-o", str(tmp_path / "c.txt")]) == 2
    assert "the format comes from the suffix" in capsys.readouterr().err
    assert main(["export", str(folder / "gdn.joblib"), "-o", str(tmp_path / "c.json")]) == 2
    assert "cannot be exported to correctionlib" in capsys.readouterr().err
    (tmp_path / "old.onnx").write_bytes(b"keep")
    assert main(["export", str(folder / "gdn.joblib"), "-o", str(tmp_path / "old.onnx")]) == 2
    assert (tmp_path / "old.onnx").read_bytes() == b"keep"


def test_log_calibrator_logs_the_onnx_file(models, jets, tmp_path):
    pytest.importorskip("mlflow")
    import mlflow
    from skcal.tracking import log_calibrator, use_store

    _, gdn, _ = models
    use_store(root=tmp_path / "store")
    logged = log_calibrator(gdn, jets[2][COLUMNS].head(), export="onnx")
    local = mlflow.artifacts.download_artifacts(
        f"runs:/{logged.run_id}/model_export/calibration.onnx", dst_path=str(tmp_path / "dl")
    )
    session = ort.InferenceSession(local, providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["response", "sigma"]
