"""The density calibrators (GDN, MDN, MDNA) and the response handling they share.

The training machinery is :class:`skcal.neural._base._Calibrator`; the point
regressor is :class:`skcal.neural._point.PointCalibrator`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils.validation import column_or_1d
from torch.distributions import Distribution

from skcal._params import Interval, StrOptions
from skcal._validation import as_response, check_calibrated, is_dask
from skcal.exceptions import DataError
from skcal.neural._base import COMMON_CONSTRAINTS, TRAINING_CONSTRAINTS, _Calibrator, skorch_kwargs
from skcal.neural._loss import nll_loss
from skcal.neural._modules import DensityNetwork
from skcal.neural._prediction import (
    _DEPRECATED,
    MODE_SPACES,
    TRAINING_SPACES,
    DensityPrediction,
    resolve_spaces,
)
from skcal.neural._uncertainty import UncertaintyMixin

__all__ = ["GDNCalibrator", "MDNCalibrator"]

#: The constraints of the training space, shared by the calibrators of one response.
SPACE_CONSTRAINTS: dict[str, list[Any]] = {
    **COMMON_CONSTRAINTS,
    **TRAINING_CONSTRAINTS,
    "training_space": [StrOptions(set(TRAINING_SPACES))],
    "target": [StrOptions({*TRAINING_SPACES, _DEPRECATED}, deprecated=set(TRAINING_SPACES))],
}
DENSITY_CONSTRAINTS: dict[str, list[Any]] = {
    **SPACE_CONSTRAINTS,
    "mode_space": [StrOptions({*MODE_SPACES, "target"}, deprecated={"target"})],
    "truncation": [Interval(Real, 0, None, closed="neither"), None],
    "min_scale": [Interval(Real, 0, None, closed="neither")],
}


class _ResponseCalibrator(_Calibrator):
    """A calibrator of one response, trained in ``training_space`` (not public)."""

    def _resolve_params(self) -> None:
        super()._resolve_params()
        self.training_space_, self.mode_space_ = resolve_spaces(
            self.training_space,
            getattr(self, "mode_space", "response"),
            self.target,
            type(self).__name__,
        )

    def _module_kwargs(self) -> dict[str, Any]:
        # a density or point estimate of r itself has positive locations by construction
        return {"positive": self.training_space_ == "response"}

    def _prepare_y(self, y: Any) -> np.ndarray:
        r = as_response(column_or_1d(np.asarray(y), warn=True), "y")
        return TRAINING_SPACES[self.training_space_][0](torch.tensor(r)).numpy()


class _DensityCalibrator(UncertaintyMixin, _ResponseCalibrator):
    """Shared by GDNCalibrator and MDNCalibrator (``predict_uncertainty``: sigma_stat = 0)."""

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
        raw = self._forward_raw(X)
        finite = torch.isfinite(raw).all(dim=1).numpy()
        if not finite.all():  # the output guard: no density built from NaN parameters
            check_calibrated(
                np.where(finite, 1.0, np.nan),
                X,
                owner=type(self).__name__,
                what="densities (non-finite network outputs)",
            )
        return DensityPrediction(
            raw,
            self.module_.distribution,
            training_space=self.training_space_,
            mode_space=self.mode_space_,
        )

    def _predict_chunk(self, chunk: Any, rows: Any, which: str) -> np.ndarray:
        pred = self.predict_dist(chunk)
        if which == "mode":
            return self._guarded(pred.mode(), chunk)
        return self._guarded(pred.std(), chunk, "widths")

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The most probable response (the mode of each jet's density).

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        return_std : bool, default=False
            Also return the standard deviation of each jet's response density.

        Returns
        -------
        mode : ndarray of shape (n_jets,); a Dask Series (DataFrame in) or Array (Array in)
        std : same, only if ``return_std``
        """
        self._check_fitted()
        if is_dask(X):
            mode = self._map_chunks(X, "_predict_chunk", "mode")
            return (mode, self._map_chunks(X, "_predict_chunk", "std")) if return_std else mode
        pred = self.predict_dist(X)
        mode = self._guarded(pred.mode(), X)
        return (mode, self._guarded(pred.std(), X, "widths")) if return_std else mode

    def sample(self, X: Any, n: int, random_state: int | None = None) -> np.ndarray:
        """``n`` responses drawn from each jet's predicted density, shape (n_jets, n)."""
        return self.predict_dist(X).sample(n, random_state=random_state)


_COMMON_DOC = """
    training_space : {"response", "log", "log10"}, default="response"
        The space in which the density is fitted: ``r``, ``ln r`` or ``log10 r``
        (the topo-cluster calibration trains on ``log10 R``). Predictions are always
        responses; densities are converted with the Jacobian.
    mode_space : {"response", "training"}, default="response"
        Where ``predict`` takes the mode: of the density of ``r`` (docs/design.md section 2),
        or in the training space (then mapped back to ``r``). ``"target"`` is the
        deprecated spelling of ``"training"`` (a FutureWarning).
    truncation : float, optional
        Loss truncation at this many widths around the mode (ATLAS truncated
        MDN/MDNA losses); jets outside are excluded from the loss (:func:`nll_loss`).
    min_scale : float, default=1e-3
        Floor of every predicted width, relative to the standard deviation of the
        training values.
    random_state : int, numpy Generator or None, default=None
        Seeds the initial weights, the shuffling and the validation split.
    validation_fraction : float, optional
        Hold out this fraction of the jets (chosen at random, seeded by
        ``random_state``; whole partitions for Dask input) and record their loss after
        every epoch in ``history[:, "valid_loss"]`` (for ``EarlyStopping``, monitors and
        sweeps). ``None``: no validation, unless ``train_split`` is given or ``fit`` is
        given ``X_val`` and ``y_val``.
    buffer_partitions : int, default=4
        With Dask input, partitions read and shuffled together.
    target : str, optional
        Deprecated: the old name of ``training_space`` (a FutureWarning).
    train_split : callable, optional
        ``train_split(dataset, y, **fit_params) -> (train, valid)`` on skcal's datasets
        (:mod:`skcal.neural._split`; skorch's ``ValidSplit`` works on in-memory jets).
        Exclusive with ``validation_fraction``.
    lr, max_epochs, batch_size, optimizer, device, callbacks, verbose, warm_start
        As in :class:`skorch.NeuralNet` (``device="cuda"`` passes through to torch).
    **kwargs
        Routed parameters: ``module__hidden_sizes``, ``module__activation``
        (``"mish"``, ``"relu"``, ``"silu"``), ``optimizer__weight_decay``, ...

    Notes
    -----
    A fit needs at least 10 jets. Responses are positive by construction (a positive
    link on the locations in the response space), bounded to the range of responses
    seen in training (``response_range_``) and checked (a NaN, infinite or non-positive
    one is a :class:`~skcal.exceptions.CalibrationError`); an input far beyond its
    training range (``feature_range_``) is a :class:`~skcal.exceptions.DataError`
    (README, "What a neural calibrator guarantees").
"""


class GDNCalibrator(_DensityCalibrator):
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **DENSITY_CONSTRAINTS,
        "asymmetric": ["boolean"],
    }

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
        training_space: str = "response",
        mode_space: str = "response",
        truncation: float | None = None,
        min_scale: float = 1e-3,
        random_state: Any = None,
        validation_fraction: float | None = None,
        buffer_partitions: int = 4,
        target: Any = _DEPRECATED,
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
            **skorch_kwargs(kwargs),
        )
        self._set_own(
            asymmetric=asymmetric,
            training_space=training_space,
            mode_space=mode_space,
            truncation=truncation,
            min_scale=min_scale,
            random_state=random_state,
            validation_fraction=validation_fraction,
            buffer_partitions=buffer_partitions,
            target=target,
        )

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            **super()._module_kwargs(),
            "n_components": 1,
            "asymmetric": self.asymmetric,
            "min_scale": self.min_scale,
        }


class MDNCalibrator(_DensityCalibrator):
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **DENSITY_CONSTRAINTS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "asymmetric": ["boolean"],
    }

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
    >>> mdn = MDNCalibrator(n_components=2, training_space="log", max_epochs=2,
    ...                     batch_size=128, random_state=0,
    ...                     module__hidden_sizes=(16,)).fit(X, y)
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
        training_space: str = "response",
        mode_space: str = "response",
        truncation: float | None = None,
        min_scale: float = 1e-3,
        random_state: Any = None,
        validation_fraction: float | None = None,
        buffer_partitions: int = 4,
        target: Any = _DEPRECATED,
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
            **skorch_kwargs(kwargs),
        )
        self._set_own(
            n_components=n_components,
            asymmetric=asymmetric,
            training_space=training_space,
            mode_space=mode_space,
            truncation=truncation,
            min_scale=min_scale,
            random_state=random_state,
            validation_fraction=validation_fraction,
            buffer_partitions=buffer_partitions,
            target=target,
        )

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            **super()._module_kwargs(),
            "n_components": self.n_components,
            "asymmetric": self.asymmetric,
            "min_scale": self.min_scale,
        }
