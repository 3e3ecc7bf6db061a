"""The Dask task of a lazy read: one partition per chunk of a file, read when computed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from skcal.io._plan import Plan
from skcal.io._process import Columns, read_ranges
from skcal.io._source import open_tree

__all__ = ["Chunk", "ChunkTask", "lazy_table"]

Chunk = tuple[str, str, int, int]  # (file, tree, entry_start, entry_stop)


@dataclass(frozen=True)
class ChunkTask:
    """The picklable function that makes one Dask partition from one chunk."""

    plan: Plan

    def __call__(self, chunk: Chunk) -> pd.DataFrame:
        path, tree, start, stop = chunk
        with open_tree(path, tree, hint=self.plan.hint) as (name, obj):
            ((table, _),) = list(read_ranges(self.plan, obj, path, name, [(start, stop)]))
        return pd.DataFrame(table, copy=False)


def lazy_table(plan: Plan, chunks: list[Chunk], schema: Columns) -> Any:
    """A Dask DataFrame with one partition per non-empty chunk (one empty partition where
    every chunk is empty, to carry the columns), typed by ``schema``."""
    import dask.dataframe as dd

    chunks = [c for c in chunks if c[3] > c[2]] or chunks[:1]
    meta = pd.DataFrame(schema, copy=False)
    return dd.from_map(
        ChunkTask(plan), chunks, meta=meta, label="read-jets", enforce_metadata=False
    )
