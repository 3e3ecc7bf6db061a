"""The point regressor: the MAE/MSE baseline DNN (median or mean response)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from skcal._params import StrOptions
from skcal._validation import is_dask
from skcal.exceptions import ParameterError
from skcal.neural._base import skorch_kwargs
from skcal.neural._estimators import SPACE_CONSTRAINTS, _ResponseCalibrator
from skcal.neural._modules import PointNetwork
from skcal.neural._prediction import _DEPRECATED, TRAINING_SPACES

__all__ = ["PointCalibrator"]


class PointCalibrator(_ResponseCalibrator):
    """The simplest DNN baseline: a network regressing the response directly, with an
    absolute (``loss="mae"``: the median response) or squared (``"mse"``: the mean
    response) error. It predicts neither the mode nor a width.

    Parameters
    ----------
    loss : {"mae", "mse"}, default="mae"
        The (weighted) mean absolute or squared error of the target.
    training_space : {"response", "log", "log10"}, default="response"
        The space of the regression; predictions are mapped back to responses (the
        median is invariant under that map, the mean is not).
    random_state, validation_fraction, buffer_partitions, train_split, target
        As for :class:`~skcal.neural.GDNCalibrator`.
    lr, max_epochs, batch_size, optimizer, device, verbose, **kwargs
        As for :class:`~skcal.neural.GDNCalibrator`.

    Notes
    -----
    As for :class:`~skcal.neural.GDNCalibrator`: at least 10 jets; a positive output
    by construction, bounded to the training responses, checked by the output guard.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import PointCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2)).astype("float32")
    >>> y = 1.0 + 0.1 * X[:, 0]
    >>> reg = PointCalibrator(loss="mse", max_epochs=2, batch_size=64, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> reg.predict(X[:5]).shape
    (5,)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **SPACE_CONSTRAINTS,
        "loss": [StrOptions({"mae", "mse"})],
    }

    def __init__(
        self,
        *,
        loss: str = "mae",
        training_space: str = "response",
        random_state: Any = None,
        validation_fraction: float | None = None,
        buffer_partitions: int = 4,
        target: Any = _DEPRECATED,
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
            **skorch_kwargs(kwargs),
        )
        self._set_own(
            loss=loss,
            training_space=training_space,
            random_state=random_state,
            validation_fraction=validation_fraction,
            buffer_partitions=buffer_partitions,
            target=target,
        )

    def _raw(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_(x)[:, None]

    def get_loss(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        diff = y_pred - y_true[:, 0]
        err = diff.abs() if self.loss == "mae" else diff * diff
        w = y_true[:, 1]
        return (w * err).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)

    def _loss_unit(self) -> float:
        """The loss of a constant prediction, about: the spread of the targets (or its square)."""
        return self.target_scale_ if self.loss == "mae" else self.target_scale_**2

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The predicted response (median for ``"mae"``, mean for ``"mse"``), shape (n_jets,)."""
        self._check_fitted()
        if return_std:
            raise ParameterError(
                "PointCalibrator predicts no width; use GDNCalibrator or MDNCalibrator for "
                "return_std"
            )
        if is_dask(X):
            return self._map_chunks(X, "_predict_chunk")
        return self._predict_chunk(X, None)

    def _predict_chunk(self, chunk: Any, rows: Any) -> np.ndarray:
        t = self._forward_raw(chunk)[:, 0].to(torch.float64)
        return self._guarded(TRAINING_SPACES[self.training_space_][1](t).numpy(), chunk)
