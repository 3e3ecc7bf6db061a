"""The pipeline steps of a configuration: the estimators it may name, checked on load.

A step is one mapping of a class name (skcal's estimators and scikit-learn's
preprocessing) to its parameters. Unknown names and parameters are refused with the
closest known name, and values through the estimator's own declarative constraints,
so that a bad YAML file fails when it is loaded, before any data is read.
"""

from __future__ import annotations

from typing import Any

from sklearn.utils._param_validation import InvalidParameterError

from skcal._params import check_params
from skcal._validation import suggest_name
from skcal.exceptions import ConfigError

__all__ = ["expect", "make_step", "parse_steps", "step_classes"]

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
    the estimator's ``_parameter_constraints`` refuse is a ConfigError naming the step
    and the parameter, raised when the configuration is loaded, before any data is read.
    """
    step = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
    # skcal's ParamsMixin or scikit-learn's own. The constraints only: a skorch net's
    # _validate_params also checks its routed names (module__...), which it can only do
    # once initialized; fit checks them.
    constraints = getattr(step, "_parameter_constraints", None)
    if constraints is not None:
        try:
            check_params(constraints, step.get_params(deep=False), cls.__name__)
        except InvalidParameterError as exc:  # skcal's ParameterError and scikit-learn's
            raise ConfigError(f"{where}: {exc}") from None
    return step


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
