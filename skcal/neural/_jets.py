"""How a calibrator reads its jets: columns, validated tensors, Dask streams, ranges.

A mixin of :class:`skcal.neural._base._Calibrator`; the estimator contract
(:class:`~skcal._contract.TableContract`) provides ``_validate_table``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from skcal._validation import as_weights, is_dask
from skcal.exceptions import DataError
from skcal.neural._data import DaskStream, TensorData

__all__ = ["MIN_JETS", "JetData"]

#: The fewest jets a calibrator is fitted on (in memory; a Dask fit reads its partitions).
MIN_JETS = 10


class JetData:
    """The calibrators' input handling (not public)."""

    _validate_table: Any
    buffer_partitions: int

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

    def _prepare_y(self, y: Any) -> np.ndarray:
        """The validated targets of one chunk, shape (n_jets, n_targets)."""
        raise NotImplementedError

    def _prepare(self, X: Any, y: Any, w: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Validated contiguous tensors of one in-memory table (or Dask chunk)."""
        arr = self._validate_table(self._select_columns(X), reset=False)
        n, y = arr.shape[0], np.asarray(y)
        if n != y.shape[0]:
            raise DataError(f"X has {n} rows but y has {y.shape[0]}")
        t = self._prepare_y(y)
        seen = getattr(self, "_seen", None)
        if seen is not None:
            seen.update(arr, y)
        weights = as_weights(w, n, "sample_weight", nonzero_sum=True)
        yw = np.column_stack([t, np.ones(n) if weights is None else weights])
        return (
            torch.from_numpy(np.require(arr, np.float32, ["C", "W"])),
            torch.from_numpy(yw.astype(np.float32)),
        )

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
            self._validate_table(X, reset=reset)  # columns and dtypes only
            stream = DaskStream(X, y, sample_weight, self._prepare, self.buffer_partitions)
            if reset:  # the first buffer gives the initial scale of the outputs
                first = next(stream.buffers(None), None)
                if first is None:
                    raise DataError(f"{type(self).__name__} was given no jets to fit")
                self._set_target_stats(first[1])
            return stream
        if reset:
            self._validate_table(X, reset=True, ensure_finite=False)
        data = TensorData(*self._prepare(X, y, sample_weight))
        if reset and len(data) < MIN_JETS:
            raise DataError(
                f"{type(self).__name__} needs at least {MIN_JETS} jets to fit, "
                f"got {len(data)} sample(s)"
            )
        if reset:
            self._set_target_stats(data.yw)
        return data

    def _set_target_stats(self, yw: torch.Tensor) -> None:
        t = yw[:, 0].to(torch.float64)
        self.target_loc_ = float(t.mean())
        self.target_scale_ = float(t.std()) if t.numel() > 1 and float(t.std()) > 0 else 1.0
