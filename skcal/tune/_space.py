"""Search spaces: what each search algorithm accepts, and choices that Optuna cannot store.

Optuna stores categorical choices only as ``None``, bool, int, float or str, while a
sweep over ``module__hidden_sizes`` chooses among tuples. For Optuna such choices are
replaced by their ``repr`` and mapped back in each trial (and in the best parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skcal.exceptions import ConfigError

__all__ = ["Decoder", "decode", "encode_space", "is_grid", "upper_bound"]

_PRIMITIVE = (type(None), bool, int, float, str)

#: parameter name -> {stored text -> the value it stands for}
Decoder = dict[str, dict[str, Any]]


def is_grid(value: Any) -> bool:
    """Whether a search-space value is ``tune.grid_search([...])``."""
    return isinstance(value, Mapping) and set(value) == {"grid_search"}


def encode_space(
    space: Mapping[str, Any], search: str, sample: Any
) -> tuple[dict[str, Any], Decoder]:
    """The space that the search algorithm receives, and how to decode its values.

    Parameters
    ----------
    space : mapping
        Parameter name -> Ray Tune domain, grid search or constant.
    search : {"random", "optuna", "custom"}
        The search algorithm (a custom searcher receives the space unchanged).
    sample : module
        ``ray.tune.search.sample``.
    """
    encoded: dict[str, Any] = {}
    decoder: Decoder = {}
    for name, value in space.items():
        if search == "optuna" and is_grid(value):
            raise ConfigError(
                f"param_space[{name!r}] is a grid_search, which search='optuna' does not support; "
                "use tune.choice([...]) or search='random'"
            )
        if search == "optuna" and isinstance(value, sample.Function):
            raise ConfigError(
                f"param_space[{name!r}] is a sample_from function, which search='optuna' does not "
                "support; use a tune domain (uniform, loguniform, choice, randint)"
            )
        if search == "optuna" and isinstance(value, sample.Categorical):
            categories = list(value.categories)
            if not all(isinstance(c, _PRIMITIVE) for c in categories):
                table = {repr(c): c for c in categories}
                if len(table) != len(categories):
                    raise ConfigError(
                        f"param_space[{name!r}] has choices with the same repr: {categories}"
                    )
                decoder[name] = table
                value = sample.choice(list(table))
        encoded[name] = value
    return encoded, decoder


def decode(config: Mapping[str, Any], decoder: Decoder) -> dict[str, Any]:
    """The pipeline parameters of a trial's config (choices stored as text mapped back).

    Examples
    --------
    >>> decoder = {"a__module__hidden_sizes": {"(8, 8)": (8, 8)}}
    >>> decode({"a__module__hidden_sizes": "(8, 8)", "a__lr": 0.1}, decoder)
    {'a__module__hidden_sizes': (8, 8), 'a__lr': 0.1}
    """
    return {
        k: decoder[k][v] if k in decoder and isinstance(v, str) and v in decoder[k] else v
        for k, v in config.items()
    }


def upper_bound(value: Any, default: int) -> int:
    """The largest value that a (max_epochs) search-space entry can take."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if is_grid(value):
        values = [v for v in value["grid_search"] if isinstance(v, int)]
        return max(values) if values else default
    categories = getattr(value, "categories", None)
    if categories is not None:
        values = [v for v in categories if isinstance(v, int)]
        return max(values) if values else default
    upper = getattr(value, "upper", None)
    return int(upper) if upper is not None else default
