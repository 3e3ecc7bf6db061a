"""Chunk-wise work over tables in memory or over Dask partitions: one home for each.

- :func:`map_chunks`: apply a function to every row chunk of a Dask table, lazily,
  with an explicit meta (``transform`` and ``predict`` over Dask input);
- :func:`partition_blocks`: the partitions of a table and of the per-jet values
  aligned with it (responses, weights), read together once;
- :func:`reduce_chunks`: fold a function of each chunk into one result (histograms);
- :func:`bootstrap_weights`: Poisson(1) weights per row, seeded (bootstrap replicas).
"""

from skcal._chunks._align import partition_blocks
from skcal._chunks._bootstrap import bootstrap_weights
from skcal._chunks._map import map_chunks
from skcal._chunks._reduce import reduce_chunks

__all__ = ["bootstrap_weights", "map_chunks", "partition_blocks", "reduce_chunks"]
