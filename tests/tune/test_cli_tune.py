"""``skcal tune``: a sweep from a configuration file, on a real local Ray and real ROOT files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from skcal.cli import main
from skcal.datasets import make_jets
from skcal.io import write_root
from skcal.tracking import load_calibrator


def _config(tmp_path: Path, **tune: object) -> Path:
    write_root(make_jets(4000, random_state=5), tmp_path / "jets.root", overwrite=True)
    config = {
        "data": {"source": str(tmp_path / "jets.root")},
        "features": ["e_reco", "pt_reco", "eta"],
        "pipeline": [
            {"LogTransformer": {"columns": ["e_reco", "pt_reco"]}},
            {
                "GDNCalibrator": {
                    "max_epochs": 2,
                    "batch_size": 512,
                    "module__hidden_sizes": [8],
                    "verbose": 0,
                }
            },
        ],
        "output": {"model": str(tmp_path / "best.joblib")},
        "tune": {
            "param_space": {"gdncalibrator__lr": {"choice": [0.001, 0.003]}},
            "num_samples": 2,
            "storage_path": str(tmp_path / "sweeps"),
            **tune,
        },
    }
    path = tmp_path / "tune.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_tune_command_sweeps_and_saves_the_best_pipeline(
    ray_cluster: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tune", str(_config(tmp_path, address="auto"))]) == 0
    printed = capsys.readouterr().out
    assert "best valid_loss" in printed and "gdncalibrator__lr" in printed
    best = load_calibrator(tmp_path / "best.joblib")
    assert best.steps[-1][1].lr in (0.001, 0.003)


@pytest.mark.parametrize(
    ("tune", "message"),
    [
        ({"num_sample": 3}, "unknown key tune.num_sample (did you mean 'num_samples'?)"),
        (
            {"param_space": {"gdncalibrator__lr": {"logunifrom": [1e-4, 1e-2]}}},
            "must be one domain",
        ),
        ({"num_samples": "many"}, "tune.num_samples must be int"),
    ],
)
def test_invalid_tune_sections_name_the_key(
    tmp_path: Path, tune: dict, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tune", str(_config(tmp_path, **tune))]) == 2
    assert message in capsys.readouterr().err


def test_a_config_without_a_tune_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path)
    config = yaml.safe_load(path.read_text())
    del config["tune"]
    path.write_text(yaml.safe_dump(config))
    assert main(["tune", str(path)]) == 2
    assert "has no tune section" in capsys.readouterr().err
