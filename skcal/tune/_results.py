"""The end of a sweep: the failed trials, the best trial's pipeline and its MLflow run."""

from __future__ import annotations

import json
import math
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import clone

from skcal._optional import import_optional
from skcal.exceptions import ConfigError
from skcal.tune._params import step_prefix
from skcal.tune._space import decode
from skcal.tune._tracking import log_best
from skcal.tune._trial import CHECKPOINT_FILE, MetricNotReportedError, TrialData

__all__ = ["SweepResult", "conclude"]


@dataclass(frozen=True)
class SweepResult:
    """What :func:`tune_pipeline` returns.

    Attributes
    ----------
    grid : ray.tune.ResultGrid
        Every trial: its parameters (``result.config``), metrics, per-epoch history
        (``result.metrics_dataframe``), checkpoint and error.
    best_pipeline : estimator
        The best trial's fitted pipeline, loaded from its checkpoint (or refitted).
    best_params : dict
        The best trial's parameters, named as in ``pipeline.get_params()``.
    best_result : ray.tune.Result
        The best trial's result.
    path : str
        The sweep's folder (``storage_path/name``), from which it can be resumed.
    mlflow_run_id : str or None
        The MLflow run holding the best model, when logging to MLflow.
    errors : list of (dict, exception)
        The parameters and the exception of each failed trial.

    Examples
    --------
    >>> import dataclasses
    >>> from skcal.tune import SweepResult
    >>> [f.name for f in dataclasses.fields(SweepResult)][:3]
    ['grid', 'best_pipeline', 'best_params']
    """

    grid: Any
    best_pipeline: Any
    best_params: dict[str, Any]
    best_result: Any
    path: str
    mlflow_run_id: str | None = None
    errors: list[tuple[dict[str, Any], BaseException]] = field(default_factory=list)


def conclude(
    grid: Any,
    pipeline: Any,
    decoder: dict[str, Any],
    metric: str,
    mode: str,
    path: str,
    refit: bool,
    data: TrialData,
    uri: str | None,
    name: str,
) -> SweepResult:
    """The sweep's result: its best trial's pipeline (checkpointed or refitted), logged to
    MLflow at ``uri``; ConfigError when no trial finished, a warning when some failed."""
    results = [grid[i] for i in range(len(grid))]
    errors = _errors(results, decoder)
    done = _finished(results, errors, metric, refit, path)
    _warn_incomplete(results, errors, path)
    sign = 1.0 if mode == "min" else -1.0
    best = min(done, key=lambda r: sign * float(r.metrics[metric]))
    params = decode({k: v for k, v in best.config.items()}, decoder)
    if refit:
        best_pipeline = _refit(pipeline, params, data)
    else:
        with best.checkpoint.as_directory() as folder:
            best_pipeline = joblib.load(Path(folder) / CHECKPOINT_FILE)
    run_id = None if uri is None else _log_best(best, best_pipeline, data, uri, name)
    return SweepResult(
        grid=grid,
        best_pipeline=best_pipeline,
        best_params=params,
        best_result=best,
        path=path,
        mlflow_run_id=run_id,
        errors=errors,
    )


def _errors(results: list[Any], decoder: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """The parameters and the error of each failed trial."""
    return [
        (decode(r.config or _saved_config(r), decoder), r.error)
        for r in results
        if r.error is not None
    ]


def _finished(
    results: list[Any],
    errors: list[tuple[dict[str, Any], Any]],
    metric: str,
    refit: bool,
    path: str,
) -> list[Any]:
    """The trials with a finite ``metric`` (and a checkpoint, unless refitting)."""
    metric_errors = [e for _, e in errors if isinstance(e, MetricNotReportedError)]
    if metric_errors and len(metric_errors) == len(results):
        raise ConfigError(str(getattr(metric_errors[0], "cause", None) or metric_errors[0]))
    done = [
        r
        for r in results
        if r.error is None
        and r.metrics
        and metric in r.metrics
        and np.isfinite(r.metrics[metric])
        and (refit or r.checkpoint is not None)
    ]
    if not done:
        details = "; ".join(f"{params}: {_last_line(e)}" for params, e in errors[:3])
        raise ConfigError(
            f"no trial of the sweep at {path} finished with a finite {metric!r} "
            f"({len(errors)} of {len(results)} failed{': ' + details if details else ''}); an "
            "interrupted sweep continues with resume=True"
        )
    return done


def _warn_incomplete(
    results: list[Any], errors: list[tuple[dict[str, Any], Any]], path: str
) -> None:
    """RuntimeWarnings for an interrupted sweep and for failed trials."""
    unfinished = _unfinished(path)
    if unfinished > 0:
        warnings.warn(
            f"the sweep at {path} was interrupted with {unfinished} of {len(results)} trials "
            "unfinished; call tune_pipeline again with the same storage_path and name and "
            "resume=True to finish it",
            RuntimeWarning,
            stacklevel=4,
        )
    if errors:
        details = "; ".join(f"{params} -> {_last_line(e)}" for params, e in errors)
        warnings.warn(
            f"{len(errors)} of {len(results)} trials failed (see SweepResult.errors): {details}",
            RuntimeWarning,
            stacklevel=4,
        )


def _log_best(best: Any, pipeline: Any, data: TrialData, uri: str, name: str) -> str:
    """Log the best pipeline and its finite numeric metrics to MLflow; the run id."""
    numbers_only = {
        k: float(v)
        for k, v in best.metrics.items()
        if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))
    }
    trial_id = str(best.metrics.get("trial_id", ""))
    return log_best(pipeline, data.X, uri, name, numbers_only, trial_id)


def _last_line(error: BaseException) -> str:
    """The exception's own message: the last line of what Ray wraps in a remote traceback."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:300]


def _saved_config(result: Any) -> dict[str, Any]:
    """A trial's parameters from its folder (a resumed sweep gives failed trials no config)."""
    try:
        return json.loads((Path(result.path) / "params.json").read_text())
    except (OSError, TypeError, ValueError):
        return {}


def _unfinished(path: str) -> int:
    """Trials that the sweep's saved state leaves to run (an interrupted sweep), 0 if unknown.

    Ray marks interrupted trials as terminated in the returned grid, but saves them as
    pending or running: what ``resume=True`` continues.
    """
    tune = import_optional("ray.tune", purpose="tune_pipeline")
    try:
        trials = tune.ExperimentAnalysis(path).trials
    except Exception:
        return 0
    return sum(str(t.status) not in ("TERMINATED", "ERROR") for t in trials)


def _refit(pipeline: Any, params: dict[str, Any], data: TrialData) -> Any:
    """The best parameters fitted again on the training jets (not the validation jets)."""
    fitted = clone(pipeline).set_params(**params)
    fit_params = (
        {}
        if data.sample_weight is None
        else {f"{step_prefix(fitted)}sample_weight": data.sample_weight}
    )
    return fitted.fit(data.X, data.y, **fit_params)
