"""Validation jets of the neural calibrators: held out, given, or split by a callable.

skorch asks ``get_split_datasets`` for the training and validation datasets of each
training loop. The calibrators hand skorch a :class:`Fold` (training jets and their
validation jets, or None), built before the network is initialised (so that the
output scale comes from the training jets only) by :func:`split_jets`:

- ``validation_fraction``: skcal's own splitter, :class:`ValidationFraction` (a seeded
  random fraction of the jets; of whole partitions for Dask input);
- ``train_split``: any callable ``(dataset, y, **fit_params) -> (train, valid)`` on
  skcal's datasets (:class:`~skcal.neural._data.TensorData` or
  :class:`~skcal.neural._data.DaskStream`); torch ``Subset`` results of in-memory data,
  as skorch's ``ValidSplit`` gives, are gathered into contiguous tensors again;
- explicit validation jets, ``fit(X, y, X_val=..., y_val=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

from skcal.exceptions import DataError, ParameterError
from skcal.neural._data import DaskStream, TensorData

__all__ = ["Fold", "ValidationFraction", "split_jets"]

Data = TensorData | DaskStream


@dataclass(frozen=True)
class Fold:
    """The training jets of one training loop and their validation jets (or None)."""

    train: Data
    valid: Data | None = None


@dataclass(frozen=True)
class ValidationFraction:
    """Hold out a seeded random ``fraction`` of the jets (of the partitions, for Dask).

    Examples
    --------
    >>> import torch
    >>> from skcal.neural._data import TensorData
    >>> data = TensorData(torch.zeros(8, 2), torch.ones(8, 2))
    >>> train, valid = ValidationFraction(0.25, seed=0)(data)
    >>> len(train), len(valid)
    (6, 2)
    """

    fraction: float
    seed: int

    def __call__(self, dataset: Data, y: Any = None, **fit_params: Any) -> tuple[Data, Data]:
        gen = torch.Generator().manual_seed(int(self.seed) % (2**63 - 1) + 1)
        frac = float(self.fraction)
        if isinstance(dataset, TensorData):
            n = len(dataset)
            n_val = int(round(frac * n))
            if n_val < 1 or n_val >= n:
                raise DataError(
                    f"validation_fraction={frac} of {n} jets leaves no validation or no "
                    "training jets; give more jets or another fraction"
                )
            perm = torch.randperm(n, generator=gen)
            valid, train = perm[:n_val].sort().values, perm[n_val:].sort().values
            return _take(dataset, train), _take(dataset, valid)
        n = dataset.n_partitions
        n_val = max(1, int(round(frac * n)))
        if n_val >= n:
            raise DataError(
                f"validation_fraction={frac} holds out whole partitions: {n} partition(s) "
                "leave none to train on; repartition the input or pass X_val, y_val"
            )
        perm = dataset.partitions[torch.randperm(n, generator=gen).numpy()]
        return dataset.select(np.sort(perm[n_val:])), dataset.select(np.sort(perm[:n_val]))


def _take(data: TensorData, rows: Any) -> TensorData:
    return TensorData(data.X[rows], data.yw[rows])


def split_jets(
    net: Any, data: Data, valid: Data | None, seed: int, fit_params: dict[str, Any]
) -> Fold:
    """The :class:`Fold` of ``data`` by ``net``'s validation settings.

    ``valid`` are explicit validation jets (or None); ``seed`` seeds
    ``validation_fraction``.
    """
    fraction = getattr(net, "validation_fraction", None)
    splitter = net.train_split
    if valid is not None:
        if fraction is not None or splitter is not None:
            raise ParameterError(
                "give either validation_fraction (or train_split) or X_val/y_val, not both"
            )
        return Fold(data, valid)
    if fraction is not None:
        if splitter is not None:
            raise ParameterError(
                "give either validation_fraction or train_split, not both (got "
                f"validation_fraction={fraction!r} and train_split={splitter!r})"
            )
        splitter = ValidationFraction(fraction, seed)
    if splitter is None:
        return Fold(data)
    if isinstance(data, DaskStream) and type(splitter).__module__.startswith("skorch"):
        raise ParameterError(
            f"train_split={splitter!r} indexes jets one by one, which a Dask stream cannot; "
            "use validation_fraction=... (whole partitions) or fit(X, y, X_val=..., y_val=...)"
        )
    train, held_out = splitter(data, None, **fit_params)
    return Fold(_as_data(train, "training"), None if held_out is None else _as_data(held_out))


def _as_data(part: Any, what: str = "validation") -> Data:
    if isinstance(part, TensorData | DaskStream):
        return part
    if isinstance(part, Subset) and isinstance(part.dataset, TensorData):
        return _take(part.dataset, torch.as_tensor(np.asarray(part.indices), dtype=torch.long))
    kind = type(part).__name__ if isinstance(part, Dataset) else repr(type(part))
    raise ParameterError(
        f"train_split must return skcal's datasets (TensorData or DaskStream, or torch "
        f"Subsets of TensorData); its {what} part is a {kind}. Use validation_fraction=... "
        "or fit(X, y, X_val=..., y_val=...)"
    )
