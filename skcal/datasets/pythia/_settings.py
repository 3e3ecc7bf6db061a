"""The settings of the Pythia sample and their checks.

:func:`check_settings` checks the parameters of
:func:`~skcal.datasets.pythia.make_pythia_jets` once, before any event is generated,
and returns a frozen :class:`Settings` that the worker processes receive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

from skcal._params import StrictInterval, StrOptions, check_params
from skcal.datasets._settings import _range, seed_entropy
from skcal.exceptions import ParameterError

#: pT-hat slice edges in GeV, like the ATLAS JZ1-JZ8 dijet slices (20 GeV to 3.2 TeV).
JZ_SLICES: tuple[float, ...] = (20.0, 60.0, 160.0, 400.0, 800.0, 1300.0, 1800.0, 2500.0, 3200.0)
#: The slices of large-R samples: boosted jets from 200 GeV.
LARGE_R_SLICES: tuple[float, ...] = (200.0, 400.0, 800.0, 1300.0, 1800.0, 2500.0, 3200.0)
#: Half the centre-of-mass energy (13.6 TeV): no pT-hat above it.
PT_HAT_MAX = 6800.0
#: The largest mean number of interactions per crossing (HL-LHC: 200).
MU_MAX = 200.0
#: The jet radii that the detector's tower grid and the trimming support.
RADIUS_RANGE = (0.2, 1.5)
#: Defaults per kind: radius, truth pT threshold of the output jets and |eta| acceptance.
KINDS: dict[str, dict[str, float]] = {
    "small_r": {"radius": 0.4, "pt_min": 20.0, "eta_max": 4.5},
    "large_r": {"radius": 1.0, "pt_min": 200.0, "eta_max": 2.0},
}
TOPOLOGIES = ("dijet", "w", "z", "top", "higgs")
#: The parton-shower models (Pythia's ``PartonShowers:model``): the default simple
#: shower and the alternative, Vincia, for generator-dependence checks.
SHOWERS = {"pythia": 1, "vincia": 2}

_CONSTRAINTS: dict[str, list[Any]] = {
    "n_jets": [StrictInterval(Integral, 1, None, closed="left")],
    "kind": [StrOptions(set(KINDS))],
    "topology": [StrOptions(set(TOPOLOGIES))],
    "shower": [StrOptions(set(SHOWERS))],
    "n_jobs": [StrictInterval(Integral, 1, None, closed="left")],
    "pileup_library": [StrictInterval(Integral, 1, None, closed="left")],
    "random_state": [StrictInterval(Integral, 0, None, closed="left"), np.random.Generator, None],
}


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to generate a block of events."""

    kind: str
    topology: str
    shower: str
    radius: float
    mu_range: tuple[float, float]
    slices: tuple[tuple[float, float], ...]
    pileup_library: int
    entropy: int

    @property
    def pt_min(self) -> float:
        return KINDS[self.kind]["pt_min"]

    @property
    def eta_max(self) -> float:
        return KINDS[self.kind]["eta_max"]


def _slices(value: object, kind: str) -> tuple[tuple[float, float], ...]:
    """The slice edges as (low, high) pairs: increasing, positive, below PT_HAT_MAX."""
    if value is None:
        value = JZ_SLICES if kind == "small_r" else LARGE_R_SLICES
    try:
        if not isinstance(value, Iterable) or isinstance(value, str):
            raise TypeError
        edges = [float(v) for v in value]
    except (TypeError, ValueError):
        raise ParameterError(
            f"slices must be a sequence of pT-hat edges in GeV, got {value!r}"
        ) from None
    if len(edges) < 2:
        raise ParameterError(f"slices needs at least two edges (one slice), got {value!r}")
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi <= PT_HAT_MAX):
            raise ParameterError(
                f"slices: slice {i} ({lo!r}, {hi!r}) GeV is invalid; the edges must be finite "
                f"and increasing, with 0 < low < high <= {PT_HAT_MAX:g} GeV"
            )
    return tuple(zip(edges[:-1], edges[1:], strict=True))


def _mu_range(value: object) -> tuple[float, float]:
    lo, hi = _range("mu_range", value, allow_zero=True)
    if hi > MU_MAX:
        raise ParameterError(
            f"mu_range must lie within [0, {MU_MAX:g}] (the HL-LHC's 200), got {value!r}"
        )
    return lo, hi


def _radius(value: object, kind: str) -> float:
    if value is None:
        return KINDS[kind]["radius"]
    lo, hi = RADIUS_RANGE
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not np.isfinite(float(value)) or not lo <= float(value) <= hi:  # type: ignore[arg-type]
        raise ParameterError(f"radius must be a jet radius in [{lo:g}, {hi:g}], got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_settings(params: dict[str, Any]) -> tuple[Settings, int]:
    """Check the parameters of make_pythia_jets; returns the settings and ``n_jobs``."""
    caller = "make_pythia_jets"
    special = {key: params.pop(key) for key in ("mu_range", "slices", "radius")}
    check_params(_CONSTRAINTS, params, caller)
    kind, topology = params["kind"], params["topology"]
    if kind == "small_r" and topology != "dijet":
        raise ParameterError(
            f"topology {topology!r} needs kind='large_r' (small-R jets are 'dijet' only)"
        )
    settings = Settings(
        kind=kind,
        topology=topology,
        shower=params["shower"],
        radius=_radius(special["radius"], kind),
        mu_range=_mu_range(special["mu_range"]),
        slices=_slices(special["slices"], kind),
        pileup_library=int(params["pileup_library"]),
        entropy=seed_entropy(params["random_state"]),
    )
    return settings, int(params["n_jobs"])
