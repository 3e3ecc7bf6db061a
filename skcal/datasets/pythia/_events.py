"""Pythia 8: the hard process of each topology, minimum-bias events, and their particles.

One Pythia instance per (process, slice) is initialised once per worker process and
reseeded before every block (``Pythia.rndm.init``), so that a block's events depend
only on its seed: the sample is the same for any chunking and number of processes.
The multiparton-interaction tables, which take most of the initialisation (20 s for
minimum bias), are computed once and kept in ``cache_dir``
(``MultipartonInteractions:reuseInit``); every instance reads them from there.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skcal._optional import import_optional
from skcal.datasets.pythia._settings import SHOWERS, Settings

#: Centre-of-mass energy (GeV): LHC Run 3.
ECM = 13600.0

#: The hard process of each topology, with the decays that leave one boosted object
#: (the Z -> nu nu and W -> mu nu partners leave no truth jet: neutrinos and muons are
#: not clustered).
PROCESSES: dict[str, tuple[str, ...]] = {
    "dijet": ("HardQCD:all = on",),
    "w": (
        "WeakDoubleBoson:ffbar2ZW = on",
        "24:onMode = off",
        "24:onIfAny = 1 2 3 4",
        "23:onMode = off",
        "23:onIfAny = 12 14 16",
    ),
    "z": (
        "WeakDoubleBoson:ffbar2ZW = on",
        "23:onMode = off",
        "23:onIfAny = 1 2 3 4 5",
        "24:onMode = off",
        "24:onIfAny = 13",
    ),
    "top": (
        "Top:gg2ttbar = on",
        "Top:qqbar2ttbar = on",
        "24:onMode = off",
        "24:onIfAny = 1 2 3 4",
    ),
    "higgs": (
        "HiggsSM:ffbar2HZ = on",
        "25:onMode = off",
        "25:onIfMatch = 5 -5",
        "23:onMode = off",
        "23:onIfAny = 12 14 16",
    ),
}
MINIMUM_BIAS: tuple[str, ...] = ("SoftQCD:inelastic = on",)

_BASE = (
    f"Beams:eCM = {ECM:g}",
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Random:setSeed = on",
    "Random:seed = 1",
)


@dataclass(frozen=True)
class Particles:
    """The particles of a batch of events, flattened, with the events' offsets."""

    counts: np.ndarray  # particles per event
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    m: np.ndarray
    pid: np.ndarray
    status: np.ndarray

    @property
    def pt(self) -> np.ndarray:
        return np.hypot(self.px, self.py)

    def select(self, keep: np.ndarray) -> Particles:
        event = np.repeat(np.arange(self.counts.size), self.counts)
        counts = np.bincount(event[keep], minlength=self.counts.size)
        return Particles(
            counts,
            *(getattr(self, f)[keep] for f in ("px", "py", "pz", "e", "m", "pid", "status")),
        )


_INSTANCES: dict[tuple[Any, ...], tuple[Any, float]] = {}
#: Events (with a fixed seed) from which each slice's cross-section is estimated, once
#: per instance: the weights then depend on the settings only, not on the history of
#: the instance (Pythia's own estimate accumulates over every event it generated).
SIGMA_EVENTS, SIGMA_SEED = 100, 19


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "skcal-pythia"


def _strings(
    settings: Settings | None, pt_hat: tuple[float, float] | None, extra: tuple[str, ...] = ()
) -> list[str]:
    if settings is None:
        return [*_BASE, *MINIMUM_BIAS, *extra]
    strings = [*_BASE, *PROCESSES[settings.topology]]
    strings.append(f"PartonShowers:model = {SHOWERS[settings.shower]}")
    if pt_hat is not None:
        strings += [f"PhaseSpace:pTHatMin = {pt_hat[0]:g}", f"PhaseSpace:pTHatMax = {pt_hat[1]:g}"]
    # Later settings override earlier ones (another beam energy, fragmentation, ...).
    return [*strings, *extra]


def pythia_instance(
    settings: Settings | None,
    pt_hat: tuple[float, float] | None,
    cache_dir: Path,
    extra: tuple[str, ...] = (),
) -> tuple[Any, float]:
    """The initialised Pythia of one process and slice (minimum bias for ``settings=None``)
    and the process's cross-section in pb (estimated from SIGMA_EVENTS events).

    ``extra`` settings are read after the others and override them (the heavy-ion
    embedding's 5.02 TeV beams and its fragmentation variations)."""
    strings = _strings(settings, pt_hat, extra)
    key = (tuple(strings), str(cache_dir))
    if key in _INSTANCES:
        return _INSTANCES[key]
    pythia8mc = import_optional("pythia8mc", purpose="make_pythia_jets")
    cache_dir.mkdir(parents=True, exist_ok=True)
    # The MPI tables depend on the process class and the shower, not on the pT-hat slice.
    tag = "minbias" if settings is None else f"{settings.topology}-{settings.shower}"
    if extra:
        tag += "-" + hashlib.sha1("\n".join(extra).encode()).hexdigest()[:10]
    init_file = cache_dir / f"mpi-{tag}-{_version()}.cmnd"
    mpi = [
        "MultipartonInteractions:reuseInit = 3",
        f"MultipartonInteractions:initFile = {init_file}",
    ]
    if not init_file.exists():
        # Written once; the instance below then reads it like every later one, so that
        # the first run and the cached ones give the same events.
        writer = pythia8mc.Pythia("", False)
        for line in (*strings, *mpi):
            writer.readString(line)
        _init(writer, strings)
        del writer
    pythia = pythia8mc.Pythia("", False)
    for line in (*strings, *mpi):
        pythia.readString(line)
    _init(pythia, strings)
    sigma_pb = 0.0
    if settings is not None:
        pythia.rndm.init(SIGMA_SEED)
        for _ in range(SIGMA_EVENTS):
            pythia.next()
        sigma_pb = float(pythia.infoPython().sigmaGen()) * 1e9
    _INSTANCES[key] = (pythia, sigma_pb)
    return pythia, sigma_pb


def _version() -> str:
    from importlib.metadata import version

    return version("pythia8mc")


def _init(pythia: Any, strings: list[str]) -> None:
    from skcal.exceptions import SkcalError

    if not pythia.init():
        raise SkcalError(f"Pythia failed to initialise with the settings {strings}")


def generate(pythia: Any, seed: int, n_events: int) -> tuple[Particles, Particles]:
    """``n_events`` events: their final-state particles and their flavour sources (b and c
    hadrons and the partons entering hadronisation)."""
    ak = import_optional("awkward", purpose="make_pythia_jets")
    pythia.rndm.init(int(seed))
    batch = pythia.nextBatch(n_events)
    prt = batch["prt"]
    counts = np.asarray(ak.num(prt), dtype=np.int64)
    flat = ak.flatten(prt)
    status = np.asarray(flat.status, dtype=np.int32)
    pid = np.asarray(flat.id, dtype=np.int32)
    all_particles = Particles(
        counts,
        np.asarray(flat.p.px),
        np.asarray(flat.p.py),
        np.asarray(flat.p.pz),
        np.asarray(flat.p.e),
        np.asarray(flat.m),
        pid,
        status,
    )
    final = all_particles.select(status > 0)
    apid = np.abs(pid)
    quark = (apid // 100 % 10, apid // 1000 % 10)
    heavy = (apid > 100) & ((quark[0] >= 4) | (quark[1] >= 4)) & (apid < 10000)
    parton = ((apid <= 5) | (apid == 21)) & (np.abs(status) >= 71) & (np.abs(status) <= 79)
    sources = all_particles.select((heavy | parton) & (all_particles.pt > 5.0))
    return final, sources


def seed_of(entropy: int, *key: int) -> int:
    """A Pythia seed (1 to 900 000 000) from the sample's entropy and a key."""
    state = np.random.SeedSequence(entropy, spawn_key=key).generate_state(1)[0]
    return int(state) % 900_000_000 + 1


def cache_path(cache_dir: str | os.PathLike[str] | None) -> Path:
    return default_cache_dir() if cache_dir is None else Path(cache_dir)
