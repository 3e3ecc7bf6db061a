"""The report over a Dask table reads each partition once and gives the in-memory numbers."""

from __future__ import annotations

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from skcal.datasets import make_jets
from skcal.evaluation import ReportBins, report

from ._oracle import Oracle

BINS = ReportBins(
    pt=np.array([20, 50, 200, 3000.0]),
    abs_eta=np.array([0, 2.5, 4.5]),
    eta_pt=np.array([20, 3000.0]),
    eta=np.linspace(-4.5, 4.5, 7),
    pileup_pt=np.array([20, 3000.0]),
    pileup_abs_eta=np.array([0, 2.5, 4.5]),
    density_bins=(),
)


def test_dask_report_reads_each_partition_once(tmp_path):
    parts = [make_jets(8_000, random_state=10 + i) for i in range(4)]
    reads: list[int] = []

    def load(i: int) -> pd.DataFrame:
        reads.append(i)
        return parts[i]

    lazy = dd.from_map(load, range(4), meta=parts[0].iloc[:0], divisions=[None] * 5)
    models = {"oracle": Oracle().fit(parts[0]), "biased": Oracle(1.05).fit(parts[0])}
    with dask.config.set(scheduler="sync"):
        lazy_result = report(
            models,
            lazy,
            output_dir=tmp_path / "dask",
            bins=BINS,
            n_bootstrap=3,
            importance_jets=100,
            plots=False,
        )
    assert sorted(reads) == [0, 1, 2, 3]  # one pass, whatever the number of figures and models

    memory = report(
        models,
        pd.concat(parts, ignore_index=True),
        output_dir=tmp_path / "memory",
        bins=BINS,
        n_bootstrap=3,
        importance_jets=100,
        plots=False,
        chunk_size=8_000,
    )
    for section in ("closure_pt", "closure_eta", "flavour", "pileup_npv", "spectrum"):
        for name in models:
            a, b = lazy_result.tables[section][name], memory.tables[section][name]
            numeric = a.select_dtypes("number").columns
            np.testing.assert_allclose(
                a[numeric].to_numpy(float),
                b[numeric].to_numpy(float),
                rtol=1e-9,
                equal_nan=True,
                err_msg=f"{section} {name}",
            )
    assert lazy_result.metrics["n_jets"] == 32_000
