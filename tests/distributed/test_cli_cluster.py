"""``skcal fit``, ``evaluate`` and ``calibrate`` on a Dask cluster from configuration, over
real ROOT files: the same model as without a cluster (NI exactly, the MDN with the same
seed), and the same calibrated files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import distributed
import numpy as np
import pytest
import torch
import uproot
import yaml

from skcal.cli import main
from skcal.datasets import make_jets
from skcal.io import write_root
from skcal.tracking import load_calibrator

FEATURES = ["e_reco", "pt_reco", "eta", "mu"]
LOCAL = {"kind": "local", "jobs": 2, "cores": 1, "memory": "2 GiB"}
NI = [{"NumericalInversion": {"min_entries": 50, "condition": {"abs_eta": [0.0, 1.5, 4.5]}}}]
MDN = [
    {"SymmetricScaler": {}},
    {
        "MDNCalibrator": {
            "n_components": 2,
            "max_epochs": 1,
            "batch_size": 512,
            "module__hidden_sizes": [16],
            "random_state": 0,
        }
    },
]


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def jet_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jets")
    write_root(make_jets(20_000, random_state=1), folder / "train_0.root")
    write_root(make_jets(20_000, random_state=2), folder / "train_1.root")
    write_root(make_jets(3_000, random_state=3), folder / "test.root")
    return folder


def _fit(tmp_path: Path, jet_files: Path, name: str, pipeline: Any, cluster: Any) -> Any:
    config: dict[str, Any] = {
        "data": {"source": str(jet_files / "train_*.root"), "dask": True, "step_size": 8_000},
        "features": FEATURES,
        "pipeline": pipeline,
        "output": {"model": str(tmp_path / f"{name}.joblib")},
    }
    if cluster is not None:
        config["cluster"] = cluster
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["fit", str(path)]) == 0
    return load_calibrator(tmp_path / f"{name}.joblib")


@pytest.mark.slow
def test_fit_on_a_local_cluster_gives_the_same_ni_as_without(
    tmp_path: Path, jet_files: Path
) -> None:
    alone = _fit(tmp_path, jet_files, "alone", NI, None)
    on_cluster = _fit(tmp_path, jet_files, "cluster", NI, LOCAL)
    a, b = alone[-1], on_cluster[-1]
    np.testing.assert_array_equal(a.response_grid_, b.response_grid_)
    np.testing.assert_array_equal(a.log_reco_grid_, b.log_reco_grid_)
    assert a.n_outside_ == b.n_outside_
    test = uproot.open(jet_files / "test.root")["jets"].arrays(FEATURES, library="pd")
    np.testing.assert_array_equal(alone.predict(test), on_cluster.predict(test))


@pytest.mark.slow
def test_fit_on_a_local_cluster_gives_the_same_mdn_with_the_same_seed(
    tmp_path: Path, jet_files: Path
) -> None:
    alone = _fit(tmp_path, jet_files, "alone", MDN, None)
    on_cluster = _fit(tmp_path, jet_files, "cluster", MDN, LOCAL)
    a, b = alone[-1].module_.state_dict(), on_cluster[-1].module_.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    test = uproot.open(jet_files / "test.root")["jets"].arrays(FEATURES, library="pd")
    np.testing.assert_array_equal(alone.predict(test), on_cluster.predict(test))


@pytest.mark.slow
def test_calibrate_and_evaluate_run_on_a_running_scheduler(tmp_path: Path, jet_files: Path) -> None:
    model = _fit(tmp_path, jet_files, "ni", NI, None)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        spec = tmp_path / "site.yaml"
        spec.write_text(yaml.safe_dump({"cluster": {"address": cluster.scheduler_address}}))
        out = tmp_path / "calibrated"
        out.mkdir()
        args = [str(jet_files / "test.root"), "-m", str(tmp_path / "ni.joblib"), "-o", str(out)]
        assert main(["calibrate", *args, "--step-size", "1000", "-q", "--cluster", str(spec)]) == 0
        report = tmp_path / "report"
        ev = ["evaluate", "-m", f"NI={tmp_path / 'ni.joblib'}", "-d", str(jet_files / "test.root")]
        assert main([*ev, "-o", str(report), "--dask", "--cluster", str(spec)]) == 0
        assert main([*ev, "-o", str(tmp_path / "r2"), "--cluster", str(spec)]) == 2  # no --dask
    table = uproot.open(out / "test_calib.root")["jets"].arrays(library="pd")
    original = uproot.open(jet_files / "test.root")["jets"].arrays(library="pd")
    np.testing.assert_array_equal(table.r_pred, model.predict(original[FEATURES]))
    assert (report / "index.html").is_file()
