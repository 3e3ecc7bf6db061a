"""The public API: every public object has one import path, and old paths warn."""

from __future__ import annotations

import importlib
import warnings

import pytest

PUBLIC = (
    "skcal.clusters",
    "skcal.columns",
    "skcal.config",
    "skcal.datasets",
    "skcal.distributed",
    "skcal.evaluation",
    "skcal.exceptions",
    "skcal.export",
    "skcal.inversion",
    "skcal.io",
    "skcal.neural",
    "skcal.preprocessing",
    "skcal.response",
    "skcal.tracking",
    "skcal.tune",
)


def test_every_public_object_has_one_import_path() -> None:
    homes: dict[int, list[str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing public may be a deprecated alias
        for name in PUBLIC:
            module = importlib.import_module(name)
            for attr in module.__all__:
                obj = getattr(module, attr)
                if callable(obj) or isinstance(obj, type):
                    homes.setdefault(id(obj), []).append(f"{name}.{attr}")
    shared = sorted(paths for paths in homes.values() if len(paths) > 1)
    assert not shared, f"objects exported from more than one public path: {shared}"


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("skcal.evaluation", "closure_table", "skcal.response"),
        ("skcal.datasets", "write_root", "skcal.io"),
        ("skcal.neural.energy_mass", "EnergyMassCalibrator", "skcal.neural"),
        ("skcal.neural.schedule", "Stage", "skcal.neural"),
    ],
)
def test_a_moved_name_still_works_for_one_release(old: str, name: str, new: str) -> None:
    module = importlib.import_module(old)
    with pytest.warns(FutureWarning, match=rf"{new.replace('.', '[.]')}"):
        obj = getattr(module, name)
    assert obj is getattr(importlib.import_module(new), name)
