"""apply_calibration: a new table with the calibrated jet; Dask in, Dask out."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pytest

from skcal.datasets import make_jets
from skcal.evaluation import apply_calibration
from skcal.exceptions import CalibrationError, DataError, NotFittedError

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
    with pytest.raises(CalibrationError, match="non-positive"):
        apply_calibration(Oracle(scale=-1.0).fit(jets), jets)
    with pytest.raises(NotFittedError):
        apply_calibration(Oracle(), jets)
    with pytest.raises(DataError, match="DataFrame"):
        apply_calibration(Oracle().fit(jets), jets.to_numpy())


def test_dask_meta_is_explicit_and_empty_partitions_stay_empty(jets):
    """No model call on Dask's fake rows: the meta names the new columns, an empty
    partition gives an empty table with them, and a missing column fails at once."""
    calls = []

    class Counting(Oracle):
        def predict(self, X):
            calls.append(len(X))
            return super().predict(X)

    model = Counting().fit(jets)
    half = len(jets) // 2
    parts = [jets.iloc[:half], jets.iloc[half:half], jets.iloc[half:]]
    lazy = dd.from_map(lambda part: part, parts, meta=jets.iloc[:0], enforce_metadata=False)
    calls.clear()
    out = apply_calibration(model, lazy, prefix="m_")
    assert calls == [] and list(out.columns[-3:]) == ["m_r_pred", "m_e_calib", "m_pt_calib"]
    assert out.map_partitions(len).compute().tolist() == [half, 0, len(jets) - half]
    computed = out.compute()
    np.testing.assert_allclose(computed.m_e_calib, jets.e_reco / jets.oracle_response)
    with pytest.raises(DataError, match="oracle_response"):
        apply_calibration(model, dd.from_pandas(jets.drop(columns="oracle_response"), 2))


def test_two_responses_over_dask_add_the_mass_columns(jets):
    from sklearn.dummy import DummyRegressor

    y = np.column_stack([jets.e_reco / jets.e_true, jets.m_reco / jets.m_true])
    model = DummyRegressor(strategy="median").fit(jets[["e_reco", "eta"]], y)
    out = apply_calibration(model, dd.from_pandas(jets, npartitions=2))
    assert {"r_pred_m", "m_calib"} <= set(out.columns)
    expected = apply_calibration(model, jets)
    np.testing.assert_allclose(out.compute().m_calib, expected.m_calib)
