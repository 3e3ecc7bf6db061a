"""Fast batches for training: contiguous tensors sliced, and Dask partitions streamed.

skorch's default path (a ``Dataset`` indexed per sample, then collated by a
``DataLoader``) costs a Python call per jet; at the batch sizes of the ATLAS
calibrations (4k to 150k jets) that dominates the training time. Here a batch is a
slice of one contiguous float32 tensor, shuffled once per epoch by one gather.

A batch is ``(X, yw)`` with ``yw[:, 0]`` the target and ``yw[:, 1]`` the sample weight,
so that skorch's ``(Xi, yi)`` protocol carries the weights without extra plumbing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from skcal._chunks import partition_blocks
from skcal.exceptions import DataError

__all__ = ["BatchIterator", "DaskStream", "TensorData"]

Batch = tuple[torch.Tensor, torch.Tensor]


class TensorData(Dataset[Batch]):
    """Features and (target, weight) pairs held as two contiguous float32 tensors.

    Examples
    --------
    >>> import torch
    >>> data = TensorData(torch.zeros(10, 3), torch.ones(10, 2))
    >>> len(data), [x.shape[0] for x, _ in BatchIterator(data, 4, shuffle=False)]
    (10, [4, 4, 2])
    """

    def __init__(self, X: torch.Tensor, yw: torch.Tensor) -> None:
        self.X, self.yw = X.contiguous(), yw.contiguous()

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, i: int) -> Batch:
        return self.X[i], self.yw[i]

    def buffers(self, generator: torch.Generator | None) -> Iterator[Batch]:
        """The whole data as one buffer, in random order if a generator is given."""
        if generator is None:
            yield self.X, self.yw
            return
        perm = torch.randperm(len(self), generator=generator)
        yield self.X[perm], self.yw[perm]


class DaskStream(Dataset[Batch]):
    """Aligned Dask collections read a few partitions at a time.

    The partitions of ``X`` and of the aligned ``y`` and ``sample_weight`` are joined
    once (:func:`skcal._chunks.partition_blocks`: each partition read once, with all
    its columns). Each pass visits the partitions in random order, computes
    ``buffer_partitions`` of them together into a buffer (so that a shuffle mixes jets
    of several partitions), converts them with ``prepare`` and shuffles the buffer. The
    whole collection is never in memory.

    Parameters
    ----------
    X : Dask DataFrame or Array
        Features, partitioned along rows.
    y, sample_weight : Dask Series or Array, or None for ``sample_weight``
        With the same partitions as ``X``.
    prepare : callable
        ``prepare(X_chunk, y_chunk, w_chunk)`` returns the validated ``(X, yw)`` tensors.
    buffer_partitions : int, default=4
        Partitions per buffer.

    Examples
    --------
    >>> import dask.array as da, torch
    >>> X, y = da.ones((10, 2), chunks=(3, 2)), da.ones(10, chunks=3)
    >>> prep = lambda x, t, w: (torch.tensor(x), torch.ones(len(t), 2))
    >>> stream = DaskStream(X, y, None, prep, buffer_partitions=2)
    >>> sum(len(b[0]) for b in stream.buffers(torch.Generator().manual_seed(0)))
    10
    >>> stream.select([0, 3]).n_partitions
    2
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        sample_weight: Any,
        prepare: Callable[..., Batch],
        buffer_partitions: int = 4,
    ) -> None:
        self.blocks = partition_blocks(X, y, sample_weight)
        self.prepare, self.buffer_partitions = prepare, int(buffer_partitions)
        self.partitions = np.arange(len(self.blocks))
        self.n_partitions = len(self.blocks)

    def select(self, partitions: Sequence[int] | np.ndarray) -> DaskStream:
        """The same stream restricted to some partitions (for example, those held out)."""
        chosen = np.asarray(partitions, dtype=np.int64)
        total = len(self.blocks)
        if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= total:
            raise DataError(
                f"partitions must be a non-empty selection of 0..{total - 1}, got {partitions!r}"
            )
        out = copy.copy(self)
        out.partitions, out.n_partitions = chosen, int(chosen.size)
        return out

    def __len__(self) -> int:  # unknown without computing; skorch does not need it
        raise TypeError("the length of a Dask stream is not known before it is read")

    def __getitem__(self, i: int) -> Batch:
        raise TypeError("a Dask stream is read in buffers, not per sample")

    def buffers(self, generator: torch.Generator | None) -> Iterator[Batch]:
        """Buffers of ``buffer_partitions`` partitions, shuffled if a generator is given."""
        import dask

        if generator is None:
            order = self.partitions
        else:
            order = self.partitions[torch.randperm(self.n_partitions, generator=generator).numpy()]
        for start in range(0, self.n_partitions, self.buffer_partitions):
            idx = order[start : start + self.buffer_partitions]
            computed = dask.compute(*(self.blocks[int(i)] for i in idx))
            chunks = [self.prepare(*c) for c in computed if len(c[0])]  # empty: skipped
            if not chunks:
                continue
            X = torch.cat([c[0] for c in chunks])
            yw = torch.cat([c[1] for c in chunks])
            if generator is not None:
                perm = torch.randperm(X.shape[0], generator=generator)
                X, yw = X[perm], yw[perm]
            yield X, yw


class BatchIterator:
    """The batches of one pass over ``TensorData`` or a ``DaskStream``: slices of
    contiguous tensors, moved to ``device``.

    Jets left over at the end of a buffer are carried into the next one, so that every
    batch but the last of a pass holds ``batch_size`` jets.

    Parameters
    ----------
    data : TensorData or DaskStream
    batch_size : int
    shuffle : bool
        Random order (drawn from ``generator``).
    generator : torch.Generator, optional
    device : str or torch.device, default="cpu"

    Examples
    --------
    >>> import torch
    >>> data = TensorData(torch.arange(6.0)[:, None], torch.ones(6, 2))
    >>> [x[:, 0].tolist() for x, _ in BatchIterator(data, 4, shuffle=False)]
    [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
    """

    def __init__(
        self,
        data: TensorData | DaskStream,
        batch_size: int,
        *,
        shuffle: bool,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size!r}")
        self.data, self.batch_size, self.shuffle = data, int(batch_size), shuffle
        self.generator, self.device = generator, device

    def __iter__(self) -> Iterator[Batch]:
        gen = (self.generator or torch.Generator().manual_seed(0)) if self.shuffle else None
        bs = self.batch_size
        carry: Batch | None = None
        for X, yw in self.data.buffers(gen):
            if carry is not None:
                X, yw = torch.cat([carry[0], X]), torch.cat([carry[1], yw])
                carry = None
            n_full = (X.shape[0] // bs) * bs
            for start in range(0, n_full, bs):
                yield self._move(X[start : start + bs], yw[start : start + bs])
            if n_full < X.shape[0]:
                carry = (X[n_full:], yw[n_full:])
        if carry is not None and carry[0].shape[0] > 0:
            yield self._move(*carry)

    def _move(self, X: torch.Tensor, yw: torch.Tensor) -> Batch:
        if str(self.device) == "cpu":
            return X, yw
        return X.to(self.device, non_blocking=True), yw.to(self.device, non_blocking=True)
