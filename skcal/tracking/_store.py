"""Where runs and registered models live: a local SQLite store, or any tracking URI."""

from __future__ import annotations

import os
from pathlib import Path

from skcal._optional import import_optional
from skcal.exceptions import ParameterError

__all__ = ["DEFAULT_STORE_DIR", "brief", "local_store_uri", "require_store", "use_store"]

#: The folder of the local store, relative to the working directory unless absolute.
DEFAULT_STORE_DIR = "mlflow-store"


def local_store_uri(root: str | os.PathLike[str] = DEFAULT_STORE_DIR) -> str:
    """The URI of a local SQLite tracking store under ``root`` (created if missing).

    The path is made absolute, so that the store is the same whatever the working
    directory of a later process (MLflow resolves relative SQLite paths against it).

    Examples
    --------
    >>> import tempfile
    >>> from skcal.tracking import local_store_uri
    >>> local_store_uri(tempfile.mkdtemp()).startswith("sqlite:////")
    True
    """
    folder = Path(root).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def use_store(
    tracking_uri: str | None = None,
    *,
    root: str | os.PathLike[str] = DEFAULT_STORE_DIR,
    experiment: str | None = "skcal",
) -> str:
    """Point MLflow (tracking and model registry) at a store and select an experiment.

    Parameters
    ----------
    tracking_uri : str, optional
        Any MLflow tracking URI (``http://server:5000``, ``sqlite:///...``,
        ``databricks``). Default: the local SQLite store under ``root``.
    root : path-like, default "mlflow-store"
        Folder of the local store and of its artifacts, when ``tracking_uri`` is None.
    experiment : str or None, default "skcal"
        Experiment to select (created if missing; for the local store its artifacts go
        to ``root/artifacts``). None leaves the current experiment.

    Returns
    -------
    str
        The tracking URI in use.

    Examples
    --------
    >>> import tempfile, mlflow
    >>> from skcal.tracking import use_store
    >>> uri = use_store(root=tempfile.mkdtemp())
    >>> mlflow.get_tracking_uri() == uri == mlflow.get_registry_uri()
    True
    """
    mlflow = import_optional("mlflow", purpose="skcal.tracking")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    artifacts = None
    if tracking_uri is None:
        tracking_uri = local_store_uri(root)
        artifacts = (Path(root).expanduser().resolve() / "artifacts").as_uri()
    if tracking_uri.startswith(("http://", "https://")):
        # MLflow retries an unreachable server for minutes by default: fail in seconds,
        # unless the user chose otherwise (the variables are read at each request).
        for variable, value in _HTTP_LIMITS.items():
            os.environ.setdefault(variable, value)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    if experiment is not None:
        from mlflow.exceptions import MlflowException

        try:
            if mlflow.get_experiment_by_name(experiment) is None:
                mlflow.create_experiment(experiment, artifact_location=artifacts)
            mlflow.set_experiment(experiment)
        except (MlflowException, OSError) as exc:
            raise ParameterError(
                f"tracking_uri {tracking_uri!r}: the store cannot be used ({brief(exc)})"
            ) from exc
    return tracking_uri


def brief(exc: BaseException) -> str:
    """An exception on one line, its kind first, cut to 300 characters (for messages)."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


#: Retries and timeout of MLflow's HTTP requests to a tracking server set by use_store.
_HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}


def require_store(purpose: str) -> None:
    """Refuse to use MLflow's implicit store in the working folder (``./mlflow.db``, ``./mlruns``).

    A store is set by :func:`use_store`, ``mlflow.set_tracking_uri``, the
    ``MLFLOW_TRACKING_URI`` variable, or an active run.

    Raises
    ------
    ParameterError
        If none is set.
    """
    mlflow = import_optional("mlflow", purpose=purpose)
    from mlflow.tracking import is_tracking_uri_set

    if not is_tracking_uri_set() and mlflow.active_run() is None:
        raise ParameterError(
            f"{purpose}: no MLflow store is set, and skcal never writes one into the working "
            "folder unasked; call skcal.tracking.use_store() (a local store under "
            f"./{DEFAULT_STORE_DIR}, or a tracking URI), mlflow.set_tracking_uri, or set "
            "MLFLOW_TRACKING_URI"
        )
