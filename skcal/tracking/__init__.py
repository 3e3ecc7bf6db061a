"""MLflow tracking, model registry and loading of calibrations (the ``mlflow`` extra).

Importing this package does not import MLflow; each function does, and a missing
MLflow raises an error that names the extra: ``pip install 'skcal[mlflow]'``.
"""

from skcal.tracking._log import LoggedCalibrator, epoch_logger, flat_params, load_calibrator, log_calibrator
from skcal.tracking._store import DEFAULT_STORE_DIR, local_store_uri, use_store

__all__ = [
    "DEFAULT_STORE_DIR",
    "LoggedCalibrator",
    "epoch_logger",
    "flat_params",
    "load_calibrator",
    "local_store_uri",
    "log_calibrator",
    "use_store",
]
