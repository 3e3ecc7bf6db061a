"""The search space of a configuration's ``tune`` section, built with Ray Tune."""

from __future__ import annotations

from typing import Any

__all__ = ["DOMAINS", "search_space"]

#: The Ray Tune search domains a configuration may name.
DOMAINS = ("uniform", "loguniform", "quniform", "qloguniform", "randint", "choice", "grid_search")


def search_space(tune_config: Any) -> dict[str, Any]:
    """The Ray Tune search space of a configuration (needs the ``tune`` extra).

    Lists inside choices become tuples (hidden layer sizes and the like).
    """
    from skcal._optional import import_optional

    tune = import_optional("ray.tune", purpose="skcal tune")
    space = {}
    for name, domain in tune_config.param_space.items():
        ((kind, args),) = domain.items()
        if kind in ("choice", "grid_search"):
            space[name] = getattr(tune, kind)(
                [tuple(a) if isinstance(a, list) else a for a in args]
            )
        else:
            space[name] = getattr(tune, kind)(*args)
    return space
