"""Declarative training schedules: ordered stages of epochs, batch size, loss and optimiser.

The ATLAS energy-and-mass calibration of large-R jets (MLST 5 (2024) 035051, section
5.4 and table 3) is trained in eleven steps: an initialisation with small batches and
the asymmetric (MDNA) loss, a common training with growing batches and a narrowing
loss truncation, and a mass-only training with the energy weights frozen. A
:class:`Stage` describes one step; a schedule is a sequence of stages, run in order by
:class:`~skcal.neural.EnergyMassCalibrator`. :func:`paper_schedule` gives table 3.

Optimisers are named: ``"radam"`` (Rectified Adam, ``torch.optim.RAdam``),
``"diffgrad"`` (diffGrad, Dubey et al., IEEE TNNLS 31 (2020) 4500, from the
``pytorch-optimizer`` package, imported only when used), ``"adam"``, ``"adamw"`` and
``"sgd"``; a ``torch.optim.Optimizer`` subclass is accepted too.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import torch

from skcal._optional import import_optional
from skcal._params import Interval, StrOptions, check_params
from skcal.exceptions import ParameterError

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "PAPER_SCHEDULE",
    "PARAMETER_GROUPS",
    "Stage",
    "TARGET_NAMES",
    "as_schedule",
    "make_optimizer",
    "paper_schedule",
]

#: The two targets of the energy-and-mass calibration, in the order of ``y``'s columns.
TARGET_NAMES: tuple[str, ...] = ("energy", "mass")
#: Loss variants: a Gaussian (MDN) or a split-normal (MDNA) negative log-likelihood.
LOSSES: tuple[str, ...] = ("gaussian", "asymmetric")
#: The trainable parts of the energy-and-mass network that a stage may freeze: the
#: shared core (with the input layer), the energy fork, the mass fork, and the
#: multiplicative residual connection.
PARAMETER_GROUPS: tuple[str, ...] = ("core", "energy", "mass", "residual")
#: Optimisers by name.
OPTIMIZERS: tuple[str, ...] = ("radam", "diffgrad", "adam", "adamw", "sgd")

#: The constraints of a stage's scalar fields (loss, truncation and frozen are per
#: target or per group, checked by :class:`Stage` itself).
STAGE_CONSTRAINTS: dict[str, list[Any]] = {
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
}
_SCALE = [Interval(Real, 0, None, closed="neither")]


def _per_target(value: Any, field: str) -> dict[str, Any]:
    """A value per target: a mapping with keys among TARGET_NAMES, or one value for both."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in TARGET_NAMES]
        if unknown:
            raise ParameterError(
                f"Stage {field}: unknown target {unknown[0]!r}; valid targets are "
                f"{list(TARGET_NAMES)}"
            )
        missing = [t for t in TARGET_NAMES if t not in value]
        if missing:
            raise ParameterError(
                f"Stage {field}: no entry for {missing} (give both {list(TARGET_NAMES)}, "
                "None to leave a target out)"
            )
        return {t: value[t] for t in TARGET_NAMES}
    return {t: value for t in TARGET_NAMES}


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of a training schedule, validated on construction.

    Parameters
    ----------
    epochs : int
        Passes over the training data, positive.
    batch_size : int
        Jets per batch, positive.
    lr : float
        Learning rate, positive.
    loss : str, or mapping of "energy"/"mass" to str or None, default="asymmetric"
        The loss variant per target: ``"gaussian"`` (MDN) or ``"asymmetric"``
        (MDNA); one value for both targets or a mapping. ``None`` leaves a target out
        of the total loss (the mass-only stage: ``{"energy": None, "mass": "gaussian"}``).
    truncation : float, None, or mapping of "energy"/"mass" to float or None, default=None
        Loss truncation in widths around the mode per target (jets outside are
        excluded from that target's loss); ``None`` for no truncation.
    optimizer : str or torch.optim.Optimizer subclass, default="radam"
        One of :data:`OPTIMIZERS`, or an optimiser class. A fresh optimiser is made at
        the start of each stage, over the parameters that are not frozen.
    frozen : sequence of str, default=()
        Parameter groups (:data:`PARAMETER_GROUPS`) that this stage does not train.

    Attributes
    ----------
    loss, truncation : dict
        Normalised to one entry per target.

    Examples
    --------
    >>> from skcal.neural import Stage
    >>> s = Stage(epochs=2, batch_size=1024, lr=1e-3, truncation={"energy": 3.0, "mass": 2.0})
    >>> s.loss, s.truncation["mass"]
    ({'energy': 'asymmetric', 'mass': 'asymmetric'}, 2.0)
    >>> Stage(epochs=1, batch_size=0, lr=1e-3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ParameterError: The 'batch_size' parameter of Stage ... Got 0 instead.
    """

    epochs: int
    batch_size: int
    lr: float
    loss: Any = "asymmetric"
    truncation: Any = None
    optimizer: Any = "radam"
    frozen: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "lr"):
            if isinstance(getattr(self, name), bool):  # an Integral, but never meant
                raise ParameterError(
                    f"The {name!r} parameter of Stage must be a number, not a bool. "
                    f"Got {getattr(self, name)!r} instead."
                )
        check_params(STAGE_CONSTRAINTS, {k: getattr(self, k) for k in STAGE_CONSTRAINTS}, "Stage")
        loss = _per_target(self.loss, "loss")
        for target, variant in loss.items():
            if variant is not None and variant not in LOSSES:
                raise ParameterError(
                    f"Stage loss for {target!r}: unknown variant {variant!r}; valid "
                    f"variants are {list(LOSSES)} (or None to leave the target out)"
                )
        if all(v is None for v in loss.values()):
            raise ParameterError("Stage loss: at least one target must be trained (all are None)")
        truncation = _per_target(self.truncation, "truncation")
        for target, n_sigma in truncation.items():
            if n_sigma is not None and (
                isinstance(n_sigma, bool)
                or not isinstance(n_sigma, (int, float))
                or not (math.isfinite(n_sigma) and n_sigma > 0)
            ):
                raise ParameterError(
                    f"Stage truncation for {target!r} must be a positive number of "
                    f"widths or None, got {n_sigma!r}"
                )
        if not isinstance(self.optimizer, str) and not issubclass(
            self.optimizer, torch.optim.Optimizer
        ):
            raise ParameterError(
                f"Stage optimizer must be a name in {list(OPTIMIZERS)} or a "
                f"torch.optim.Optimizer subclass, got {self.optimizer!r}"
            )
        frozen = (self.frozen,) if isinstance(self.frozen, str) else tuple(self.frozen)
        unknown = [g for g in frozen if g not in PARAMETER_GROUPS]
        if unknown:
            raise ParameterError(
                f"Stage frozen: unknown parameter group {unknown[0]!r}; valid groups are "
                f"{list(PARAMETER_GROUPS)}"
            )
        reach = {"energy": {"core", "energy"}, "mass": {"core", "mass", "residual"}}
        trainable = set().union(*(reach[t] for t, v in loss.items() if v is not None)) - set(frozen)
        if not trainable:
            raise ParameterError(
                f"Stage frozen={frozen!r} leaves no parameter that the losses {loss} can train"
            )
        object.__setattr__(self, "epochs", int(self.epochs))
        object.__setattr__(self, "batch_size", int(self.batch_size))
        object.__setattr__(self, "lr", float(self.lr))
        object.__setattr__(self, "loss", loss)
        object.__setattr__(
            self, "truncation", {t: None if v is None else float(v) for t, v in truncation.items()}
        )
        object.__setattr__(self, "frozen", frozen)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Stage:
        """A stage from a mapping (a configuration file's entry), refusing unknown keys.

        Examples
        --------
        >>> Stage.from_dict({"epochs": 1, "batch_size": 64, "lr": 1e-3, "optimiser": "adam"})
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        skcal.exceptions.ParameterError: Stage: unknown key 'optimiser'; valid keys are [...]
        """
        if not isinstance(spec, Mapping):
            raise ParameterError(f"a schedule stage must be a Stage or a mapping, got {spec!r}")
        valid = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in spec if k not in valid]
        if unknown:
            raise ParameterError(f"Stage: unknown key {unknown[0]!r}; valid keys are {valid}")
        missing = [k for k in ("epochs", "batch_size", "lr") if k not in spec]
        if missing:
            raise ParameterError(f"Stage: missing key(s) {missing}")
        return cls(**spec)

    def scaled(self, *, epoch_scale: float = 1.0, batch_scale: float = 1.0) -> Stage:
        """This stage with its epochs and batch size scaled (rounded, at least 1)."""
        return dataclasses.replace(
            self,
            epochs=max(1, round(self.epochs * epoch_scale)),
            batch_size=max(1, round(self.batch_size * batch_scale)),
        )


def as_schedule(schedule: Any) -> tuple[Stage, ...]:
    """A validated schedule: a non-empty sequence of :class:`Stage` or mappings.

    Examples
    --------
    >>> len(as_schedule([{"epochs": 1, "batch_size": 32, "lr": 1e-3}]))
    1
    """
    if (
        isinstance(schedule, (Stage, Mapping, str))
        or not isinstance(schedule, Sequence)
        or not schedule
    ):
        raise ParameterError(
            f"schedule must be a non-empty sequence of Stage objects or mappings, got {schedule!r}"
        )
    return tuple(s if isinstance(s, Stage) else Stage.from_dict(s) for s in schedule)


def paper_schedule(epoch_scale: float = 1.0, batch_scale: float = 1.0) -> tuple[Stage, ...]:
    """The training procedure of table 3 of MLST 5 (2024) 035051, optionally scaled down.

    Eleven stages, 107 epochs: initialisation (stages 1-4: Rectified Adam, MDNA loss,
    batches of 15k-35k, truncation from none to 3.5 sigma), common training (5-10:
    diffGrad, batches of 95k-155k, truncation narrowing from 3.5 to 3.0 sigma, and 2.0
    sigma for the mass in stage 10, learning rate down to 1e-5), exclusive mass training
    (11: the Gaussian MDN loss truncated at 1 sigma on the mass only; the core and the
    energy fork frozen).

    The paper trains on 270 million jets; on a smaller sample, ``batch_scale`` keeps
    the number of updates per epoch sensible and ``epoch_scale`` shortens the
    training (each stage keeps at least one epoch).

    Parameters
    ----------
    epoch_scale : float, default=1.0
        Factor on every stage's epochs.
    batch_scale : float, default=1.0
        Factor on every stage's batch size.

    Returns
    -------
    tuple of Stage

    Examples
    --------
    >>> from skcal.neural import paper_schedule
    >>> stages = paper_schedule()
    >>> len(stages), sum(s.epochs for s in stages), stages[-1].frozen
    (11, 107, ('core', 'energy'))
    >>> [s.batch_size for s in paper_schedule(batch_scale=0.01)][:4]
    [150, 250, 350, 150]
    """
    check_params(
        {"epoch_scale": _SCALE, "batch_scale": _SCALE},
        {"epoch_scale": epoch_scale, "batch_scale": batch_scale},
        "paper_schedule",
    )
    return tuple(s.scaled(epoch_scale=epoch_scale, batch_scale=batch_scale) for s in PAPER_SCHEDULE)


def _paper_stages() -> tuple[Stage, ...]:
    init: dict[str, Any] = {"lr": 1e-3, "loss": "asymmetric", "optimizer": "radam"}
    common: dict[str, Any] = {"loss": "asymmetric", "optimizer": "diffgrad"}
    return (
        Stage(2, 15_000, **init),
        Stage(2, 25_000, **init),
        Stage(2, 35_000, truncation=4.0, **init),
        Stage(2, 15_000, truncation=3.5, **init),
        Stage(6, 95_000, 1e-3, truncation=3.5, **common),
        Stage(6, 95_000, 1e-3, truncation=3.5, **common),
        Stage(6, 125_000, 1e-3, truncation=3.2, **common),
        Stage(6, 125_000, 1e-3, truncation=3.2, **common),
        Stage(10, 155_000, 5e-4, truncation=3.0, **common),
        Stage(15, 95_000, 1e-5, truncation={"energy": 3.0, "mass": 2.0}, **common),
        Stage(
            50,
            95_000,
            1e-5,
            loss={"energy": None, "mass": "gaussian"},
            truncation=1.0,
            optimizer="diffgrad",
            frozen=("core", "energy"),
        ),
    )


#: Table 3 of MLST 5 (2024) 035051 at full size (107 epochs, batches of 15k to 155k jets).
PAPER_SCHEDULE: tuple[Stage, ...] = _paper_stages()


def _optimizer_class(optimizer: Any) -> Callable[..., torch.optim.Optimizer]:
    """The optimiser's class: called as ``cls(params, lr=..., **kwargs)``."""
    if not isinstance(optimizer, str):
        return optimizer
    if optimizer == "diffgrad":
        return import_optional("pytorch_optimizer", purpose="the diffGrad optimizer").DiffGrad
    return {
        "radam": torch.optim.RAdam,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "sgd": torch.optim.SGD,
    }[optimizer]


def make_optimizer(optimizer: Any, params: Any, lr: float, **kwargs: Any) -> torch.optim.Optimizer:
    """An optimiser by name (:data:`OPTIMIZERS`) or class, over ``params``.

    Parameters
    ----------
    optimizer : str or torch.optim.Optimizer subclass
    params : iterable of Tensor or of parameter-group dicts
    lr : float
    **kwargs
        Passed to the optimiser (for example ``weight_decay``).

    Examples
    --------
    >>> import torch
    >>> from skcal.neural._schedule import make_optimizer
    >>> type(make_optimizer("radam", [torch.zeros(2, requires_grad=True)], 1e-3)).__name__
    'RAdam'
    """
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise ParameterError(f"unknown optimizer {optimizer!r}; valid names are {list(OPTIMIZERS)}")
    return _optimizer_class(optimizer)(params, lr=lr, **kwargs)
