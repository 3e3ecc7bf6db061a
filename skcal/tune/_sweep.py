"""tune_pipeline: a Ray Tune sweep of any skcal pipeline, over its own parameter names."""

from __future__ import annotations

import json
import numbers
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import clone

from skcal._optional import import_optional
from skcal._validation import is_dask
from skcal.exceptions import ConfigError, DataError
from skcal.tune._cluster import check_resources, connect, metric_guard, parse_resources
from skcal.tune._params import check_param_names, final_step, is_net, step_prefix
from skcal.tune._space import decode, encode_space, upper_bound
from skcal.tune._tracking import log_best, tracking_uri, trial_logger
from skcal.tune._trial import (
    CHECKPOINT_FILE,
    RAY_METRICS,
    MetricNotReportedError,
    TrialData,
    TrialSpec,
    train_pipeline,
)

__all__ = ["SweepResult", "tune_pipeline"]

_SEARCHES = ("random", "optuna")
_SCHEDULERS = ("asha", "fifo")
#: What every epoch of a skcal neural calibrator records (skorch's history).
_NET_METRICS = frozenset({"epoch", "dur", "train_loss", "train_batch_count"})
_VALID_METRICS = frozenset({"valid_loss", "valid_batch_count"})


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


def _check_choice(name: str, value: Any, choices: tuple[str, ...], kind: str) -> None:
    if isinstance(value, str) and value not in choices:
        raise ConfigError(f"{name} must be one of {list(choices)} or a {kind}, got {value!r}")


def _n_rows(data: Any) -> int | None:
    return None if data is None or is_dask(data) else len(data)


def _holdout(
    X: Any, y: Any, w: Any, truth: Any, fraction: float, seed: int | None
) -> tuple[Any, ...]:
    """Split in-memory jets into training and validation jets (seeded, random rows)."""
    n = len(X)
    n_val = int(round(fraction * n))
    if n_val < 1 or n_val >= n:
        raise DataError(
            f"validation_fraction={fraction} of {n} jets leaves no validation or no training jets"
        )
    perm = np.random.default_rng(seed).permutation(n)
    val, train = np.sort(perm[:n_val]), np.sort(perm[n_val:])

    def take(a: Any, rows: np.ndarray) -> Any:
        if a is None:
            return None
        return a.iloc[rows] if hasattr(a, "iloc") else np.asarray(a)[rows]

    return (
        take(X, train),
        take(y, train),
        take(w, train),
        take(X, val),
        take(y, val),
        take(truth, val),
    )


def _monitor_options(
    figure_of_merit: Mapping[str, Any] | None,
) -> tuple[Any, dict[str, Any] | None]:
    """The validation truth and the other ClosureMonitor options."""
    if figure_of_merit is None:
        return None, None
    options = dict(figure_of_merit)
    missing = [k for k in ("truth", "bins") if k not in options]
    if missing:
        raise ConfigError(
            f"figure_of_merit needs the key(s) {missing}: the truth columns of the validation jets "
            "and the bins of the closure, e.g. {'truth': jets[['pt_true']], 'bins': "
            "{'pt_true': [20, 100, 1000]}}"
        )
    allowed = {"truth", "bins", "closure", "resolution_weight", "min_entries", "name"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ConfigError(
            f"figure_of_merit has the unknown key(s) {unknown}; allowed: {sorted(allowed)}"
        )
    return options.pop("truth"), options


def _known_metrics(
    final: Any, monitor: dict[str, Any] | None, validated: bool
) -> tuple[set[str], bool]:
    """The metrics a trial will report, and whether that list is complete."""
    fom = set()
    if monitor is not None:
        name = monitor.get("name", "valid")
        fom = {f"{name}_closure", f"{name}_resolution", f"{name}_fom"}
    if not is_net(final):
        return {"epoch"} | fom | set(RAY_METRICS), True
    known = (
        set(_NET_METRICS) | fom | set(RAY_METRICS) | (set(_VALID_METRICS) if validated else set())
    )
    callbacks = final.callbacks
    return known, callbacks in (None, "disable") or len(callbacks) == 0


def _storage(storage_path: str | Path | None) -> str:
    if storage_path is None:
        return str(Path("skcal-tune").resolve())
    text = str(storage_path)
    return text if "://" in text else str(Path(text).expanduser().resolve())


def tune_pipeline(
    pipeline: Any,
    param_space: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    X_val: Any = None,
    y_val: Any = None,
    sample_weight: Any = None,
    validation_fraction: float = 0.2,
    figure_of_merit: Mapping[str, Any] | None = None,
    metric: str = "valid_loss",
    mode: str = "min",
    num_samples: int = 8,
    scheduler: Any = "asha",
    search: Any = "random",
    grace_period: int = 1,
    resources_per_trial: Mapping[str, float] | None = None,
    max_concurrent_trials: int | None = None,
    checkpoint_every: int = 0,
    storage_path: str | Path | None = None,
    name: str | None = None,
    resume: bool = False,
    address: str | None = None,
    mlflow: bool | str | None = None,
    refit: bool = False,
    seed: int | None = None,
    tune_callbacks: list[Any] | None = None,
    verbose: int = 1,
) -> SweepResult:
    """Sweep a pipeline's parameters with Ray Tune and return the best fitted pipeline.

    Each trial clones ``pipeline``, sets the trial's parameters, fits it on ``X, y``
    and, for a neural calibrator, reports ``train_loss``, ``valid_loss`` (and the
    closure figure of merit, with ``figure_of_merit``) after every epoch, so that ASHA
    stops poor trials early; the fitted pipeline is checkpointed at the last epoch.
    The jets go to Ray's object store once (a Dask collection travels as its lazy
    graph of file reads), not once per trial.

    Parameters
    ----------
    pipeline : estimator or Pipeline
        Unfitted; it is cloned, never modified.
    param_space : mapping of str to search space
        Keys are the pipeline's own parameter names (``"mdncalibrator__lr"``,
        ``"mdncalibrator__module__hidden_sizes"``), values Ray Tune search spaces
        (``tune.loguniform(1e-4, 1e-2)``, ``tune.choice([(32,), (64, 64)])``,
        ``tune.grid_search([...])``) or constants. An unknown name is an error that
        lists the valid ones, before anything starts.
    X, y : table (DataFrame, array or Dask collection) and responses ``E_reco / E_true``
    X_val, y_val : optional
        Validation jets. Without them, ``validation_fraction`` of in-memory jets are
        held out at random (seeded by ``seed``); Dask input needs them.
    sample_weight : array-like, optional
        Per-jet weights of ``X``, passed to the final step's ``fit``.
    validation_fraction : float, default 0.2
        Held-out fraction when ``X_val`` is not given.
    figure_of_merit : mapping, optional
        Measure the closure and resolution of the validation jets after every epoch
        (:class:`skcal.neural.callbacks.ClosureMonitor`), reported as ``valid_closure``,
        ``valid_resolution`` and ``valid_fom``: ``{"truth": <truth columns of the
        validation jets, or of X when they are held out>, "bins": {"pt_true": [...]},
        "closure": "mean", "resolution_weight": 1.0, "min_entries": 50}``.
    metric : str, default "valid_loss"
        The reported metric to optimise (``"valid_fom"`` with ``figure_of_merit``;
        non-neural pipelines report only the figure of merit). A metric that the
        trials never report is an error, raised at the first report.
    mode : {"min", "max"}, default "min"
    num_samples : int, default 8
        Trials (times every grid-search combination).
    scheduler : {"asha", "fifo"} or a Ray TrialScheduler, default "asha"
        ASHA stops trials whose metric is behind at epochs ``grace_period``,
        ``4 * grace_period``, ...; "fifo" runs every trial to the end.
    search : {"random", "optuna"} or a Ray Searcher, default "random"
    grace_period : int, default 1
        Epochs before ASHA may stop a trial.
    resources_per_trial : mapping, default ``{"cpu": 1, "gpu": 0}``
        Per trial; fractional GPUs share one device. Torch uses the trial's GPU
        (``device="cuda"``) and ``cpu`` threads. Asking for more than the cluster has
        (GPUs on a cluster without any) is an error, not trials waiting forever.
    max_concurrent_trials : int, optional
        At most this many trials at once (default: as many as the resources allow).
    checkpoint_every : int, default 0
        Also checkpoint every this many epochs (0: only the last epoch). An
        interrupted trial resumes from its latest checkpoint.
    storage_path : path or URI, optional
        Where the sweep's results and checkpoints go (default ``./skcal-tune``); on a
        cluster, a folder that every node sees, or ``s3://...``.
    name : str, optional
        The sweep's folder under ``storage_path`` (default: a time-stamped name).
    resume : bool, default False
        Continue the sweep at ``storage_path/name`` if it exists (finished trials
        are kept, unfinished ones continue); its saved search space, scheduler and
        settings are used. Without ``resume``, an existing sweep there is an error.
    address : str, optional
        Connect to this Ray cluster (``"auto"``, ``"ray://head:10001"``). Without it
        the running Ray is used, or a local one is started and stopped afterwards.
    mlflow : bool or str, optional
        Log every trial (parameters, per-epoch metrics) and the best model to MLflow:
        ``True`` for skcal's local store, or a tracking URI. The experiment is named
        after the sweep. Logging the model needs ``X`` as a DataFrame.
    refit : bool, default False
        Refit the best parameters on the training jets instead of loading the best
        trial's checkpoint.
    seed : int, optional
        Seeds the search algorithm and the validation hold-out.
    tune_callbacks : list of ray.tune.Callback, optional
        More Tune callbacks (loggers, progress reporters).
    verbose : int, default 1
        Ray Tune's verbosity (0 silent, 1 a status table).

    Returns
    -------
    SweepResult
        ``grid`` (Ray's ResultGrid), ``best_pipeline``, ``best_params``,
        ``best_result``, ``path``, ``errors`` (the failed trials' parameters and
        exceptions) and ``mlflow_run_id``.

    Raises
    ------
    ConfigError
        An unknown parameter name, a metric never reported, resources the cluster
        cannot give, a bad option; or when every trial failed.

    Warns
    -----
    RuntimeWarning
        When some trials failed (each one's parameters and error are in ``errors``);
        the others finish and the sweep goes on.

    Examples
    --------
    Parameter names are checked before anything starts:

    >>> import numpy as np, pandas as pd
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcal.neural import MDNCalibrator
    >>> from skcal.tune import tune_pipeline
    >>> pipe = make_pipeline(MDNCalibrator(max_epochs=4))
    >>> X = pd.DataFrame({"x": np.linspace(0, 1, 100)})
    >>> tune_pipeline(pipe, {"mdncalibrator__learning_rate": 1e-3}, X, 1 + 0.1 * X.x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ConfigError: param_space names 'mdncalibrator__learning_rate', which the pipeline does not have...

    A real sweep (see ``examples/tune_cluster.py``)::

        result = tune_pipeline(pipe, {"mdncalibrator__lr": tune.loguniform(1e-4, 1e-2),
                                      "mdncalibrator__module__hidden_sizes": tune.choice([(32,), (64, 64)])},
                               X, y, num_samples=16, resources_per_trial={"cpu": 4, "gpu": 0.5},
                               storage_path="/shared/sweeps", name="jes-mdn", address="auto")
        result.best_pipeline.predict(X_test)
    """
    # ---------------------------------------------------------- checks, before Ray
    if not isinstance(param_space, Mapping) or not param_space:
        raise ConfigError(
            f"param_space must be a non-empty mapping of parameter name to search space, "
            f"got {param_space!r}"
        )
    check_param_names(pipeline, list(param_space))
    if mode not in ("min", "max"):
        raise ConfigError(f"mode must be 'min' or 'max', got {mode!r}")
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"metric must be the name of a reported metric, got {metric!r}")
    if (
        isinstance(num_samples, bool)
        or not isinstance(num_samples, numbers.Integral)
        or num_samples < 1
    ):
        raise ConfigError(f"num_samples must be a positive integer, got {num_samples!r}")
    if (
        isinstance(checkpoint_every, bool)
        or not isinstance(checkpoint_every, numbers.Integral)
        or checkpoint_every < 0
    ):
        raise ConfigError(
            f"checkpoint_every must be a non-negative integer, got {checkpoint_every!r}"
        )
    if (
        isinstance(grace_period, bool)
        or not isinstance(grace_period, numbers.Integral)
        or grace_period < 1
    ):
        raise ConfigError(f"grace_period must be a positive integer, got {grace_period!r}")
    if not (isinstance(validation_fraction, numbers.Real) and 0 < validation_fraction < 1):
        raise ConfigError(
            f"validation_fraction must be strictly between 0 and 1, got {validation_fraction!r}"
        )
    _check_choice("search", search, _SEARCHES, "Ray Tune Searcher")
    _check_choice("scheduler", scheduler, _SCHEDULERS, "Ray Tune TrialScheduler")
    resources = parse_resources(resources_per_trial)
    truth, monitor = _monitor_options(figure_of_merit)
    if (X_val is None) != (y_val is None):
        raise DataError("give both X_val and y_val, or neither")
    if _n_rows(X) is not None and _n_rows(y) is not None and _n_rows(X) != _n_rows(y):
        raise DataError(f"X has {_n_rows(X)} rows but y has {_n_rows(y)}")
    if X_val is None:
        if is_dask(X):
            raise DataError(
                "with Dask input, pass validation jets X_val, y_val (for example other files)"
            )
        X, y, sample_weight, X_val, y_val, truth = _holdout(
            X, y, sample_weight, truth, validation_fraction, seed
        )
    elif (
        _n_rows(X_val) is not None
        and _n_rows(y_val) is not None
        and _n_rows(X_val) != _n_rows(y_val)
    ):
        raise DataError(f"X_val has {_n_rows(X_val)} rows but y_val has {_n_rows(y_val)}")
    if truth is not None and _n_rows(X_val) is not None and len(truth) != _n_rows(X_val):
        raise DataError(
            f"figure_of_merit['truth'] has {len(truth)} rows but the validation jets {_n_rows(X_val)}"
        )
    final = final_step(pipeline)
    known, complete = _known_metrics(final, monitor, validated="X_val" in _fit_parameters(final))
    if complete and metric not in known:
        raise ConfigError(
            f"metric {metric!r} is never reported by this pipeline's trials; they report "
            f"{sorted(known)}" + ("" if monitor else " (pass figure_of_merit for valid_fom)")
        )
    if mlflow not in (None, False) and not hasattr(X, "columns"):
        raise ConfigError(
            "mlflow logging of the best model needs X as a DataFrame (its columns name the inputs)"
        )

    tune = import_optional("ray.tune", purpose="tune_pipeline")
    ray = import_optional("ray", purpose="tune_pipeline")
    storage = _storage(storage_path)
    name = name or f"{type(final).__name__.lower()}-{time.strftime('%Y%m%d-%H%M%S')}"
    path = f"{storage.rstrip('/')}/{name}"
    restorable = tune.Tuner.can_restore(path)
    if restorable and not resume:
        raise ConfigError(
            f"a sweep exists at {path}; pass resume=True to continue it, or another name"
        )

    encoded, decoder = encode_space(
        param_space,
        search if isinstance(search, str) else "custom",
        import_optional("ray.tune.search.sample", purpose="tune_pipeline"),
    )
    spec = TrialSpec(
        pipeline=clone(pipeline),
        metric=metric,
        cpus=resources["cpu"],
        gpus=resources["gpu"],
        checkpoint_every=int(checkpoint_every),
        decoder=decoder,
        monitor=monitor,
    )
    data = TrialData(
        X=X, y=y, sample_weight=sample_weight, X_val=X_val, y_val=y_val, truth_val=truth
    )
    uri = tracking_uri(mlflow, name)

    with connect(ray, address):
        check_resources(ray, resources)
        trainable = tune.with_resources(
            tune.with_parameters(train_pipeline, spec=spec, data=data),
            {"cpu": resources["cpu"], "gpu": resources["gpu"]},
        )
        if restorable:
            tuner = tune.Tuner.restore(
                path, trainable=trainable, resume_unfinished=True, resume_errored=False
            )
        else:
            tuner = _new_tuner(
                tune,
                trainable,
                encoded,
                final,
                param_space,
                step_prefix(pipeline),
                metric,
                mode,
                num_samples,
                scheduler,
                search,
                grace_period,
                max_concurrent_trials,
                seed,
                storage,
                name,
                uri,
                tune_callbacks,
                verbose,
            )
        try:
            grid = tuner.fit()
        except tune.TuneError as exc:
            cause = _find(exc, MetricNotReportedError)
            if cause is not None:
                raise ConfigError(str(cause)) from exc
            raise
    return _conclude(grid, pipeline, decoder, metric, mode, path, refit, data, uri, name)


def _fit_parameters(estimator: Any) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(estimator.fit).parameters)
    except (TypeError, ValueError):
        return set()


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        stack += [current.__cause__, current.__context__, getattr(current, "cause", None)]
    return None


def _new_tuner(
    tune: Any,
    trainable: Any,
    space: dict[str, Any],
    final: Any,
    param_space: Mapping[str, Any],
    prefix: str,
    metric: str,
    mode: str,
    num_samples: int,
    scheduler: Any,
    search: Any,
    grace_period: int,
    max_concurrent_trials: int | None,
    seed: int | None,
    storage: str,
    name: str,
    uri: str | None,
    callbacks: list[Any] | None,
    verbose: int,
) -> Any:
    if scheduler == "asha":
        epochs = int(getattr(final, "max_epochs", 1) or 1) if is_net(final) else 1
        max_t = upper_bound(param_space.get(f"{prefix}max_epochs", epochs), epochs)
        scheduler = tune.schedulers.ASHAScheduler(
            time_attr="training_iteration",
            max_t=max(max_t, 1),
            grace_period=min(grace_period, max(max_t, 1)),
        )
    elif scheduler == "fifo":
        scheduler = None
    if (
        search == "random"
    ):  # Ray limits concurrency only through a Searcher; this generator does it itself
        search = tune.search.BasicVariantGenerator(
            random_state=seed, max_concurrent=max_concurrent_trials or 0
        )
        max_concurrent_trials = None
    elif search == "optuna":
        import_optional("optuna", purpose="tune_pipeline(search='optuna')")
        from ray.tune.search.optuna import OptunaSearch

        search = OptunaSearch(seed=seed)
    guard = metric_guard(tune, MetricNotReportedError)
    loggers = [guard] + ([trial_logger(uri, name)] if uri else []) + list(callbacks or [])
    return tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(
            metric=metric,
            mode=mode,
            num_samples=int(num_samples),
            scheduler=scheduler,
            search_alg=search,
            max_concurrent_trials=max_concurrent_trials,
            reuse_actors=True,
        ),  # a new worker would import torch again: seconds
        run_config=tune.RunConfig(
            name=name,
            storage_path=storage,
            callbacks=loggers,
            verbose=verbose,
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )


def _conclude(
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
    results = [grid[i] for i in range(len(grid))]
    errors = [
        (decode(r.config or _saved_config(r), decoder), r.error)
        for r in results
        if r.error is not None
    ]
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
    unfinished = _unfinished(path)
    if unfinished > 0:
        warnings.warn(
            f"the sweep at {path} was interrupted with {unfinished} of {len(results)} trials unfinished; "
            "call tune_pipeline again with the same storage_path and name and resume=True to finish it",
            RuntimeWarning,
            stacklevel=3,
        )
    if errors:
        details = "; ".join(f"{params} -> {_last_line(e)}" for params, e in errors)
        warnings.warn(
            f"{len(errors)} of {len(results)} trials failed (see SweepResult.errors): {details}",
            RuntimeWarning,
            stacklevel=3,
        )
    sign = 1.0 if mode == "min" else -1.0
    best = min(done, key=lambda r: sign * float(r.metrics[metric]))
    params = decode({k: v for k, v in best.config.items()}, decoder)
    if refit:
        best_pipeline = _refit(pipeline, params, data)
    else:
        with best.checkpoint.as_directory() as folder:
            best_pipeline = joblib.load(Path(folder) / CHECKPOINT_FILE)
    run_id = None
    if uri is not None:
        numbers_only = {
            k: float(v)
            for k, v in best.metrics.items()
            if isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
        }
        run_id = log_best(
            best_pipeline, data.X, uri, name, numbers_only, str(best.metrics.get("trial_id", ""))
        )
    return SweepResult(
        grid=grid,
        best_pipeline=best_pipeline,
        best_params=params,
        best_result=best,
        path=path,
        mlflow_run_id=run_id,
        errors=errors,
    )


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
