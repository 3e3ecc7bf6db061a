"""The former public modules of skcal.neural: shims that warn and resolve for one release."""

from __future__ import annotations

import importlib
import pickle

import pytest

import skcal.neural
from skcal.neural import Stage

FORMER = {
    "energy_mass": ["OUTPUT_COLUMNS", "EnergyMassCalibrator", "EnergyMassNetwork"],
    "schedule": ["PAPER_SCHEDULE", "Stage", "paper_schedule", "LOSSES", "make_optimizer"],
    "distributions": ["AsymmetricNormal", "Truncated", "find_mode", "mixture_mode", "scale_of"],
    "modules": ["MLP", "DensityNetwork", "PointNetwork", "ACTIVATIONS"],
    "callbacks": ["ClosureMonitor"],
}


def test_the_former_import_path_warns_and_gives_the_same_object():
    with pytest.warns(
        FutureWarning,
        match=r"skcal\.neural\.energy_mass\.EnergyMassCalibrator is deprecated: use "
        r"skcal\.neural\.EnergyMassCalibrator",
    ):
        from skcal.neural.energy_mass import EnergyMassCalibrator
    assert EnergyMassCalibrator is skcal.neural.EnergyMassCalibrator
    assert EnergyMassCalibrator.__module__ == "skcal.neural._energy_mass"


@pytest.mark.parametrize("module", sorted(FORMER))
def test_every_former_name_resolves(module):
    shim = importlib.import_module(f"skcal.neural.{module}")
    for name in FORMER[module]:
        with pytest.warns(FutureWarning, match=f"skcal.neural.{module}.{name} is deprecated"):
            obj = getattr(shim, name)
        if name in skcal.neural.__all__:
            assert obj is getattr(skcal.neural, name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        shim.nope  # noqa: B018


def test_public_names_have_one_home():
    for name in skcal.neural.__all__:
        home = getattr(getattr(skcal.neural, name), "__module__", "skcal.neural._")
        assert home.startswith("skcal.neural._"), (name, home)


def test_objects_pickled_under_the_former_path_unpickle_through_the_shim():
    stage = Stage(epochs=2, batch_size=64, lr=1e-3, truncation=2.0)
    data = pickle.dumps(stage, protocol=0)  # names the class as module + newline + name
    assert b"skcal.neural._schedule\n" in data
    old = data.replace(b"skcal.neural._schedule\n", b"skcal.neural.schedule\n")
    with pytest.warns(FutureWarning, match=r"use skcal\.neural\.Stage"):
        assert pickle.loads(old) == stage
