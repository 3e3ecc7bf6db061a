"""The Ray cluster of a sweep: connect (or start a local one), check resources, guard the metric."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from numbers import Real
from pathlib import Path
from typing import Any

from skcal._params import StrictInterval, check_params
from skcal.exceptions import ConfigError, ParameterError

__all__ = ["check_resources", "connect", "metric_guard", "parse_resources"]


#: The values each resource of a trial may take, named as in the messages.
_RESOURCES: dict[str, list[Any]] = {
    "resources_per_trial['cpu']": [StrictInterval(Real, 0, None, closed="neither")],
    "resources_per_trial['gpu']": [StrictInterval(Real, 0, None, closed="left")],
}


def parse_resources(resources: Mapping[str, float] | None) -> dict[str, float]:
    """``{"cpu": c, "gpu": g}`` per trial, checked: non-negative numbers, at least some CPU.

    Raises ParameterError (the resources are a parameter of :func:`tune_pipeline`).

    Examples
    --------
    >>> parse_resources({"gpu": 0.5})
    {'cpu': 1.0, 'gpu': 0.5}
    >>> parse_resources({"cpus": 2})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ParameterError: resources_per_trial has the unknown key(s) ['cpus']; ...
    """
    given = {"cpu": 1.0, "gpu": 0.0} if resources is None else dict(resources)
    unknown = sorted(set(given) - {"cpu", "gpu"})
    if unknown:
        raise ParameterError(
            f"resources_per_trial has the unknown key(s) {unknown}; use 'cpu' and 'gpu', "
            "e.g. {'cpu': 2, 'gpu': 0.5}"
        )
    out = {"cpu": 1.0, "gpu": 0.0, **given}
    check_params(
        _RESOURCES, {f"resources_per_trial[{k!r}]": v for k, v in out.items()}, "tune_pipeline"
    )
    out = {key: float(value) for key, value in out.items()}
    if out["gpu"] > 1 and out["gpu"] != int(out["gpu"]):
        raise ParameterError(
            f"resources_per_trial['gpu'] above 1 must be a whole number, got {out['gpu']}"
        )
    return out


@contextlib.contextmanager
def connect(ray: Any, address: str | None) -> Iterator[None]:
    """Use the running Ray (left running), connect to ``address``, or start a local Ray.

    What this starts or connects to is shut down (disconnected) on exit.
    """
    if ray.is_initialized():
        yield
        return
    if address is not None:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


def check_resources(ray: Any, resources: Mapping[str, float]) -> None:
    """Refuse a trial that the cluster can never place (it would wait forever)."""
    cluster = ray.cluster_resources()
    gpus, cpus = float(cluster.get("GPU", 0.0)), float(cluster.get("CPU", 0.0))
    if resources["gpu"] > 0 and gpus == 0:
        raise ConfigError(
            f"resources_per_trial asks for gpu={resources['gpu']} but the Ray cluster has no GPU "
            f"(its resources: {sorted(cluster)}); the trials would wait forever. Use "
            "{'gpu': 0} or a cluster with GPUs"
        )
    if resources["gpu"] > gpus:
        raise ConfigError(
            f"resources_per_trial asks for gpu={resources['gpu']} per trial but the Ray cluster "
            f"has {gpus:g} GPU(s) in all"
        )
    if resources["cpu"] > cpus:
        raise ConfigError(
            f"resources_per_trial asks for cpu={resources['cpu']:g} per trial but the Ray cluster "
            f"has {cpus:g} CPU(s) in all"
        )


def metric_guard(tune: Any, error_type: type[Exception]) -> Any:
    """A Tune callback that ends the sweep at the first trial failing with ``error_type``.

    A metric that is never reported fails every trial in the same way: one failure
    is enough to stop, rather than one epoch of every trial.
    """

    class _MetricGuard(tune.Callback):
        def on_trial_error(
            self, iteration: int, trials: list[Any], trial: Any, **info: Any
        ) -> None:
            error = _trial_error(trial)
            if isinstance(error, error_type):
                raise error_type(str(getattr(error, "cause", None) or error))

    return _MetricGuard()


def _trial_error(trial: Any) -> BaseException | None:
    """The exception that a trial raised, from the file Ray writes (None if unreadable)."""
    try:
        import cloudpickle

        name = trial.run_metadata.pickled_error_filename
        if not name:
            return None
        path = Path(trial.local_path) / name if not os.path.isabs(name) else Path(name)
        with path.open("rb") as handle:
            return cloudpickle.load(handle)
    except Exception:
        return None
