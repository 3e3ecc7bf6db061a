"""Lazy import of optional dependencies.

Heavy integrations (Ray, MLflow, the event generator, LightGBM, SHAP) are imported
only when a feature needs them. A missing one raises
:class:`~skcal.exceptions.MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from skcal.exceptions import MissingDependencyError

# Module name -> the skcal extra that installs it.
EXTRAS: dict[str, str] = {
    "ray": "tune",
    "ray.tune": "tune",
    "optuna": "tune",
    "mlflow": "mlflow",
    "pythia8mc": "sim",
    "fastjet": "sim",
    "lightgbm": "bench",
    "pytorch_optimizer": "optim",
    "shap": "shap",
    "onnx": "export",
    "onnxruntime": "export",
    "correctionlib": "export",
    "dask_ml": "daskml",
    "dask_jobqueue": "jobqueue",
    "fsspec_xrootd": "xrootd",
}


def import_optional(name: str, *, purpose: str | None = None) -> ModuleType:
    """Import an optional dependency, or explain how to install it.

    Parameters
    ----------
    name : str
        The module to import, for example ``"mlflow"`` or ``"ray.tune"``.
    purpose : str, optional
        What needs it, for the error message (for example ``"tune_pipeline"``).

    Returns
    -------
    module : ModuleType
        The imported module.

    Raises
    ------
    MissingDependencyError
        If the module cannot be imported; the message names ``pip install 'skcal[extra]'``.

    Examples
    --------
    >>> from skcal._optional import import_optional
    >>> import_optional("numpy").__name__
    'numpy'
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        extra = EXTRAS.get(name, EXTRAS.get(name.split(".")[0]))
        needed_by = f"{purpose} needs" if purpose else "This feature needs"
        install = f"pip install 'skcal[{extra}]'" if extra else f"pip install {name.split('.')[0]}"
        raise MissingDependencyError(
            f"{needed_by} the optional dependency '{name}', which is not installed "
            f"({exc}). Install it with: {install}"
        ) from exc
