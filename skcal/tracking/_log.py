"""Logging calibrations to MLflow, registering them, and loading them back."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Number, Real
from pathlib import Path
from typing import Any

import pandas as pd

from skcal._optional import import_optional
from skcal._params import StrOptions, check_params
from skcal.evaluation._apply import model_features
from skcal.exceptions import DataError, ModelNotFoundError, ParameterError, TrackingStoreError
from skcal.tracking._files import load_model_file
from skcal.tracking._store import brief, require_store

__all__ = ["LoggedCalibrator", "epoch_logger", "flat_params", "load_calibrator", "log_calibrator"]

#: MLflow's limit on the length of a parameter value, and on metrics per batch.
_MAX_PARAM_LENGTH = 6000
_METRICS_PER_CALL = 900
#: Characters MLflow refuses in a metric name.
_METRIC_NAME = re.compile(r"[^\w\-. :/]")


@dataclass(frozen=True)
class LoggedCalibrator:
    """Where a logged calibration went."""

    run_id: str
    model_uri: str  # runs:/<run_id>/model
    registered_name: str | None = None
    version: int | None = None
    alias: str | None = None

    @property
    def registry_uri(self) -> str | None:
        """``models:/name@alias`` (or ``models:/name/version``) when registered."""
        if self.registered_name is None:
            return None
        suffix = f"@{self.alias}" if self.alias else f"/{self.version}"
        return f"models:/{self.registered_name}{suffix}"


def flat_params(estimator: Any) -> dict[str, str]:
    """The estimator's ``get_params(deep=True)`` as MLflow parameters.

    Nested estimators themselves are left out (their own parameters are listed), and
    every value is written as text, truncated to MLflow's length limit.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> flat_params(make_pipeline(StandardScaler()))["standardscaler__with_mean"]
    'True'
    """
    params = {}
    for key, value in estimator.get_params(deep=True).items():
        if hasattr(value, "get_params") or key in ("steps", "memory"):
            continue
        if isinstance(value, (str, Number, bool, type(None), tuple, list, dict)):
            params[key] = str(value)[:_MAX_PARAM_LENGTH]
        else:
            params[key] = (getattr(value, "__name__", None) or type(value).__name__)[
                :_MAX_PARAM_LENGTH
            ]
    return params


def log_calibrator(
    pipeline: Any,
    input_example: pd.DataFrame,
    *,
    name: str | None = None,
    alias: str | None = None,
    metrics: dict[str, float] | None = None,
    report_dir: str | os.PathLike[str] | None = None,
    artifact_name: str = "model",
    export: str | None = None,
) -> LoggedCalibrator:
    """Log a fitted calibration to the active MLflow run (or a new one), and register it.

    Logs the pipeline's parameters (:func:`flat_params`), ``metrics``, the report's
    files as artifacts under ``report/`` (and the scalar metrics of its
    ``metrics.json``, prefixed ``report.``), and the model as an MLflow pyfunc with a
    signature and an input example: ``mlflow.pyfunc.load_model(uri).predict(table)``
    gives the response and, when the table has ``e_reco`` and ``pt_reco``, the
    calibrated energy and pT.

    Parameters
    ----------
    pipeline : fitted estimator or Pipeline
        Fitted on a DataFrame (so it knows its input columns).
    input_example : DataFrame
        A few jets; the model's input columns are selected from it.
    name : str, optional
        Register the model under this name (a new version).
    alias : str, optional
        Point this alias (for example ``"champion"``) at the new version; needs ``name``.
    metrics : dict of str to float, optional
        Closure, resolution or any figure to log with the model.
    report_dir : path-like, optional
        A folder written by :func:`skcal.evaluation.report`, logged as artifacts.
    artifact_name : str, default "model"
        Name of the model within the run.
    export : {"onnx", "correctionlib"}, optional
        Also log the model exported for use without skcal (:mod:`skcal.export`) as the
        artifact ``<artifact_name>_export/calibration.onnx`` (or ``.json``), beside the
        pickled model; it is built before anything is logged, so a model that cannot
        be exported logs nothing.

    Returns
    -------
    LoggedCalibrator
        The run, the model URI, and the registered name, version and alias.

    Raises
    ------
    ParameterError
        If a parameter has a wrong type, or ``alias`` is given without ``name``.
        If no MLflow store is set (:func:`use_store`, ``MLFLOW_TRACKING_URI`` or an
        active run): skcal never writes an implicit store into the working folder.
    DataError
        If ``input_example`` lacks an input column of the model, ``report_dir`` is
        not a folder, or a metric is not a finite number (NaN is never logged).
    TrackingStoreError
        If the store cannot be written (read-only, locked, unreachable). A model
        version registered before the failure is deleted again, and a run started
        here is marked FAILED.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.dummy import DummyRegressor
    >>> from skcal.datasets import make_jets
    >>> from skcal.tracking import load_calibrator, log_calibrator, use_store
    >>> jets = make_jets(500, random_state=0)
    >>> model = DummyRegressor().fit(jets[["e_reco", "eta"]], jets.e_reco / jets.e_true)
    >>> _ = use_store(root=tempfile.mkdtemp())
    >>> logged = log_calibrator(model, jets.head(), name="jes-demo", alias="champion")
    >>> logged.registry_uri
    'models:/jes-demo@champion'
    >>> X = jets[["e_reco", "eta"]]
    >>> bool((load_calibrator(logged.registry_uri).predict(X) == model.predict(X)).all())
    True
    """
    mlflow = import_optional("mlflow", purpose="log_calibrator")
    from mlflow.models import infer_signature

    from skcal.tracking._pyfunc import CalibrationModel

    check_params(
        _CONSTRAINTS,
        {
            "name": name,
            "alias": alias,
            "metrics": metrics,
            "report_dir": report_dir,
            "artifact_name": artifact_name,
            "export": export,
        },
        "log_calibrator",
    )
    if alias is not None and name is None:
        raise ParameterError(f"alias {alias!r} needs a registered model name (name=...)")
    require_store("log_calibrator")
    bad = {k: v for k, v in (metrics or {}).items() if not _finite_number(v)}
    if bad:
        raise DataError(
            f"metrics: {sorted(bad)} are not finite numbers ({bad}); MLflow would log them "
            "silently, skcal refuses them"
        )
    features = model_features(pipeline)
    example = pd.DataFrame(input_example)
    missing = [c for c in features if c not in example.columns]
    if missing:
        raise DataError(f"input_example lacks the model's input column {missing[0]!r}")
    example = example[features].head(5)
    output = CalibrationModel(pipeline).predict(None, example)
    exported = None if export is None else _exported(pipeline, export)

    from mlflow.exceptions import MlflowException

    started = mlflow.active_run() is None
    info = None
    try:
        run = mlflow.start_run() if started else mlflow.active_run()
        mlflow.log_params(flat_params(pipeline))
        if metrics:
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        if report_dir is not None:
            _log_report(mlflow, Path(report_dir))
        info = mlflow.pyfunc.log_model(
            name=artifact_name,
            python_model=CalibrationModel(pipeline),
            signature=infer_signature(example, output),
            input_example=example,
            registered_model_name=name,
        )
        if exported is not None:
            mlflow.log_artifact(str(exported), artifact_path=f"{artifact_name}_export")
        version = int(info.registered_model_version) if name is not None else None
        if alias is not None:
            mlflow.MlflowClient().set_registered_model_alias(name, alias, str(version))
    except Exception as exc:
        _undo(mlflow, name, info, ended=started)
        if not isinstance(exc, (MlflowException, OSError)):
            raise
        raise TrackingStoreError(
            f"log_calibrator: the MLflow store {mlflow.get_tracking_uri()} cannot be written "
            f"(read-only, locked or unreachable?): {brief(exc)}; "
            "no model version was left registered"
        ) from exc
    if started:
        mlflow.end_run()
    return LoggedCalibrator(
        run.info.run_id, f"runs:/{run.info.run_id}/{artifact_name}", name, version, alias
    )


def _undo(mlflow: Any, name: str | None, info: Any, *, ended: bool) -> None:
    """After a failed log: remove a version registered without its alias, fail the run.

    Best effort: a store that refused the log may refuse these too, and then nothing
    was registered in the first place.
    """
    version = getattr(info, "registered_model_version", None)
    try:
        if name is not None and version is not None:
            mlflow.MlflowClient().delete_model_version(name, str(version))
    except Exception:
        pass
    try:
        if ended and mlflow.active_run() is not None:
            mlflow.end_run(status="FAILED")
    except Exception:
        pass


def _exported(pipeline: Any, export: str) -> Path:
    """The model exported to a temporary file (skcal.export)."""
    import tempfile

    from skcal.export import to_correctionlib, to_onnx

    path = Path(tempfile.mkdtemp(prefix="skcal-export-")) / f"calibration.{export}"
    if export == "onnx":
        to_onnx(pipeline, path)
    else:
        to_correctionlib(pipeline, path := path.with_suffix(".json"))
    return path


#: The values each parameter of log_calibrator may take.
_CONSTRAINTS: dict[str, list[Any]] = {
    "name": [str, None],
    "alias": [str, None],
    "metrics": [Mapping, None],
    "report_dir": [str, os.PathLike, None],
    "artifact_name": [str],
    "export": [StrOptions({"onnx", "correctionlib"}), None],
}


def _log_report(mlflow: Any, report_dir: Path) -> None:
    if not report_dir.is_dir():
        raise DataError(f"report_dir {report_dir} is not a folder")
    mlflow.log_artifacts(str(report_dir), artifact_path="report")
    metrics_file = report_dir / "metrics.json"
    if metrics_file.is_file():
        document = json.loads(metrics_file.read_text())
        # The summary (worst closure, resolution, flags per model) when the report has
        # one: the full document holds every bin of every plot, all in the artifacts.
        scalars = _scalars(document.get("summary", document), "report")
        items = list(scalars.items())
        for start in range(0, len(items), _METRICS_PER_CALL):
            mlflow.log_metrics(dict(items[start : start + _METRICS_PER_CALL]))


def _finite_number(value: Any) -> bool:
    try:
        return not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _scalars(tree: Any, prefix: str) -> dict[str, float]:
    """The finite numbers of a nested JSON document, keyed by their dotted path."""
    out: dict[str, float] = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            out |= _scalars(value, f"{prefix}.{key}")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            out |= _scalars(value, f"{prefix}.{i}")
    elif isinstance(tree, Real) and not isinstance(tree, bool) and math.isfinite(float(tree)):
        out[_METRIC_NAME.sub("_", prefix)[:250]] = float(tree)
    return out


def load_calibrator(uri: str | os.PathLike[str]) -> Any:
    """Load a calibration back as the fitted pipeline: from MLflow or from a file.

    Parameters
    ----------
    uri : str or path-like
        ``models:/name@alias``, ``models:/name/3``, ``runs:/<run_id>/model`` or any
        MLflow model URI; or the path of a file written by :func:`save_calibrator`
        (which needs no MLflow).

    Returns
    -------
    estimator
        The fitted pipeline, as it was logged.

    Raises
    ------
    ModelNotFoundError
        If no model exists at ``uri`` in the current tracking store (or as a file).
    """
    if Path(uri).is_file():
        return load_model_file(Path(uri))
    uri = str(uri)
    if ":/" not in uri:
        raise ModelNotFoundError(
            f"no calibration at {uri!r}: not a file, nor a model URI such as models:/name@alias"
        )
    mlflow = import_optional("mlflow", purpose="load_calibrator")
    from mlflow.exceptions import MlflowException

    if uri.startswith(("models:/", "runs:/")):  # read from the store: one must be set
        require_store("load_calibrator")
    try:
        model = mlflow.pyfunc.load_model(uri)
    except (MlflowException, OSError) as exc:
        raise ModelNotFoundError(
            f"no calibration at {uri!r} in the store {mlflow.get_tracking_uri()}: {exc}"
        ) from exc
    return model.unwrap_python_model().pipeline


def epoch_logger(**kwargs: Any) -> Any:
    """skorch's ``MlflowLogger`` for the active run, which leaves the run open after training.

    Add it to a neural calibrator's callbacks to log the per-epoch training metrics
    (``train_loss``, ``valid_loss``, and whatever monitor callbacks record).

    Examples
    --------
    >>> from skcal.tracking import epoch_logger
    >>> epoch_logger().terminate_after_train
    False
    """
    from skorch.callbacks import MlflowLogger

    kwargs.setdefault("terminate_after_train", False)
    kwargs.setdefault("create_artifact", False)
    return MlflowLogger(**kwargs)
