"""Making the Ray Tuner of a sweep: its folder, scheduler, search algorithm and loggers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skcal._optional import import_optional
from skcal.tune._cluster import metric_guard
from skcal.tune._params import is_net
from skcal.tune._space import upper_bound
from skcal.tune._tracking import trial_logger
from skcal.tune._trial import MetricNotReportedError

__all__ = ["SweepSettings", "find_cause", "new_tuner", "storage_uri"]


@dataclass(frozen=True)
class SweepSettings:
    """The options of tune_pipeline that shape a new Tuner."""

    metric: str
    mode: str
    num_samples: int
    scheduler: Any
    search: Any
    grace_period: int
    max_concurrent_trials: int | None
    seed: int | None
    storage: str
    name: str
    uri: str | None
    callbacks: list[Any] | None
    verbose: int

    @property
    def path(self) -> str:
        """The sweep's folder, ``storage/name``."""
        return f"{self.storage.rstrip('/')}/{self.name}"


def storage_uri(storage_path: str | Path | None) -> str:
    """Where sweeps go: an absolute folder (default ``./skcal-tune``) or a URI."""
    if storage_path is None:
        return str(Path("skcal-tune").resolve())
    text = str(storage_path)
    return text if "://" in text else str(Path(text).expanduser().resolve())


def find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of type ``kind`` in the causes and contexts of ``exc``."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        stack += [current.__cause__, current.__context__, getattr(current, "cause", None)]
    return None


def _scheduler(
    tune: Any, settings: SweepSettings, final: Any, param_space: Mapping[str, Any], prefix: str
) -> Any:
    if settings.scheduler == "fifo":
        return None
    if settings.scheduler != "asha":
        return settings.scheduler
    epochs = int(getattr(final, "max_epochs", 1) or 1) if is_net(final) else 1
    max_t = max(upper_bound(param_space.get(f"{prefix}max_epochs", epochs), epochs), 1)
    return tune.schedulers.ASHAScheduler(
        time_attr="training_iteration",
        max_t=max_t,
        grace_period=min(settings.grace_period, max_t),
    )


def _search(tune: Any, settings: SweepSettings) -> tuple[Any, int | None]:
    """The search algorithm, and the concurrency limit left for TuneConfig."""
    if settings.search == "random":
        # Ray limits concurrency only through a Searcher; this generator does it itself
        generator = tune.search.BasicVariantGenerator(
            random_state=settings.seed, max_concurrent=settings.max_concurrent_trials or 0
        )
        return generator, None
    if settings.search == "optuna":
        import_optional("optuna", purpose="tune_pipeline(search='optuna')")
        from ray.tune.search.optuna import OptunaSearch

        return OptunaSearch(seed=settings.seed), settings.max_concurrent_trials
    return settings.search, settings.max_concurrent_trials


def new_tuner(
    tune: Any,
    trainable: Any,
    space: dict[str, Any],
    settings: SweepSettings,
    final: Any,
    param_space: Mapping[str, Any],
    prefix: str,
) -> Any:
    """A Tuner for a new sweep at ``settings.path``."""
    search, max_concurrent = _search(tune, settings)
    guard = metric_guard(tune, MetricNotReportedError)
    loggers = [guard] + ([trial_logger(settings.uri, settings.name)] if settings.uri else [])
    return tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(
            metric=settings.metric,
            mode=settings.mode,
            num_samples=int(settings.num_samples),
            scheduler=_scheduler(tune, settings, final, param_space, prefix),
            search_alg=search,
            max_concurrent_trials=max_concurrent,
            reuse_actors=True,  # a new worker would import torch again: seconds
        ),
        run_config=tune.RunConfig(
            name=settings.name,
            storage_path=settings.storage,
            callbacks=loggers + list(settings.callbacks or []),
            verbose=settings.verbose,
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )
