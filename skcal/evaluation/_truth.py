"""The truth and pile-up quantities of one chunk of the report's jet table, checked once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from skcal._validation import as_finite_vector, as_weights, column
from skcal.evaluation._bins import ReportBins
from skcal.exceptions import DataError

#: Flavour classes of the report, in order, and the ``flavour`` codes of each.
FLAVOURS: dict[str, tuple[int, ...]] = {
    "gluon": (21,),
    "light": (1, 2, 3),
    "charm": (4,),
    "bottom": (5,),
}


def flavour_class(codes: np.ndarray) -> np.ndarray:
    """Index in :data:`FLAVOURS` of each jet's ``flavour`` code; -1 for unknown."""
    out = np.full(codes.shape, -1.0)
    for i, values in enumerate(FLAVOURS.values()):
        out[np.isin(codes, values)] = i
    return out


@dataclass(frozen=True)
class ChunkTruth:
    """The truth and pile-up quantities of one chunk, checked once."""

    e_reco: np.ndarray
    e_true: np.ndarray
    pt_true: np.ndarray
    eta_true: np.ndarray
    weight: np.ndarray | None
    flavour: np.ndarray | None
    pileup: dict[str, np.ndarray]
    spectrum: np.ndarray

    @property
    def abs_eta(self) -> np.ndarray:
        """``|eta_true|``."""
        return np.abs(self.eta_true)


def chunk_truth(chunk: pd.DataFrame, bins: ReportBins, weights: str | None) -> ChunkTruth:
    """The checked truth of ``chunk`` (DataError for a missing, non-finite or non-positive one)."""
    n = len(chunk)
    arrays = {
        name: as_finite_vector(column(chunk, name), name, n=n)
        for name in ("e_reco", "e_true", "pt_true", "eta_true")
    }
    for name in ("e_reco", "e_true", "pt_true"):
        if (arrays[name] <= 0).any():
            raise DataError(
                f"column {name!r} must be > 0; the first bad value is "
                f"{arrays[name][arrays[name] <= 0][0]!r}"
            )
    weight = None if weights is None else as_weights(column(chunk, weights), n, weights)
    flavour = None
    if "flavour" in chunk.columns:
        flavour = flavour_class(np.asarray(chunk["flavour"]))
    pileup = {
        name: as_finite_vector(chunk[name], name, n=n)
        for name in ("npv", "mu")
        if name in chunk.columns
    }
    spectrum = as_finite_vector(column(chunk, bins.spectrum_column), bins.spectrum_column, n=n)
    return ChunkTruth(weight=weight, flavour=flavour, pileup=pileup, spectrum=spectrum, **arrays)
