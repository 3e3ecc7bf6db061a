"""to_onnx: a round trip for every supported step and calibrator, metadata, refusals."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skcal.exceptions import ExportError
from skcal.export import to_onnx
from skcal.inversion import NumericalInversion
from skcal.neural import EnergyMassCalibrator, GDNCalibrator, MDNCalibrator, PointCalibrator
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

from .conftest import FEATURES, standalone_inputs

SMALL = {"max_epochs": 2, "batch_size": 512, "random_state": 0, "module__hidden_sizes": (16, 16)}
CALIBRATORS = {
    "gdn": (GDNCalibrator, {}),
    "gdn-asym-log": (GDNCalibrator, {"asymmetric": True, "training_space": "log"}),
    "mdn": (MDNCalibrator, {"n_components": 3}),
    "mdn-log": (MDNCalibrator, {"n_components": 3, "training_space": "log"}),
    "mdn-asym-log10": (
        MDNCalibrator,
        {"n_components": 2, "asymmetric": True, "training_space": "log10"},
    ),
    "mdn-asym-mode-training": (
        MDNCalibrator,
        {"n_components": 2, "asymmetric": True, "training_space": "log", "mode_space": "training"},
    ),
    "point": (PointCalibrator, {}),
    "point-log-mae": (PointCalibrator, {"training_space": "log", "loss": "mae"}),
}


def run(proto, table):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, standalone_inputs(table, names)),
        )
    )


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) / np.asarray(b) - 1.0)))


def skcal_prep():
    return [
        LogTransformer(columns=["e_reco", "pt_reco", "m_reco"]),
        EtaAnnotation(),
        SymmetricScaler(clip=True),
    ]


@pytest.mark.parametrize("kind", list(CALIBRATORS))
def test_calibrators_round_trip(jets, kind):
    train, r, test = jets
    cls, params = CALIBRATORS[kind]
    pipe = make_pipeline(*skcal_prep(), cls(**SMALL, **params)).set_output(transform="pandas")
    pipe.fit(train[FEATURES], r)
    out = run(to_onnx(pipe), test)
    if cls is PointCalibrator:
        assert list(out) == ["response"]
        assert rel(out["response"], pipe.predict(test[FEATURES])) < 1e-5
        return
    mode, std = pipe.predict(test[FEATURES], return_std=True)
    assert rel(out["response"], mode) < 1e-5
    assert rel(out["sigma"], std) < 1e-5


def test_standard_scaler_and_passthrough(jets):
    train, r, test = jets
    pipe = make_pipeline(
        LogTransformer(columns=["e_reco"], offset=1.0),
        "passthrough",
        StandardScaler(),
        MDNCalibrator(n_components=2, **SMALL),
    ).set_output(transform="pandas")
    pipe.fit(train[FEATURES], r)
    mode, std = pipe.predict(test[FEATURES], return_std=True)
    out = run(to_onnx(pipe), test)
    assert rel(out["response"], mode) < 1e-5 and rel(out["sigma"], std) < 1e-5


def test_signed_eta_annotation_and_reordered_columns(jets):
    train, r, test = jets
    prep = make_pipeline(EtaAnnotation(symmetric=False), SymmetricScaler()).set_output(
        transform="pandas"
    )
    Xp = prep.fit_transform(train[FEATURES])
    columns = list(Xp.columns[::-1])  # the calibrator reads its columns by name
    gdn = GDNCalibrator(**SMALL).fit(Xp[columns], r)
    full = Pipeline([*prep.steps, ("gdn", gdn)]).set_output(transform="pandas")
    out = run(to_onnx(full), test)
    assert rel(out["response"], full.predict(test[FEATURES])) < 1e-5


def test_energy_mass_network(jets):
    train, _, test = jets
    features = ["e_reco", "m_reco", "eta", "mu"]
    y = np.column_stack([train.e_reco / train.e_true, train.m_reco / train.m_true])
    cal = EnergyMassCalibrator(
        epoch_scale=0.02,
        batch_scale=0.03,
        random_state=0,
        module__core_sizes=(16,),
        module__branch_sizes=(12, 12),
        module__residual_sizes=(8,),
    )
    cal.fit(train[features], y)
    mode, std = cal.predict(test[features], return_std=True)
    out = run(to_onnx(cal), test)
    assert out["response"].shape == (len(test), 2)
    assert rel(out["response"], mode) < 1e-5 and rel(out["sigma"], std) < 1e-5


def test_metadata_and_inputs(jets, tmp_path):
    train, r, test = jets
    pipe = make_pipeline(*skcal_prep(), GDNCalibrator(**SMALL)).set_output(transform="pandas")
    pipe.fit(train[FEATURES], r)
    path = tmp_path / "calib.onnx"
    to_onnx(pipe, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == FEATURES
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["inputs"]) == FEATURES
    assert json.loads(meta["input_units"])["e_reco"] == "GeV"
    assert meta["training_space"] == "response" and meta["calibrator"] == "GDNCalibrator"
    assert "skcal_version" in meta and "feature_range" in meta
    if hasattr(pipe[-1], "feature_range_"):
        assert np.allclose(json.loads(meta["feature_range"]), pipe[-1].feature_range_)


def test_refuses_unsupported_steps(jets):
    train, r, _ = jets
    pipe = make_pipeline(MinMaxScaler(), GDNCalibrator(**SMALL)).fit(train[FEATURES], r)
    with pytest.raises(ExportError, match=r"'minmaxscaler' \(MinMaxScaler\) cannot be exported"):
        to_onnx(pipe)
    ni = NumericalInversion(condition={"abs_eta": [0, 2, 4.5]}, n_grid=8)
    ni.fit(train[["e_reco", "pt_reco", "eta"]], r)
    with pytest.raises(ExportError, match="NumericalInversion.*to_correctionlib"):
        to_onnx(ni)
