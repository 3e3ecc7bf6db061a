"""Per-event collections: flattening, event-level broadcasting and truth matching."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pandas as pd
import pytest

from skcal.exceptions import DataError
from skcal.io import DeltaRMatch, JetMapping, read_jets
from skcal.io._matching import delta_r_match, index_match, nearest_neighbour_dr

FORMATS = ["ttree", "rntuple"]


def reference_rows(events: dict, reference_match, **kwargs) -> set[tuple[int, int]]:
    """(reco id, truth id) of every match, by the plain-loop reference."""
    rows = set()
    for e in range(len(events["event_id"])):
        pairs = reference_match(
            events["jet_eta"][e].tolist(),
            events["jet_phi"][e].tolist(),
            events["tj_eta"][e].tolist(),
            events["tj_phi"][e].tolist(),
            reco_pt=events["jet_pt"][e].tolist(),
            truth_pt=events["tj_pt"][e].tolist(),
            **kwargs,
        )
        rows |= {(events["jet_id"][e][i], events["tj_id"][e][j]) for i, j in pairs}
    return rows


@pytest.mark.parametrize("fmt", FORMATS)
def test_delta_r_matching_equals_the_plain_loop(
    event_files, event_mapping, reference_match, fmt: str
) -> None:
    path, events = event_files(fmt)
    table = read_jets(path, mapping=event_mapping)
    expected = reference_rows(events, reference_match)
    assert set(zip(table.reco_id, table.truth_id)) == expected
    assert len(table) == len(expected)
    summary = table.attrs["read_summary"]
    n_reco = int(ak.sum(ak.num(events["jet_pt"])))
    assert summary["n_reco"] == n_reco and summary["n_unmatched"] == n_reco - len(expected) > 0
    assert summary["n_events"] == 400


def test_rows_follow_events_and_reco_order(event_files, event_mapping) -> None:
    path, events = event_files("ttree")
    table = read_jets(path, mapping=event_mapping)
    assert table.reco_id.is_monotonic_increasing  # event by event, reco jets in stored order
    flat_ids = ak.flatten(events["jet_id"]).to_numpy()
    position = np.searchsorted(flat_ids, table.reco_id)
    np.testing.assert_array_equal(table.pt_reco, ak.flatten(events["jet_pt"]).to_numpy()[position])


def test_event_values_are_broadcast_to_their_jets(event_files, event_mapping) -> None:
    path, events = event_files("rntuple")
    table = read_jets(path, mapping=event_mapping)
    event_of_reco = np.repeat(events["event_id"], ak.num(events["jet_id"]).to_numpy())
    flat_ids = ak.flatten(events["jet_id"]).to_numpy()
    expected_event = event_of_reco[np.searchsorted(flat_ids, table.reco_id)]
    np.testing.assert_array_equal(table.event_id, expected_event)
    np.testing.assert_array_equal(table.mu, events["mu"][expected_event - expected_event.min()])
    assert table.npv.dtype == np.int32


@pytest.mark.parametrize("fmt", FORMATS)
def test_isolation_equals_the_plain_loop(
    event_files, event_mapping, reference_match, fmt: str
) -> None:
    path, events = event_files(fmt)
    match = DeltaRMatch(max_dr=0.3, truth_isolation=1.0, reco_isolation=0.6, isolation_min_pt=25.0)
    table = read_jets(path, mapping=event_mapping, match=match, columns=["reco_id", "truth_id"])
    expected = reference_rows(events, reference_match, truth_iso=1.0, reco_iso=0.6, min_pt=25.0)
    assert set(zip(table.reco_id, table.truth_id)) == expected
    plain = read_jets(path, mapping=event_mapping, columns=["reco_id"])
    assert table.attrs["read_summary"]["n_not_isolated"] == len(plain) - len(table) > 0


def test_index_matching_uses_the_stored_index(event_files, index_mapping) -> None:
    path, events = event_files("ttree")
    table = read_jets(path, mapping=index_mapping)
    idx = events["jet_truth_idx"]
    valid = idx >= 0
    expected = set(
        zip(
            ak.flatten(events["jet_id"][valid]).tolist(),
            ak.flatten(events["tj_id"][idx[valid]]).tolist(),
        )
    )
    assert set(zip(table.reco_id, table.truth_id)) == expected
    np.testing.assert_array_equal(
        table.pt_true.to_numpy(), ak.flatten(events["tj_pt"][idx[valid]]).to_numpy()
    )


def test_reco_only_mapping_flattens_every_jet(event_files) -> None:
    path, events = event_files("rntuple")
    mapping = JetMapping(jets={"pt_reco": "jet_pt", "eta": "jet_eta"}, event={"mu": "mu"})
    table = read_jets(path, mapping=mapping, tree="events")
    np.testing.assert_array_equal(table.pt_reco, ak.flatten(events["jet_pt"]).to_numpy())
    assert list(table.columns) == ["pt_reco", "eta", "mu", "weight"]


def test_chunked_and_dask_reads_give_the_same_jets(event_files, event_mapping) -> None:
    path, _ = event_files("ttree")
    whole = read_jets(path, mapping=event_mapping)
    pd.testing.assert_frame_equal(read_jets(path, mapping=event_mapping, step_size=37), whole)
    lazy = read_jets(path, mapping=event_mapping, step_size=100, dask=True)
    assert lazy.npartitions == 4
    pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), whole)


# ---------------------------------------------------------------- the matching functions


def test_closest_pair_wins_and_the_loser_takes_the_next_truth() -> None:
    # One event: reco jets at eta 0.05 and 0.12, truth jets at 0 and 0.25. Distances:
    # r0-t0 0.05, r1-t0 0.12, r1-t1 0.13, r0-t1 0.20. The closest pair r0-t0 is kept first,
    # then r1 takes t1 although t0 is closer to it.
    r = delta_r_match(
        np.array([0.05, 0.12]),
        np.zeros(2),
        np.array([2]),
        np.array([0.0, 0.25]),
        np.zeros(2),
        np.array([2]),
        DeltaRMatch(),
    )
    assert r.reco.tolist() == [0, 1] and r.truth.tolist() == [0, 1]
    # with the second truth jet out of reach, the second reco jet stays unmatched
    r = delta_r_match(
        np.array([0.05, 0.12]),
        np.zeros(2),
        np.array([2]),
        np.array([0.0, 0.6]),
        np.zeros(2),
        np.array([2]),
        DeltaRMatch(),
    )
    assert r.reco.tolist() == [0] and r.truth.tolist() == [0] and r.n_unmatched == 1


def test_phi_wraps_around() -> None:
    r = delta_r_match(
        np.array([1.0]),
        np.array([3.1]),
        np.array([1]),
        np.array([1.0]),
        np.array([-3.1]),
        np.array([1]),
        DeltaRMatch(max_dr=0.1),
    )
    assert r.reco.tolist() == [0]


def test_jets_of_different_events_never_match() -> None:
    r = delta_r_match(
        np.array([0.0, 2.0]),
        np.zeros(2),
        np.array([1, 1]),
        np.array([2.0, 0.0]),
        np.zeros(2),
        np.array([1, 1]),
        DeltaRMatch(),
    )
    assert r.reco.size == 0 and r.n_unmatched == 2


def test_large_chunks_are_matched_block_by_block(
    monkeypatch: pytest.MonkeyPatch, reference_match
) -> None:
    import skcal.io._matching as matching

    rng = np.random.default_rng(0)
    counts = rng.integers(0, 8, 300)
    eta, phi = rng.uniform(-1, 1, counts.sum()), rng.uniform(-0.5, 0.5, counts.sum())
    t_eta, t_phi = eta + rng.normal(0, 0.1, eta.size), phi + rng.normal(0, 0.1, eta.size)
    whole = delta_r_match(eta, phi, counts, t_eta, t_phi, counts, DeltaRMatch())
    monkeypatch.setattr(matching, "_MAX_PAIRS_PER_BLOCK", 50)
    blocked = delta_r_match(eta, phi, counts, t_eta, t_phi, counts, DeltaRMatch())
    np.testing.assert_array_equal(whole.reco, blocked.reco)
    np.testing.assert_array_equal(whole.truth, blocked.truth)
    near = nearest_neighbour_dr(eta, phi, counts)
    monkeypatch.setattr(matching, "_MAX_PAIRS_PER_BLOCK", 2_000_000)
    np.testing.assert_array_equal(near, nearest_neighbour_dr(eta, phi, counts))
    offsets = np.concatenate(([0], np.cumsum(counts)))
    expected = []
    for e in range(len(counts)):
        s = slice(offsets[e], offsets[e + 1])
        pairs = reference_match(
            eta[s].tolist(), phi[s].tolist(), t_eta[s].tolist(), t_phi[s].tolist()
        )
        expected += [(offsets[e] + i, offsets[e] + j) for i, j in pairs]
    assert list(zip(whole.reco.tolist(), whole.truth.tolist())) == sorted(expected)


def test_index_match_rejects_negative_and_overflowing_indices() -> None:
    r = index_match(np.array([0, -1, 3, 1]), np.array([2, 2]), np.array([1, 2]))
    assert r.reco.tolist() == [0, 3] and r.truth.tolist() == [0, 2] and r.n_unmatched == 2


def test_a_truth_section_needs_a_match() -> None:
    with pytest.raises(DataError, match="needs a match"):
        JetMapping(jets={"pt_reco": "a"}, truth={"pt_true": "b"})
