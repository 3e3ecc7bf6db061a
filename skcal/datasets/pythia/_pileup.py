"""Pile-up: a library of minimum-bias events, overlaid Poisson(mu) times on each event.

The library (``pileup_library`` inelastic events, Pythia's ``SoftQCD:inelastic``) is
generated once per sample, from the sample's seed, before any block. Each hard event
gets mu flat in ``mu_range`` and Poisson(mu) interactions drawn from the library with
replacement; each drawn event is rotated by a random azimuth and, half the time,
reflected in z, so that the library's finite size does not repeat the same
deposits (the ATLAS pile-up overlay reuses its minimum-bias sample in the same way).
Every interaction, the hard one included, has its own vertex, with z from the
luminous region, N(0, 45 mm); pile-up tracks are separable by their vertex.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skcal.datasets.pythia._events import Particles, generate, pythia_instance, seed_of
from skcal.datasets.pythia._settings import Settings

#: Longitudinal size of the luminous region (m).
SIGMA_Z = 0.045
#: The key of the library's seed (the blocks use (block, slice)).
_LIBRARY_KEY = 2**31
#: Library particles beyond this |eta| are dropped (the calorimeter ends at 4.9).
ETA_KEPT = 5.0


@dataclass(frozen=True)
class Library:
    """Minimum-bias events: flat final-state particles (no neutrinos, |eta| < 5), offsets."""

    offsets: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    m: np.ndarray
    pid: np.ndarray

    @property
    def size(self) -> int:
        return int(self.offsets.size - 1)


def make_library(settings: Settings, cache_dir: Path) -> Library | None:
    """The sample's minimum-bias library; None when ``mu_range`` is (0, 0)."""
    if settings.mu_range[1] == 0:
        return None
    pythia, _ = pythia_instance(None, None, cache_dir)
    final, _ = generate(pythia, seed_of(settings.entropy, _LIBRARY_KEY), settings.pileup_library)
    # Neutrinos and particles far beyond the calorimeter (|eta| > 5) never matter.
    eta = np.arcsinh(final.pz / np.maximum(final.pt, 1e-12))
    final = final.select(~np.isin(np.abs(final.pid), (12, 14, 16)) & (np.abs(eta) < ETA_KEPT))
    offsets = np.concatenate([[0], np.cumsum(final.counts)])
    return Library(offsets, final.px, final.py, final.pz, final.e, final.m, final.pid)


@dataclass(frozen=True)
class Event:
    """A batch of events with pile-up: all particles, their event and vertex."""

    particles: Particles  # hard-scatter and pile-up particles, grouped by event
    event: np.ndarray  # event of each particle
    vertex: np.ndarray  # 0 for the hard scatter, 1.. for pile-up interactions
    vertex_z: np.ndarray  # z of each particle's vertex (m)
    mu: np.ndarray  # per event
    n_interactions: np.ndarray  # pile-up interactions per event
    z0: np.ndarray  # hard-scatter vertex z per event (m)


def overlay(
    rng: np.random.Generator,
    hard: Particles,
    library: Library | None,
    mu_range: tuple[float, float],
) -> Event:
    """Add Poisson(mu) minimum-bias events from ``library`` to each hard event."""
    n_events = hard.counts.size
    mu = rng.uniform(*mu_range, n_events)
    z0 = rng.normal(0.0, SIGMA_Z, n_events)
    hard_event = np.repeat(np.arange(n_events), hard.counts)
    if library is None or library.size == 0:
        n_pu = np.zeros(n_events, dtype=np.int64)
        return Event(hard, hard_event, np.zeros_like(hard_event), z0[hard_event], mu, n_pu, z0)
    n_pu = rng.poisson(mu)
    picks = rng.integers(0, library.size, int(n_pu.sum()))
    rotation = rng.uniform(-np.pi, np.pi, picks.size)
    flip = np.where(rng.random(picks.size) < 0.5, -1.0, 1.0)
    vertex_z = rng.normal(0.0, SIGMA_Z, picks.size)
    sizes = library.offsets[picks + 1] - library.offsets[picks]
    starts = np.repeat(library.offsets[picks] - np.cumsum(sizes) + sizes, sizes)
    index = starts + np.arange(int(sizes.sum()))
    pick = np.repeat(np.arange(picks.size), sizes)
    cos, sin = np.cos(rotation[pick]), np.sin(rotation[pick])
    px, py = library.px[index], library.py[index]
    pu_event = np.repeat(np.repeat(np.arange(n_events), n_pu), sizes)
    # The interaction's number within its event (1, 2, ...).
    first = np.repeat(np.cumsum(n_pu) - n_pu, n_pu)
    pu_vertex = np.repeat(np.arange(picks.size) - first + 1, sizes)

    event = np.concatenate([hard_event, pu_event])
    order = np.argsort(event, kind="stable")
    cat = lambda a, b: np.concatenate([a, b])[order]  # noqa: E731 (local shorthand)
    particles = Particles(
        np.bincount(event, minlength=n_events),
        cat(hard.px, px * cos - py * sin),
        cat(hard.py, px * sin + py * cos),
        cat(hard.pz, library.pz[index] * flip[pick]),
        cat(hard.e, library.e[index]),
        cat(hard.m, library.m[index]),
        cat(hard.pid, library.pid[index]),
        cat(hard.status, np.ones(index.size, dtype=np.int32)),
    )
    return Event(
        particles,
        event[order],
        cat(np.zeros(hard_event.size, dtype=np.int64), pu_vertex),
        cat(z0[hard_event], vertex_z[pick]),
        mu,
        n_pu,
        z0,
    )
