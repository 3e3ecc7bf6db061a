"""The settings of the synthetic generator: kinds, topologies, spectra, and their checks.

:func:`check_settings` checks the parameters of :func:`~skcal.datasets.make_jets` and
:func:`~skcal.datasets.iter_jets` once, before the first chunk, and returns what the
generator needs (with the kind's default pT range filled in) and the seed entropy.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any, TypedDict, cast

import numpy as np

from skcal._params import Interval, StrictInterval, StrOptions, check_params
from skcal.datasets._truth import RESONANCES
from skcal.exceptions import ParameterError


class Kind(TypedDict):
    pt_range: tuple[float, float]
    eta_max: float
    pileup_fraction: float


KINDS: dict[str, Kind] = {
    "small_r": {"pt_range": (20.0, 3000.0), "eta_max": 4.5, "pileup_fraction": 1.0},
    # Trimming removes most pile-up from large-R jets.
    "large_r": {"pt_range": (200.0, 3000.0), "eta_max": 2.0, "pileup_fraction": 0.1},
}
TOPOLOGIES = ("dijet", *RESONANCES)
SPECTRA = ("sliced", "physical")

_COUNT = StrictInterval(Integral, 1, None, closed="left")
#: The values each parameter of make_jets and iter_jets may take (the ranges, and the
#: topology's kind, are checked by _validate).
_CONSTRAINTS: dict[str, list[Any]] = {
    "n_jets": [_COUNT],
    "chunk_size": [_COUNT, None],
    "start": [Interval(Integral, 0, None, closed="left")],
    "kind": [StrOptions(set(KINDS))],
    "topology": [StrOptions(set(TOPOLOGIES))],
    "spectrum": [StrOptions(set(SPECTRA))],
    "random_state": [
        StrictInterval(Integral, 0, None, closed="left"),
        np.random.Generator,
        None,
    ],
}


class Settings(TypedDict):
    kind: str
    topology: str
    spectrum: str
    mu_range: tuple[float, float]
    pt_range: tuple[float, float]


def _validate(
    kind: str,
    topology: str,
    spectrum: str,
    mu_range: tuple[float, float],
    pt_range: tuple[float, float] | None,
) -> Settings:
    """What check_params cannot say: the topology's kind and the two ranges."""
    if kind == "small_r" and topology != "dijet":
        raise ParameterError(
            f"topology {topology!r} needs kind='large_r' (small-R jets are 'dijet' only)"
        )
    return {
        "kind": kind,
        "topology": topology,
        "spectrum": spectrum,
        "mu_range": _range("mu_range", mu_range, allow_zero=True),
        "pt_range": _range(
            "pt_range", KINDS[kind]["pt_range"] if pt_range is None else pt_range, allow_zero=False
        ),
    }


def _range(name: str, value: object, *, allow_zero: bool) -> tuple[float, float]:
    try:
        if not isinstance(value, Iterable):
            raise TypeError
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be a pair (low, high) of numbers, got {value!r}"
        ) from None
    if (
        not (np.isfinite(lo) and np.isfinite(hi))
        or lo > hi
        or lo < 0
        or (lo == 0 and not allow_zero)
    ):
        raise ParameterError(
            f"{name} must be finite with 0 {'<=' if allow_zero else '<'} low <= high, got {value!r}"
        )
    return lo, hi


def seed_entropy(random_state: int | np.random.Generator | None) -> int:
    """The seed of the blocks (random_state already checked)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if random_state is None:
        # A SeedSequence without entropy draws one int from the OS (typed more widely).
        return int(cast(int, np.random.SeedSequence().entropy))
    return int(random_state)


def check_settings(caller: str, params: dict[str, Any]) -> tuple[Settings, int]:
    """Check the generator's parameters (``ParameterError`` naming ``caller``).

    Returns the generator's settings and the entropy of the seed of its blocks.
    """
    ranges = {key: params.pop(key) for key in ("mu_range", "pt_range")}
    check_params(_CONSTRAINTS, params, caller)
    settings = _validate(
        params["kind"],
        params["topology"],
        params["spectrum"],
        ranges["mu_range"],
        ranges["pt_range"],
    )
    return settings, seed_entropy(params["random_state"])
