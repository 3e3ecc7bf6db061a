"""Property-based tests (hypothesis) of issue 18's guarantees, with bounded examples.

Transformers (round trip, finite outputs, float64 parameters), the stages' predict
(finite positive responses for valid jets), the readers on generated files, the step
sizes, and the command line's output paths.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skcal._cli_paths import calibrate_outputs
from skcal.datasets import make_jets
from skcal.exceptions import DataError, ParameterError
from skcal.inversion import NumericalInversion
from skcal.io import read_jets, write_root
from skcal.io._step import check_step_size
from skcal.preprocessing import LogTransformer, SymmetricScaler

BOUNDED = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FEATURES = ["e_reco", "pt_reco", "eta", "m_reco"]

finite64 = st.floats(allow_nan=False, allow_infinity=False, width=64)
tables = st.integers(1, 3).flatmap(
    lambda n_cols: arrays(
        np.float64, st.tuples(st.integers(1, 30), st.just(n_cols)), elements=finite64
    )
)


@BOUNDED
@given(X=tables, low=st.floats(0, 49), high=st.floats(51, 100))
def test_symmetric_scaler_is_finite_and_round_trips(X: np.ndarray, low: float, high: float) -> None:
    scaler = SymmetricScaler(quantile_range=(low, high)).fit(X)
    assert scaler.centre_.dtype == np.float64 and scaler.scale_.dtype == np.float64
    assert np.isfinite(scaler.centre_).all() and (scaler.scale_ > 0).all()
    try:
        out = scaler.transform(X)
    except DataError as exc:  # a result beyond float64: refused, never returned as inf
        assert "beyond the range of float64" in str(exc)
        return
    assert np.isfinite(out).all()
    try:
        back = scaler.inverse_transform(out)
    except DataError as exc:  # rounding a value at the float64 maximum above it: refused
        assert "beyond the range of float64" in str(exc)
        assert np.abs(X).max() > np.finfo(np.float64).max / 2
        return
    np.testing.assert_allclose(back, X, rtol=1e-9, atol=1e-9 * np.abs(X).max(initial=0) + 1e-300)


@BOUNDED
@given(
    X=arrays(
        np.float32,
        st.tuples(st.integers(2, 20), st.just(2)),
        elements=st.floats(width=32, allow_nan=False, allow_infinity=False),
    )
)
def test_float32_input_keeps_float64_parameters_and_never_gives_inf(X: np.ndarray) -> None:
    scaler = SymmetricScaler().fit(X)
    assert scaler.quantiles_.dtype == np.float64 and scaler.scale_.dtype == np.float64
    try:
        out = scaler.transform(X)
    except DataError as exc:
        assert "beyond the range of float32" in str(exc)
        return
    assert out.dtype == np.float32 and np.isfinite(out).all()


@BOUNDED
@given(
    X=arrays(
        np.float64, st.tuples(st.integers(1, 20), st.just(2)), elements=st.floats(1e-300, 1e300)
    ),
    offset=st.sampled_from([0.0, 1.0]),
)
def test_log_transformer_round_trips_positive_values(X: np.ndarray, offset: float) -> None:
    log = LogTransformer(offset=offset).fit(X)
    out = log.transform(X)
    assert np.isfinite(out).all()
    # exp(log(x + offset)) - offset loses x below eps * offset: an absolute tolerance
    np.testing.assert_allclose(log.inverse_transform(out), X, rtol=1e-9, atol=1e-12 * offset)


@pytest.fixture(scope="module")
def ni() -> NumericalInversion:
    jets = make_jets(30_000, random_state=5)
    return NumericalInversion(min_entries=30).fit(jets[FEATURES], jets["e_reco"] / jets["e_true"])


@BOUNDED
@given(
    jets=arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.just(3)),
        elements=st.floats(0.0, 1.0),
    )
)
def test_numerical_inversion_gives_finite_positive_responses_for_valid_jets(
    ni: NumericalInversion, jets: np.ndarray
) -> None:
    pt = 10.0 ** (1.0 + 3.0 * jets[:, 0])  # 10 GeV to 10 TeV, beyond the fit too
    eta = -4.5 + 9.0 * jets[:, 1]
    table = pd.DataFrame(
        {"e_reco": pt * np.cosh(eta), "pt_reco": pt, "eta": eta, "m_reco": pt * jets[:, 2] / 5}
    )
    response = ni.predict(table)
    assert np.isfinite(response).all() and (response > 0).all()


@settings(max_examples=8, deadline=None)
@given(
    n=st.integers(0, 400),
    step=st.one_of(st.integers(1, 500), st.sampled_from(["1 kB", "5 kB", "1 MB"])),
    seed=st.integers(0, 1000),
)
def test_the_reader_returns_every_jet_it_wrote(n: int, step: int | str, seed: int) -> None:
    jets = make_jets(max(n, 1), random_state=seed).iloc[:n]
    with tempfile.TemporaryDirectory() as folder:
        path = write_root(jets, Path(folder) / "jets.root")
        back = read_jets(path, columns=FEATURES, step_size=step)
        lazy = read_jets(path, columns=FEATURES, step_size=step, dask=True).compute()
    np.testing.assert_array_equal(back[FEATURES].to_numpy(), jets[FEATURES].to_numpy())
    np.testing.assert_array_equal(lazy[FEATURES].to_numpy(), jets[FEATURES].to_numpy())


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet="0123456789 .-+eEkKMGiBbytes", max_size=10))
def test_a_step_size_is_valid_for_uproot_or_refused(text: str) -> None:
    import uproot._util

    try:
        value = check_step_size(text)
    except ParameterError as exc:
        assert repr(text) in str(exc)
        return
    if isinstance(value, int):
        assert value > 0
    else:
        assert uproot._util.memory_size(value) > 0


names = st.sampled_from(["a", "b", "a_calib", "jets", "jets_calib", "x"])


@settings(max_examples=40, deadline=None)
@given(
    files=st.lists(st.tuples(st.sampled_from(["d1", "d2", "."]), names), min_size=1, max_size=4),
    out=st.sampled_from(["d1", "d2", "."]),
    suffix=st.sampled_from(["", "_calib", "_x"]),
    overwrite=st.booleans(),
)
def test_calibrate_never_maps_an_output_onto_an_input_or_another_output(
    files: list[tuple[str, str]], out: str, suffix: str, overwrite: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for sub in ("d1", "d2"):
            (root / sub).mkdir()
        inputs = []
        for sub, name in files:
            path = root / sub / f"{name}.root"
            path.write_bytes(b"jets")
            inputs.append(path)
        try:
            plan = calibrate_outputs(inputs, root / out, suffix, overwrite=overwrite)
        except FileExistsError:
            return
        resolved_in = {p.resolve() for p in inputs}
        resolved_out = [p.resolve() for p in plan.values()]
        assert not resolved_in & set(resolved_out)
        assert len(set(resolved_out)) == len(resolved_out) == len(inputs)
        assert overwrite or not any(p.exists() for p in resolved_out)
