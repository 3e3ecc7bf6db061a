"""skcal.tune is behind the tune extra: importing it does not import Ray, and a missing Ray
names the extra."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skcal.exceptions import MissingDependencyError
from skcal.tune import tune_pipeline

from .conftest import mdn_pipeline


def test_importing_skcal_tune_does_not_import_ray():
    code = "import sys, skcal.tune; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_missing_ray_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    X = pd.DataFrame(
        {
            "e_reco": np.linspace(30, 300, 100),
            "pt_reco": np.linspace(20, 200, 100),
            "eta": np.zeros(100),
            "mu": np.ones(100),
        }
    )
    with pytest.raises(
        MissingDependencyError, match=r"tune_pipeline needs .*pip install 'skcal\[tune\]'"
    ):
        tune_pipeline(
            mdn_pipeline(), {"mdncalibrator__lr": 1e-3}, X, np.full(100, 0.9), storage_path=tmp_path
        )
