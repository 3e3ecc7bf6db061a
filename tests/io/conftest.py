"""Fixtures of the reader tests: flat jet tables and per-event files written here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

from skcal.datasets import make_jets
from skcal.io import DeltaRMatch, IndexMatch, JetMapping


@pytest.fixture(scope="session")
def jets() -> pd.DataFrame:
    """A small synthetic jet table with every standard column."""
    return make_jets(3000, random_state=7).reset_index(drop=True)


def make_events(n_events: int, seed: int) -> dict[str, ak.Array | np.ndarray]:
    """Per-event collections with a known truth.

    Each event has 0-6 truth jets; each truth jet leaves a reco jet nearby (within
    Delta R ~0.1) with probability 0.85, and there are 0-2 fake reco jets anywhere. The
    reco jets are shuffled; ``reco_truth_idx`` stores the true partner's position (-1
    for fakes), ``reco_id``/``truth_id`` label every jet uniquely.
    """
    rng = np.random.default_rng(seed)
    n_truth = rng.integers(0, 7, n_events)
    nt = int(n_truth.sum())
    t_pt = rng.uniform(10, 200, nt)
    t_eta = rng.uniform(-2.5, 2.5, nt)
    t_phi = rng.uniform(-np.pi, np.pi, nt)
    t_m = rng.uniform(1, 20, nt)
    t_event = np.repeat(np.arange(n_events), n_truth)
    t_local = np.arange(nt) - np.repeat(np.cumsum(n_truth) - n_truth, n_truth)

    seen = rng.random(nt) < 0.85
    n_fake = rng.integers(0, 3, n_events)
    r_event = np.concatenate([t_event[seen], np.repeat(np.arange(n_events), n_fake)])
    nf = int(n_fake.sum())
    r_pt = np.concatenate([t_pt[seen] * rng.normal(0.9, 0.1, seen.sum()), rng.uniform(10, 40, nf)])
    r_eta = np.concatenate(
        [t_eta[seen] + rng.normal(0, 0.04, seen.sum()), rng.uniform(-2.5, 2.5, nf)]
    )
    phi = np.concatenate(
        [t_phi[seen] + rng.normal(0, 0.04, seen.sum()), rng.uniform(-np.pi, np.pi, nf)]
    )
    r_phi = np.mod(phi + np.pi, 2 * np.pi) - np.pi
    r_m = np.concatenate([t_m[seen] * 1.1, rng.uniform(1, 10, nf)])
    r_idx = np.concatenate([t_local[seen], -np.ones(nf, dtype=np.int64)])
    order = np.lexsort((rng.random(len(r_event)), r_event))  # shuffle within events
    r_event, r_pt, r_eta, r_phi, r_m, r_idx = (
        a[order] for a in (r_event, r_pt, r_eta, r_phi, r_m, r_idx)
    )
    n_reco = np.bincount(r_event, minlength=n_events)

    def jag(values: np.ndarray, counts: np.ndarray) -> ak.Array:
        return ak.unflatten(values, counts)

    return {
        "event_id": np.arange(n_events, dtype=np.int64) + 1000 * seed,
        "mu": rng.uniform(10, 70, n_events),
        "npv": rng.integers(1, 60, n_events).astype(np.int32),
        "jet_pt": jag(r_pt, n_reco),
        "jet_eta": jag(r_eta, n_reco),
        "jet_phi": jag(r_phi, n_reco),
        "jet_m": jag(r_m, n_reco),
        "jet_truth_idx": jag(r_idx.astype(np.int32), n_reco),
        "jet_id": jag(np.arange(len(r_event), dtype=np.int64) + 1_000_000 * seed, n_reco),
        "tj_pt": jag(t_pt, n_truth),
        "tj_eta": jag(t_eta, n_truth),
        "tj_phi": jag(t_phi, n_truth),
        "tj_m": jag(t_m, n_truth),
        "tj_id": jag(np.arange(nt, dtype=np.int64) + 1_000_000 * seed, n_truth),
    }


def write_events(path: Path, events: dict, fmt: str, tree: str = "events") -> Path:
    """Write per-event collections as a TTree (mktree with var types) or an RNTuple."""
    with uproot.recreate(path) as file:
        if fmt == "ttree":
            types = {
                k: (f"var * {ak.type(v).content.content}" if isinstance(v, ak.Array) else v.dtype)
                for k, v in events.items()
            }
            # Branches of one collection share one counter branch, as in NanoAOD.
            counters = {
                k: ("nJet" if k.startswith("jet_") else "nTruth")
                for k in events
                if k.startswith(("jet_", "tj_"))
            }
            out = file.mktree(tree, types, counter_name=lambda name: counters[name])
            out.extend(events)
        else:
            file.mkrntuple(tree, events)  # given arrays, it writes them
    return path


#: The mapping of the files that ``make_events`` describes.
EVENT_MAPPING = JetMapping(
    jets={
        "pt_reco": "jet_pt",
        "eta": "jet_eta",
        "phi": "jet_phi",
        "m_reco": "jet_m",
        "reco_id": "jet_id",
    },
    truth={
        "pt_true": "tj_pt",
        "eta_true": "tj_eta",
        "phi_true": "tj_phi",
        "m_true": "tj_m",
        "truth_id": "tj_id",
    },
    event={"mu": "mu", "npv": "npv", "event_id": "event_id"},
    match=DeltaRMatch(max_dr=0.3),
    tree="events",
)
INDEX_MAPPING = JetMapping(
    jets=EVENT_MAPPING.jets,
    truth=EVENT_MAPPING.truth,
    event=EVENT_MAPPING.event,
    match=IndexMatch("jet_truth_idx"),
    tree="events",
)


@pytest.fixture(scope="session")
def event_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, dict]]:
    """``event_files(fmt)``: a per-event file of 400 events in that format, and its arrays."""
    folder = tmp_path_factory.mktemp("events")
    cache: dict[str, tuple[Path, dict]] = {}

    def get(fmt: str) -> tuple[Path, dict]:
        if fmt not in cache:
            events = make_events(400, seed=3)
            cache[fmt] = (write_events(folder / f"events_{fmt}.root", events, fmt), events)
        return cache[fmt]

    return get


@pytest.fixture
def event_mapping() -> JetMapping:
    return EVENT_MAPPING


@pytest.fixture
def index_mapping() -> JetMapping:
    return INDEX_MAPPING


def _reference_match(
    reco_eta: list,
    reco_phi: list,
    truth_eta: list,
    truth_phi: list,
    max_dr: float = 0.3,
    reco_pt: list | None = None,
    truth_pt: list | None = None,
    truth_iso: float | None = None,
    reco_iso: float | None = None,
    min_pt: float = 0.0,
) -> list[tuple[int, int]]:
    """The matched (reco, truth) positions of one event, by a plain loop: walk all pairs
    closest first, keep a pair when both jets are free; then apply the isolation."""

    def dr(e1: float, p1: float, e2: float, p2: float) -> float:
        dphi = abs(p1 - p2)
        dphi = min(dphi, 2 * np.pi - dphi)
        return float(np.hypot(e1 - e2, dphi))

    pairs = sorted(
        (dr(re, rp, te, tp), i, j)
        for i, (re, rp) in enumerate(zip(reco_eta, reco_phi))
        for j, (te, tp) in enumerate(zip(truth_eta, truth_phi))
    )
    used_r, used_t, out = set(), set(), []
    for d, i, j in pairs:
        if d < max_dr and i not in used_r and j not in used_t:
            used_r.add(i)
            used_t.add(j)
            out.append((i, j))

    def isolated(k: int, eta: list, phi: list, pt: list | None, iso: float | None) -> bool:
        if iso is None:
            return True
        return all(
            dr(eta[k], phi[k], eta[o], phi[o]) >= iso
            for o in range(len(eta))
            if o != k and (pt is None or pt[o] > min_pt)
        )

    return sorted(
        (i, j)
        for i, j in out
        if isolated(i, reco_eta, reco_phi, reco_pt, reco_iso)
        and isolated(j, truth_eta, truth_phi, truth_pt, truth_iso)
    )


@pytest.fixture(scope="session")
def reference_match() -> Callable[..., list[tuple[int, int]]]:
    """The plain-loop matching of one event (see ``_reference_match``)."""
    return _reference_match
