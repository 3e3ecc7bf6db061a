"""Real sweeps on the session's local Ray (2 CPUs): ASHA, MLflow, resume, failures, metric
checks."""

from __future__ import annotations

import os
import signal
import warnings

import numpy as np
import pandas as pd
import pytest
from ray import tune
from skorch.callbacks import GradientNormClipping

from skcal.exceptions import ConfigError
from skcal.tracking import load_calibrator, use_store
from skcal.tune import tune_pipeline

from .conftest import BINS, mdn_pipeline

pytestmark = pytest.mark.slow

EPOCHS = 4


class _InterruptOnce(tune.Callback):
    """Interrupts the sweep (as Ctrl+C would) once, at a trial's report of epoch ``epoch``."""

    def __init__(self, marker: str, lr: float, epoch: int) -> None:
        self.marker, self.lr, self.epoch = marker, lr, epoch

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if (
            trial.config.get("mdncalibrator__lr") == self.lr
            and result["epoch"] == self.epoch
            and not os.path.exists(self.marker)
        ):
            open(
                self.marker, "w"
            ).close()  # the callback is restored with the sweep: interrupt only once
            os.kill(
                os.getpid(), signal.SIGUSR1
            )  # Ray Tune's own "stop and save" signal, like SIGINT


def _check_predicts(pipe, X):
    r = pipe.predict(X)
    assert r.shape == (len(X),) and np.isfinite(r).all() and (r > 0).all()


def test_asha_sweep_stops_poor_trials_and_logs_every_trial_to_mlflow(ray_cluster, jets, tmp_path):
    X, y, truth = jets
    uri = use_store(root=tmp_path / "mlflow", experiment=None)
    # lr=1e-6 barely moves: ASHA stops such a trial at its first rung (grace period 1) once
    # a good one has recorded its loss there. Ray varies the first grid key fastest, so the
    # two good trials run first (two at a time on 2 CPUs), the poor ones after them.
    space = {
        "mdncalibrator__module__hidden_sizes": tune.grid_search([(8,), (16,)]),
        "mdncalibrator__lr": tune.grid_search([3e-3, 1e-6]),
    }
    result = tune_pipeline(
        mdn_pipeline(EPOCHS),
        space,
        X,
        y,
        figure_of_merit={"truth": truth, "bins": BINS, "min_entries": 30},
        num_samples=1,
        seed=0,
        storage_path=tmp_path / "sweeps",
        name="asha",
        mlflow=uri,
        verbose=0,
    )
    frame = result.grid.get_dataframe()
    assert len(frame) == 4 and result.grid.num_errors == 0
    lr, epochs = frame["config/mdncalibrator__lr"], frame["training_iteration"]
    assert (epochs < EPOCHS).any(), frame[["config/mdncalibrator__lr", "training_iteration"]]
    assert epochs[lr == 3e-3].max() == EPOCHS and epochs[lr == 1e-6].min() == 1
    assert result.best_params["mdncalibrator__lr"] == 3e-3
    assert result.best_params["mdncalibrator__module__hidden_sizes"] in [(8,), (16,)]
    history = result.best_result.metrics_dataframe
    assert list(history.epoch) == list(range(1, EPOCHS + 1))
    assert {"valid_loss", "train_loss", "valid_fom", "valid_closure", "valid_resolution"} <= set(
        history.columns
    )
    assert np.isfinite(history.valid_fom).all()
    _check_predicts(result.best_pipeline, X)
    # the checkpointed pipeline is the trial's: the same validation loss as its last report
    assert result.best_pipeline[-1].history[-1, "valid_loss"] == pytest.approx(
        history.valid_loss.iloc[-1]
    )
    assert not any(
        type(cb).__name__ in ("TuneReporter", "ClosureMonitor")
        for _, cb in result.best_pipeline[-1].callbacks_
    )

    import mlflow

    runs = mlflow.search_runs(experiment_names=["asha"], output_format="list")
    trial_runs = [r for r in runs if "trial_name" in r.data.tags]
    assert len(trial_runs) == 4 and {r.data.params["mdncalibrator__lr"] for r in trial_runs} == {
        "0.003",
        "1e-06",
    }
    full = next(
        r
        for r in trial_runs
        if r.data.tags["trial_name"].endswith(result.best_result.metrics["trial_id"])
    )
    steps = mlflow.MlflowClient().get_metric_history(full.info.run_id, "valid_loss")
    assert len(steps) == EPOCHS
    best = load_calibrator(f"runs:/{result.mlflow_run_id}/model")
    np.testing.assert_allclose(best.predict(X.head(50)), result.best_pipeline.predict(X.head(50)))

    with pytest.raises(ConfigError, match="resume=True"):  # the same name again, without resume
        tune_pipeline(
            mdn_pipeline(EPOCHS), space, X, y, storage_path=tmp_path / "sweeps", name="asha"
        )


def test_interrupted_sweep_resumes_and_a_failing_trial_does_not_end_it(ray_cluster, jets, tmp_path):
    X, y, _ = jets
    # one trial at a time, in this order; a negative learning rate makes torch raise in that trial
    space = {"mdncalibrator__lr": tune.grid_search([3e-3, -1.0, 1e-3])}
    kwargs = dict(
        num_samples=1,
        scheduler="fifo",
        max_concurrent_trials=1,
        checkpoint_every=1,
        storage_path=tmp_path / "sweeps",
        name="resumable",
        verbose=0,
    )
    interrupt = _InterruptOnce(
        str(tmp_path / "interrupted"), lr=1e-3, epoch=2
    )  # in the middle of the last trial
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = tune_pipeline(mdn_pipeline(3), space, X, y, tune_callbacks=[interrupt], **kwargs)
    assert any("interrupted with 1 of 3 trials unfinished" in str(w.message) for w in caught)
    done_id = next(
        r.metrics["trial_id"] for r in first.grid if r.config["mdncalibrator__lr"] == 3e-3
    )

    with pytest.warns(
        RuntimeWarning, match=r"1 of 3 trials failed.*-1\.0.*'lr' parameter of MDNCalibrator"
    ):
        second = tune_pipeline(mdn_pipeline(3), space, X, y, resume=True, **kwargs)
    assert len(second.grid) == 3 and second.grid.num_errors == 1
    assert second.errors[0][0] == {"mdncalibrator__lr": -1.0}
    results = {r.metrics.get("trial_id"): r for r in second.grid if r.error is None}
    kept = results.pop(done_id)
    assert list(kept.metrics_dataframe.epoch) == [
        1,
        2,
        3,
    ]  # the finished trial was kept, not run again
    (resumed,) = results.values()
    assert resumed.metrics["epoch"] == 3
    assert list(resumed.metrics_dataframe.epoch).count(1) == 1, (
        "the interrupted trial restarted from scratch"
    )
    with resumed.checkpoint.as_directory() as folder:
        assert len(load_calibrator(os.path.join(folder, "pipeline.joblib"))[-1].history) == 3
    assert second.best_params["mdncalibrator__lr"] in (3e-3, 1e-3)
    _check_predicts(second.best_pipeline, X)


def test_a_metric_missing_at_run_time_ends_the_sweep_with_a_clear_error(
    ray_cluster, jets, tmp_path
):
    X, y, _ = jets
    pipe = mdn_pipeline(2).set_params(
        mdncalibrator__callbacks=[GradientNormClipping(10.0)]
    )  # may record anything
    with pytest.raises(
        ConfigError, match=r"'valid_fom' is never reported.*they report \[.*'valid_loss'"
    ):
        tune_pipeline(
            pipe,
            {"mdncalibrator__lr": tune.grid_search([1e-3, 2e-3, 3e-3, 4e-3])},
            X,
            y,
            metric="valid_fom",
            num_samples=1,
            max_concurrent_trials=1,
            storage_path=tmp_path / "sweeps",
            name="missing",
            verbose=0,
        )
    started = list((tmp_path / "sweeps" / "missing").glob("train_pipeline_*"))
    assert 1 <= len(started) < 4, (
        f"the sweep went on after the first trial found the metric missing: {started}"
    )


def test_numerical_inversion_on_a_dask_table_of_root_files_reports_once(ray_cluster, tmp_path):
    """A Dask-backed table travels to the trials as its graph of file reads, not as the jets."""
    import cloudpickle
    from sklearn.pipeline import make_pipeline

    from skcal.datasets import make_jets
    from skcal.inversion import NumericalInversion
    from skcal.io import read_jets, write_root

    write_root(make_jets(3000, random_state=3), tmp_path / "train.root", chunk_size=1000)
    table = read_jets(tmp_path / "train.root", dask=True, step_size=1000)
    X, y = table[["e_reco", "pt_reco", "eta"]], table.e_reco / table.e_true
    assert len(cloudpickle.dumps(X)) < 20_000  # 3000 jets x 3 columns would be 72 kB
    valid = make_jets(1000, random_state=4)
    pipe = make_pipeline(
        NumericalInversion(
            condition={"abs_eta": [0, 4.5]}, target_bins=np.geomspace(20, 6000, 9), min_entries=20
        )
    )
    result = tune_pipeline(
        pipe,
        {"numericalinversion__poly_order": tune.grid_search([1, 2])},
        X,
        y,
        X_val=valid[["e_reco", "pt_reco", "eta"]],
        y_val=valid.e_reco / valid.e_true,
        metric="valid_fom",
        figure_of_merit={"truth": valid[["pt_true"]], "bins": BINS, "min_entries": 30},
        num_samples=1,
        storage_path=tmp_path / "sweeps",
        verbose=0,
    )
    assert result.grid.num_errors == 0 and len(result.grid) == 2
    assert all(
        r.metrics["training_iteration"] == 1 and np.isfinite(r.metrics["valid_fom"])
        for r in result.grid
    )
    _check_predicts(result.best_pipeline, valid[["e_reco", "pt_reco", "eta"]])


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_trials_train_on_the_trial_device(ray_cluster, jets, tmp_path):
    if not ray_cluster.cluster_resources().get("GPU", 0):
        pytest.skip("the Ray cluster of this session has no GPU")
    X, y, _ = jets
    result = tune_pipeline(
        mdn_pipeline(2),
        {"mdncalibrator__lr": tune.grid_search([1e-3, 3e-3])},
        X,
        y,
        num_samples=1,
        resources_per_trial={"cpu": 1, "gpu": 0.5},
        storage_path=tmp_path / "sweeps",
        verbose=0,
    )
    assert result.grid.num_errors == 0
    assert result.best_pipeline[-1].device == "cuda"
    _check_predicts(result.best_pipeline, pd.DataFrame(X))
