"""Issue 18, fault injection: a Dask worker dies in the middle of a fit.

A real ``distributed.LocalCluster`` (two worker processes under nannies) fits
``NumericalInversion`` on jets read from ROOT files and ``MDNCalibrator`` on a Dask
DataFrame of synthetic jets. The first partition task to start stalls until the test
kills its worker process (SIGKILL), so the kill always lands while the fit is under way,
whatever the timing. The scheduler runs the lost tasks again on the other worker (and
on the nanny's new one), and the fit must give exactly the result of the same fit, on
the same partitions, without the kill (the synchronous scheduler): skcal's Dask paths
compute through ``dask.compute``, so the running ``Client``, which retries the tasks of
a lost worker.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from skcal.datasets import make_jets
from skcal.inversion import NumericalInversion
from skcal.io import read_jets, write_root
from skcal.neural import MDNCalibrator

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow  # a cluster start and a worker restart: seconds

FEATURES = ["e_reco", "pt_reco", "eta"]
ETA_BINS = {"abs_eta": [0.0, 1.5, 3.0, 4.5]}
#: A stalled task waits at most this long for its kill; the fit then goes on unkilled
#: and the test fails on its check that the worker died.
STALL_S = 120.0


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("worker-loss")
    paths = []
    for i in range(2):
        path = folder / f"jets_{i}.root"
        write_root(make_jets(15_000, random_state=10 + i), path)
        paths.append(path)
    return paths


def _stall_first(marker: str) -> Any:
    """A partition function that, in the first task to run it anywhere, writes its worker's
    pid to ``marker`` and sleeps (until killed); every other call passes the partition on.

    Defined inside a function so that it travels to the workers by value.
    """

    def stall(part: pd.DataFrame) -> pd.DataFrame:
        mine = f"{marker}.{os.getpid()}"
        Path(mine).write_text(str(os.getpid()))
        try:
            os.link(mine, marker)  # atomic: exactly one task, cluster-wide, wins
        except FileExistsError:
            return part
        time.sleep(STALL_S)
        return part

    return stall


class _Killer(threading.Thread):
    """Waits for the stalled task's marker, then kills that worker process with SIGKILL."""

    def __init__(self, marker: Path) -> None:
        super().__init__(daemon=True)
        self.marker, self.killed, self.stop = marker, None, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            if self.marker.exists():
                self.killed = int(self.marker.read_text())
                os.kill(self.killed, signal.SIGKILL)
                return


def _stalled(table: Any, marker: Path) -> Any:
    return table.map_partitions(_stall_first(str(marker)), meta=table._meta)


@pytest.fixture(scope="module")
def client() -> Any:
    """A client of a local cluster of two worker processes (each under a nanny, which
    starts a new worker when one dies), started once for this module."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _fit_with_a_killed_worker(fit: Any, table: Any, client: Any, marker: Path) -> Any:
    """``fit(table)`` on the cluster, with the worker of the stalled task killed during it."""
    client.wait_for_workers(2, timeout=120)  # a worker killed by an earlier test is back
    before = set(client.run(os.getpid).values())
    killer = _Killer(marker)
    killer.start()
    try:
        fitted = fit(table)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed in before, "the stalled task did not run on a worker of the cluster"
    assert killer.killed not in set(client.run(os.getpid).values()), "the worker is alive"
    return fitted


def _ni_fit(table: Any) -> NumericalInversion:
    return NumericalInversion(condition=ETA_BINS).fit(
        table[FEATURES], table["e_reco"] / table["e_true"]
    )


def test_numerical_inversion_fit_survives_a_killed_worker(
    files: list[Path], client: Any, tmp_path: Path
) -> None:
    jets = read_jets([str(p) for p in files], dask=True, step_size=5000)
    assert jets.npartitions == 6
    with dask.config.set(scheduler="sync"):
        reference = _ni_fit(jets)
    marker = tmp_path / "stalled"
    fitted = _fit_with_a_killed_worker(_ni_fit, _stalled(jets, marker), client, marker)
    np.testing.assert_array_equal(fitted.response_grid_, reference.response_grid_)
    np.testing.assert_array_equal(fitted.log_reco_grid_, reference.log_reco_grid_)
    pd.testing.assert_frame_equal(fitted.bin_table_, reference.bin_table_)
    assert fitted.n_outside_ == reference.n_outside_
    memory = read_jets([str(p) for p in files])[FEATURES]
    np.testing.assert_array_equal(fitted.predict(memory), reference.predict(memory))


def _mdn_fit(table: Any) -> MDNCalibrator:
    mdn = MDNCalibrator(
        n_components=2,
        max_epochs=2,
        batch_size=500,
        buffer_partitions=2,
        random_state=0,
        module__hidden_sizes=(8,),
    )
    return mdn.fit(table[FEATURES], table["e_reco"] / table["e_true"])


def test_mdn_fit_survives_a_killed_worker(client: Any, tmp_path: Path) -> None:
    jets = dd.from_pandas(make_jets(6000, random_state=3), npartitions=6)
    with dask.config.set(scheduler="sync"):
        reference = _mdn_fit(jets)
    marker = tmp_path / "stalled"
    fitted = _fit_with_a_killed_worker(_mdn_fit, _stalled(jets, marker), client, marker)
    assert fitted.history[:, "train_loss"] == reference.history[:, "train_loss"]
    weights = reference.module_.state_dict()
    for key, value in fitted.module_.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), weights[key].numpy(), err_msg=key)
    memory = jets[FEATURES].compute()
    np.testing.assert_array_equal(fitted.predict(memory), reference.predict(memory))
