"""The quick-start job end to end, at a small size."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlflow
from skcal.cli import main
from skcal.tracking import load_calibrator, use_store


@pytest.mark.slow
def test_demo_fits_reports_logs_registers_and_loads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert (
        main(["demo", "-o", str(out), "--n-train", "120000", "--n-test", "40000", "--epochs", "1"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "identical predictions" in printed and "models:/skcal-demo-mdn@champion" in printed
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        "test.root",
        "train_000.root",
        "train_001.root",
        "train_002.root",
        "train_003.root",
    ]
    assert (out / "report" / "index.html").is_file() and (out / "report" / "metrics.json").is_file()
    assert (out / "mlflow-store" / "mlflow.db").is_file()
    use_store(root=out / "mlflow-store", experiment=None)
    try:
        runs = mlflow.search_runs(experiment_names=["skcal-demo"])
        assert len(runs) == 2 and runs["metrics.worst_closure"].notna().all()
        loaded = load_calibrator("models:/skcal-demo-mdn@champion")
        assert loaded.calibrator_.steps[-1][0] == "mdncalibrator"
        assert loaded.inversion_.cell_status_.size > 0  # the residual inversion came back too
    finally:
        mlflow.set_tracking_uri(None)
