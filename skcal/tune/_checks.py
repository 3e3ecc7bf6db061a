"""The checks of a sweep before Ray starts: options, validation jets, metric.

Option values are checked by declarative constraints (:func:`skcal._params.check_params`,
:class:`~skcal.exceptions.ParameterError`); the keys of ``figure_of_merit`` and a
metric that the trials never report are :class:`~skcal.exceptions.ConfigError`; jets
that do not fit together are :class:`~skcal.exceptions.DataError`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from skcal._params import HasMethods, Interval, StrOptions, check_params
from skcal._validation import is_dask
from skcal.exceptions import ConfigError, DataError, ParameterError
from skcal.tune._params import is_net
from skcal.tune._trial import RAY_METRICS, TrialData

__all__ = ["check_metric", "check_options", "monitor_options", "split_data"]

#: What every epoch of a skcal neural calibrator records (skorch's history).
_NET_METRICS = frozenset({"epoch", "dur", "train_loss", "train_batch_count"})
_VALID_METRICS = frozenset({"valid_loss", "valid_batch_count"})
_MONITOR_KEYS = frozenset({"truth", "bins", "closure", "resolution_weight", "min_entries", "name"})

_POSITIVE = Interval(Integral, 1, None, closed="left")
_NON_NEGATIVE = Interval(Integral, 0, None, closed="left")

#: The values each option of tune_pipeline may take.
CONSTRAINTS: dict[str, list[Any]] = {
    "param_space": [Mapping],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "figure_of_merit": [Mapping, None],
    "metric": [str],
    "mode": [StrOptions({"min", "max"})],
    "num_samples": [_POSITIVE],
    "scheduler": [StrOptions({"asha", "fifo"}), HasMethods(["on_trial_result"])],
    "search": [StrOptions({"random", "optuna"}), HasMethods(["suggest"])],
    "grace_period": [_POSITIVE],
    "resources_per_trial": [Mapping, None],
    "max_concurrent_trials": [_POSITIVE, None],
    "checkpoint_every": [_NON_NEGATIVE],
    "storage_path": [str, os.PathLike, None],
    "name": [str, None],
    "resume": ["boolean"],
    "address": [str, None],
    "mlflow": ["boolean", str, None],
    "refit": ["boolean"],
    "seed": [_NON_NEGATIVE, None],
    "tune_callbacks": [list, None],
    "verbose": [_NON_NEGATIVE],
}


def check_options(options: Mapping[str, Any]) -> None:
    """ParameterError for the first option of tune_pipeline with a value it cannot take."""
    check_params(CONSTRAINTS, options, "tune_pipeline")
    if not options["param_space"]:
        raise ParameterError(
            "The 'param_space' parameter of tune_pipeline must be a non-empty mapping of "
            "parameter name to search space. Got {} instead."
        )
    if not options["metric"]:
        raise ParameterError(
            "The 'metric' parameter of tune_pipeline must be the name of a reported metric. "
            "Got '' instead."
        )


def monitor_options(
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
    unknown = sorted(set(options) - _MONITOR_KEYS)
    if unknown:
        raise ConfigError(
            f"figure_of_merit has the unknown key(s) {unknown}; allowed: {sorted(_MONITOR_KEYS)}"
        )
    return options.pop("truth"), options


def _n_rows(data: Any) -> int | None:
    return None if data is None or is_dask(data) else len(data)


def _check_lengths(what: str, X: Any, y: Any) -> None:
    n_x, n_y = _n_rows(X), _n_rows(y)
    if n_x is not None and n_y is not None and n_x != n_y:
        raise DataError(f"{what} has {n_x} rows but y{what[1:]} has {n_y}")


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


def split_data(
    X: Any,
    y: Any,
    sample_weight: Any,
    X_val: Any,
    y_val: Any,
    truth: Any,
    fraction: float,
    seed: int | None,
) -> TrialData:
    """The training and validation jets, held out from ``X`` where none are given."""
    if (X_val is None) != (y_val is None):
        raise DataError("give both X_val and y_val, or neither")
    _check_lengths("X", X, y)
    if X_val is None:
        if is_dask(X):
            raise DataError(
                "with Dask input, pass validation jets X_val, y_val (for example other files)"
            )
        X, y, sample_weight, X_val, y_val, truth = _holdout(
            X, y, sample_weight, truth, fraction, seed
        )
    else:
        _check_lengths("X_val", X_val, y_val)
    if truth is not None and _n_rows(X_val) is not None and len(truth) != _n_rows(X_val):
        raise DataError(
            f"figure_of_merit['truth'] has {len(truth)} rows but the validation jets "
            f"{_n_rows(X_val)}"
        )
    return TrialData(
        X=X, y=y, sample_weight=sample_weight, X_val=X_val, y_val=y_val, truth_val=truth
    )


def _fit_parameters(estimator: Any) -> set[str]:
    try:
        return set(inspect.signature(estimator.fit).parameters)
    except (TypeError, ValueError):
        return set()


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


def check_metric(final: Any, metric: str, monitor: dict[str, Any] | None) -> None:
    """ConfigError where the trials of the pipeline's final step never report ``metric``."""
    validated = "X_val" in _fit_parameters(final)
    known, complete = _known_metrics(final, monitor, validated=validated)
    if complete and metric not in known:
        raise ConfigError(
            f"metric {metric!r} is never reported by this pipeline's trials; they report "
            f"{sorted(known)}" + ("" if monitor else " (pass figure_of_merit for valid_fom)")
        )
