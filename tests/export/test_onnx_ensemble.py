"""to_onnx of a deep ensemble: one graph combining the members as predict does."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skcal.exceptions import ExportError
from skcal.export import to_correctionlib, to_onnx
from skcal.neural import EnsembleCalibrator, GDNCalibrator, MDNCalibrator, PointCalibrator

from .conftest import FEATURES
from .test_onnx import rel, run, skcal_prep
from .test_standalone import run_standalone

SMALL = {"max_epochs": 2, "batch_size": 512, "module__hidden_sizes": (16, 16)}
BASES = {
    "mdn": lambda: MDNCalibrator(n_components=2, **SMALL),
    "gdn-asym-log": lambda: GDNCalibrator(asymmetric=True, training_space="log", **SMALL),
    "point": lambda: PointCalibrator(**SMALL),
}


def ensemble_pipeline(base, **kwargs):
    ens = EnsembleCalibrator(base, n_members=3, random_state=0, **kwargs)
    return make_pipeline(*skcal_prep(), ens).set_output(transform="pandas")


@pytest.mark.parametrize("kind", list(BASES))
def test_ensemble_round_trip(jets, kind):
    train, r, test = jets
    pipe = ensemble_pipeline(BASES[kind]()).fit(train[FEATURES], r)
    out = run(to_onnx(pipe), test)
    assert list(out) == ["response", "sigma", "sigma_stat", "sigma_syst"]
    mode, total = pipe.predict(test[FEATURES], return_std=True)
    u = pipe[-1].predict_uncertainty(pipe[:-1].transform(test[FEATURES]))
    assert rel(out["response"], mode) < 1e-5
    if kind == "point":
        # the spread of float32 networks' outputs: exact to float32 of the response only
        assert np.max(np.abs(out["sigma_stat"] - u.sigma_stat) / mode) < 1e-5
        assert np.max(np.abs(out["sigma"] - total) / mode) < 1e-5
        assert np.all(out["sigma_syst"] == 0.0)
        return
    assert rel(out["sigma"], total) < 1e-5
    assert rel(out["sigma_stat"], u.sigma_stat) < 1e-5
    assert rel(out["sigma_syst"], u.sigma_syst) < 1e-5


def test_ensemble_sigma_scale_and_metadata(jets):
    train, r, test = jets
    pipe = ensemble_pipeline(BASES["mdn"](), sigma_scaling=True)
    pipe.fit(
        train[FEATURES],
        r,
        ensemblecalibrator__X_val=pipe[:-1].fit_transform(test[FEATURES]),
        ensemblecalibrator__y_val=test.e_reco / test.e_true,
    )
    proto = to_onnx(pipe)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["members"]) == ["MDNCalibrator"] * 3
    assert json.loads(meta["sigma_scale"]) == pytest.approx(pipe[-1].sigma_scale_)
    assert meta["calibrator"] == "EnsembleCalibrator" and meta["training_space"] == "response"
    mode, total = pipe.predict(test[FEATURES], return_std=True)
    out = run(proto, test)
    assert pipe[-1].sigma_scale_ != 1.0
    assert rel(out["response"], mode) < 1e-5 and rel(out["sigma"], total) < 1e-5


ENSEMBLE_SCRIPT = """
import sys
import numpy as np
import onnxruntime as ort
model, inputs, out = sys.argv[1:]
table = np.load(inputs)
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
feed = {i.name: table[i.name].astype(np.float32) for i in session.get_inputs()}
names = ["response", "sigma", "sigma_stat", "sigma_syst"]
np.savez(out, **dict(zip(names, session.run(names, feed))))
assert "torch" not in sys.modules and "skcal" not in sys.modules
"""


def test_ensemble_without_skcal(jets, tmp_path):
    train, r, test = jets
    pipe = ensemble_pipeline(BASES["mdn"]()).fit(train[FEATURES], r)
    to_onnx(pipe, tmp_path / "ensemble.onnx")
    np.savez(tmp_path / "jets.npz", **{c: test[c].to_numpy() for c in FEATURES})
    files = [tmp_path / n for n in ("ensemble.onnx", "jets.npz", "out.npz")]
    run_standalone(ENSEMBLE_SCRIPT, tmp_path, *files)
    out = np.load(tmp_path / "out.npz")
    u = pipe[-1].predict_uncertainty(pipe[:-1].transform(test[FEATURES]))
    assert rel(out["response"], pipe.predict(test[FEATURES])) < 1e-5
    assert rel(out["sigma_stat"], u.sigma_stat) < 1e-5 and rel(out["sigma"], u.sigma_tot) < 1e-5


def test_correctionlib_refuses_networks(jets):
    train, r, _ = jets
    pipe = make_pipeline(*skcal_prep(), GDNCalibrator(**SMALL)).set_output(transform="pandas")
    pipe.fit(train[FEATURES], r)
    with pytest.raises(
        ExportError,
        match=r"'gdncalibrator' \(GDNCalibrator\) cannot be exported to correctionlib: it is a "
        r"neural network.*to_onnx",
    ):
        to_correctionlib(pipe)
    ens = EnsembleCalibrator(GDNCalibrator(**SMALL), n_members=2, random_state=0)
    with pytest.raises(ExportError, match="EnsembleCalibrator.*correctionlib cannot express"):
        to_correctionlib(ens.fit(train[FEATURES], r))
