"""Training configurations for the command line: YAML files validated strictly.

A configuration says where the jets are, which columns the model reads, the pipeline's
steps and their parameters, and where the result goes. Every key is checked: an
unknown or misspelt key, or a value of the wrong type, is an error that names it (no
silent defaults). Pipeline steps are looked up by class name among skcal's (and
scikit-learn's preprocessing) estimators, never evaluated as code.

.. code-block:: yaml

    data:
      source: jets/*.root        # a file, glob, folder or list (skcal.io.read_jets)
      tree: jets
      dask: true                 # stream the files in chunks
    features: [e_reco, pt_reco, eta, m_reco, em_frac, charged_frac, width]
    response: energy             # y = e_reco / e_true (or: mass, pt)
    weights: flat_prior          # prior-flattening weights in pt_true (or: none, weight)
    pipeline:
      - EtaAnnotation: {}
      - SymmetricScaler: {clip: true}
      - MDNCalibrator: {n_components: 3, max_epochs: 20, module__hidden_sizes: [64, 64]}
    output:
      model: model.joblib        # the fitted pipeline (never overwritten unless asked)
      mlflow:
        experiment: skcal
        register: jes-smallR     # registered model name
        alias: champion
    cluster:                     # optional: where the Dask work runs (skcal.distributed)
      kind: local                # or htcondor, slurm, pbs (dask-jobqueue); or address: ...
      jobs: 2
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from skcal._config_steps import (
    config_step_size,
    expect,
    expect_items,
    make_step,
    parse_steps,
    step_classes,
)
from skcal._config_tune import DOMAINS, search_space
from skcal._validation import suggest_name
from skcal.distributed._cluster import ClusterConfig, parse_cluster
from skcal.exceptions import ConfigError

__all__ = [
    "Config",
    "DataConfig",
    "MlflowConfig",
    "OutputConfig",
    "TuneConfig",
    "build_pipeline",
    "load_config",
    "search_space",
    "step_classes",
]

#: The responses a configuration may fit: name -> (reco, true) columns, y = reco / true.
RESPONSES = {
    "energy": ("e_reco", "e_true"),
    "mass": ("m_reco", "m_true"),
    "pt": ("pt_reco", "pt_true"),
}
#: The values of the deprecated key ``target``, by the ``response`` they name.
_OLD_TARGETS = {"response": "energy", "response_m": "mass", "response_pt": "pt"}
WEIGHTS = ("none", "weight", "flat_prior")


@dataclass(frozen=True)
class DataConfig:
    """Where the jets are: the arguments of :func:`skcal.io.read_jets`."""

    source: str | list[str]
    tree: str | None = None
    preset: str | None = None
    dask: bool = False
    step_size: int | str = "100 MB"


@dataclass(frozen=True)
class MlflowConfig:
    """Where to log: a tracking URI (default: the local store) and the registry entry."""

    tracking_uri: str | None = None
    store: str = "mlflow-store"
    experiment: str = "skcal"
    register: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class OutputConfig:
    """Where the fitted pipeline goes."""

    model: str | None = None
    mlflow: MlflowConfig | None = None


@dataclass(frozen=True)
class TuneConfig:
    """A Ray Tune sweep (``skcal tune``): the arguments of :func:`skcal.tune.tune_pipeline`.

    ``param_space`` maps the pipeline's parameter names to one search domain each,
    written ``{loguniform: [1.0e-4, 1.0e-2]}``, ``{choice: [[32, 32], [64, 64]]}``,
    ``{grid_search: [...]}``, ``{uniform: [a, b]}``, ``{randint: [a, b]}``.
    """

    param_space: dict[str, dict[str, list[Any]]]
    metric: str = "valid_loss"
    mode: str = "min"
    num_samples: int = 8
    scheduler: str = "asha"
    search: str = "random"
    resources_per_trial: dict[str, float] = field(default_factory=lambda: {"cpu": 1, "gpu": 0})
    storage_path: str = "sweeps"
    name: str | None = None
    address: str | None = None
    resume: bool = False


@dataclass(frozen=True, init=False)
class Config:
    """A training: data, features, response, weights, pipeline steps, output (and a sweep).

    ``response`` names the response y that the pipeline fits (a key of ``RESPONSES``):
    ``"energy"`` (e_reco / e_true), ``"mass"`` (m_reco / m_true) or ``"pt"``
    (pt_reco / pt_true).

    Examples
    --------
    >>> from skcal.config import Config, DataConfig
    >>> cfg = Config(DataConfig("jets.root"), ["e_reco"], [{"NumericalInversion": {}}])
    >>> cfg.response, cfg.response_columns()
    ('energy', ('e_reco', 'e_true'))
    """

    data: DataConfig
    features: list[str]
    pipeline: list[dict[str, dict[str, Any]]]
    response: str = "energy"
    weights: str = "none"
    output: OutputConfig = field(default_factory=OutputConfig)
    tune: TuneConfig | None = None
    cluster: ClusterConfig | None = None

    def __init__(
        self,
        data: DataConfig,
        features: list[str],
        pipeline: list[dict[str, dict[str, Any]]],
        response: str = "energy",
        weights: str = "none",
        output: OutputConfig | None = None,
        tune: TuneConfig | None = None,
        cluster: ClusterConfig | None = None,
        *,
        target: str | None = None,
    ) -> None:
        if target is not None:  # the name of skcal 0.1, for one release
            if target not in _OLD_TARGETS or response != "energy":
                raise ConfigError(
                    f"target must be one of {sorted(_OLD_TARGETS)} (and response not given), "
                    f"got {target!r}"
                )
            warnings.warn(
                f"Config(target={target!r}) is deprecated and will be removed in the next "
                f"release; use Config(response={_OLD_TARGETS[target]!r})",
                FutureWarning,
                stacklevel=2,
            )
            response = _OLD_TARGETS[target]
        if response not in RESPONSES:
            raise ConfigError(f"response must be one of {sorted(RESPONSES)}, got {response!r}")
        values = (data, features, pipeline, response, weights, output or OutputConfig(), tune)
        for item, value in zip(fields(self), (*values, cluster), strict=True):
            object.__setattr__(self, item.name, value)  # frozen: set once, here

    def response_columns(self) -> tuple[str, str]:
        """The (reco, true) columns whose ratio is the response y."""
        return RESPONSES[self.response]

    @property
    def target(self) -> str:
        """Deprecated: the old name of ``response`` (``"response"``, ``"response_m"``, ...)."""
        warnings.warn(
            "Config.target is deprecated and will be removed in the next release; use "
            "Config.response ('energy', 'mass' or 'pt')",
            FutureWarning,
            stacklevel=2,
        )
        return {new: old for old, new in _OLD_TARGETS.items()}[self.response]


def _check_keys(section: str, raw: Any, cls: type) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{section} must be a mapping, got {type(raw).__name__}: {raw!r}")
    known = [f.name for f in fields(cls)]
    for key in raw:
        if key not in known:
            hint = suggest_name(str(key), known)
            raise ConfigError(f"unknown key {section}.{key}{hint}; known keys: {known}")
    return raw


def _required(section: str, raw: dict[str, Any], key: str) -> Any:
    if key not in raw:
        raise ConfigError(f"{section}.{key} is required")
    return raw[key]


def _renamed_target(raw: Any) -> Any:
    """The configuration with the deprecated key ``target`` as ``response`` (FutureWarning)."""
    if not isinstance(raw, dict) or "target" not in raw:
        return raw
    if "response" in raw:
        raise ConfigError("give response (the new name of target), not both")
    raw = dict(raw)
    old = expect("target", raw.pop("target"), str)
    if old not in _OLD_TARGETS:
        raise ConfigError(
            f"target must be one of {sorted(_OLD_TARGETS)}, got {old!r}; target is deprecated: "
            f"use response ({list(RESPONSES)})"
        )
    raw["response"] = _OLD_TARGETS[old]
    warnings.warn(
        f"the configuration key 'target' is deprecated and will be removed in the next release; "
        f"write 'response: {raw['response']}' instead of 'target: {old}'",
        FutureWarning,
        stacklevel=3,
    )
    return raw


def parse_config(raw: Any) -> Config:
    """Validate a configuration given as a dict (as YAML loads it).

    Examples
    --------
    >>> cfg = parse_config({"data": {"source": "jets.root"}, "features": ["e_reco", "eta"],
    ...                     "pipeline": [{"NumericalInversion": {}}]})
    >>> cfg.response, cfg.data.dask
    ('energy', False)
    >>> parse_config({"data": {"source": "jets.root"}, "featurs": []})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ConfigError: unknown key config.featurs (did you mean 'features'?); ...
    """
    raw = _check_keys("config", _renamed_target(raw), Config)
    data = _check_keys("data", _required("config", raw, "data"), DataConfig)
    source = expect("data.source", _required("data", data, "source"), str, list)
    if isinstance(source, list) and not expect_items("data.source", source, str):
        raise ConfigError("data.source must name at least one file, got []")
    data_cfg = DataConfig(
        source=source,
        tree=expect("data.tree", data.get("tree"), str, type(None)),
        preset=expect("data.preset", data.get("preset"), str, type(None)),
        dask=expect("data.dask", data.get("dask", False), bool),
        step_size=config_step_size(data.get("step_size", "100 MB")),
    )
    features = expect_items(
        "features", expect("features", _required("config", raw, "features"), list), str
    )
    if not features:
        raise ConfigError("features must name at least one column (the model's inputs), got []")
    response = expect("response", raw.get("response", "energy"), str)
    if response not in RESPONSES:
        raise ConfigError(f"response must be one of {list(RESPONSES)}, got {response!r}")
    weights = expect("weights", raw.get("weights", "none"), str)
    if weights not in WEIGHTS:
        raise ConfigError(f"weights must be one of {list(WEIGHTS)}, got {weights!r}")
    pipeline = parse_steps(_required("config", raw, "pipeline"))
    out = _check_keys("output", raw.get("output", {}) or {}, OutputConfig)
    mlflow_cfg = None
    if out.get("mlflow") is not None:
        ml = _check_keys("output.mlflow", out["mlflow"], MlflowConfig)
        for key in ("tracking_uri", "register", "alias"):
            expect(f"output.mlflow.{key}", ml.get(key), str, type(None))
        for key in ("store", "experiment"):
            expect(f"output.mlflow.{key}", ml.get(key, ""), str)
        if ml.get("alias") and not ml.get("register"):
            raise ConfigError("output.mlflow.alias needs output.mlflow.register (the model name)")
        mlflow_cfg = MlflowConfig(**ml)
    output = OutputConfig(
        model=expect("output.model", out.get("model"), str, type(None)), mlflow=mlflow_cfg
    )
    tune = _parse_tune(raw["tune"]) if raw.get("tune") is not None else None
    cluster = parse_cluster(raw["cluster"]) if raw.get("cluster") is not None else None
    if cluster is not None and not data_cfg.dask:
        raise ConfigError("cluster needs data.dask: true (a table in memory is not distributed)")
    return Config(
        data=data_cfg,
        features=features,
        pipeline=pipeline,
        response=response,
        weights=weights,
        output=output,
        tune=tune,
        cluster=cluster,
    )


def _parse_tune(raw: Any) -> TuneConfig:
    raw = _check_keys("tune", raw, TuneConfig)
    space = expect("tune.param_space", _required("tune", raw, "param_space"), dict)
    for name, domain in space.items():
        if not isinstance(domain, dict) or len(domain) != 1 or next(iter(domain)) not in DOMAINS:
            raise ConfigError(
                f"tune.param_space.{name} must be one domain such as {{loguniform: [1e-4, 1e-2]}}; "
                f"known domains: {list(DOMAINS)}, got {domain!r}"
            )
        expect(f"tune.param_space.{name}.{next(iter(domain))}", next(iter(domain.values())), list)
    types = {
        "metric": (str,),
        "mode": (str,),
        "num_samples": (int,),
        "scheduler": (str,),
        "search": (str,),
        "resources_per_trial": (dict,),
        "storage_path": (str,),
        "name": (str, type(None)),
        "address": (str, type(None)),
        "resume": (bool,),
    }
    for key, value in raw.items():
        if key in types:
            expect(f"tune.{key}", value, *types[key])
    return TuneConfig(**raw)


def build_pipeline(config: Config) -> Any:
    """The unfitted scikit-learn Pipeline of the configuration's steps.

    Lists in parameters become tuples (hidden layer sizes and the like). Each step's
    parameter values are checked by its own constraints: a value it cannot take is a
    ConfigError naming the step and the parameter.

    Examples
    --------
    >>> cfg = parse_config({"data": {"source": "jets.root"}, "features": ["eta"],
    ...                     "pipeline": [{"StandardScaler": {"with_mean": "no"}}]})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ConfigError: pipeline[0].StandardScaler.with_mean: The 'with_mean' ...
    """
    from sklearn.pipeline import make_pipeline

    classes = step_classes()
    steps = []
    for i, step in enumerate(config.pipeline):
        ((name, params),) = step.items()
        steps.append(make_step(f"pipeline[{i}].{name}", classes[name], params))
    pipeline = make_pipeline(*steps)
    if len(steps) > 1:
        pipeline.set_output(transform="pandas")  # later steps select columns by name
    return pipeline


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a YAML configuration file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ConfigError
        For invalid YAML, an unknown key, a wrong type or an unknown step or parameter.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no configuration file {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return parse_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
