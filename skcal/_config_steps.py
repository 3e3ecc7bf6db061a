"""The pipeline steps of a configuration: the estimators it may name, checked on load.

A step is one mapping of a class name (skcal's estimators and scikit-learn's
preprocessing) to its parameters. Unknown names and parameters are refused with the
closest known name, and values through the estimator's own declarative constraints,
so that a bad YAML file fails when it is loaded, before any data is read.
"""

from __future__ import annotations

from typing import Any

from sklearn.utils._param_validation import InvalidParameterError

from skcal._params import check_params, init_keywords
from skcal._validation import suggest_name
from skcal.exceptions import ConfigError

__all__ = [
    "config_step_size",
    "expect",
    "expect_items",
    "make_step",
    "parse_steps",
    "step_classes",
]

#: Prefixes of the parameters that skorch routes (not in ``get_params`` before fit).
_ROUTED = ("module", "optimizer", "callbacks", "iterator_train", "criterion")


def expect(name: str, value: Any, *types: type) -> Any:
    """``value`` if it is one of ``types`` (a bool only where bool is asked), else ConfigError."""
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        wanted = " or ".join(t.__name__ for t in types)
        raise ConfigError(f"{name} must be {wanted}, got {type(value).__name__}: {value!r}")
    return value


def parse_steps(raw: Any) -> list[dict[str, dict[str, Any]]]:
    """The ``pipeline`` section: one ``{name: params}`` per step, each step built once."""
    expect("pipeline", raw, list)
    if not raw:
        raise ConfigError("pipeline must have at least one step")
    classes = step_classes()
    steps = []
    for i, step in enumerate(raw):
        if not isinstance(step, dict) or len(step) != 1:
            raise ConfigError(
                f"pipeline[{i}] must be a mapping of one step name to its parameters, got {step!r}"
            )
        ((name, params),) = step.items()
        if name not in classes:
            hint = suggest_name(str(name), list(classes))
            raise ConfigError(
                f"pipeline[{i}]: unknown step {name!r}{hint}; known steps: {sorted(classes)}"
            )
        params = {} if params is None else expect(f"pipeline[{i}].{name}", params, dict)
        valid = classes[name]().get_params()
        for key in params:
            if key not in valid and not any(key.startswith(p + "__") for p in _ROUTED):
                hint = suggest_name(key, list(valid))
                raise ConfigError(f"pipeline[{i}].{name}: unknown parameter {key!r}{hint}")
        make_step(f"pipeline[{i}].{name}", classes[name], params)  # a bad value fails here
        steps.append({name: params})
    return steps


def make_step(where: str, cls: type, params: dict[str, Any]) -> Any:
    """The step ``cls(**params)``, its values checked by the estimator's own constraints.

    Lists in parameters become tuples (hidden layer sizes and the like). A value that
    the estimator's ``_parameter_constraints`` refuse is a ConfigError naming the path
    of the key (``pipeline[2].MDNCalibrator.max_epochs``), and so is a routed name
    (``module__hidden_sizse``) that the module, optimizer, criterion or data loader
    does not take; both are raised when the configuration is loaded, before any data
    is read.
    """
    try:
        step = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
    except (TypeError, ValueError) as exc:  # skorch refuses an unknown prefix here
        raise ConfigError(f"{where}: {exc}") from None
    # skcal's ParamsMixin or scikit-learn's own. The constraints only: a skorch net's
    # _validate_params also checks its routed names (module__...), which it can only do
    # once initialized; they are checked against the signatures below.
    constraints = getattr(step, "_parameter_constraints", None)
    if constraints is not None:
        values = step.get_params(deep=False)
        for key in [k for k in params if k in constraints] or list(constraints):
            try:
                check_params({key: constraints[key]}, {key: values[key]}, cls.__name__)
            except InvalidParameterError as exc:  # skcal's ParameterError and scikit-learn's
                raise ConfigError(f"{where}.{key}: {exc}") from None
    for key in params:
        _check_routed(f"{where}.{key}", step, key)
    return step


def _check_routed(where: str, step: Any, key: str) -> None:
    """Refuse ``prefix__name`` where the routed class's ``__init__`` takes no ``name``."""
    prefix, sep, rest = key.partition("__")
    if not sep or prefix not in _ROUTED or prefix == "callbacks":
        return
    target = getattr(step, prefix, None)
    target = target if isinstance(target, type) else type(target)
    known = init_keywords(target)
    name = rest.split("__")[0]
    if known is not None and name not in known:
        raise ConfigError(
            f"{where}: {target.__name__} (the {prefix}) has no parameter {name!r}"
            f"{suggest_name(name, sorted(known))}; it takes {sorted(known)}"
        )


def expect_items(name: str, values: list[Any], *types: type) -> list[Any]:
    """``values`` if each item is one of ``types``, else ConfigError naming ``name[i]``."""
    for i, value in enumerate(values):
        expect(f"{name}[{i}]", value, *types)
    return values


def config_step_size(value: Any) -> int | str:
    """``data.step_size`` parsed strictly (a count of entries or a size such as '100 MB')."""
    from skcal.exceptions import ParameterError
    from skcal.io._step import check_step_size

    try:
        return check_step_size(expect("data.step_size", value, int, str), "data.step_size")
    except ParameterError as exc:
        raise ConfigError(str(exc)) from None


def step_classes() -> dict[str, type]:
    """The estimators a configuration may name, by class name."""
    from sklearn import preprocessing as sk_preprocessing

    from skcal import inversion, neural, preprocessing

    classes: dict[str, type] = {}
    for module in (sk_preprocessing, preprocessing, inversion, neural):
        for name in getattr(module, "__all__", dir(module)):
            obj = getattr(module, name, None)
            if isinstance(obj, type) and hasattr(obj, "fit") and hasattr(obj, "get_params"):
                classes[name] = obj
    return classes
