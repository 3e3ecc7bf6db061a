"""The schedule runner of the energy-and-mass calibrator: stages, frozen groups, losses.

Each stage of the schedule (:class:`~skcal.neural.Stage`) gets a fresh
optimiser over the parameter groups that it does not freeze, its batch size and its
loss variant and truncation per target; the history records the stage of each epoch.
"""

from __future__ import annotations

from typing import Any

import torch

from skcal.neural._base import _Calibrator
from skcal.neural._energy_mass_network import N_PARAMS, target_distribution
from skcal.neural._loss import nll_loss
from skcal.neural._schedule import TARGET_NAMES, Stage, make_optimizer
from skcal.neural._split import Fold

__all__: list[str] = []


class _StagedCalibrator(_Calibrator):
    """A calibrator trained through a schedule of stages (not public)."""

    #: The running stage and its index (None between trainings).
    _stage_: tuple[int, Stage] | None

    def _running(self) -> tuple[int, Stage]:
        stage = getattr(self, "_stage_", None)
        if stage is None:
            raise RuntimeError("no stage of the schedule is running")
        return stage

    def _schedule(self) -> tuple[Stage, ...]:
        raise NotImplementedError

    def _batch_size(self, training: bool) -> int:
        stage = getattr(self, "_stage_", None)
        return stage[1].batch_size if stage is not None else 1 << 16

    def on_epoch_begin(
        self, net: Any, dataset_train: Any = None, dataset_valid: Any = None, **kwargs: Any
    ) -> None:
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        index, stage = self._running()
        self.history.record("stage", index)
        self.history.record("stage_batch_size", stage.batch_size)
        self.history.record("stage_lr", stage.lr)

    def get_loss(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        stage = self._running()[1]
        total = y_pred.new_zeros(())
        for k, name in enumerate(TARGET_NAMES):
            variant = stage.loss[name]
            if variant is None:
                continue
            dist = target_distribution(y_pred[:, N_PARAMS * k : N_PARAMS * (k + 1)], variant)
            loss = nll_loss(dist, y_true[:, k], y_true[:, 2], stage.truncation[name])
            if training:
                self.history.record_batch(f"train_loss_{name}", loss.item())
            total = total + loss
        return total

    def _begin_stage(self, index: int, stage: Stage) -> None:
        groups = self.module_.parameter_groups()
        trainable = []
        for name, params in groups.items():
            for pname, p in params:
                p.requires_grad_(name not in stage.frozen)
                if name not in stage.frozen:
                    trainable.append((f"{name}.{pname}", p))
        (params,), kwargs = self.get_params_for_optimizer("optimizer", trainable)
        kwargs.pop("lr", None)
        self.optimizer_ = make_optimizer(stage.optimizer, params, lr=stage.lr, **kwargs)
        self._stage_ = (index, stage)

    def _run(self, fold: Fold, fit_params: dict[str, Any]) -> None:
        """Every stage of the schedule in turn over the jets of ``fold``."""
        schedule = self._schedule()
        self.schedule_ = schedule
        self.notify("on_train_begin", X=fold, y=None)
        try:
            for index, stage in enumerate(schedule):
                self._begin_stage(index, stage)
                self.fit_loop(fold, None, epochs=stage.epochs, **fit_params)
        finally:
            for p in self.module_.parameters():
                p.requires_grad_(True)
            self._stage_ = None
        variants: dict[str, str] = {}
        for stage in schedule:
            variants.update({t: v for t, v in stage.loss.items() if v is not None})
        self.loss_variants_ = {t: variants.get(t, "asymmetric") for t in TARGET_NAMES}
        self.notify("on_train_end", X=fold, y=None)
