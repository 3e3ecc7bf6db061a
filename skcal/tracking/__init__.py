"""Saving and loading calibrations; MLflow tracking and model registry (the ``mlflow`` extra).

Importing this package does not import MLflow; the functions that need it do, and a
missing MLflow raises an error that names the extra: ``pip install 'skcal[mlflow]'``.
Saving to and loading from a file needs no MLflow.
"""

from skcal.tracking._files import save_calibrator
from skcal.tracking._log import (
    LoggedCalibrator,
    epoch_logger,
    flat_params,
    load_calibrator,
    log_calibrator,
)
from skcal.tracking._store import DEFAULT_STORE_DIR, local_store_uri, use_store

__all__ = [
    "DEFAULT_STORE_DIR",
    "LoggedCalibrator",
    "epoch_logger",
    "flat_params",
    "load_calibrator",
    "local_store_uri",
    "log_calibrator",
    "save_calibrator",
    "use_store",
]
