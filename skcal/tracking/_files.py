"""Saving a fitted calibration to a file and loading it back, without MLflow."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import joblib

from skcal._outputs import atomic_output, check_output_path
from skcal.exceptions import ModelNotFoundError

__all__ = ["load_model_file", "save_calibrator"]


def save_calibrator(
    pipeline: Any, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Save a fitted calibration with joblib, atomically (temporary file, then rename).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.dummy import DummyRegressor
    >>> from skcal.tracking import load_calibrator, save_calibrator
    >>> model = DummyRegressor().fit([[1.0]], [0.8])
    >>> path = save_calibrator(model, pathlib.Path(tempfile.mkdtemp()) / "m.joblib")
    >>> float(load_calibrator(path).predict([[2.0]])[0])
    0.8
    """
    path = check_output_path(
        path, overwrite=overwrite, hint="pass overwrite=True (--overwrite) to replace it"
    )
    with atomic_output(path) as tmp:
        joblib.dump(pipeline, tmp)
    return path


def load_model_file(path: Path) -> Any:
    """Load a calibration saved by :func:`save_calibrator`.

    Raises
    ------
    ModelNotFoundError
        If the file is not a saved model (a ROOT file, a truncated or corrupt file),
        naming the file; or holds something that neither predicts nor transforms.
    """
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == b"root":
        raise ModelNotFoundError(
            f"{path} is a ROOT file, not a model file (skcal fit, save_calibrator); "
            "pass the jets as the input and the model with -m/--model"
        )
    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling raises anything (EOFError, KeyError, ...)
        raise ModelNotFoundError(
            f"{path} is not a readable model file (written by skcal fit or save_calibrator): "
            f"it is truncated, corrupt or of another kind ({type(exc).__name__}: {exc})"
        ) from exc
    if not (hasattr(model, "predict") or hasattr(model, "transform")):
        raise ModelNotFoundError(
            f"{path} holds a {type(model).__name__}, not a calibration (no predict or transform)"
        )
    return model
