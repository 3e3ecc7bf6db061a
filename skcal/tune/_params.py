"""The names of a sweep: the pipeline's own parameter names, checked before any trial starts."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from skcal._params import init_keywords
from skcal.exceptions import ConfigError

__all__ = ["check_param_names", "final_step", "is_net", "step_prefix"]

#: Routed prefixes that a skorch net accepts beyond its ``get_params`` (``module__*``, ...).
_NET_ROUTES = ("module", "criterion", "optimizer")


def is_net(estimator: Any) -> bool:
    """Whether ``estimator`` is a skorch net (trained epoch by epoch, with callbacks)."""
    try:
        from skorch import NeuralNet
    except ImportError:  # pragma: no cover - skorch is a core dependency
        return False
    return isinstance(estimator, NeuralNet)


def final_step(pipeline: Any) -> Any:
    """The estimator that a pipeline ends with (the estimator itself if not a pipeline)."""
    steps = getattr(pipeline, "steps", None)
    return steps[-1][1] if steps else pipeline


def step_prefix(pipeline: Any) -> str:
    """The prefix of the final step's parameters: ``"mdncalibrator__"``, or ``""``."""
    steps = getattr(pipeline, "steps", None)
    return f"{steps[-1][0]}__" if steps else ""


def _net_routes(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter prefix (``"mdncalibrator__"``) -> skorch net, for every net in the pipeline."""
    nets = {"": params.get("__self__")} if is_net(params.get("__self__")) else {}
    for key, value in params.items():
        if key != "__self__" and is_net(value):
            nets[f"{key}__"] = value
    return nets


def _routed_ok(net: Any, rest: str) -> tuple[bool, str | None]:
    """Whether ``rest`` (the name after the net's prefix) is a routed skorch parameter."""
    route, _, name = rest.partition("__")
    if not name:
        return False, None
    if route in getattr(net, "prefixes_", ()):
        return True, None
    if route not in _NET_ROUTES:
        return False, None
    if route == "module":
        allowed = init_keywords(net.module)
        if allowed is not None and name.split("__")[0] not in allowed:
            module_name = getattr(net.module, "__name__", type(net.module).__name__)
            return False, f"{module_name} takes {sorted(allowed)}"
    return True, None


def check_param_names(pipeline: Any, names: list[str] | tuple[str, ...]) -> None:
    """Refuse a name that ``pipeline.set_params`` would not accept, listing the valid ones.

    Valid names are those of ``pipeline.get_params(deep=True)`` and, under a step that
    is a skorch net, its routed ``module__*`` (checked against the module's keyword
    arguments), ``optimizer__*``, ``criterion__*``, ``callbacks__*``, ``iterator_train__*``
    and ``iterator_valid__*`` names.

    Raises
    ------
    ConfigError
        Naming the unknown parameter, the closest valid names, and all valid names.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skcal.neural import MDNCalibrator
    >>> from skcal.tune._params import check_param_names
    >>> pipe = make_pipeline(MDNCalibrator())
    >>> check_param_names(pipe, ["mdncalibrator__lr", "mdncalibrator__module__hidden_sizes"])
    >>> check_param_names(pipe, ["mdncalibrator__lrate"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ConfigError: param_space names 'mdncalibrator__lrate', which the ...
    """
    valid = pipeline.get_params(deep=True)
    nets = _net_routes({"__self__": pipeline, **valid})
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(f"param_space keys must be parameter names (str), got {name!r}")
        if name in valid:
            continue
        hint = None
        for prefix, net in nets.items():
            if name.startswith(prefix):
                ok, hint = _routed_ok(net, name[len(prefix) :])
                if ok:
                    break
        else:
            ok = False
        if ok:
            continue
        public = sorted(k for k in valid if not any(part.startswith("_") for part in k.split("__")))
        close = difflib.get_close_matches(name, public, n=3, cutoff=0.6)
        suggestion = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        detail = f"; {hint}" if hint else ""
        routes = ", ".join(f"'{p}module__*'" for p in nets) if nets else ""
        also = f", and the routed names of its nets ({routes}, optimizer__*, ...)" if routes else ""
        raise ConfigError(
            f"param_space names {name!r}, which the pipeline does not have{suggestion}{detail}. "
            f"Valid names: {public}{also}"
        )
