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

Training follows a schedule of stages (:class:`~skcal.neural.Stage`), by default the
paper's table 3.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch

from skcal._params import Interval
from skcal._validation import as_response, is_dask, resolve_columns
from skcal.exceptions import DataError
from skcal.neural._base import COMMON_CONSTRAINTS, skorch_kwargs
from skcal.neural._data import DaskStream, TensorData
from skcal.neural._energy_mass_network import N_PARAMS, EnergyMassNetwork, target_distribution
from skcal.neural._energy_mass_stages import _StagedCalibrator
from skcal.neural._prediction import DensityPrediction
from skcal.neural._schedule import TARGET_NAMES, Stage, as_schedule, paper_schedule
from skcal.neural._uncertainty import UncertaintyMixin
from skcal.preprocessing import SymmetricScaler

__all__ = ["OUTPUT_COLUMNS", "EnergyMassCalibrator", "EnergyMassNetwork", "target_distribution"]

#: Column names of the predictions for DataFrame input.
OUTPUT_COLUMNS: tuple[str, ...] = ("r_e", "r_m")


def _spread(t: torch.Tensor) -> float:
    """A robust spread of a response: half the central 68% interval (a floor of 1e-3)."""
    if t.numel() < 2:
        return 0.1
    q = torch.quantile(
        t.to(torch.float64)[: 1 << 20], torch.tensor([0.16, 0.84], dtype=torch.float64)
    )
    return max(float(q[1] - q[0]) / 2.0, 1e-3)


class EnergyMassCalibrator(UncertaintyMixin, _StagedCalibrator):
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
        The training stages (:class:`~skcal.neural.Stage`); default the
        paper's table 3 (:func:`~skcal.neural.paper_schedule`).
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
    >>> from skcal.neural import EnergyMassCalibrator, Stage
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([rng.uniform(-2, 2, 600), rng.normal(size=600)])
    >>> y = np.column_stack([1 + 0.05 * rng.normal(size=600), 1.1 + 0.1 * rng.normal(size=600)])
    >>> stages = [Stage(epochs=2, batch_size=100, lr=1e-3),
    ...           Stage(epochs=1, batch_size=200, lr=1e-4,
    ...                 loss={"energy": None, "mass": "gaussian"},
    ...                 truncation=2.0, frozen=("core", "energy"))]
    >>> cal = EnergyMassCalibrator(schedule=stages, eta_column=0, random_state=0,
    ...                            module__core_sizes=(16,), module__branch_sizes=(16,),
    ...                            module__residual_sizes=(8,)).fit(X, y)
    >>> cal.predict(X[:4]).shape, cal.history[:, "stage_batch_size"]
    ((4, 2), [100, 100, 200])
    >>> sorted(cal.predict_dist(X[:4]))
    ['energy', 'mass']
    """

    eta_index_: int | None
    #: ``predict_uncertainty`` columns ``sigma_stat_e``, ..., ``sigma_tot_m`` (sigma_stat = 0).
    _uncertainty_targets: ClassVar[tuple[str, ...]] = ("e", "m")

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **COMMON_CONSTRAINTS,
        "schedule": [list, tuple, None],
        "epoch_scale": [Interval(Real, 0, None, closed="neither")],
        "batch_scale": [Interval(Real, 0, None, closed="neither")],
        "eta_annotation": ["boolean"],
        "eta_column": [str, Integral],
        "input_scaling": ["boolean"],
        "min_scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        schedule: Sequence[Stage | Mapping[str, Any]] | None = None,
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
        super().__init__(module=module, verbose=verbose, **skorch_kwargs(kwargs))
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
        return tuple(
            s.scaled(epoch_scale=self.epoch_scale, batch_scale=self.batch_scale) for s in base
        )

    def _resolve_params(self) -> None:
        super()._resolve_params()
        self._schedule()  # a bad stage is refused before any data is read

    # ------------------------------------------------------------------ data
    def _prepare_y(self, y: Any) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2 or y.shape[1] != 2:
            raise DataError(
                f"y must have two columns, the energy and mass responses (r_E, r_m); got "
                f"shape {y.shape}"
            )
        return np.column_stack(
            [as_response(y[:, k], f"y column {name!r}") for k, name in enumerate(OUTPUT_COLUMNS)]
        )

    def _set_target_stats(self, yw: torch.Tensor) -> None:
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

    def fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        X_val: Any = None,
        y_val: Any = None,
        sample_weight_val: Any = None,
        **fit_params: Any,
    ) -> EnergyMassCalibrator:
        """Train from scratch through every stage of the schedule.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        y : array-like, DataFrame or Dask collection of shape (n_jets, 2)
            The energy and mass responses ``(E_reco / E_true, m_reco / m_true)``, positive.
        sample_weight : array-like or Dask collection of shape (n_jets,), optional
            Per-jet weights, non-negative.
        X_val, y_val, sample_weight_val : optional
            Validation jets: their loss is ``history[:, "valid_loss"]`` each epoch.

        Returns
        -------
        self
        """
        val = (X_val, y_val, sample_weight_val)
        self._train(X, y, sample_weight, val, fit_params)
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
                raw[:, N_PARAMS * k : N_PARAMS * (k + 1)],
                functools.partial(target_distribution, variant=variant),
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
            names = list(OUTPUT_COLUMNS)
            mode = self._map_chunks(X, "_predict_chunk", "mode", names=names)
            if return_std:
                return mode, self._map_chunks(X, "_predict_chunk", "std", names=names)
            return mode
        if not return_std:
            return self._predict_chunk(X, None, "mode")
        return self._predict_chunk(X, None, "mode"), self._predict_chunk(X, None, "std")

    def _predict_chunk(self, chunk: Any, rows: Any, which: str) -> np.ndarray:
        if which == "mode":
            raw = self._forward_raw(chunk).to(torch.float64)
            return self._guarded(raw[:, [0, N_PARAMS]].numpy(), chunk)
        dists = self.predict_dist(chunk)
        return self._guarded(
            np.column_stack([dists[t].std() for t in TARGET_NAMES]), chunk, "widths"
        )

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

    def __sklearn_is_fitted__(self) -> bool:
        return super().__sklearn_is_fitted__() and hasattr(self, "loss_variants_")

    @property
    def n_outputs_(self) -> int:
        """Responses per jet: 2, the energy's and the mass's (scikit-learn's name)."""
        self._check_fitted()
        return len(OUTPUT_COLUMNS)

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
