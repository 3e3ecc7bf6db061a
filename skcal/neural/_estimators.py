"""skorch estimators: the density calibrators (GDN, MDN, MDNA) and the point regressor.

Each is a :class:`skorch.NeuralNet`, so ``module__*``, ``optimizer__*`` and
``callbacks__*`` parameters are routed as usual, with these changes:

- ``fit(X, y, sample_weight=None)`` takes per-jet weights (prior flattening) and
  validates the input (NaN or infinite features or targets, non-positive responses);
- batches are slices of contiguous float32 tensors (:mod:`skcal.neural._data`);
- Dask input is streamed partition by partition (``buffer_partitions`` at a time);
- ``random_state`` seeds the initial weights and the shuffling: CPU training is
  reproducible bit for bit, without touching torch's global random state;
- a loss that becomes NaN or infinite stops training with :class:`TrainingDivergedError`;
- validation: ``validation_fraction=0.1`` holds out a seeded random 10% of the jets
  (whole partitions for Dask input), or ``fit(X, y, X_val=..., y_val=...)`` takes
  explicit validation jets; either way ``history[:, "valid_loss"]`` is the weighted
  loss on them after each epoch (batches are slices of contiguous tensors too), and
  skorch's ``EarlyStopping(monitor="valid_loss")`` works. skorch's own
  ``train_split`` is not used (it must stay ``None``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import RegressorMixin
from sklearn.utils.validation import column_or_1d
from skorch import NeuralNet
from torch import nn
from torch.distributions import Distribution

from skcal._validation import check_finite, check_positive_columns, is_dask, validate_table
from skcal.exceptions import DataError, NotFittedError, SkcalError
from skcal.neural._data import BatchIterator, DaskStream, TensorData
from skcal.neural._prediction import TARGETS, DensityPrediction
from skcal.neural.distributions import Truncated
from skcal.neural.modules import DensityNetwork, PointNetwork

__all__ = ["GDNCalibrator", "MDNCalibrator", "PointCalibrator", "TrainingDivergedError", "nll_loss"]

_PREDICT_BATCH = 1 << 16
_VALID_BATCH = 1 << 14


class TrainingDivergedError(SkcalError, FloatingPointError):
    """Training produced a NaN or infinite loss; the model is not usable."""


def nll_loss(
    dist: Distribution,
    y: torch.Tensor,
    weight: torch.Tensor | None = None,
    truncation: float | None = None,
) -> torch.Tensor:
    """The (weighted) mean negative log-likelihood of ``y`` under ``dist``.

    With ``truncation=N``, each density (or each mixture component) is restricted to
    ``N`` widths around its mode and renormalised (:class:`~skcal.neural.distributions.Truncated`);
    jets outside the window have no likelihood and are *excluded*: the mean runs over
    the others (weights renormalised to them). A batch with no jet inside gives 0.

    Examples
    --------
    >>> import math, torch
    >>> d = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    >>> round(nll_loss(d, torch.zeros(2)).item(), 4) == round(0.5 * math.log(2 * math.pi), 4)
    True
    >>> round(nll_loss(d, torch.tensor([0.0, 5.0]), truncation=3.0).item(), 4)  # 5 sigma excluded
    0.9162
    """
    if truncation is not None:
        if isinstance(dist, torch.distributions.MixtureSameFamily):
            dist = torch.distributions.MixtureSameFamily(
                dist.mixture_distribution, Truncated(dist.component_distribution, truncation)
            )
        else:
            dist = Truncated(dist, truncation)
    nll = -dist.log_prob(y)
    w = torch.ones_like(nll) if weight is None else weight
    keep = torch.isfinite(nll) if truncation is not None else torch.ones_like(nll, dtype=torch.bool)
    w = torch.where(keep, w, torch.zeros_like(w))
    nll = torch.where(keep, nll, torch.zeros_like(nll))
    return (w * nll).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)


class _Calibrator(RegressorMixin, NeuralNet):
    """The machinery that the calibrators share (not public)."""

    _own_params: tuple[str, ...] = (
        "target",
        "random_state",
        "validation_fraction",
        "buffer_partitions",
    )

    def _set_own(self, **params: Any) -> None:
        for key, value in params.items():
            setattr(self, key, value)

    # ------------------------------------------------------------------ data
    def _select_columns(self, X: Any) -> Any:
        names = getattr(self, "feature_names_in_", None)
        if names is None or not hasattr(X, "columns"):
            return X
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise DataError(
                f"X lacks the column(s) {missing} that {type(self).__name__} was fitted on"
            )
        return X[list(names)]

    def _target(self, y: Any, index: Any = None) -> np.ndarray:
        y = column_or_1d(np.array(y, dtype=np.float64), warn=True).reshape(-1, 1)  # a writable copy
        check_finite(y, ["y"], index=index, what="y")
        check_positive_columns(
            y, ["y"], index=index, what="y", why=" (a response E_reco / E_true is positive)"
        )
        return TARGETS[self.target][0](torch.from_numpy(y[:, 0])).numpy()

    def _weights(self, w: Any, n: int, index: Any = None) -> np.ndarray:
        if w is None:
            return np.ones(n)
        w = np.asarray(w, dtype=np.float64).reshape(-1)
        if w.shape[0] != n:
            raise DataError(f"sample_weight has {w.shape[0]} entries but X has {n} rows")
        check_finite(w[:, None], ["sample_weight"], index=index, what="sample_weight")
        if (w < 0).any():
            raise DataError(
                f"sample_weight has negative values (first at row {int(np.argmax(w < 0))})"
            )
        if n > 0 and not w.sum() > 0:
            raise DataError("sample_weight sums to zero: no jet would count in the loss")
        return w

    def _prepare(self, X: Any, y: Any, w: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Validated contiguous tensors of one in-memory table (or Dask chunk)."""
        index = X.index if hasattr(X, "iloc") else None
        X = self._select_columns(X)
        arr = validate_table(self, X, reset=False)
        y = np.asarray(y)
        if arr.shape[0] != y.shape[0]:
            raise DataError(f"X has {arr.shape[0]} rows but y has {y.shape[0]}")
        t = self._target(y, index)
        weights = self._weights(w, arr.shape[0], index)
        yw = np.stack([t, weights], axis=1).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)), torch.from_numpy(yw)

    def _make_data(
        self, X: Any, y: Any, sample_weight: Any, *, reset: bool
    ) -> TensorData | DaskStream:
        if y is None:
            raise DataError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(y is the response E_reco / E_true)"
            )
        if is_dask(X):
            if not is_dask(y) or (sample_weight is not None and not is_dask(sample_weight)):
                raise DataError("with Dask X, y and sample_weight must be Dask collections too")
            validate_table(self, X, reset=reset)  # columns and dtypes only
            stream = DaskStream(X, y, sample_weight, self._prepare, self.buffer_partitions)
            if reset:  # the first buffer gives the initial scale of the outputs
                first = next(stream.buffers(None))
                self._set_target_stats(first[1][:, 0])
            return stream
        if reset:
            validate_table(self, X, reset=True, ensure_finite=False)
        data = TensorData(*self._prepare(X, y, sample_weight))
        if reset:
            self._set_target_stats(data.yw[:, 0])
        return data

    def _set_target_stats(self, t: torch.Tensor) -> None:
        t = t.to(torch.float64)
        self.target_loc_ = float(t.mean())
        self.target_scale_ = float(t.std()) if t.numel() > 1 and float(t.std()) > 0 else 1.0

    # ------------------------------------------------------------- training
    def _seed(self) -> int:
        if self.random_state is None:
            return int(torch.randint(0, 2**62, ()).item())
        if isinstance(self.random_state, np.random.Generator):
            return int(self.random_state.integers(0, 2**62))
        return int(self.random_state)

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

    def get_iterator(self, dataset: Any, training: bool = False) -> BatchIterator:
        # validation batches only cost a forward pass: larger ones save Python overhead
        batch_size = self.batch_size if training else max(self.batch_size, _VALID_BATCH)
        return BatchIterator(
            dataset,
            batch_size,
            shuffle=training,
            generator=getattr(self, "_shuffle_generator_", None),
            device=self.device,
        )

    def get_dataset(self, X: Any, y: Any = None) -> Any:
        if isinstance(X, (TensorData, DaskStream)):
            return X
        raise TypeError(
            "calibrators build their own datasets; call fit or partial_fit with a table"
        )

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(True)
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if not math.isfinite(loss.item()):
            epoch = len(self.history)
            raise TrainingDivergedError(
                f"training diverged: the loss became {loss.item()} in epoch {epoch}; "
                "lower lr, check the inputs' scale, or use a larger min_scale"
            )
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def _start(self, X: Any, y: Any, sample_weight: Any) -> TensorData | DaskStream:
        """Validate, set the input and target statistics and initialise; no validation split."""
        return self._begin(X, y, sample_weight, split=False)[0]

    def _begin(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        X_val: Any = None,
        y_val: Any = None,
        sample_weight_val: Any = None,
        *,
        split: bool = True,
    ) -> tuple[TensorData | DaskStream, Any]:
        """``_start`` with the validation jets: held out (``validation_fraction``) or given."""
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {sorted(TARGETS)}, got {self.target!r}")
        if getattr(self, "mode_space", "response") not in ("response", "target"):
            raise ValueError(f"mode_space must be 'response' or 'target', got {self.mode_space!r}")
        self._check_validation_params()
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self, attr):
                delattr(self, attr)
        data = self._make_data(X, y, sample_weight, reset=True)
        seed = self._seed()
        valid = None
        if split:
            data, valid = self._with_validation(data, X_val, y_val, sample_weight_val, seed)
            if isinstance(data, TensorData) and X_val is None and valid is not None:
                self._set_target_stats(
                    data.yw[:, 0]
                )  # the output scale from the training jets only
        self._shuffle_generator_ = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.initialize()
        return data, valid

    # ----------------------------------------------------------- validation
    def _check_validation_params(self) -> None:
        frac = getattr(self, "validation_fraction", None)
        if frac is not None and not (isinstance(frac, numbers.Real) and 0.0 < float(frac) < 1.0):
            raise ValueError(
                f"validation_fraction must be a number strictly between 0 and 1, or None; got {frac!r}"
            )
        if self.train_split is not None:
            raise ValueError(
                f"{type(self).__name__} does not use skorch's train_split (got {self.train_split!r}); hold out "
                "jets with validation_fraction=0.1, or pass fit(X, y, X_val=..., y_val=...)"
            )

    def _split(
        self, data: TensorData | DaskStream, seed: int
    ) -> tuple[TensorData | DaskStream, Any]:
        """Hold out ``validation_fraction`` of the jets (of the partitions, for Dask input)."""
        frac = getattr(self, "validation_fraction", None)
        if frac is None:
            return data, None
        gen = torch.Generator().manual_seed(int(seed) % (2**63 - 1) + 1)
        if isinstance(data, TensorData):
            n = len(data)
            n_val = int(round(float(frac) * n))
            if n_val < 1 or n_val >= n:
                raise DataError(
                    f"validation_fraction={frac} of {n} jets leaves no validation or no training "
                    "jets; give more jets or another fraction"
                )
            perm = torch.randperm(n, generator=gen)
            valid, train = perm[:n_val].sort().values, perm[n_val:].sort().values
            return TensorData(data.X[train], data.yw[train]), TensorData(
                data.X[valid], data.yw[valid]
            )
        n = data.n_partitions
        n_val = max(1, int(round(float(frac) * n)))
        if n_val >= n:
            raise DataError(
                f"validation_fraction={frac} holds out whole partitions: {n} partition(s) leave "
                "none to train on; repartition the input or pass X_val, y_val"
            )
        perm = data.partitions[torch.randperm(n, generator=gen).numpy()]
        args = (data.X, data.y, data.sample_weight, data.prepare, data.buffer_partitions)
        return DaskStream(*args, partitions=np.sort(perm[n_val:])), DaskStream(
            *args, partitions=np.sort(perm[:n_val])
        )

    def _with_validation(
        self,
        data: TensorData | DaskStream,
        X_val: Any,
        y_val: Any,
        sample_weight_val: Any,
        seed: int,
    ) -> tuple[TensorData | DaskStream, Any]:
        if X_val is None:
            if y_val is not None or sample_weight_val is not None:
                raise DataError("y_val and sample_weight_val need X_val")
            return self._split(data, seed)
        if getattr(self, "validation_fraction", None) is not None:
            raise ValueError("give either validation_fraction or X_val/y_val, not both")
        if y_val is None:
            raise DataError("X_val needs y_val (the responses of the validation jets)")
        return data, self._make_data(X_val, y_val, sample_weight_val, reset=False)

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any) -> tuple[Any, Any]:
        return self.get_dataset(X, y), getattr(self, "_valid_data_", None)

    def _run(self, data: TensorData | DaskStream, valid: Any, fit_params: dict[str, Any]) -> None:
        self._valid_data_ = valid
        try:
            super().partial_fit(data, None, **fit_params)
        finally:
            del self._valid_data_

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
            the ``validation_fraction`` parameter.

        Returns
        -------
        self
        """
        if self.warm_start and self.initialized_ and hasattr(self, "n_features_in_"):
            return self.partial_fit(
                X,
                y,
                sample_weight=sample_weight,
                X_val=X_val,
                y_val=y_val,
                sample_weight_val=sample_weight_val,
                **fit_params,
            )
        data, valid = self._begin(X, y, sample_weight, X_val, y_val, sample_weight_val)
        self._run(data, valid, fit_params)
        return self

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
        if not (self.initialized_ and hasattr(self, "n_features_in_")):
            data, valid = self._begin(X, y, sample_weight, X_val, y_val, sample_weight_val)
        else:
            self._check_validation_params()
            data = self._make_data(X, y, sample_weight, reset=False)
            gen = getattr(self, "_shuffle_generator_", None)
            seed = (
                int(torch.randint(0, 2**62, (), generator=gen).item())
                if gen is not None
                else len(self.history)
            )
            data, valid = self._with_validation(data, X_val, y_val, sample_weight_val, seed)
        self._run(data, valid, fit_params)
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_shuffle_generator_", None)
        state.pop("_valid_data_", None)
        return state

    # ----------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not (getattr(self, "initialized_", False) and hasattr(self, "n_features_in_")):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit first.")

    def _forward_raw(self, X: Any) -> torch.Tensor:
        X = self._select_columns(X)
        arr = validate_table(self, X, reset=False)
        x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        self.module_.eval()
        out = []
        with torch.no_grad():
            for start in range(0, x.shape[0], _PREDICT_BATCH):
                xb = x[start : start + _PREDICT_BATCH].to(self.device)
                out.append(self._raw(xb).cpu())
        return torch.cat(out)

    def _map_dask(self, X: Any, func: Any) -> Any:
        if hasattr(X, "map_partitions"):
            return X.map_partitions(
                lambda part: pd.Series(func(part), index=part.index),
                meta=pd.Series(dtype=np.float64),
            )
        if X.ndim != 2:
            raise DataError(f"X must be 2-D, got a Dask array of shape {X.shape}")
        return X.rechunk({1: -1}).map_blocks(func, drop_axis=1, dtype=np.float64)

    @property
    def predict_proba(self) -> Any:
        """Not available: a calibrator is a regressor (``hasattr`` gives False)."""
        raise AttributeError(
            f"{type(self).__name__} is a regressor and has no predict_proba; "
            "predict_dist gives the response density"
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.positive_only = True  # y is a response E_reco / E_true
        return tags


class _DensityCalibrator(_Calibrator):
    """Shared by GDNCalibrator and MDNCalibrator."""

    def _raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_.raw(x)

    def get_loss(
        self, y_pred: Distribution, y_true: torch.Tensor, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        return nll_loss(y_pred, y_true[:, 0], y_true[:, 1], self.truncation)

    def predict_dist(self, X: Any) -> DensityPrediction:
        """The predicted response density of each jet.

        Returns
        -------
        DensityPrediction
            With ``mode()``, ``mean()``, ``std()``, ``quantile(q)``, ``pdf(r)`` and
            ``sample(n)``, all in the space of the response.
        """
        self._check_fitted()
        if is_dask(X):
            raise DataError("predict_dist needs an in-memory table; use predict on Dask input")
        return DensityPrediction(
            self._forward_raw(X),
            self.module_.distribution,
            target=self.target,
            mode_space=self.mode_space,
        )

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The most probable response (the mode of each jet's density).

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        return_std : bool, default=False
            Also return the standard deviation of each jet's response density.

        Returns
        -------
        mode : ndarray of shape (n_jets,), or a Dask Series/Array for Dask input
        std : same, only if ``return_std``
        """
        self._check_fitted()
        if is_dask(X):
            mode = self._map_dask(X, lambda part: self.predict(part))
            if return_std:
                return mode, self._map_dask(X, lambda part: self.predict(part, return_std=True)[1])
            return mode
        pred = self.predict_dist(X)
        return (pred.mode(), pred.std()) if return_std else pred.mode()

    def sample(self, X: Any, n: int, random_state: int | None = None) -> np.ndarray:
        """``n`` responses drawn from each jet's predicted density, shape (n_jets, n)."""
        return self.predict_dist(X).sample(n, random_state=random_state)


_COMMON_DOC = """
    target : {"response", "log", "log10"}, default="response"
        The space in which the density is fitted: ``r``, ``ln r`` or ``log10 r``
        (the topo-cluster calibration trains on ``log10 R``). Predictions are always
        responses; densities are converted with the Jacobian.
    mode_space : {"response", "target"}, default="response"
        Where ``predict`` takes the mode: of the density of ``r`` (DESIGN section 2),
        or of the training target (then mapped back to ``r``).
    truncation : float, optional
        Loss truncation at this many widths around the mode (ATLAS truncated
        MDN/MDNA losses); jets outside are excluded from the loss (:func:`nll_loss`).
    min_scale : float, default=1e-3
        Floor of every predicted width, relative to the target's standard deviation.
    random_state : int, numpy Generator or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    validation_fraction : float, optional
        Hold out this fraction of the jets (chosen at random, seeded by
        ``random_state``; whole partitions for Dask input) and record their loss after
        every epoch in ``history[:, "valid_loss"]`` (for ``EarlyStopping``, monitors and
        sweeps). ``None``: no validation, unless ``fit`` is given ``X_val`` and ``y_val``.
    buffer_partitions : int, default=4
        With Dask input, partitions read and shuffled together.
    lr, max_epochs, batch_size, optimizer, device, callbacks, verbose, warm_start
        As in :class:`skorch.NeuralNet` (``device="cuda"`` passes through to torch).
    **kwargs
        Routed parameters: ``module__hidden_sizes``, ``module__activation``
        (``"mish"``, ``"relu"``, ``"silu"``), ``optimizer__weight_decay``, ...
"""


def _skorch_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("criterion", nn.Identity)  # unused: get_loss computes the NLL
    kwargs.setdefault("train_split", None)
    return kwargs


class GDNCalibrator(_DensityCalibrator):
    __doc__ = (
        """A Gaussian density network: the network predicts the mode and width of
    each jet's response density (a Normal, or with ``asymmetric=True`` a split normal
    with two widths, the MDNA of the ATLAS large-R calibration).

    Parameters
    ----------
    asymmetric : bool, default=False
        Two widths around the mode instead of one."""
        + _COMMON_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import GDNCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(512, 2)).astype("float32")
    >>> y = 1.0 + 0.1 * X[:, 0] + 0.05 * rng.normal(size=512)
    >>> gdn = GDNCalibrator(max_epochs=2, batch_size=128, random_state=0,
    ...                     module__hidden_sizes=(16,)).fit(X, y)
    >>> mode, std = gdn.predict(X[:3], return_std=True)
    >>> mode.shape, bool((std > 0).all())
    ((3,), True)
    """
    )

    def __init__(
        self,
        *,
        asymmetric: bool = False,
        target: str = "response",
        mode_space: str = "response",
        truncation: float | None = None,
        min_scale: float = 1e-3,
        random_state: Any = None,
        validation_fraction: float | None = None,
        buffer_partitions: int = 4,
        module: Any = DensityNetwork,
        optimizer: Any = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 20,
        batch_size: int = 4096,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module=module,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            verbose=verbose,
            **_skorch_kwargs(kwargs),
        )
        self._set_own(
            asymmetric=asymmetric,
            target=target,
            mode_space=mode_space,
            truncation=truncation,
            min_scale=min_scale,
            random_state=random_state,
            validation_fraction=validation_fraction,
            buffer_partitions=buffer_partitions,
        )

    def _module_kwargs(self) -> dict[str, Any]:
        return {"n_components": 1, "asymmetric": self.asymmetric, "min_scale": self.min_scale}


class MDNCalibrator(_DensityCalibrator):
    __doc__ = (
        """A mixture density network: each jet's response density is a mixture of
    ``n_components`` normal (or, with ``asymmetric=True``, split-normal) components;
    ``predict`` returns the true mode of the mixture, found numerically.

    Parameters
    ----------
    n_components : int, default=3
        Mixture components.
    asymmetric : bool, default=False
        Split-normal components (two widths around each component's mode)."""
        + _COMMON_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import MDNCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(512, 2)).astype("float32")
    >>> y = np.exp(0.1 * X[:, 0] + 0.1 * rng.normal(size=512))
    >>> mdn = MDNCalibrator(n_components=2, target="log", max_epochs=2, batch_size=128,
    ...                     random_state=0, module__hidden_sizes=(16,)).fit(X, y)
    >>> dist = mdn.predict_dist(X[:4])
    >>> dist.quantile([0.16, 0.84]).shape, mdn.sample(X[:4], 10, random_state=0).shape
    ((2, 4), (4, 10))
    """
    )

    def __init__(
        self,
        *,
        n_components: int = 3,
        asymmetric: bool = False,
        target: str = "response",
        mode_space: str = "response",
        truncation: float | None = None,
        min_scale: float = 1e-3,
        random_state: Any = None,
        validation_fraction: float | None = None,
        buffer_partitions: int = 4,
        module: Any = DensityNetwork,
        optimizer: Any = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 20,
        batch_size: int = 4096,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module=module,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            verbose=verbose,
            **_skorch_kwargs(kwargs),
        )
        self._set_own(
            n_components=n_components,
            asymmetric=asymmetric,
            target=target,
            mode_space=mode_space,
            truncation=truncation,
            min_scale=min_scale,
            random_state=random_state,
            validation_fraction=validation_fraction,
            buffer_partitions=buffer_partitions,
        )

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            "n_components": self.n_components,
            "asymmetric": self.asymmetric,
            "min_scale": self.min_scale,
        }


class PointCalibrator(_Calibrator):
    """The simplest DNN baseline: a network regressing the response directly, with an
    absolute (``loss="mae"``: the median response) or squared (``"mse"``: the mean
    response) error. It predicts neither the mode nor a width.

    Parameters
    ----------
    loss : {"mae", "mse"}, default="mae"
        The (weighted) mean absolute or squared error of the target.
    target : {"response", "log", "log10"}, default="response"
        The space of the regression; predictions are mapped back to responses (the
        median is invariant under that map, the mean is not).
    random_state, validation_fraction, buffer_partitions
        As for :class:`GDNCalibrator`.
    lr, max_epochs, batch_size, optimizer, device, verbose, **kwargs
        As for :class:`GDNCalibrator`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import PointCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2)).astype("float32")
    >>> y = 1.0 + 0.1 * X[:, 0]
    >>> reg = PointCalibrator(loss="mse", max_epochs=2, batch_size=64, random_state=0).fit(X, y)
    >>> reg.predict(X[:5]).shape
    (5,)
    """

    def __init__(
        self,
        *,
        loss: str = "mae",
        target: str = "response",
        random_state: Any = None,
        validation_fraction: float | None = None,
        buffer_partitions: int = 4,
        module: Any = PointNetwork,
        optimizer: Any = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 20,
        batch_size: int = 4096,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module=module,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            verbose=verbose,
            **_skorch_kwargs(kwargs),
        )
        self._set_own(
            loss=loss,
            target=target,
            random_state=random_state,
            validation_fraction=validation_fraction,
            buffer_partitions=buffer_partitions,
        )

    def initialize(self) -> PointCalibrator:
        if self.loss not in ("mae", "mse"):
            raise ValueError(f"loss must be 'mae' or 'mse', got {self.loss!r}")
        return super().initialize()

    def _raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_(x)[:, None]

    def get_loss(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        diff = y_pred - y_true[:, 0]
        err = diff.abs() if self.loss == "mae" else diff * diff
        w = y_true[:, 1]
        return (w * err).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The predicted response (median for ``"mae"``, mean for ``"mse"``), shape (n_jets,)."""
        self._check_fitted()
        if return_std:
            raise ValueError(
                "PointCalibrator predicts no width; use GDNCalibrator or MDNCalibrator for return_std"
            )
        if is_dask(X):
            return self._map_dask(X, lambda part: self.predict(part))
        t = self._forward_raw(X)[:, 0].to(torch.float64)
        return TARGETS[self.target][1](t).numpy()
