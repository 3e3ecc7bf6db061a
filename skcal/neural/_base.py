"""The machinery that the neural calibrators share: data, training loop, prediction.

Each calibrator is a :class:`skorch.NeuralNet` on skcal's table contract
(:class:`~skcal._contract.TableContract`), so ``module__*``, ``optimizer__*`` and
``callbacks__*`` parameters are routed as usual, with these changes:

- ``fit(X, y, sample_weight=None)`` checks the parameters once
  (``_parameter_constraints``, :class:`~skcal.exceptions.ParameterError`), takes
  per-jet weights (prior flattening) and validates the input with skcal's shared
  checks (NaN or infinite features or responses, non-positive responses);
- batches are slices of contiguous float32 tensors (:mod:`skcal.neural._data`);
- Dask input is streamed partition by partition (``buffer_partitions`` at a time), and
  prediction maps over the partitions lazily with an explicit meta;
- ``random_state`` seeds the initial weights and the shuffling: CPU training is
  reproducible bit for bit, without touching torch's global random state;
- a loss that becomes NaN or infinite, or an epoch's loss far above the best so far
  (:func:`~skcal.neural._loss.check_progress`), stops training with
  :class:`~skcal.neural.TrainingDivergedError` naming the epoch and the learning rate;
- a fit needs at least :data:`~skcal.neural._jets.MIN_JETS` (10) jets; empty Dask
  partitions are skipped;
- the ranges of the inputs and responses seen in training are kept
  (``feature_range_``, ``response_range_``), and bound what ``predict`` returns
  (:mod:`skcal.neural._bounds`);
- validation jets (:mod:`skcal.neural._split`): ``validation_fraction``, a
  ``train_split`` callable on skcal's datasets, or ``fit(X, y, X_val=..., y_val=...)``;
  ``history[:, "valid_loss"]`` is their weighted loss after each epoch, and skorch's
  ``EarlyStopping(monitor="valid_loss")`` works.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.utils._available_if import available_if
from skorch import NeuralNet
from torch import nn

from skcal._contract import TableContract
from skcal._params import Interval
from skcal._validation import check_calibrated
from skcal.exceptions import DataError
from skcal.neural._bounds import TrainingRanges, bound_responses, check_inputs
from skcal.neural._data import BatchIterator, DaskStream, TensorData
from skcal.neural._jets import JetData
from skcal.neural._loss import TrainingDivergedError, check_progress
from skcal.neural._split import Fold, split_jets

__all__: list[str] = []

_PREDICT_BATCH = 1 << 16
_VALID_BATCH = 1 << 14


#: The constraints of the parameters that every calibrator has.
COMMON_CONSTRAINTS: dict[str, list[Any]] = {
    "random_state": ["random_state"],
    "buffer_partitions": [Interval(Integral, 1, None, closed="left")],
    "verbose": ["verbose"],
}
#: The constraints of skorch's training parameters, where a calibrator uses them.
TRAINING_CONSTRAINTS: dict[str, list[Any]] = {
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "max_epochs": [Interval(Integral, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
}


def skorch_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """skorch's parameters with the calibrators' defaults."""
    kwargs.setdefault("criterion", nn.Identity)  # unused: get_loss computes the loss
    kwargs.setdefault("train_split", None)
    return kwargs


def _never(est: Any) -> bool:
    return False


#: scikit-learn's ``available_if`` (untyped) for a method that is never available.
_unavailable: Callable[[Callable[..., Any]], Callable[..., Any]] = available_if(_never)


class _Calibrator(JetData, TableContract, RegressorMixin, NeuralNet):
    """The machinery that the calibrators share (not public)."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = COMMON_CONSTRAINTS

    def _set_own(self, **params: Any) -> None:
        for key, value in params.items():
            setattr(self, key, value)

    #: True while fit or partial_fit runs, after the constraints have been checked.
    _params_checked: bool = False

    def _validate_params(self) -> None:
        """skcal's parameter constraints, then skorch's check of the routed names.

        skorch calls this hook itself (in ``initialize`` and ``set_params``); inside
        ``fit`` and ``partial_fit``, which check the constraints once before any data
        is read (:meth:`_resolve_params`), those calls check only the routed names.
        """
        if not self._params_checked:
            TableContract._validate_params(self)
        NeuralNet._validate_params(self)

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_features_in_")

    # ------------------------------------------------------------- training
    def _seed(self) -> int:
        if self.random_state is None:
            return int(torch.randint(0, 2**62, ()).item())
        if isinstance(self.random_state, np.random.Generator):
            return int(self.random_state.integers(0, 2**62))
        return int(self.random_state)

    def _resolve_params(self) -> None:
        """Check the parameters (skcal's constraints, once per fit or partial_fit) and set
        the settings derived from them."""
        TableContract._validate_params(self)

    def initialize_module(self) -> _Calibrator:
        kwargs = dict(self.get_params_for("module"))
        kwargs.setdefault("n_features", self.n_features_in_)
        kwargs.setdefault("loc", self.target_loc_)
        kwargs.setdefault("scale", self.target_scale_)
        kwargs.update(self._module_kwargs())
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def _module_kwargs(self) -> dict[str, Any]:
        return {}

    def _batch_size(self, training: bool) -> int:
        # validation batches only cost a forward pass: larger ones save Python overhead
        return int(self.batch_size if training else max(self.batch_size, _VALID_BATCH))

    def get_iterator(self, dataset: Any, training: bool = False) -> BatchIterator:
        return BatchIterator(
            dataset,
            self._batch_size(training),
            shuffle=training,
            generator=getattr(self, "_shuffle_generator_", None),
            device=self.device,
        )

    def get_dataset(self, X: Any, y: Any = None) -> Any:
        if isinstance(X, TensorData | DaskStream):
            return X
        raise TypeError(
            "calibrators build their own datasets; call fit or partial_fit with a table"
        )

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any) -> tuple[Any, Any]:
        """The training and validation jets of a :class:`~skcal.neural._split.Fold`."""
        if isinstance(X, Fold):
            return X.train, X.valid
        return self.get_dataset(X, y), None

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(True)
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if not math.isfinite(loss.item()):
            raise TrainingDivergedError(
                f"training diverged: the loss became {loss.item()} in epoch "
                f"{len(self.history)} (lr={self.lr:g}); lower lr, check the inputs' scale, "
                "or use a larger min_scale"
            )
        if getattr(self, "best_loss_", None) is None:
            self.best_loss_ = loss.item()  # the untrained model's, on its first batch
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _epoch_loss(self) -> float | None:
        batches = [b for b in self.history[-1, "batches"] if "train_loss" in b]
        if not batches:
            return None
        sizes = [b["train_batch_size"] for b in batches]
        return float(np.average([b["train_loss"] for b in batches], weights=sizes))

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        """Stop a training whose loss diverged (:func:`check_progress`)."""
        loss = self._epoch_loss()
        if loss is None:
            return
        best = getattr(self, "best_loss_", None)
        best = loss if best is None else best
        check_progress(loss, best, len(self.history), float(self.lr), self._loss_unit())
        self.best_loss_ = min(best, loss)

    def _loss_unit(self) -> float:
        """The natural scale of the loss (:func:`check_progress`): nats."""
        return 1.0

    def _begin(
        self, X: Any, y: Any, sample_weight: Any, val: tuple[Any, Any, Any], fit_params: Any
    ) -> Fold:
        """Validate, split off the validation jets, set the output scale, initialise."""
        for attr in ("n_features_in_", "feature_names_in_", "best_loss_"):
            if hasattr(self, attr):
                delattr(self, attr)
        data = self._make_data(X, y, sample_weight, reset=True)
        seed = self._seed()
        fold = split_jets(self, data, self._validation_data(*val), seed, fit_params)
        if fold.valid is not None and fold.train is not data and isinstance(fold.train, TensorData):
            self._set_target_stats(fold.train.yw)  # the output scale from the training jets
        self._shuffle_generator_ = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.initialize()
        return fold

    def _continue(
        self, X: Any, y: Any, sample_weight: Any, val: tuple[Any, Any, Any], fit_params: Any
    ) -> Fold:
        """The next chunk of an initialised calibrator, with fresh validation jets."""
        data = self._make_data(X, y, sample_weight, reset=False)
        gen = getattr(self, "_shuffle_generator_", None)
        seed = (
            int(torch.randint(0, 2**62, (), generator=gen).item())
            if gen is not None
            else len(self.history)
        )
        return split_jets(self, data, self._validation_data(*val), seed, fit_params)

    def _validation_data(self, X_val: Any, y_val: Any, sample_weight_val: Any) -> Any:
        if X_val is None:
            if y_val is not None or sample_weight_val is not None:
                raise DataError("y_val and sample_weight_val need X_val")
            return None
        if y_val is None:
            raise DataError("X_val needs y_val (the responses of the validation jets)")
        return self._make_data(X_val, y_val, sample_weight_val, reset=False)

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
    ) -> _Calibrator:
        """Train from scratch for ``max_epochs`` passes over ``(X, y)``.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        y : array-like or Dask collection of shape (n_jets,)
            The response ``E_reco / E_true``, positive.
        sample_weight : array-like or Dask collection of shape (n_jets,), optional
            Per-jet weights (for example prior-flattening weights), non-negative.
        X_val, y_val, sample_weight_val : optional
            Validation jets (in memory or Dask, like ``X``): their weighted loss is
            recorded after every epoch as ``history[:, "valid_loss"]``. Exclusive with
            the ``validation_fraction`` and ``train_split`` parameters.

        Returns
        -------
        self
        """
        return self._train(X, y, sample_weight, (X_val, y_val, sample_weight_val), fit_params)

    def partial_fit(
        self,
        X: Any,
        y: Any = None,
        classes: Any = None,
        sample_weight: Any = None,
        *,
        X_val: Any = None,
        y_val: Any = None,
        sample_weight_val: Any = None,
        **fit_params: Any,
    ) -> _Calibrator:
        """Train for ``max_epochs`` passes over one chunk, initialising on the first call.

        With ``validation_fraction``, each call holds out a fresh fraction of its chunk.
        """
        val = (X_val, y_val, sample_weight_val)
        return self._train(X, y, sample_weight, val, fit_params, fresh=False)

    def _train(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        val: tuple[Any, Any, Any],
        fit_params: dict[str, Any],
        *,
        fresh: bool = True,
    ) -> _Calibrator:
        self._resolve_params()
        self._params_checked = True
        try:
            if self.__sklearn_is_fitted__() and (self.warm_start or not fresh):
                self._seen = TrainingRanges(self)
                fold = self._continue(X, y, sample_weight, val, fit_params)
            else:
                self._seen = TrainingRanges()
                fold = self._begin(X, y, sample_weight, val, fit_params)
            self._run(fold, fit_params)
            if self._seen.features is None or self._seen.responses is None:
                raise DataError(f"{type(self).__name__} was given no jets to fit")
            self.feature_range_, self.response_range_ = self._seen.features, self._seen.responses
        finally:
            del self._params_checked  # back to the class's False
            self.__dict__.pop("_seen", None)
        return self

    def _run(self, fold: Fold, fit_params: dict[str, Any]) -> None:
        NeuralNet.partial_fit(self, fold, None, **fit_params)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_shuffle_generator_", None)
        state.pop("_params_checked", None)
        state.pop("_seen", None)
        return state

    # ----------------------------------------------------------- prediction
    def _forward_raw(self, X: Any) -> torch.Tensor:
        arr = self._validate_table(self._select_columns(X), reset=False)
        if hasattr(self, "feature_range_"):
            names = getattr(self, "feature_names_in_", None)
            check_inputs(
                arr,
                self.feature_range_,
                names if names is not None else [f"x{i}" for i in range(arr.shape[1])],
            )
        x = torch.from_numpy(np.require(arr, np.float32, ["C", "W"]))
        self.module_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, x.shape[0], _PREDICT_BATCH):
                xb = x[start : start + _PREDICT_BATCH].to(self.device)
                out.append(self._raw(xb).cpu())
        return torch.cat(out)

    def _guarded(self, values: np.ndarray, X: Any, what: str = "responses") -> np.ndarray:
        """The output guard: responses bounded to those seen in training
        (:mod:`skcal.neural._bounds`), then refused if any is not finite and positive."""
        if what == "responses" and hasattr(self, "response_range_"):
            values = bound_responses(values, self.response_range_)
        return check_calibrated(values, X, owner=type(self).__name__, what=what)

    def _raw(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @_unavailable
    def predict_proba(self, X: Any) -> Any:
        """Not available: a calibrator is a regressor (``predict_dist`` gives densities)."""
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.positive_only = True  # y is a response E_reco / E_true
        return tags
