"""Issue 18: empty Dask partitions (a table read with cuts from pT-sliced files) are harmless.

The non-neural Dask paths: the transformers' fit and transform, NumericalInversion's
fit, predict and transform, and the evaluation report. The neural ones are tested
with the neural calibrators.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from skcal.datasets import make_jets
from skcal.evaluation import report
from skcal.inversion import NumericalInversion
from skcal.io import read_jets, write_root
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

FEATURES = ["e_reco", "pt_reco", "eta", "m_reco"]
CUTS = {"pt_true": (100.0, None)}


@pytest.fixture(scope="module")
def sliced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three pT-sliced files; the first holds no jet above the cut."""
    folder = tmp_path_factory.mktemp("sliced")
    for i, pt_range in enumerate([(20.0, 90.0), (90.0, 400.0), (400.0, 2000.0)]):
        jets = make_jets(6000, pt_range=pt_range, random_state=i)
        write_root(jets, folder / f"slice_{i}.root")
    return folder


@pytest.fixture(scope="module")
def table(sliced: Path) -> object:
    table = read_jets(str(sliced / "slice_*.root"), cuts=CUTS, dask=True, step_size=6000)
    sizes = table.map_partitions(len).compute().tolist()
    assert sizes[0] == 0 and min(sizes[1:]) > 0, sizes  # the case of the issue
    return table


@pytest.fixture(scope="module")
def memory(sliced: Path) -> pd.DataFrame:
    return read_jets(str(sliced / "slice_*.root"), cuts=CUTS)


def test_transformers_fit_and_transform_over_an_empty_partition(
    table: object, memory: pd.DataFrame
) -> None:
    X = table[FEATURES]  # type: ignore[index]
    scaler = SymmetricScaler(quantile_range=(0, 100)).fit(X)
    reference = SymmetricScaler(quantile_range=(0, 100)).fit(memory[FEATURES])
    np.testing.assert_allclose(scaler.quantiles_, reference.quantiles_)
    assert scaler.n_samples_seen_ == len(memory)
    pipe = make_pipeline(LogTransformer(columns=[0, 1]), EtaAnnotation(column=2), scaler)
    out = pipe.fit(X).transform(X).compute()
    assert out.shape == (len(memory), 4 + 11) and np.isfinite(out.to_numpy()).all()


def test_numerical_inversion_over_an_empty_partition_matches_memory(
    table: object, memory: pd.DataFrame
) -> None:
    y = table["e_reco"] / table["e_true"]  # type: ignore[index]
    ni = NumericalInversion(min_entries=30).fit(table[FEATURES], y)  # type: ignore[index]
    ref = NumericalInversion(min_entries=30).fit(
        memory[FEATURES], memory["e_reco"] / memory["e_true"]
    )
    lazy = ni.predict(table[FEATURES])  # type: ignore[index]
    np.testing.assert_allclose(lazy.compute().to_numpy(), ref.predict(memory[FEATURES]))
    corrected = ni.transform(table[FEATURES]).compute()  # type: ignore[index]
    assert len(corrected) == len(memory) and np.isfinite(corrected.to_numpy()).all()
    assert (corrected["e_reco"] > 0).all()


def test_the_report_over_an_empty_partition(
    table: object, memory: pd.DataFrame, tmp_path: Path
) -> None:
    y = memory["e_reco"] / memory["e_true"]
    ni = NumericalInversion(min_entries=30).fit(memory[FEATURES], y)
    result = report({"ni": ni}, table, output_dir=tmp_path, n_bootstrap=2, importance_jets=200)
    summary = result.metrics["summary"]["ni"]
    assert np.isfinite(summary["worst_closure"]) and np.isfinite(summary["median_resolution"])


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_jets_for_numerical_inversion_is_a_clear_error(n: int) -> None:
    from skcal.exceptions import DataError

    jets = make_jets(50, random_state=0).iloc[:n]
    with pytest.raises(DataError, match="at least 2 jets|0 sample|empty"):
        NumericalInversion().fit(jets[FEATURES], jets["e_reco"] / jets["e_true"])


def test_a_string_column_is_named() -> None:
    from skcal.exceptions import DataError

    jets = make_jets(50, random_state=0)[["e_reco", "eta"]].assign(label="gluon")
    with pytest.raises(DataError, match=r"column 'label' is not numeric .*first value 'gluon'"):
        SymmetricScaler().fit(jets)
    with pytest.raises(DataError, match="column 'label' is not numeric"):
        LogTransformer(columns=["e_reco"]).fit(jets)
