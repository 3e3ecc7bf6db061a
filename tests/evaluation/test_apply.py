"""apply_calibration: a new table with the calibrated jet; Dask in, Dask out."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pytest

from skcal.datasets import make_jets
from skcal.evaluation import apply_calibration
from skcal.exceptions import DataError, NotFittedError

from ._oracle import Oracle


@pytest.fixture(scope="module")
def jets():
    return make_jets(2_000, random_state=0)


def test_calibrated_columns_and_input_untouched(jets):
    before = jets.copy()
    out = apply_calibration(Oracle().fit(jets), jets)
    assert jets.equals(before)
    np.testing.assert_allclose(out.r_pred, jets.oracle_response)
    np.testing.assert_allclose(out.e_calib, jets.e_reco / jets.oracle_response)
    np.testing.assert_allclose(out.pt_calib, jets.pt_reco / jets.oracle_response)
    assert (
        "oracle_" + "e_calib"
        in apply_calibration(Oracle().fit(jets), jets, prefix="oracle_").columns
    )


def test_dask_in_dask_out(jets):
    lazy = dd.from_pandas(jets, npartitions=3)
    out = apply_calibration(Oracle().fit(jets), lazy)
    assert hasattr(out, "dask")
    np.testing.assert_allclose(
        out.compute().e_calib, apply_calibration(Oracle().fit(jets), jets).e_calib
    )


def test_refusals(jets):
    with pytest.raises(DataError, match="oracle_response"):
        apply_calibration(Oracle().fit(jets), jets.drop(columns="oracle_response"))
    with pytest.raises(DataError, match="non-positive"):
        apply_calibration(Oracle(scale=-1.0).fit(jets), jets)
    with pytest.raises(NotFittedError):
        apply_calibration(Oracle(), jets)
    with pytest.raises(DataError, match="DataFrame"):
        apply_calibration(Oracle().fit(jets), jets.to_numpy())
