"""Dask reads: lazy, one partition per file chunk, the same jets on any scheduler."""

from __future__ import annotations

from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pytest

import skcal.io._process as reader
from skcal.io import read_jets, write_root


@pytest.fixture(scope="module")
def two_files(jets: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("dask")
    return [
        write_root(jets.iloc[:1800], folder / "a.root", chunk_size=400),
        write_root(jets.iloc[1800:], folder / "b.root", format="rntuple"),
    ]


def test_one_partition_per_file_chunk_and_the_same_jets(
    jets: pd.DataFrame, two_files: list[Path]
) -> None:
    lazy = read_jets(two_files, dask=True, step_size=500)
    assert isinstance(lazy, dd.DataFrame)
    # a.root: baskets of 400 entries, which chunks never cut (two do not fit in 500);
    # b.root: one cluster of 1200 entries, cut in chunks of 500 as asked
    assert lazy.npartitions == 5 + 3
    assert list(lazy.columns) == list(jets.columns) and (lazy.dtypes == jets.dtypes).all()
    pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), jets)
    pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), read_jets(two_files))
    sizes = lazy.map_partitions(len).compute().tolist()
    assert sizes == [400, 400, 400, 400, 200, 500, 500, 200]


def test_nothing_is_read_until_computed_and_only_the_asked_branches(
    two_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[tuple[tuple[str, ...], int]] = []
    real = reader.read_arrays

    def spy(obj, path, tree, branches, start, stop, library):
        reads.append((tuple(branches), stop - start))
        return real(obj, path, tree, branches, start, stop, library)

    monkeypatch.setattr(reader, "read_arrays", spy)
    lazy = read_jets(
        two_files, dask=True, step_size=500, columns=["e_reco", "e_true"], cuts={"eta": (-1, 1)}
    )
    assert all(n == 0 for _, n in reads)  # only the branch types were looked at
    reads.clear()
    response = (lazy.e_reco / lazy.e_true).mean().compute(scheduler="sync")
    assert 0.5 < response < 1.5
    assert sum(n for _, n in reads) == 3000 and all(n > 0 for _, n in reads)
    assert {b for branches, _ in reads for b in branches} == {"e_reco", "e_true", "eta"}


@pytest.mark.slow
def test_distributed_local_cluster_reads_the_same_jets(
    jets: pd.DataFrame, two_files: list[Path], event_files, event_mapping, data_dir: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    events_path, _ = event_files("rntuple")
    nano = data_dir / "nano_dy.root"
    flat = read_jets(two_files, dask=True, step_size=500)
    per_event = read_jets(events_path, mapping=event_mapping, dask=True, step_size=150)
    cms = read_jets(nano, preset="nanoaod", dask=True, step_size=20)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with cluster, distributed.Client(cluster) as client:
        flat_out, per_event_out, cms_out = client.compute([flat, per_event, cms], sync=True)
        pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2
    pd.testing.assert_frame_equal(flat_out.reset_index(drop=True), jets)
    pd.testing.assert_frame_equal(
        per_event_out.reset_index(drop=True), read_jets(events_path, mapping=event_mapping)
    )
    pd.testing.assert_frame_equal(cms_out.reset_index(drop=True), read_jets(nano, preset="nanoaod"))
