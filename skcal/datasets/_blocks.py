"""Samples generated in seeded blocks: the same rows whatever the chunking.

Each block of :data:`BLOCK_SIZE` rows has its own seed, spawned from the sample's
entropy, so that the rows do not depend on the chunk size, and the first ``n`` rows of a
larger sample are the sample of ``n`` rows. :func:`iter_blocks` is the one loop that the
generators (:func:`~skcal.datasets.make_jets`, :func:`~skcal.datasets.make_clusters`)
share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

__all__ = ["BLOCK_SIZE", "iter_blocks"]

#: Rows generated per seed; any chunking of the output gives the same rows.
BLOCK_SIZE = 1 << 16


def iter_blocks(
    make_block: Callable[[np.random.Generator, int], pd.DataFrame],
    n_rows: int,
    *,
    chunk_size: int | None,
    start: int,
    entropy: int,
) -> Iterator[pd.DataFrame]:
    """Chunks of ``chunk_size`` rows (all in one if None) of the seeded blocks, from ``start``.

    ``make_block(rng, BLOCK_SIZE)`` generates one block; the chunks have a continuous
    index starting at ``start``.
    """
    chunk_size = n_rows if chunk_size is None else chunk_size
    block, skip = divmod(int(start), BLOCK_SIZE)
    pending: list[pd.DataFrame] = []
    held = -skip
    produced = 0
    while produced < n_rows:
        while held < min(chunk_size, n_rows - produced):
            rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(block,)))
            pending.append(make_block(rng, BLOCK_SIZE))
            held += BLOCK_SIZE
            block += 1
        size = min(chunk_size, n_rows - produced)
        buffer = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
        buffer = buffer.iloc[skip:]
        skip = 0
        chunk = buffer.iloc[:size].reset_index(drop=True)
        chunk.index += start + produced
        yield chunk
        pending, held = [buffer.iloc[size:]], held - size
        produced += size
