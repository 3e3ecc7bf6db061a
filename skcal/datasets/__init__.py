"""Jet and topo-cluster samples: the synthetic generators with a known truth, and
realistic jets from Pythia 8 events (:func:`make_pythia_jets`, the ``sim`` extra), and
Pythia jets embedded in a heavy-ion background (:func:`embed_in_background`, the ``sim``
extra; it lives in :mod:`skcal.heavy_ion` and is imported on first use).

Writing them to ROOT is :func:`skcal.io.write_root`.
"""

from __future__ import annotations

import warnings
from typing import Any

from skcal.datasets.clusters import iter_clusters, make_clusters
from skcal.datasets.pythia import make_pythia_jets
from skcal.datasets.synthetic import BLOCK_SIZE, iter_jets, make_jets

__all__ = [
    "BLOCK_SIZE",
    "embed_in_background",
    "iter_clusters",
    "iter_jets",
    "make_clusters",
    "make_jets",
    "make_pythia_jets",
]


def __getattr__(name: str) -> Any:
    if name == "embed_in_background":
        # Imported on first use: skcal.heavy_ion builds on this package.
        from skcal.heavy_ion import embed_in_background

        return embed_in_background
    # Deprecated after 0.1.0 (one import path per public object); remove in the next release.
    if name == "write_root":
        warnings.warn(
            "skcal.datasets.write_root is deprecated and will be removed in the next "
            "release; import skcal.io.write_root instead",
            FutureWarning,
            stacklevel=2,
        )
        from skcal.io import write_root

        return write_root
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
