"""AreaBasedSubtraction: pT - rho A, and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skcal.exceptions import DataError, NotFittedError, ParameterError
from skcal.heavy_ion import AreaBasedSubtraction

JETS = pd.DataFrame(
    {"pt_reco": [130.0, 60.0, 10.0], "rho": [200.0, 100.0, 50.0], "area": [0.5, 0.5, 0.4]}
)


def test_it_subtracts_rho_times_area_and_keeps_negative_values():
    out = AreaBasedSubtraction().fit(JETS).predict(JETS)
    np.testing.assert_allclose(out, [30.0, 10.0, -10.0])
    assert out.dtype == np.float64


def test_columns_by_position_and_other_names():
    arr = JETS[["area", "pt_reco", "rho"]].to_numpy()
    est = AreaBasedSubtraction(pt=1, rho=2, area=0).fit(arr)
    np.testing.assert_allclose(est.predict(arr), [30.0, 10.0, -10.0])
    renamed = JETS.rename(columns={"pt_reco": "pt"})
    np.testing.assert_allclose(
        AreaBasedSubtraction(pt="pt").fit(renamed).predict(renamed), [30.0, 10.0, -10.0]
    )


def test_a_missing_column_is_named():
    with pytest.raises(DataError, match=r"rho: unknown column 'rh' \(did you mean 'rho'\?\)"):
        AreaBasedSubtraction(rho="rh").fit(JETS)


@pytest.mark.parametrize("column", ["rho", "area"])
def test_a_negative_density_or_area_is_refused(column):
    bad = JETS.copy()
    bad.loc[1, column] = -1.0
    with pytest.raises(DataError, match=rf"column '{column}' must be >= 0.*-1.0 at row 1"):
        AreaBasedSubtraction().fit(bad)
    est = AreaBasedSubtraction().fit(JETS)
    with pytest.raises(DataError, match=rf"column '{column}' must be >= 0"):
        est.predict(bad)


def test_nan_is_refused_never_returned():
    bad = JETS.copy()
    bad.loc[2, "pt_reco"] = np.nan
    est = AreaBasedSubtraction().fit(JETS)
    with pytest.raises(DataError, match="column 'pt_reco' has 1 NaN"):
        est.predict(bad)


def test_bad_parameters_and_unfitted_use():
    with pytest.raises(ParameterError, match="'pt' parameter of AreaBasedSubtraction"):
        AreaBasedSubtraction(pt=1.5).fit(JETS)
    with pytest.raises(NotFittedError):
        AreaBasedSubtraction().predict(JETS)
    est = AreaBasedSubtraction().fit(JETS)
    with pytest.raises(DataError):
        est.predict(JETS[["pt_reco", "rho"]])


def test_it_works_over_dask_chunks():
    dd = pytest.importorskip("dask.dataframe")
    est = AreaBasedSubtraction().fit(JETS)
    lazy = est.predict(dd.from_pandas(JETS, npartitions=2))
    np.testing.assert_allclose(np.asarray(lazy.compute()), [30.0, 10.0, -10.0])
