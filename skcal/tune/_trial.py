"""One trial of a sweep: clone the pipeline, set its parameters, fit, report each epoch.

The function :func:`train_pipeline` runs inside a Ray worker. It reports the last row
of a neural calibrator's history (``train_loss``, ``valid_loss``, the closure figure
of merit, ``epoch``) at the end of every epoch, so that a scheduler such as ASHA can
stop a poor trial early, and checkpoints the fitted pipeline (joblib) at the last
epoch, and every ``checkpoint_every`` epochs if asked. A pipeline that does not train
by epochs (numerical inversion) reports once, after ``fit``. The final checkpoint is
marked complete: a trial restored from it (its sweep was killed after the trial's last
report, before Ray recorded it as finished) ends at once, with its saved result.
"""

from __future__ import annotations

import numbers
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import clone
from skorch.callbacks import Callback

from skcal._optional import import_optional
from skcal.exceptions import ConfigError
from skcal.tune._params import final_step, is_net, step_prefix
from skcal.tune._space import Decoder, decode

__all__ = [
    "CHECKPOINT_FILE",
    "MetricNotReportedError",
    "TrialData",
    "TrialSpec",
    "history_metrics",
    "train_pipeline",
    "trial_device",
]

#: The file of a checkpoint that holds the fitted pipeline.
CHECKPOINT_FILE = "pipeline.joblib"
#: The file that marks a trial's final checkpoint (taken after its fit ended).
COMPLETE_FILE = "complete"
#: Metrics that Ray adds to every report.
RAY_METRICS = frozenset({"training_iteration", "time_total_s", "time_this_iter_s"})


class MetricNotReportedError(ConfigError):
    """The metric that a sweep optimises is not among those its trials report."""


@dataclass(frozen=True)
class TrialData:
    """The jets of a sweep; placed once in Ray's object store and shared by all trials."""

    X: Any
    y: Any
    sample_weight: Any = None
    X_val: Any = None
    y_val: Any = None
    truth_val: Any = None


@dataclass(frozen=True)
class TrialSpec:
    """Everything a trial needs besides the jets and its parameters."""

    pipeline: Any
    metric: str
    cpus: float = 1.0
    gpus: float = 0.0
    checkpoint_every: int = 0
    decoder: Decoder = field(default_factory=dict)
    monitor: Mapping[str, Any] | None = None  # ClosureMonitor options besides the data


def trial_device(gpus: float, cuda_available: Callable[[], bool] | None = None) -> str:
    """The torch device of a trial: ``"cuda"`` when it was given GPUs, else ``"cpu"``.

    Ray limits ``CUDA_VISIBLE_DEVICES`` to the trial's GPU, so ``"cuda"`` is that GPU
    (shared with other trials for a fractional ``gpu``).

    Examples
    --------
    >>> trial_device(0)
    'cpu'
    >>> trial_device(0.5, cuda_available=lambda: True)
    'cuda'
    """
    if not gpus:
        return "cpu"
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available
    if not cuda_available():
        raise ConfigError(
            f"this trial was given gpu={gpus} but torch sees no CUDA device (a CPU-only torch "
            "build, or CUDA_VISIBLE_DEVICES is empty); install a CUDA build of torch on the "
            "workers"
        )
    return "cuda"


def history_metrics(row: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of one epoch of a skorch history (flags such as ``valid_loss_best`` left out).

    Examples
    --------
    >>> history_metrics({"epoch": 2, "train_loss": 0.5, "train_loss_best": True, "batches": []})
    {'epoch': 2, 'train_loss': 0.5}
    """
    out: dict[str, float] = {}
    for key, value in row.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            continue
        out[key] = int(value) if isinstance(value, numbers.Integral) else float(value)
    return out


class _Reporter:
    """Reports metrics (and checkpoints) to Ray Tune; checks the metric on the first report."""

    def __init__(
        self, tune: Any, spec: TrialSpec, total_epochs: int, save: Callable[[Path], None]
    ) -> None:
        self.tune = tune
        self.spec = spec
        self.total_epochs = total_epochs
        self.save = save
        self.checked = False

    def epoch(self, net: Any) -> None:
        done = len(net.history)
        if done >= self.total_epochs:
            return  # the last epoch is reported after fit, with the final checkpoint
        every = self.spec.checkpoint_every
        self.report(history_metrics(net.history[-1]), checkpoint=bool(every) and done % every == 0)

    def report(self, metrics: dict[str, float], *, checkpoint: bool, final: bool = False) -> None:
        if not self.checked:
            if self.spec.metric not in metrics and self.spec.metric not in RAY_METRICS:
                raise MetricNotReportedError(
                    f"metric {self.spec.metric!r} is never reported by this pipeline's trials; "
                    f"they report {sorted(metrics)} (and Ray's {sorted(RAY_METRICS)})"
                )
            self.checked = True
        if not checkpoint:
            self.tune.report(metrics)
            return
        folder = Path(tempfile.mkdtemp(prefix="skcal-checkpoint-"))
        try:
            self.save(folder / CHECKPOINT_FILE)
            if final:
                (folder / COMPLETE_FILE).touch()
            self.tune.report(metrics, checkpoint=self.tune.Checkpoint.from_directory(str(folder)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class TuneReporter(Callback):
    """The skorch callback that reports each epoch of a trial to Ray Tune."""

    def __init__(self, reporter: Any = None) -> None:
        self.reporter = reporter

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        if self.reporter is not None:
            self.reporter.epoch(net)

    def __getstate__(self) -> dict[str, Any]:
        return {"reporter": None}  # never pickled into a checkpoint


def _prefix(pipeline: Any) -> Any:
    steps = getattr(pipeline, "steps", None)
    return pipeline[:-1] if steps and len(steps) > 1 else None


def _user_callbacks(net: Any) -> list[Any]:
    callbacks = net.callbacks
    return [] if callbacks in (None, "disable") else list(callbacks)


def _save_without(pipeline: Any, net: Any, ours: list[Any], user: Any, path: Path) -> None:
    """Save the pipeline with only the user's callbacks (not the reporter, the monitor, nor
    its data)."""
    if net is None:
        joblib.dump(pipeline, path)
        return
    callbacks, callbacks_ = net.callbacks, getattr(net, "callbacks_", None)
    net.callbacks = user
    if callbacks_ is not None:
        net.callbacks_ = [(name, cb) for name, cb in callbacks_ if not any(cb is o for o in ours)]
    try:
        joblib.dump(pipeline, path)
    finally:
        net.callbacks = callbacks
        if callbacks_ is not None:
            net.callbacks_ = callbacks_


def _monitor(spec: TrialSpec, data: TrialData, X_val: Any) -> Any:
    if spec.monitor is None:
        return None
    from skcal.neural import ClosureMonitor

    return ClosureMonitor(X_val, data.y_val, truth=data.truth_val, **spec.monitor)


def train_pipeline(config: Mapping[str, Any], *, spec: TrialSpec, data: TrialData) -> None:
    """The Ray Tune trainable: fit one configuration of the pipeline and report it.

    Parameters
    ----------
    config : mapping
        The trial's parameters, named as in ``pipeline.get_params()``.
    spec : TrialSpec
        The pipeline, the metric, the trial's resources and checkpointing.
    data : TrialData
        The training and validation jets.
    """
    tune = import_optional("ray.tune", purpose="tune_pipeline")
    import dask
    import torch

    threads = max(1, int(spec.cpus))
    torch.set_num_threads(threads)
    device = trial_device(spec.gpus)
    with dask.config.set(num_workers=threads):
        _fit_and_report(tune, config, spec, data, device)


def _fit_and_report(
    tune: Any, config: Mapping[str, Any], spec: TrialSpec, data: TrialData, device: str
) -> None:
    pipeline = clone(spec.pipeline).set_params(**decode(config, spec.decoder))
    # the trial's epochs, from its parameters: a checkpoint taken while a resumed trial
    # continued holds the epochs then left
    total = int(final_step(pipeline).max_epochs) if is_net(final_step(pipeline)) else 1
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            if (Path(folder) / COMPLETE_FILE).exists():
                # The trial had finished when its sweep was killed, before Ray recorded
                # it as finished: its final result and checkpoint are saved, and returning
                # without a report ends it with them (not fitted or reported twice).
                return
            pipeline = joblib.load(Path(folder) / CHECKPOINT_FILE)
    final = final_step(pipeline)
    prefix = _prefix(pipeline)
    if checkpoint is None and "device" in final.get_params(deep=False):
        final.set_params(device=device)
    net = final if is_net(final) else None

    fit_params: dict[str, Any] = {}
    if net is None:
        if data.sample_weight is not None:
            fit_params[f"{step_prefix(pipeline)}sample_weight"] = data.sample_weight
        pipeline.fit(data.X, data.y, **fit_params)
        metrics: dict[str, float] = {"epoch": 1}
        if data.X_val is not None:
            X_val = data.X_val if prefix is None else prefix.transform(data.X_val)
            monitor = _monitor(spec, data, X_val)
            if monitor is not None:
                metrics |= {
                    f"{monitor.name}_{k}": v for k, v in monitor.initialize().measure(final).items()
                }
        _Reporter(tune, spec, 1, lambda path: joblib.dump(pipeline, path)).report(
            metrics, checkpoint=True, final=True
        )
        return

    user = net.callbacks
    if checkpoint is None:
        X = data.X if prefix is None else prefix.fit_transform(data.X, data.y)
    else:
        X = data.X if prefix is None else prefix.transform(data.X)
    X_val = None
    if data.X_val is not None:
        X_val = data.X_val if prefix is None else prefix.transform(data.X_val)
    monitor = _monitor(spec, data, X_val)
    ours: list[Any] = []
    reporter = _Reporter(
        tune, spec, total, lambda path: _save_without(pipeline, net, ours, user, path)
    )
    hook = TuneReporter(reporter)
    ours[:] = [hook] if monitor is None else [monitor, hook]
    # the monitor first: a user's EarlyStopping(monitor="valid_fom") reads what it records
    callbacks = (
        ([("skcal_closure", monitor)] if monitor is not None else [])
        + _user_callbacks(net)
        + [("skcal_tune_report", hook)]
    )

    if data.sample_weight is not None:
        fit_params["sample_weight"] = data.sample_weight
    if X_val is not None:
        fit_params |= {"X_val": X_val, "y_val": data.y_val}
        if getattr(net, "validation_fraction", None) is not None:
            net.set_params(validation_fraction=None)  # the sweep holds out its own validation jets
    if checkpoint is None:
        net.set_params(callbacks=callbacks)
        net.fit(X, data.y, **fit_params)
    else:
        remaining = total - len(net.history)
        if remaining > 0:
            net.set_params(callbacks=callbacks, max_epochs=remaining)
            try:
                net.partial_fit(X, data.y, **fit_params)
            finally:
                net.set_params(max_epochs=total)
    reporter.report(history_metrics(net.history[-1]), checkpoint=True, final=True)
