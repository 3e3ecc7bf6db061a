"""The exported files applied without skcal and torch: onnxruntime or correctionlib and numpy.

The scripts run in a subprocess whose imports of ``torch`` and ``skcal`` fail (a
``sys.meta_path`` blocker), as in an environment where only those packages are installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
from sklearn.pipeline import make_pipeline

from skcal.demo import mdn_pipeline
from skcal.export import to_correctionlib, to_onnx
from skcal.inversion import NumericalInversion

from .conftest import FEATURES

BLOCKER = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "skcal"}:
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Blocker())
"""

ONNX_SCRIPT = """
import sys
import numpy as np
import onnxruntime as ort
model, inputs, out = sys.argv[1:]
table = np.load(inputs)
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
feed = {i.name: table[i.name].astype(np.float32) for i in session.get_inputs()}
response, sigma = session.run(["response", "sigma"], feed)
np.savez(out, response=response, sigma=sigma)
assert "torch" not in sys.modules and "skcal" not in sys.modules
"""

CORRECTIONLIB_SCRIPT = """
import sys
import numpy as np
import correctionlib
path, inputs, out = sys.argv[1:]
table = np.load(inputs)
calibration = correctionlib.CorrectionSet.from_file(path).compound["calibration"]
response = calibration.evaluate(*[table[i.name] for i in calibration.inputs])
np.save(out, response)
assert "torch" not in sys.modules and "skcal" not in sys.modules
"""


def run_standalone(script, tmp_path, *args):
    code = BLOCKER + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_blocker_blocks(tmp_path):
    code = BLOCKER + "import torch"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0 and "torch is not installed here" in done.stderr


def test_onnx_without_skcal(jets, tmp_path):
    train, r, test = jets
    pipe = mdn_pipeline(epochs=2, seed=0)  # the demo's default MDN pipeline
    pipe.set_params(mdncalibrator__module__hidden_sizes=(16, 16))
    pipe.fit(train[FEATURES], r)
    to_onnx(pipe, tmp_path / "calib.onnx")
    np.savez(tmp_path / "jets.npz", **{c: test[c].to_numpy() for c in FEATURES})
    run_standalone(
        ONNX_SCRIPT, tmp_path, tmp_path / "calib.onnx", tmp_path / "jets.npz", tmp_path / "out.npz"
    )
    out = np.load(tmp_path / "out.npz")
    mode, std = pipe.predict(test[FEATURES], return_std=True)
    assert np.max(np.abs(out["response"] / mode - 1.0)) < 1e-5
    assert np.max(np.abs(out["sigma"] / std - 1.0)) < 1e-5


def test_correctionlib_without_skcal(jets, tmp_path):
    train, r, test = jets
    columns = ["e_reco", "pt_reco", "eta"]
    chain = make_pipeline(NumericalInversion(condition={"abs_eta": [0, 1, 2.5, 4.5]}, n_grid=32))
    chain.fit(train[columns], r)
    to_correctionlib(chain, tmp_path / "calib.json")
    np.savez(tmp_path / "jets.npz", **{c: test[c].to_numpy() for c in columns})
    run_standalone(
        CORRECTIONLIB_SCRIPT,
        tmp_path,
        tmp_path / "calib.json",
        tmp_path / "jets.npz",
        tmp_path / "out.npy",
    )
    out = np.load(tmp_path / "out.npy")
    assert np.max(np.abs(out / chain.predict(test[columns]).to_numpy() - 1.0)) < 1e-6
