"""embed_in_background: Pythia pp jets embedded in a thermal Pb-Pb background."""

from __future__ import annotations

import os
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from skcal._optional import import_optional
from skcal._params import Interval, StrictInterval, StrOptions, check_params
from skcal.datasets._settings import seed_entropy
from skcal.datasets.pythia._events import cache_path, generate, pythia_instance, seed_of
from skcal.datasets.pythia._settings import Settings, _slices
from skcal.exceptions import ParameterError
from skcal.heavy_ion._background import CENTRALITY_RANGE, ThermalBackground
from skcal.heavy_ion._jets import N_LEADING, Event, charged_central, radius_table

#: Pb-Pb at the LHC: 5.02 TeV per nucleon pair; the pp events are generated at it.
ECM_PBPB = 5020.0
#: pT-hat slice edges (GeV) of the pp events: charged jets of about 5 to 150 GeV.
HI_SLICES: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0, 70.0, 110.0, 160.0, 250.0)
RADII = (0.2, 0.3, 0.4, 0.5, 0.6)
#: Pythia settings of the fragmentation variations (the fragmentation-bias check):
#: "soft" makes the Lund string break into softer hadrons (a larger a, a smaller b in
#: f(z) ~ (1 - z)^a / z exp(-b mT^2 / z)); "medium" adds gluon radiation, as a medium
#: would (a larger final-state alpha_s and a lower shower cut-off).
FRAGMENTATIONS: dict[str, tuple[str, ...]] = {
    "default": (),
    "soft": ("StringZ:aLund = 1.6", "StringZ:bLund = 0.5"),
    "medium": ("TimeShower:alphaSvalue = 0.18", "TimeShower:pTmin = 0.25"),
}
#: Events per pT-hat slice in a block.
EVENTS_PER_SLICE = 8

COLUMNS = (
    "pt_reco",
    "pt_true",
    "eta",
    "phi",
    "eta_true",
    "phi_true",
    "area",
    "rho",
    "n_const",
    *(f"lead_pt_{k + 1}" for k in range(N_LEADING)),
    "angularity",
    "mean_const_pt",
    "radius",
    "centrality",
    "weight",
    "fake",
    "event",
)

_CONSTRAINTS: dict[str, list[Any]] = {
    "n_jets": [StrictInterval(Integral, 1, None, closed="left")],
    "mean_pt": [StrictInterval(Real, 0, None, closed="neither")],
    "v2": [Interval(Real, 0, 0.5, closed="left")],
    "fragmentation": [StrOptions(set(FRAGMENTATIONS))],
    "fakes": ["boolean"],
    "random_state": [StrictInterval(Integral, 0, None, closed="left"), np.random.Generator, None],
}


def embed_in_background(
    n_jets: int,
    radius: float | Sequence[float] = 0.4,
    *,
    centrality: tuple[float, float] = (0.0, 10.0),
    mean_pt: float = 0.7,
    v2: float = 0.0,
    fragmentation: str = "default",
    slices: Sequence[float] | None = None,
    fakes: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Pythia pp charged-particle jets embedded in a thermal Pb-Pb background.

    Each pp event (Pythia 8 QCD dijets at 5.02 TeV in pT-hat ``slices``, charged
    particles with ``|eta| < 0.9``) is added to one background event (see
    :mod:`skcal.heavy_ion`); the sum is clustered with anti-kt of each ``radius`` with
    FastJet areas, rho is the median of the kt R = 0.2 jets without the two leading, and
    each jet inside ``|eta| < 0.9 - R`` is matched to the pp truth jet (anti-kt R of the
    pp event's charged particles, above 5 GeV) within 0.6 R. Needs the ``sim`` extra.

    Parameters
    ----------
    n_jets : int
        Matched jets per radius, positive.
    radius : float or sequence of float, default 0.4
        Anti-kt radii, each one of 0.2, 0.3, 0.4, 0.5 and 0.6; every radius clusters the
        same events.
    centrality : (float, float), default (0, 10)
        Centrality range in percent, within [0, 90]; each event's centrality is flat in
        it (equal ends: a fixed centrality). 0-10% gives dN_ch/deta of about 1760.
    mean_pt : float, default 0.7
        Mean pT (GeV) of the background particles.
    v2 : float, default 0.0
        Elliptic flow of the background, in [0, 0.5).
    fragmentation : {"default", "soft", "medium"}, default "default"
        The pp events' fragmentation (:data:`FRAGMENTATIONS`): Pythia's default, softer
        string fragmentation, or medium-like extra gluon radiation.
    slices : sequence of float, optional
        pT-hat slice edges in GeV; default :data:`HI_SLICES` (5 to 250 GeV).
    fakes : bool, default False
        Also return the reco jets with no truth jet above 5 GeV within R (``fake`` 1,
        ``pt_true`` 0, ``eta_true``/``phi_true`` their own), from the same events.
    cache_dir : path, optional
        Where Pythia's multiparton-interaction tables are kept between runs.
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same table.

    Returns
    -------
    DataFrame
        One row per jet, the columns :data:`COLUMNS`: ``pt_reco`` (before any
        subtraction), ``pt_true``, ``area``, ``rho``, ``n_const``, ``lead_pt_1`` to
        ``lead_pt_10`` (0 where a jet has fewer constituents), ``angularity``
        (sum of pT_i Delta R_i / pT), ``mean_const_pt``, the event's ``centrality``,
        ``weight`` (cross-section per event, mean 1), ``fake`` and ``event`` (the
        event's number in the sample). Rows are ordered by
        radius, then by event.

    Raises
    ------
    ParameterError
        For a bad ``n_jets``, ``radius``, ``centrality``, ``mean_pt``, ``v2``,
        ``fragmentation``, ``slices``, ``fakes`` or ``random_state``.
    MissingDependencyError
        If the ``sim`` extra (pythia8mc, fastjet) is not installed.

    Examples
    --------
    >>> from skcal.datasets import embed_in_background
    >>> jets = embed_in_background(10, radius=0.4, random_state=0)  # doctest: +SKIP
    >>> (jets["pt_reco"] - jets["rho"] * jets["area"] - jets["pt_true"]).std()  # doctest: +SKIP
    """
    check_params(
        _CONSTRAINTS,
        {
            "n_jets": n_jets,
            "mean_pt": mean_pt,
            "v2": v2,
            "fragmentation": fragmentation,
            "fakes": fakes,
            "random_state": random_state,
        },
        "embed_in_background",
    )
    radii = _radii(radius)
    background = ThermalBackground(_centrality(centrality), float(mean_pt), float(v2))
    edges = _slices(HI_SLICES if slices is None else slices, "small_r")
    import_optional("pythia8mc", purpose="embed_in_background")
    import_optional("fastjet", purpose="embed_in_background")
    entropy = seed_entropy(random_state)
    settings = Settings("small_r", "dijet", "pythia", radii[0], (0.0, 0.0), edges, 1, entropy)
    extra = (f"Beams:eCM = {ECM_PBPB:g}", *FRAGMENTATIONS[fragmentation])
    cache = cache_path(cache_dir)
    pieces: dict[float, list[pd.DataFrame]] = {r: [] for r in radii}
    held = dict.fromkeys(radii, 0)
    block, first_event = 0, 0
    while min(held.values()) < n_jets:
        for s, pt_hat in enumerate(edges):
            pythia, sigma_pb = pythia_instance(settings, pt_hat, cache, extra)
            hard, _ = generate(pythia, seed_of(entropy, block, s), EVENTS_PER_SLICE)
            rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(block, s)))
            pp = charged_central(rng, hard)
            bg = background.generate(rng, pp.counts.size)
            ev = Event(rng, pp, bg)
            for r in radii:
                table = pd.DataFrame(radius_table(ev, pp, r, fakes))
                table["radius"] = r
                table["centrality"] = bg.centrality[table["event"].to_numpy()]
                table["weight"] = sigma_pb / max(pp.counts.size, 1)
                table["event"] += first_event
                pieces[r].append(table)
                held[r] += int((table["fake"] == 0).sum())
            first_event += pp.counts.size
        block += 1
    tables = [
        _first(pd.concat(pieces[r]).sort_values("event", kind="stable"), n_jets) for r in radii
    ]
    jets = pd.concat(tables, ignore_index=True)
    jets["weight"] = jets["weight"] / jets["weight"].mean()
    for name in ("n_const",):
        jets[name] = jets[name].astype(np.int32)
    return jets[list(COLUMNS)]


def _first(table: pd.DataFrame, n_jets: int) -> pd.DataFrame:
    """The first ``n_jets`` matched jets, and the fakes of the events they come from."""
    table = table.reset_index(drop=True)
    matched = table.index[table["fake"] == 0]
    last_event = table.loc[matched[n_jets - 1], "event"]
    keep = (table["event"] < last_event) | (
        (table["event"] == last_event) & (table.index <= matched[n_jets - 1])
    )
    return table[keep]


def _radii(value: object) -> tuple[float, ...]:
    values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    out = []
    for v in values:
        ok = isinstance(v, Real) and not isinstance(v, bool)
        if not ok or not any(np.isclose(float(v), r) for r in RADII):  # type: ignore[arg-type]
            raise ParameterError(
                f"radius must be one of {RADII} (or a sequence of them), got {value!r}"
            )
        out.append(round(float(v), 1))  # type: ignore[arg-type]
    if not out or len(set(out)) != len(out):
        raise ParameterError(f"radius must list distinct radii, got {value!r}")
    return tuple(out)


def _centrality(value: object) -> tuple[float, float]:
    lo_max, hi_max = CENTRALITY_RANGE
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ParameterError(
            f"centrality must be a (low, high) range in percent, got {value!r}"
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo_max <= lo <= hi <= hi_max):
        raise ParameterError(
            f"centrality must satisfy {lo_max:g} <= low <= high <= {hi_max:g} (percent), "
            f"got {value!r}"
        )
    return lo, hi
