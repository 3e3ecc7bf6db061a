"""Unfolded events to ROOT: the particle level with the nominal, replica and systematic weights."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skcal.exceptions import DataError

__all__ = ["unfolded_table", "write_unfolded"]


def unfolded_table(unfolding: Any, sim_truth: Any) -> pd.DataFrame:
    """The particle-level events with their weights as columns.

    Columns: those of ``sim_truth``, ``weight`` (the unfolded weights),
    ``weight_data_<k>`` and ``weight_sim_<k>`` (each bootstrap replica) and
    ``weight_syst_<name>`` (each systematic variation). Fakes (weight 0, no truth)
    are left out.
    """
    unfolding._check_fitted()
    table = pd.DataFrame(sim_truth).reset_index(drop=True)
    weights = unfolding.unfolded_weights()
    if len(table) != weights.shape[0]:
        raise DataError(f"sim_truth has {len(table)} rows but the unfolding {weights.shape[0]}")
    columns: dict[str, np.ndarray] = {"weight": weights}
    for of, replicas in unfolding.bootstrap_weights_.items():
        columns.update({f"weight_{of}_{k}": w for k, w in enumerate(replicas)})
    for name, w in unfolding.systematic_weights_.items():
        columns[f"weight_syst_{re.sub(r'[^0-9A-Za-z_]', '_', name)}"] = w
    clash = sorted(set(columns) & set(table.columns))
    if clash:
        raise DataError(f"sim_truth already has the weight column(s) {clash}")
    out = pd.concat([table, pd.DataFrame(columns)], axis=1)
    return out[unfolding.truth_mask_].reset_index(drop=True)


def write_unfolded(
    unfolding: Any,
    sim_truth: Any,
    path: str | os.PathLike[str],
    *,
    tree: str = "unfolded",
    overwrite: bool = False,
) -> Path:
    """Write :func:`unfolded_table` to a ROOT file (a TTree, through ``skcal.io.write_root``).

    Any binning can be applied later to the weighted events; the replica columns give
    its covariance (:func:`~skcal.unfolding.covariance`).
    """
    from skcal.io import write_root

    return write_root(unfolded_table(unfolding, sim_truth), path, tree=tree, overwrite=overwrite)
