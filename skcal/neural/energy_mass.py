"""The simultaneous energy-and-mass calibration of large-R jets (ATLAS, MLST 5 (2024) 035051).

One network predicts, per jet, a density of the energy response ``r_E = E_reco /
E_true`` and one of the mass response ``r_m = m_reco / m_true`` (sections 5.1-5.3 of
the paper):

- **input processing**: each input mapped to [-1, 1] from its 1% and 99% quantiles,
  and the *eta annotation* (eleven Gaussians of |eta| at the calorimeter regions and
  transitions, :data:`skcal.preprocessing.ETA_CENTRES`) appended as the first layer;
- a **core** of dense layers (210 units in the paper) shared by both targets, then an
  **early fork** into an energy branch and a mass branch with the same hidden layers;
- a **multiplicative residual connection** from the processed inputs to the mass
  output: dense layers ending in a softmax whose outputs multiply the mass branch's
  last hidden layer element-wise (weights in [0, 1]);
- Mish activations; each target's head gives a mode through ``tanh(x) + 1`` (a
  response between 0 and 2) and two widths (below and above the mode);
- the loss of each target is the negative log-likelihood of a Gaussian (MDN) or a
  split normal (MDNA), optionally truncated at ``N`` widths; the total is their sum.

Training follows a schedule of stages (:mod:`skcal.neural.schedule`), by default the
paper's table 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.distributions import Distribution, Normal

from skcal._validation import (
    check_finite,
    check_positive_columns,
    is_dask,
    resolve_columns,
    validate_table,
)
from skcal.exceptions import DataError, NotFittedError
from skcal.neural._data import BatchIterator, DaskStream, TensorData
from skcal.neural._estimators import _Calibrator, _skorch_kwargs, nll_loss
from skcal.neural._prediction import DensityPrediction
from skcal.neural.distributions import AsymmetricNormal
from skcal.neural.modules import MLP
from skcal.neural.schedule import (
    PARAMETER_GROUPS,
    TARGET_NAMES,
    Stage,
    as_schedule,
    make_optimizer,
    paper_schedule,
)
from skcal.preprocessing import ETA_CENTRES, ETA_WIDTHS, SymmetricScaler

__all__ = ["EnergyMassCalibrator", "EnergyMassNetwork", "target_distribution"]

#: Column names of the predictions for DataFrame input.
OUTPUT_COLUMNS: tuple[str, ...] = ("r_e", "r_m")
_N_PARAMS = 3  # per target: mode, width below, width above


def target_distribution(params: torch.Tensor, variant: str) -> Distribution:
    """The response density of one target from its three parameters per jet.

    Parameters
    ----------
    params : Tensor of shape (n_jets, 3)
        Mode, width below and width above the mode (as the network outputs them).
    variant : {"asymmetric", "gaussian"}
        A split normal (MDNA), or a Normal of the mean of the two widths (MDN).

    Examples
    --------
    >>> import torch
    >>> d = target_distribution(torch.tensor([[1.0, 0.1, 0.3]]), "gaussian")
    >>> d.mean.item(), round(d.stddev.item(), 3)
    (1.0, 0.2)
    """
    mode, low, high = params[:, 0], params[:, 1], params[:, 2]
    if variant == "asymmetric":
        return AsymmetricNormal(mode, low, high, validate_args=False)
    if variant == "gaussian":
        return Normal(mode, 0.5 * (low + high), validate_args=False)
    raise DataError(
        f"unknown loss variant {variant!r}; valid variants are ['asymmetric', 'gaussian']"
    )


class EnergyMassNetwork(nn.Module):
    """The forked energy-and-mass network with a multiplicative residual connection.

    ``forward(x)`` returns a tensor of shape (n_jets, 6): for the energy and then the
    mass, the mode (``tanh + 1``, in (0, 2)) and the widths below and above it
    (``scale * (softplus + min_scale)``, positive).

    Parameters
    ----------
    n_features : int
        Input width.
    eta_index : int, optional
        Position of the (unscaled) eta among the inputs: the eta annotation is then
        computed from it and appended. None: no annotation.
    eta_centres, eta_widths : sequence of float, optional
        Centres and widths in |eta| of the annotation Gaussians (default
        :data:`~skcal.preprocessing.ETA_CENTRES`, :data:`~skcal.preprocessing.ETA_WIDTHS`).
    input_centre, input_scale : sequence of float, optional
        Per-input offset and half-range: the network sees ``(x - centre) / scale``.
        Default: no scaling.
    core_sizes : sequence of int, default=(210, 210, 210, 210, 210)
        Widths of the shared core (its first layer takes the processed inputs).
    branch_sizes : sequence of int, default=(210, 210, 210, 210, 210)
        Widths of each fork (energy and mass have the same layers).
    residual_sizes : sequence of int, default=(210, 210)
        Widths of the residual connection's Mish layers; a last layer of width
        ``branch_sizes[-1]`` with a softmax follows.
    activation : {"mish", "relu", "silu"}, default="mish"
    min_scale : float, default=1e-3
        Floor of the widths, relative to ``width_scale``.
    width_scale : sequence of two floats, default=(0.1, 0.2)
        Unit of the energy and mass widths (the estimator sets the targets' spreads).
    initial_mode : sequence of two floats, default=(1.0, 1.0)
        The energy and mass modes of the untrained network (the estimator sets the
        targets' medians), so that a truncated loss sees the data from the start.

    Attributes
    ----------
    core, energy, mass, residual : nn.Module
        The parameter groups (:data:`skcal.neural.schedule.PARAMETER_GROUPS`);
        ``energy_head`` and ``mass_head`` belong to their forks.

    Examples
    --------
    >>> import torch
    >>> net = EnergyMassNetwork(4, eta_index=0, core_sizes=(8,), branch_sizes=(6, 6), residual_sizes=(5,))
    >>> net(torch.zeros(3, 4)).shape, net.residual(net.processed(torch.zeros(3, 4))).shape
    (torch.Size([3, 6]), torch.Size([3, 6]))
    >>> sorted(net.parameter_groups())
    ['core', 'energy', 'mass', 'residual']
    """

    def __init__(
        self,
        n_features: int,
        *,
        eta_index: int | None = None,
        eta_centres: Sequence[float] | None = None,
        eta_widths: Sequence[float] | None = None,
        input_centre: Sequence[float] | None = None,
        input_scale: Sequence[float] | None = None,
        core_sizes: Sequence[int] = (210,) * 5,
        branch_sizes: Sequence[int] = (210,) * 5,
        residual_sizes: Sequence[int] = (210, 210),
        activation: str = "mish",
        min_scale: float = 1e-3,
        width_scale: Sequence[float] = (0.1, 0.2),
        initial_mode: Sequence[float] = (1.0, 1.0),
    ) -> None:
        super().__init__()
        n_features = int(n_features)
        self.eta_index = None if eta_index is None else int(eta_index)
        if self.eta_index is not None and not 0 <= self.eta_index < n_features:
            raise DataError(
                f"eta_index must be a column position below {n_features}, got {eta_index!r}"
            )
        centres = torch.as_tensor(
            ETA_CENTRES if eta_centres is None else eta_centres, dtype=torch.float32
        )
        widths = torch.as_tensor(
            ETA_WIDTHS if eta_widths is None else eta_widths, dtype=torch.float32
        )
        if centres.shape != widths.shape or centres.ndim != 1:
            raise DataError(
                f"eta_centres and eta_widths need one width per centre, got {centres.shape[0]} "
                f"centres and {widths.numel()} widths"
            )
        if not bool((widths > 0).all()):
            raise DataError(f"eta_widths must be positive, got {widths.tolist()}")
        centre = (
            torch.zeros(n_features)
            if input_centre is None
            else torch.as_tensor(input_centre, dtype=torch.float32)
        )
        scale = (
            torch.ones(n_features)
            if input_scale is None
            else torch.as_tensor(input_scale, dtype=torch.float32)
        )
        if (
            centre.shape != (n_features,)
            or scale.shape != (n_features,)
            or not bool((scale > 0).all())
        ):
            raise DataError(
                f"input_centre and input_scale need {n_features} values (scales positive)"
            )
        ws = torch.as_tensor(width_scale, dtype=torch.float32)
        if ws.shape != (2,) or not bool((ws > 0).all()) or not min_scale > 0:
            raise DataError(
                f"width_scale needs two positive values and min_scale must be positive, "
                f"got {width_scale!r} and {min_scale!r}"
            )
        self.register_buffer("eta_centres", centres)
        self.register_buffer("eta_widths", widths)
        self.register_buffer("input_centre", centre)
        self.register_buffer("input_scale", scale)
        self.register_buffer("width_scale", ws)
        self.min_scale = float(min_scale)
        if len(branch_sizes) == 0:
            raise DataError("branch_sizes must hold at least one layer width")
        n_in = n_features + (centres.numel() if self.eta_index is not None else 0)
        self.n_processed = n_in
        self.core = MLP(n_in, core_sizes, activation)
        self.energy = MLP(self.core.out_features, branch_sizes, activation)
        self.mass = MLP(self.core.out_features, branch_sizes, activation)
        width = self.mass.out_features
        self.energy_head = nn.Linear(width, _N_PARAMS)
        self.mass_head = nn.Linear(width, _N_PARAMS)
        residual: list[nn.Module] = []
        if len(residual_sizes):
            trunk = MLP(n_in, residual_sizes, activation)
            residual += [trunk, nn.Linear(trunk.out_features, width)]
        else:
            residual += [nn.Linear(n_in, width)]
        self.residual = nn.Sequential(*residual, nn.Softmax(dim=-1))
        start = torch.as_tensor(initial_mode, dtype=torch.float32)
        if start.shape != (2,) or not bool(((start > 0) & (start < 2)).all()):
            raise DataError(f"initial_mode needs two values between 0 and 2, got {initial_mode!r}")
        for head, mode in zip((self.energy_head, self.mass_head), start, strict=True):
            nn.init.zeros_(head.bias)
            with torch.no_grad():
                head.bias[0] = torch.atanh(mode - 1.0)

    def parameter_groups(self) -> dict[str, list[tuple[str, nn.Parameter]]]:
        """The named parameters of each group that a training stage may freeze."""
        parts = {
            "core": [self.core],
            "energy": [self.energy, self.energy_head],
            "mass": [self.mass, self.mass_head],
            "residual": [self.residual],
        }
        groups: dict[str, list[tuple[str, nn.Parameter]]] = {g: [] for g in PARAMETER_GROUPS}
        for group, modules in parts.items():
            for module in modules:
                groups[group] += list(module.named_parameters())
        return groups

    def processed(self, x: torch.Tensor) -> torch.Tensor:
        """The input layer: scaled inputs, followed by the eta annotation."""
        scaled = (x - self.input_centre) / self.input_scale
        if self.eta_index is None:
            return scaled
        eta = x[:, self.eta_index : self.eta_index + 1].abs()
        annotation = torch.exp(-0.5 * ((eta - self.eta_centres) / self.eta_widths) ** 2)
        return torch.cat([scaled, annotation], dim=1)

    def _params(self, raw: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
        mode = torch.tanh(raw[:, :1]) + 1.0
        widths = unit * (nn.functional.softplus(raw[:, 1:]) + self.min_scale)
        return torch.cat([mode, widths], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = self.processed(x)
        h = self.core(h0)
        energy = self.energy_head(self.energy(h))
        mass = self.mass_head(self.mass(h) * self.residual(h0))
        return torch.cat(
            [self._params(energy, self.width_scale[0]), self._params(mass, self.width_scale[1])],
            dim=1,
        )


def _spread(t: torch.Tensor) -> float:
    """A robust spread of a response: half the central 68% interval (a floor of 1e-3)."""
    if t.numel() < 2:
        return 0.1
    q = torch.quantile(
        t.to(torch.float64)[: 1 << 20], torch.tensor([0.16, 0.84], dtype=torch.float64)
    )
    return max(float(q[1] - q[0]) / 2.0, 1e-3)


class EnergyMassCalibrator(_Calibrator):
    """The ATLAS simultaneous energy-and-mass calibration of large-R jets, as an estimator.

    ``fit(X, y)`` takes the jet features (the 21 inputs of the paper's table 2, with
    ``log E`` and ``log m``) and ``y`` of shape (n_jets, 2): the energy and mass
    responses ``(E_reco / E_true, m_reco / m_true)``. ``predict(X)`` returns the most
    probable responses, shape (n_jets, 2), so that ``E_calib = E_reco / R[:, 0]`` and
    ``m_calib = m_reco / R[:, 1]``. The network is :class:`EnergyMassNetwork`;
    training runs the stages of ``schedule`` in order (each with its epochs, batch
    size, learning rate, loss variant and truncation per target, optimiser, and frozen
    parameter groups; a fresh optimiser per stage).

    Parameters
    ----------
    schedule : sequence of Stage or of mappings, optional
        The training stages (:class:`~skcal.neural.schedule.Stage`); default the
        paper's table 3 (:func:`~skcal.neural.schedule.paper_schedule`).
    epoch_scale, batch_scale : float, default=1.0
        Factors on every stage's epochs and batch size (each stage keeps at least one
        epoch); the paper's batches of 15k-155k jets suit its 270 million jets.
    eta_annotation : bool, default=True
        Compute the eta annotation from ``eta_column`` inside the network (the
        paper's first layer). False: no annotation inside (put
        :class:`~skcal.preprocessing.EtaAnnotation` in the pipeline, or ablate it).
    eta_column : str or int, default="eta"
        The raw eta among the inputs (a name for DataFrame input, else a position).
    input_scaling : bool, default=True
        Map each input to [-1, 1] from its 1% and 99% quantiles in the training data
        inside the network (as :class:`~skcal.preprocessing.SymmetricScaler`; with
        Dask input, from a streamed quantile sketch). False if the pipeline scales.
    min_scale : float, default=1e-3
        Floor of the predicted widths, relative to each target's spread.
    random_state : int, numpy Generator or None, default=None
        Seeds the initial weights and the shuffling (CPU training is reproducible).
    buffer_partitions : int, default=4
        With Dask input, partitions read and shuffled together.
    device, callbacks, verbose, warm_start
        As in :class:`skorch.NeuralNet`. With ``warm_start=True`` a second ``fit``
        (like ``partial_fit``) runs the schedule again from the current weights.
    **kwargs
        Routed parameters: ``module__core_sizes``, ``module__branch_sizes``,
        ``module__residual_sizes``, ``module__activation``, ``module__eta_centres``,
        ``optimizer__weight_decay``, ...

    Attributes
    ----------
    schedule_ : tuple of Stage
        The stages run (scaled).
    loss_variants_ : dict
        Per target, the loss variant of the last stage that trained it: the density
        that ``predict_dist`` reports.
    eta_index_ : int or None
        Position of the annotated eta column.
    n_features_in_, feature_names_in_
        The input columns.
    history_ : skorch History
        Per epoch: ``stage``, ``stage_batch_size``, ``stage_lr``, ``train_loss``; per
        batch: ``train_loss_energy`` and ``train_loss_mass``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural.energy_mass import EnergyMassCalibrator
    >>> from skcal.neural.schedule import Stage
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([rng.uniform(-2, 2, 600), rng.normal(size=600)])
    >>> y = np.column_stack([1 + 0.05 * rng.normal(size=600), 1.1 + 0.1 * rng.normal(size=600)])
    >>> stages = [Stage(epochs=2, batch_size=100, lr=1e-3),
    ...           Stage(epochs=1, batch_size=200, lr=1e-4, loss={"energy": None, "mass": "gaussian"},
    ...                 truncation=2.0, frozen=("core", "energy"))]
    >>> cal = EnergyMassCalibrator(schedule=stages, eta_column=0, random_state=0,
    ...                            module__core_sizes=(16,), module__branch_sizes=(16,),
    ...                            module__residual_sizes=(8,)).fit(X, y)
    >>> cal.predict(X[:4]).shape, cal.history[:, "stage_batch_size"]
    ((4, 2), [100, 100, 200])
    >>> sorted(cal.predict_dist(X[:4]))
    ['energy', 'mass']
    """

    target = "response"  # not a parameter: the tanh + 1 outputs are responses

    def __init__(
        self,
        *,
        schedule: Sequence[Stage | dict] | None = None,
        epoch_scale: float = 1.0,
        batch_scale: float = 1.0,
        eta_annotation: bool = True,
        eta_column: str | int = "eta",
        input_scaling: bool = True,
        min_scale: float = 1e-3,
        random_state: Any = None,
        buffer_partitions: int = 4,
        module: Any = EnergyMassNetwork,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("optimizer", torch.optim.RAdam)  # replaced per stage
        super().__init__(module=module, verbose=verbose, **_skorch_kwargs(kwargs))
        self._set_own(
            schedule=schedule,
            epoch_scale=epoch_scale,
            batch_scale=batch_scale,
            eta_annotation=eta_annotation,
            eta_column=eta_column,
            input_scaling=input_scaling,
            min_scale=min_scale,
            random_state=random_state,
            buffer_partitions=buffer_partitions,
        )

    # ------------------------------------------------------------ parameters
    def _schedule(self) -> tuple[Stage, ...]:
        base = paper_schedule() if self.schedule is None else as_schedule(self.schedule)
        for name in ("epoch_scale", "batch_scale"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise DataError(f"{name} must be a positive number, got {value!r}")
        return tuple(
            s.scaled(epoch_scale=self.epoch_scale, batch_scale=self.batch_scale) for s in base
        )

    # ------------------------------------------------------------------ data
    def _target(self, y: Any, index: Any = None) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2 or y.shape[1] != 2:
            raise DataError(
                f"y must have two columns, the energy and mass responses (r_E, r_m); got "
                f"shape {y.shape}"
            )
        check_finite(y, list(OUTPUT_COLUMNS), index=index, what="y")
        check_positive_columns(
            y,
            list(OUTPUT_COLUMNS),
            index=index,
            what="y",
            why=" (responses E_reco / E_true and m_reco / m_true are positive)",
        )
        return y

    def _prepare(self, X: Any, y: Any, w: Any) -> tuple[torch.Tensor, torch.Tensor]:
        index = X.index if hasattr(X, "iloc") else None
        X = self._select_columns(X)
        arr = validate_table(self, X, reset=False)
        if arr.shape[0] != np.shape(y)[0]:
            raise DataError(f"X has {arr.shape[0]} rows but y has {np.shape(y)[0]}")
        t = self._target(y, index)
        weights = self._weights(w, arr.shape[0], index)
        yw = np.column_stack([t, weights]).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)), torch.from_numpy(yw)

    def _set_target_stats(self, t: torch.Tensor) -> None:
        """Replaced by the per-target spreads of :meth:`_make_data`."""

    def _make_data(
        self, X: Any, y: Any, sample_weight: Any, *, reset: bool
    ) -> TensorData | DaskStream:
        if is_dask(y) and getattr(y, "ndim", 1) == 2 and not hasattr(y, "columns"):
            y = y.rechunk({1: -1})
        data = super()._make_data(X, y, sample_weight, reset=reset)
        if not reset:
            return data
        first = data.yw if isinstance(data, TensorData) else next(data.buffers(None))[1]
        self.width_scale_ = (_spread(first[:, 0]), _spread(first[:, 1]))
        self.initial_mode_ = tuple(
            float(np.clip(np.median(first[:, k].numpy()), 0.05, 1.95)) for k in (0, 1)
        )
        names = getattr(self, "feature_names_in_", None)
        if self.eta_annotation:
            (self.eta_index_,) = resolve_columns(
                self.eta_column, names, self.n_features_in_, param="eta_column"
            )
        else:
            self.eta_index_ = None
        if self.input_scaling:
            if isinstance(data, TensorData):
                q = np.quantile(data.X.numpy(), [0.01, 0.99], axis=0).astype(np.float64)
                half = (q[1] - q[0]) / 2.0
                self.input_centre_, self.input_scale_ = (
                    (q[0] + q[1]) / 2.0,
                    np.where(half > 1e-12, half, 1.0),
                )
            else:
                scaler = SymmetricScaler().fit(self._select_columns(X))
                self.input_centre_, self.input_scale_ = scaler.centre_, scaler.scale_
        else:
            self.input_centre_ = self.input_scale_ = None
        return data

    # ------------------------------------------------------------- training
    def initialize_module(self) -> EnergyMassCalibrator:
        kwargs = dict(self.get_params_for("module"))
        kwargs.setdefault("n_features", self.n_features_in_)
        kwargs.update(
            eta_index=self.eta_index_,
            input_centre=self.input_centre_,
            input_scale=self.input_scale_,
            min_scale=self.min_scale,
            width_scale=self.width_scale_,
            initial_mode=self.initial_mode_,
        )
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def get_iterator(self, dataset: Any, training: bool = False) -> BatchIterator:
        stage = getattr(self, "_stage_", None)
        batch_size = stage[1].batch_size if stage is not None else 1 << 16
        return BatchIterator(
            dataset,
            batch_size,
            shuffle=training,
            generator=getattr(self, "_shuffle_generator_", None),
            device=self.device,
        )

    def on_epoch_begin(
        self, net: Any, dataset_train: Any = None, dataset_valid: Any = None, **kwargs: Any
    ) -> None:
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        index, stage = self._stage_
        self.history.record("stage", index)
        self.history.record("stage_batch_size", stage.batch_size)
        self.history.record("stage_lr", stage.lr)

    def get_loss(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        stage = self._stage_[1]
        total = y_pred.new_zeros(())
        for k, name in enumerate(TARGET_NAMES):
            variant = stage.loss[name]
            if variant is None:
                continue
            dist = target_distribution(y_pred[:, _N_PARAMS * k : _N_PARAMS * (k + 1)], variant)
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
        args, kwargs = self.get_params_for_optimizer("optimizer", trainable)
        kwargs.pop("lr", None)
        self.optimizer_ = make_optimizer(stage.optimizer, *args, lr=stage.lr, **kwargs)
        self._stage_ = (index, stage)

    def _run_schedule(
        self, data: TensorData | DaskStream, schedule: tuple[Stage, ...], **fit_params: Any
    ) -> None:
        self.schedule_ = schedule
        self.notify("on_train_begin", X=data, y=None)
        try:
            for index, stage in enumerate(schedule):
                self._begin_stage(index, stage)
                self.fit_loop(data, None, epochs=stage.epochs, **fit_params)
        finally:
            for p in self.module_.parameters():
                p.requires_grad_(True)
            self._stage_ = None
        variants: dict[str, str] = {}
        for stage in schedule:
            variants.update({t: v for t, v in stage.loss.items() if v is not None})
        self.loss_variants_ = {t: variants.get(t, "asymmetric") for t in TARGET_NAMES}
        self.notify("on_train_end", X=data, y=None)

    def fit(
        self, X: Any, y: Any = None, sample_weight: Any = None, **fit_params: Any
    ) -> EnergyMassCalibrator:
        """Train from scratch through every stage of the schedule.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        y : array-like, DataFrame or Dask collection of shape (n_jets, 2)
            The energy and mass responses ``(E_reco / E_true, m_reco / m_true)``, positive.
        sample_weight : array-like or Dask collection of shape (n_jets,), optional
            Per-jet weights, non-negative.

        Returns
        -------
        self
        """
        schedule = self._schedule()
        if self.warm_start and self.initialized_ and hasattr(self, "n_features_in_"):
            return self.partial_fit(X, y, sample_weight=sample_weight, **fit_params)
        data = self._start(X, y, sample_weight)
        self._run_schedule(data, schedule, **fit_params)
        return self

    def partial_fit(
        self,
        X: Any,
        y: Any = None,
        classes: Any = None,
        sample_weight: Any = None,
        **fit_params: Any,
    ) -> EnergyMassCalibrator:
        """Run the schedule over ``(X, y)`` from the current weights (initialising on the first call)."""
        schedule = self._schedule()
        if not (self.initialized_ and hasattr(self, "n_features_in_")):
            data = self._start(X, y, sample_weight)
        else:
            data = self._make_data(X, y, sample_weight, reset=False)
        self._run_schedule(data, schedule, **fit_params)
        return self

    # ----------------------------------------------------------- prediction
    def _raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_(x)

    def predict_dist(self, X: Any) -> dict[str, DensityPrediction]:
        """The predicted response densities of each jet, per target.

        Returns
        -------
        dict
            ``{"energy": DensityPrediction, "mass": DensityPrediction}``, each with
            ``mode()``, ``mean()``, ``std()``, ``quantile(q)``, ``pdf(r)`` and
            ``sample(n)`` in the space of the response (the density of the loss
            variant that last trained the target, ``loss_variants_``).
        """
        self._check_fitted()
        if is_dask(X):
            raise DataError("predict_dist needs an in-memory table; use predict on Dask input")
        raw = self._forward_raw(X)
        out = {}
        for k, name in enumerate(TARGET_NAMES):
            variant = self.loss_variants_[name]
            out[name] = DensityPrediction(
                raw[:, _N_PARAMS * k : _N_PARAMS * (k + 1)],
                lambda p, v=variant: target_distribution(p, v),
            )
        return out

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The most probable energy and mass responses.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        return_std : bool, default=False
            Also return the standard deviations of the response densities.

        Returns
        -------
        mode : ndarray of shape (n_jets, 2)
            Columns ``(R_E, R_m)``; for Dask input a Dask Array, or a Dask DataFrame
            with columns ``r_e`` and ``r_m``.
        std : same, only if ``return_std``
        """
        self._check_fitted()
        if is_dask(X):
            mode = self._map_dask2(X, lambda part: self.predict(part))
            if return_std:
                return mode, self._map_dask2(X, lambda part: self.predict(part, return_std=True)[1])
            return mode
        if not return_std:
            raw = self._forward_raw(X).to(torch.float64)
            return raw[:, [0, _N_PARAMS]].numpy()
        dists = self.predict_dist(X)
        mode = np.column_stack([dists[t].mode() for t in TARGET_NAMES])
        return mode, np.column_stack([dists[t].std() for t in TARGET_NAMES])

    def sample(self, X: Any, n: int, random_state: int | None = None) -> np.ndarray:
        """``n`` draws of ``(r_E, r_m)`` from each jet's densities, shape (n_jets, n, 2).

        The two targets are drawn independently (the network predicts no correlation).
        """
        dists = self.predict_dist(X)
        seeds = (None, None) if random_state is None else (int(random_state), int(random_state) + 1)
        return np.stack(
            [dists[t].sample(n, random_state=s) for t, s in zip(TARGET_NAMES, seeds, strict=True)],
            axis=-1,
        )

    def _map_dask2(self, X: Any, func: Any) -> Any:
        if hasattr(X, "map_partitions"):
            return X.map_partitions(
                lambda part: pd.DataFrame(
                    func(part), index=part.index, columns=list(OUTPUT_COLUMNS)
                ),
                meta=pd.DataFrame({c: pd.Series(dtype=np.float64) for c in OUTPUT_COLUMNS}),
            )
        if X.ndim != 2:
            raise DataError(f"X must be 2-D, got a Dask array of shape {X.shape}")
        X = X.rechunk({1: -1})
        return X.map_blocks(func, chunks=(X.chunks[0], (2,)), dtype=np.float64)

    def _check_fitted(self) -> None:
        super()._check_fitted()
        if not hasattr(self, "loss_variants_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit first.")

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_stage_", None)
        return state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.target_tags.positive_only = True
        return tags
