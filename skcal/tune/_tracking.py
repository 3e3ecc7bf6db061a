"""MLflow logging of a sweep: one run per trial (parameters and per-epoch metrics), and the
best model."""

from __future__ import annotations

from typing import Any

import pandas as pd

from skcal._optional import import_optional
from skcal.exceptions import ConfigError

__all__ = ["log_best", "trial_logger", "tracking_uri"]


def tracking_uri(mlflow: bool | str | None, experiment: str) -> str | None:
    """Point MLflow at the store of :mod:`skcal.tracking` and create the sweep's experiment.

    ``True`` is skcal's local SQLite store (``mlflow-store`` in the working directory);
    a string is any tracking URI; ``None`` or ``False`` turns logging off.
    """
    if mlflow is None or mlflow is False:
        return None
    from skcal.tracking import use_store

    if mlflow is True:
        return use_store(experiment=experiment)
    if not isinstance(mlflow, str):
        raise ConfigError(f"mlflow must be True, a tracking URI or None, got {mlflow!r}")
    return use_store(mlflow, experiment=experiment)


def trial_logger(uri: str, experiment: str) -> Any:
    """Ray's MLflow callback: a run per trial with its parameters and every reported epoch."""
    integration = import_optional(
        "ray.air.integrations.mlflow", purpose="tune_pipeline(mlflow=...)"
    )
    return integration.MLflowLoggerCallback(
        tracking_uri=uri,
        registry_uri=uri,
        experiment_name=experiment,
        tags={"skcal.sweep": experiment},
        save_artifact=False,
    )


def log_best(
    pipeline: Any, X: Any, uri: str, experiment: str, metrics: dict[str, float], trial_id: str
) -> str:
    """Log the best pipeline as a calibration model in a run of its own; return the run id."""
    mlflow = import_optional("mlflow", purpose="tune_pipeline(mlflow=...)")
    from skcal.tracking import log_calibrator, use_store

    use_store(uri, experiment=experiment)
    example = X.head(5)
    if not isinstance(example, pd.DataFrame):  # a Dask DataFrame's head is computed already
        example = pd.DataFrame(example)
    with mlflow.start_run(
        run_name=f"{experiment}-best",
        tags={"skcal.sweep": experiment, "skcal.best_trial_id": trial_id},
    ) as run:
        log_calibrator(pipeline, example, metrics=metrics)
    return run.info.run_id
