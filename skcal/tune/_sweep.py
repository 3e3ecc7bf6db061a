"""tune_pipeline: a Ray Tune sweep of any skcal pipeline, over its own parameter names.

The steps are named: the checks before Ray (:mod:`skcal.tune._checks`), the Tuner
(:mod:`skcal.tune._tuner`), the trials (:mod:`skcal.tune._trial`) and the result
(:mod:`skcal.tune._results`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sklearn.base import clone

from skcal._optional import import_optional
from skcal.exceptions import ConfigError
from skcal.tune._checks import check_metric, check_options, monitor_options, split_data
from skcal.tune._cluster import check_resources, connect, parse_resources
from skcal.tune._params import check_param_names, final_step, step_prefix
from skcal.tune._results import SweepResult, conclude
from skcal.tune._space import encode_space
from skcal.tune._tracking import tracking_uri
from skcal.tune._trial import MetricNotReportedError, TrialSpec, train_pipeline
from skcal.tune._tuner import SweepSettings, find_cause, new_tuner, storage_uri

__all__ = ["SweepResult", "tune_pipeline"]


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
        (:class:`skcal.neural.ClosureMonitor`), reported as ``valid_closure``,
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
        Continue the sweep at ``storage_path/name`` if it exists, also after its
        process was killed: finished trials are kept (not trained or reported again),
        unfinished ones continue from their latest checkpoint, failed ones stay
        failed; its saved search space, scheduler and settings are used. Without
        ``resume``, an existing sweep there is an error.
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
    ParameterError
        An option with a value it cannot take (``num_samples=0``, ``mode="minimum"``,
        ``search="bayes"``, ...).
    ConfigError
        An unknown parameter name, a metric never reported, resources the cluster
        cannot give, an unknown key of ``figure_of_merit``; or when every trial failed.
    DataError
        Training and validation jets that do not fit together.

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
    >>> space = {"mdncalibrator__learning_rate": 1e-3}
    >>> tune_pipeline(pipe, space, X, 1 + 0.1 * X.x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ConfigError: param_space names 'mdncalibrator__learning_rate', which ...

    A real sweep (see ``examples/tune_cluster.py``)::

        space = {"mdncalibrator__lr": tune.loguniform(1e-4, 1e-2),
                 "mdncalibrator__module__hidden_sizes": tune.choice([(32,), (64, 64)])}
        result = tune_pipeline(pipe, space, X, y, num_samples=16,
                               resources_per_trial={"cpu": 4, "gpu": 0.5},
                               storage_path="/shared/sweeps", name="jes-mdn", address="auto")
        result.best_pipeline.predict(X_test)
    """
    check_options(
        {
            "param_space": param_space,
            "validation_fraction": validation_fraction,
            "figure_of_merit": figure_of_merit,
            "metric": metric,
            "mode": mode,
            "num_samples": num_samples,
            "scheduler": scheduler,
            "search": search,
            "grace_period": grace_period,
            "resources_per_trial": resources_per_trial,
            "max_concurrent_trials": max_concurrent_trials,
            "checkpoint_every": checkpoint_every,
            "storage_path": storage_path,
            "name": name,
            "resume": resume,
            "address": address,
            "mlflow": mlflow,
            "refit": refit,
            "seed": seed,
            "tune_callbacks": tune_callbacks,
            "verbose": verbose,
        }
    )
    check_param_names(pipeline, list(param_space))
    resources = parse_resources(resources_per_trial)
    truth, monitor = monitor_options(figure_of_merit)
    data = split_data(X, y, sample_weight, X_val, y_val, truth, validation_fraction, seed)
    final = final_step(pipeline)
    check_metric(final, metric, monitor)
    if mlflow not in (None, False) and not hasattr(X, "columns"):
        raise ConfigError(
            "mlflow logging of the best model needs X as a DataFrame (its columns name the inputs)"
        )

    tune = import_optional("ray.tune", purpose="tune_pipeline")
    name = name or f"{type(final).__name__.lower()}-{time.strftime('%Y%m%d-%H%M%S')}"
    settings = SweepSettings(
        metric=metric,
        mode=mode,
        num_samples=num_samples,
        scheduler=scheduler,
        search=search,
        grace_period=grace_period,
        max_concurrent_trials=max_concurrent_trials,
        seed=seed,
        storage=storage_uri(storage_path),
        name=name,
        uri=tracking_uri(mlflow, name),
        callbacks=tune_callbacks,
        verbose=verbose,
    )
    restorable = tune.Tuner.can_restore(settings.path)
    if restorable and not resume:
        raise ConfigError(
            f"a sweep exists at {settings.path}; pass resume=True to continue it, or another name"
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
    ray = import_optional("ray", purpose="tune_pipeline")
    with connect(ray, address):
        check_resources(ray, resources)
        trainable = tune.with_resources(
            tune.with_parameters(train_pipeline, spec=spec, data=data),
            {"cpu": resources["cpu"], "gpu": resources["gpu"]},
        )
        if restorable:
            tuner = tune.Tuner.restore(
                settings.path, trainable=trainable, resume_unfinished=True, resume_errored=False
            )
        else:
            tuner = new_tuner(
                tune, trainable, encoded, settings, final, param_space, step_prefix(pipeline)
            )
        grid = _fit(tune, tuner)
    return conclude(
        grid, pipeline, decoder, metric, mode, settings.path, refit, data, settings.uri, name
    )


def _fit(tune: Any, tuner: Any) -> Any:
    """Run the sweep; a metric that no trial reports is a ConfigError."""
    try:
        return tuner.fit()
    except tune.TuneError as exc:
        cause = find_cause(exc, MetricNotReportedError)
        if cause is not None:
            raise ConfigError(str(cause)) from exc
        raise
