"""Matching reconstructed jets to truth jets, vectorised over all events of a chunk.

Jets arrive flattened: one array per quantity over all jets of the chunk, plus the
number of jets in each event. Matching returns, for each matched reco jet, its flat
index and that of its truth jet; no per-jet Python loop is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skcal.exceptions import DataError
from skcal.io._expr import Expr, as_expr

__all__ = ["DeltaRMatch", "IndexMatch", "MatchResult", "delta_r_match", "index_match"]

# Above this many (reco, truth) pairs the pairwise distances are computed block by
# block of events, which bounds the transient memory of a large chunk.
_MAX_PAIRS_PER_BLOCK = 2_000_000


@dataclass(frozen=True)
class IndexMatch:
    """Match each reco jet to the truth jet whose position a branch stores.

    Parameters
    ----------
    index : str or Expr
        A per-jet branch of the reco collection holding the truth jet's position in
        its event's truth collection (CMS NanoAOD ``Jet_genJetIdx``). Negative values
        (no match) and values past the event's truth collection (truth jets below the
        stored threshold) leave the reco jet unmatched.

    Examples
    --------
    >>> from skcal.io import IndexMatch
    >>> IndexMatch("Jet_genJetIdx").index
    Branch(name='Jet_genJetIdx')
    """

    index: Expr | str

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", as_expr(self.index))


@dataclass(frozen=True)
class DeltaRMatch:
    """Match reco to truth jets by angular distance ``Delta R = sqrt(d_eta^2 + d_phi^2)``.

    Pairs closer than ``max_dr`` are accepted closest first, each reco and each truth
    jet used at most once (a greedy matching over all pairs of the event). Optional
    isolation requirements then drop matched jets that have a neighbour.

    Parameters
    ----------
    max_dr : float
        The largest accepted distance (0.3 in the ATLAS and CMS calibrations).
    truth_isolation : float, optional
        Drop a match whose truth jet has another truth jet closer than this.
    reco_isolation : float, optional
        Drop a match whose reco jet has another reco jet closer than this.
    isolation_min_pt : float
        Only neighbours with a transverse momentum above this (GeV: ``pt_true`` for
        truth jets, ``pt_reco`` for reco jets) spoil the isolation.

    Notes
    -----
    The reco jets' ``eta``, ``phi`` (and ``pt_reco`` for isolation) and the truth jets'
    ``eta_true``, ``phi_true`` (and ``pt_true``) columns of the mapping are used.
    :meth:`atlas` gives the requirements of the ATLAS jet energy scale calibration,
    whose isolation distances are multiples of the jet radius R.

    Examples
    --------
    >>> from skcal.io import DeltaRMatch
    >>> DeltaRMatch.atlas(radius=0.4)
    DeltaRMatch(max_dr=0.3, truth_isolation=1.0, reco_isolation=0.6..., isolation_min_pt=7.0)
    """

    max_dr: float = 0.3
    truth_isolation: float | None = None
    reco_isolation: float | None = None
    isolation_min_pt: float = 0.0

    def __post_init__(self) -> None:
        if not self.max_dr > 0:
            raise DataError(f"DeltaRMatch: max_dr must be positive, got {self.max_dr!r}")
        for name in ("truth_isolation", "reco_isolation"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise DataError(f"DeltaRMatch: {name} must be positive or None, got {value!r}")

    @classmethod
    def atlas(cls, radius: float = 0.4, *, max_dr: float = 0.3, min_pt: float = 7.0) -> DeltaRMatch:
        """The ATLAS requirements: Delta R < 0.3, no other truth jet within 2.5 R and no
        other reco jet within 1.5 R (neighbours above 7 GeV), for jets of radius R.

        Examples
        --------
        >>> from skcal.io import DeltaRMatch
        >>> DeltaRMatch.atlas(radius=1.0).truth_isolation
        2.5
        """
        return cls(
            max_dr=max_dr,
            truth_isolation=2.5 * radius,
            reco_isolation=1.5 * radius,
            isolation_min_pt=min_pt,
        )

    @property
    def needs_pt(self) -> bool:
        """Whether the isolation needs the jets' transverse momenta."""
        has_isolation = self.truth_isolation is not None or self.reco_isolation is not None
        return has_isolation and self.isolation_min_pt > 0


@dataclass(frozen=True)
class MatchResult:
    """The matched pairs (flat reco and truth indices, reco order) and the counts."""

    reco: np.ndarray
    truth: np.ndarray
    n_unmatched: int
    n_not_isolated: int


def _offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))


def index_match(
    index: np.ndarray, reco_counts: np.ndarray, truth_counts: np.ndarray
) -> MatchResult:
    """Match by stored index.

    Parameters
    ----------
    index : ndarray of int
        Per reco jet (flat over the chunk), the position of its truth jet in the event.
    reco_counts, truth_counts : ndarray of int
        Reco and truth jets per event.

    Returns
    -------
    MatchResult

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io._matching import index_match
    >>> r = index_match(np.array([1, -1, 0, 5]), np.array([2, 2]), np.array([2, 1]))
    >>> r.reco.tolist(), r.truth.tolist(), r.n_unmatched
    ([0, 2], [1, 2], 2)
    """
    index = np.asarray(index).astype(np.int64, copy=False)
    reco_counts = np.asarray(reco_counts, dtype=np.int64)
    truth_counts = np.asarray(truth_counts, dtype=np.int64)
    event = np.repeat(np.arange(len(reco_counts)), reco_counts)
    valid = (index >= 0) & (index < truth_counts[event])
    reco = np.flatnonzero(valid)
    truth = _offsets(truth_counts)[event[reco]] + index[reco]
    return MatchResult(
        reco=reco, truth=truth, n_unmatched=int(len(index) - len(reco)), n_not_isolated=0
    )


def _pairs(counts_a: np.ndarray, counts_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) pair of the same event, as flat indices, grouped by a."""
    n_pairs = counts_a * counts_b
    total = int(n_pairs.sum())
    event = np.repeat(np.arange(len(counts_a)), n_pairs)
    local = np.arange(total, dtype=np.int64) - (_offsets(n_pairs)[:-1])[event]
    nb = counts_b[event]
    ia = local // nb
    ib = local - ia * nb
    return _offsets(counts_a)[event] + ia, _offsets(counts_b)[event] + ib


def _event_blocks(n_pairs: np.ndarray) -> list[slice]:
    """Consecutive events in blocks of at most ~_MAX_PAIRS_PER_BLOCK pairs."""
    if n_pairs.sum() <= _MAX_PAIRS_PER_BLOCK:
        return [slice(0, len(n_pairs))]
    block_of = np.cumsum(n_pairs) // _MAX_PAIRS_PER_BLOCK
    bounds = np.flatnonzero(np.diff(block_of)) + 1
    edges = np.concatenate(([0], bounds, [len(n_pairs)]))
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _dr2(eta_a: np.ndarray, phi_a: np.ndarray, eta_b: np.ndarray, phi_b: np.ndarray) -> np.ndarray:
    d_phi = np.mod(phi_a - phi_b + np.pi, 2 * np.pi) - np.pi
    d_eta = eta_a - eta_b
    return d_eta * d_eta + d_phi * d_phi


def _greedy(reco: np.ndarray, truth: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closest-first matching of candidate pairs, each index used once.

    Equivalent to walking the pairs in increasing distance and keeping a pair when both
    its jets are still free, but done in vectorised rounds: in each round every pair
    that is the closest one of both its reco and its truth jet is kept (such pairs are
    exactly those the walk keeps), and pairs touching a kept jet are removed. Each round
    keeps at least the closest remaining pair of every event.
    """
    order = np.argsort(d2, kind="stable")
    reco, truth = reco[order], truth[order]
    kept_reco, kept_truth = [], []
    while reco.size:
        first_of_reco = np.zeros(reco.size, dtype=bool)
        first_of_reco[np.unique(reco, return_index=True)[1]] = True
        first_of_truth = np.zeros(truth.size, dtype=bool)
        first_of_truth[np.unique(truth, return_index=True)[1]] = True
        keep = first_of_reco & first_of_truth
        kept_reco.append(reco[keep])
        kept_truth.append(truth[keep])
        free = ~(np.isin(reco, reco[keep]) | np.isin(truth, truth[keep]))
        reco, truth = reco[free], truth[free]
    if not kept_reco:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(kept_reco), np.concatenate(kept_truth)


def nearest_neighbour_dr(
    eta: np.ndarray,
    phi: np.ndarray,
    counts: np.ndarray,
    pt: np.ndarray | None = None,
    min_pt: float = 0.0,
) -> np.ndarray:
    """For each object, the distance to the closest other object of its event (above
    ``min_pt`` when ``pt`` is given); ``inf`` where there is none.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io._matching import nearest_neighbour_dr
    >>> nearest_neighbour_dr(np.array([0.0, 0.5, 3.0]), np.zeros(3), np.array([2, 1])).tolist()
    [0.5, 0.5, inf]
    """
    counts = np.asarray(counts, dtype=np.int64)
    out = np.full(len(eta), np.inf)
    if len(eta) == 0:
        return out
    for block in _event_blocks(counts * counts):
        offset = int(_offsets(counts)[block.start])
        c = counts[block]
        a, b = _pairs(c, c)
        a += offset
        b += offset
        d2 = _dr2(eta[a], phi[a], eta[b], phi[b])
        ignore = a == b
        if pt is not None:
            ignore |= pt[b] <= min_pt
        d2[ignore] = np.inf
        # Pairs are grouped by a, with n_event entries each (itself included).
        if d2.size:
            out[offset : offset + int(c.sum())] = np.minimum.reduceat(d2, _group_starts(c))
    return np.sqrt(out)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    """Start of each a-group in the pair list of (a, b) pairs of the same collection."""
    n_obj = int(counts.sum())
    event = np.repeat(np.arange(len(counts)), counts)
    first_pair_of_event = _offsets(counts * counts)[:-1]
    local = np.arange(n_obj, dtype=np.int64) - _offsets(counts)[:-1][event]
    return first_pair_of_event[event] + local * counts[event]


def delta_r_match(
    reco_eta: np.ndarray,
    reco_phi: np.ndarray,
    reco_counts: np.ndarray,
    truth_eta: np.ndarray,
    truth_phi: np.ndarray,
    truth_counts: np.ndarray,
    match: DeltaRMatch,
    reco_pt: np.ndarray | None = None,
    truth_pt: np.ndarray | None = None,
) -> MatchResult:
    """Match by angular distance (see :class:`DeltaRMatch`).

    Returns
    -------
    MatchResult
        The pairs sorted by reco index; ``n_unmatched`` counts reco jets with no truth
        jet within ``max_dr``, ``n_not_isolated`` matched jets dropped by isolation.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.io import DeltaRMatch
    >>> from skcal.io._matching import delta_r_match
    >>> r = delta_r_match(np.array([0.0, 1.0]), np.zeros(2), np.array([2]),
    ...                   np.array([0.05, 2.0]), np.zeros(2), np.array([2]), DeltaRMatch())
    >>> r.reco.tolist(), r.truth.tolist(), r.n_unmatched
    ([0], [0], 1)
    """
    reco_counts = np.asarray(reco_counts, dtype=np.int64)
    truth_counts = np.asarray(truth_counts, dtype=np.int64)
    if match.needs_pt and (reco_pt is None or truth_pt is None):
        raise DataError("DeltaRMatch with isolation_min_pt needs the pt_reco and pt_true columns")
    max_d2 = match.max_dr * match.max_dr
    reco_off, truth_off = _offsets(reco_counts), _offsets(truth_counts)
    kept_reco, kept_truth = [], []
    for block in _event_blocks(reco_counts * truth_counts):
        a, b = _pairs(reco_counts[block], truth_counts[block])
        a += reco_off[block.start]
        b += truth_off[block.start]
        d2 = _dr2(reco_eta[a], reco_phi[a], truth_eta[b], truth_phi[b])
        close = d2 < max_d2
        r, t = _greedy(a[close], b[close], d2[close])
        kept_reco.append(r)
        kept_truth.append(t)
    reco = np.concatenate(kept_reco) if kept_reco else np.empty(0, np.int64)
    truth = np.concatenate(kept_truth) if kept_truth else np.empty(0, np.int64)
    order = np.argsort(reco, kind="stable")
    reco, truth = reco[order], truth[order]
    n_matched = len(reco)

    isolated = np.ones(n_matched, dtype=bool)
    if match.truth_isolation is not None:
        near = nearest_neighbour_dr(
            truth_eta, truth_phi, truth_counts, truth_pt, match.isolation_min_pt
        )
        isolated &= near[truth] >= match.truth_isolation
    if match.reco_isolation is not None:
        near = nearest_neighbour_dr(
            reco_eta, reco_phi, reco_counts, reco_pt, match.isolation_min_pt
        )
        isolated &= near[reco] >= match.reco_isolation
    return MatchResult(
        reco=reco[isolated],
        truth=truth[isolated],
        n_unmatched=int(reco_off[-1] - n_matched),
        n_not_isolated=int(n_matched - isolated.sum()),
    )
