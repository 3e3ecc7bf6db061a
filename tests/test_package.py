"""The package's own contract: exceptions, optional dependencies, public API."""

from __future__ import annotations

import sys

import pytest
import sklearn.exceptions

import skcal
from skcal._optional import import_optional
from skcal.exceptions import (
    DataError,
    MissingDependencyError,
    NotFittedError,
    ROOTFileError,
    SkcalError,
)


def test_exceptions_are_also_the_errors_users_already_catch() -> None:
    assert issubclass(NotFittedError, sklearn.exceptions.NotFittedError)
    assert issubclass(DataError, ValueError) and issubclass(ROOTFileError, DataError)
    assert issubclass(MissingDependencyError, ImportError)
    for exc in (NotFittedError, DataError, ROOTFileError, MissingDependencyError):
        assert issubclass(exc, SkcalError)


@pytest.mark.parametrize(
    ("module", "extra"),
    [("mlflow", "mlflow"), ("ray.tune", "tune"), ("pythia8mc", "sim"), ("lightgbm", "bench")],
)
def test_a_hidden_optional_dependency_names_its_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(
        MissingDependencyError,
        match=rf"tune_pipeline needs .*'{module}'.*pip install 'skcal\[{extra}\]'",
    ):
        import_optional(module, purpose="tune_pipeline")


def test_an_unknown_optional_dependency_suggests_pip() -> None:
    with pytest.raises(MissingDependencyError, match="pip install no_such_module_xyz"):
        import_optional("no_such_module_xyz")


def test_importing_skcal_does_not_import_heavy_integrations() -> None:
    import subprocess

    code = (
        "import sys, skcal, skcal.datasets, skcal.io, skcal.cli; "
        "print(sorted(m for m in ('ray', 'mlflow', 'torch', 'pythia8mc') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert skcal.__version__
