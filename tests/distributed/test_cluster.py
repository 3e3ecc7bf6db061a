"""The cluster: section: validated like the rest of a configuration, started for real
(a LocalCluster of two worker processes), and the batch kinds' job scripts checked
without a batch system (dask-jobqueue's ``job_script()``, nothing submitted)."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import dask
import dask.array as da
import distributed
import numpy as np
import pytest

from skcal.config import parse_config
from skcal.distributed import make_cluster, parse_cluster, start_cluster
from skcal.distributed._cli import cluster_from_file
from skcal.exceptions import ConfigError, SkcalError

BASE = {
    "data": {"source": "jets.root", "dask": True},
    "features": ["e_reco"],
    "pipeline": [{"NumericalInversion": {}}],
}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"kind": "local", "job": 2}, r"unknown key cluster\.job \(did you mean 'jobs'\?\)"),
        ({"kind": "lsf"}, r"cluster\.kind must be one of \['local', 'htcondor', 'slurm', 'pbs'\]"),
        ({"jobs": "2"}, r"cluster\.jobs must be int, got str: '2'"),
        ({"jobs": True}, r"cluster\.jobs must be int, got bool"),
        ({"jobs": 0}, r"cluster\.jobs must be at least 1, got 0"),
        ({"memory": "lots"}, r"cluster\.memory must be a size such as '4 GiB', got 'lots'"),
        ({"kind": "local", "queue": "short"}, r"kind local takes no \['queue'\]"),
        ({"kind": "slurm", "cores": 2}, r"cluster\.memory is required for kind slurm"),
        ({"kind": "htcondor", "memory": "2 GiB"}, r"cluster\.disk is required for kind htcondor"),
        (
            {"kind": "slurm", "memory": "2 GiB", "walltime": "90 minutes"},
            r"cluster\.walltime must be HH:MM:SS, got '90 minutes'",
        ),
        (
            {"kind": "slurm", "memory": "2 GiB", "job_extra_directives": {"+A": "1"}},
            r"job_extra_directives must be a list of lines for slurm",
        ),
        ({"adaptive": {"minimum": 3, "maximum": 1}}, r"0 <= minimum <= maximum"),
        ({"adaptive": {"max": 4}}, r"cluster\.adaptive must be \{minimum: N, maximum: M\}"),
        ({"address": "tcp://127.0.0.1:8786", "jobs": 3}, r"it takes no \['jobs'\]"),
        ([1], r"cluster must be a mapping, got list"),
    ],
)
def test_a_bad_cluster_section_is_an_error_naming_its_key(section: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({**BASE, "cluster": section})


def test_a_cluster_needs_dask_input() -> None:
    raw = {**BASE, "data": {"source": "jets.root"}, "cluster": {"kind": "local"}}
    with pytest.raises(ConfigError, match=r"cluster needs data\.dask: true"):
        parse_config(raw)


def test_a_configuration_without_cluster_has_none_and_runs_as_before() -> None:
    assert parse_config(BASE).cluster is None
    with start_cluster(None) as client:
        assert client is None
        assert dask.array.ones(4).sum().compute() == 4.0  # Dask's local scheduler


def _pid() -> int:
    return os.getpid()


def test_a_local_cluster_runs_the_block_on_two_worker_processes_and_closes() -> None:
    cfg = parse_config({**BASE, "cluster": {"kind": "local", "jobs": 2, "memory": "1 GiB"}})
    assert cfg.cluster is not None
    with start_cluster(cfg.cluster) as client:
        assert distributed.default_client() is client
        client.wait_for_workers(2, timeout=120)
        workers = client.scheduler_info()["workers"].values()
        assert [w["nthreads"] for w in workers] == [1, 1]
        assert {w["memory_limit"] for w in workers} == {2**30}
        pids = set(client.run(_pid).values())
        assert len(pids) == 2 and os.getpid() not in pids
        # a plain dask compute inside the block runs on the cluster's workers
        x = da.arange(1000, chunks=100)
        assert int(x.sum().compute()) == 499500
        assert client.status == "running"
    assert client.status == "closed"
    with contextlib.suppress(ValueError):  # no client, or another test's under pytest-xdist
        assert distributed.default_client() is not client


def test_an_address_connects_to_a_running_scheduler() -> None:
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        cfg = parse_cluster({"address": cluster.scheduler_address})
        with start_cluster(cfg) as client:
            assert client.scheduler.address == cluster.scheduler_address
            assert np.asarray(da.ones(10, chunks=5).sum().compute()) == 10
        assert cluster.status.name == "running"  # the cluster is not ours to close


def test_a_cluster_file_holds_a_section_or_a_whole_configuration(tmp_path: Path) -> None:
    alone = tmp_path / "cluster.yaml"
    alone.write_text("cluster: {kind: slurm, memory: 4 GiB, jobs: 3}\n")
    expected = parse_cluster({"kind": "slurm", "memory": "4 GiB", "jobs": 3})
    assert cluster_from_file(alone) == expected
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster: {kind: local, cors: 2}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown key cluster\.cors"):
        cluster_from_file(bad)
    none = tmp_path / "none.yaml"
    none.write_text("data: {source: x.root}\n")
    with pytest.raises(ConfigError, match="no cluster section"):
        cluster_from_file(none)
    assert cluster_from_file(None) is None


def _job_script(section: dict[str, object]) -> str:
    cluster = make_cluster(parse_cluster(section))
    try:
        return str(cluster.job_script())
    finally:
        cluster.close()


def test_the_slurm_job_script_requests_the_configured_resources() -> None:
    pytest.importorskip("dask_jobqueue")
    script = _job_script(
        {
            "kind": "slurm",
            "cores": 4,
            "memory": "8 GiB",
            "processes": 2,
            "walltime": "02:30:00",
            "queue": "short",
            "account": "atlas-jets",
            "job_extra_directives": ["--gres=gpu:1"],
            "job_script_prologue": ["source /cvmfs/sft.cern.ch/setup.sh"],
        }
    )
    for line in (
        "#SBATCH -p short",
        "#SBATCH -A atlas-jets",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --mem=8G",
        "#SBATCH -t 02:30:00",
        "#SBATCH --gres=gpu:1",
        "source /cvmfs/sft.cern.ch/setup.sh",
    ):
        assert line in script.splitlines(), line
    # two worker processes share the 4 cores and 8 GiB
    assert "--nthreads 2 --memory-limit 4.00GiB --nworkers 2" in script


def test_the_htcondor_job_script_requests_the_configured_resources() -> None:
    pytest.importorskip("dask_jobqueue")
    script = _job_script(
        {
            "kind": "htcondor",
            "cores": 2,
            "memory": "4 GiB",
            "disk": "10 GiB",
            "walltime": "01:00:00",
            "queue": "longlunch",
            "job_extra_directives": {"+AccountingGroup": '"group_u_ATLAS.u_zp"'},
        }
    )
    lines = script.splitlines()
    for line in (
        "MY.DaskWorkerCores = 2",
        f"MY.DaskWorkerMemory = {4 * 2**30}",
        f"MY.DaskWorkerDisk = {10 * 2**30}",
        '+AccountingGroup = "group_u_ATLAS.u_zp"',
        "+MaxRuntime = 3600",
        '+JobFlavour = "longlunch"',
    ):
        assert line in lines, line
    assert "--nthreads 2 --memory-limit 4.00GiB" in script


def test_the_pbs_job_script_requests_the_configured_resources() -> None:
    pytest.importorskip("dask_jobqueue")
    script = _job_script({"kind": "pbs", "cores": 8, "memory": "16 GiB", "walltime": "04:00:00"})
    assert "#PBS -l select=1:ncpus=8:mem=16GB" in script
    assert "#PBS -l walltime=04:00:00" in script


def test_a_batch_cluster_whose_jobs_never_start_is_an_error_naming_the_timeout() -> None:
    pytest.importorskip("dask_jobqueue")
    if shutil.which("sbatch") is not None:
        pytest.skip("a real SLURM is here: the job could start")
    cfg = parse_cluster({"kind": "slurm", "memory": "1 GiB", "jobs": 1, "worker_timeout": 3})
    with pytest.raises(SkcalError, match=r"no Dask worker joined .* cluster\.worker_timeout = 3"):
        with start_cluster(cfg):
            pytest.fail("the block ran without a worker")
