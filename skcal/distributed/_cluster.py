"""The Dask cluster of a command: a ``cluster:`` section, validated, started and closed.

``kind: local`` is a :class:`distributed.LocalCluster` of worker processes; ``htcondor``,
``slurm`` and ``pbs`` are dask-jobqueue clusters (the ``jobqueue`` extra) whose workers
are batch jobs; ``address`` connects to a scheduler that is already running (a site's
facility, ``dask scheduler`` started by hand). The section is checked like the rest of
a configuration: an unknown key, a wrong type or a value the kind cannot take is a
:class:`~skcal.exceptions.ConfigError` naming ``cluster.<key>``, before anything starts.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from skcal._validation import suggest_name
from skcal.exceptions import ConfigError, SkcalError

logger = logging.getLogger("skcal.distributed")

__all__ = ["KINDS", "ClusterConfig", "make_cluster", "parse_cluster", "start_cluster"]

#: The kinds of cluster, and the dask-jobqueue class of each batch kind.
KINDS = {"local": None, "htcondor": "HTCondorCluster", "slurm": "SLURMCluster", "pbs": "PBSCluster"}
_WALLTIME = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


@dataclass(frozen=True)
class ClusterConfig:
    """Where a command's Dask work runs: the ``cluster:`` section of a configuration.

    Parameters
    ----------
    kind : {"local", "htcondor", "slurm", "pbs"}
        A LocalCluster of worker processes, or a dask-jobqueue cluster of batch jobs.
        Ignored when ``address`` is given.
    address : str, optional
        The address of a running scheduler (``tcp://host:8786``): connect, start nothing.
    jobs : int
        Worker processes of a local cluster; batch jobs of a batch cluster (each with
        ``processes`` worker processes), unless ``adaptive`` scales them.
    cores, memory, processes
        Per local worker (threads, memory limit) or per batch job (cores and memory
        requested, worker processes that share them). ``memory`` such as ``"4 GiB"``.
    walltime : str, optional
        ``HH:MM:SS`` per batch job (SLURM, PBS; HTCondor: ``+MaxRuntime``).
    queue, account, disk : str, optional
        The batch queue (partition), the account charged, the disk per HTCondor job.
    adaptive : dict, optional
        ``{minimum: 0, maximum: 10}``: scale between so many jobs (workers) with load.
    job_extra_directives : list of str or dict
        Extra lines of the job script (``["--gres=gpu:1"]`` for SLURM), or for HTCondor
        a mapping of submit-file keys (``{"+AccountingGroup": '"group_u_X"'}``).
    job_script_prologue : list of str
        Shell lines run before the worker starts (``source /cvmfs/.../setup.sh``).
    log_directory, local_directory : str, optional
        The jobs' log folder; the workers' scratch folder.
    worker_timeout : float
        Seconds to wait for the first worker before the command goes on (0: do not wait).

    Examples
    --------
    >>> from skcal.distributed import parse_cluster
    >>> cfg = parse_cluster({"kind": "slurm", "cores": 4, "memory": "8 GiB", "jobs": 3})
    >>> cfg.kind, cfg.cores, cfg.memory, cfg.jobs
    ('slurm', 4, '8 GiB', 3)
    """

    kind: str = "local"
    address: str | None = None
    jobs: int = 2
    cores: int = 1
    memory: str | None = None
    processes: int = 1
    walltime: str | None = None
    queue: str | None = None
    account: str | None = None
    disk: str | None = None
    adaptive: dict[str, int] | None = None
    job_extra_directives: list[str] | dict[str, str] = field(default_factory=list)
    job_script_prologue: list[str] = field(default_factory=list)
    log_directory: str | None = None
    local_directory: str | None = None
    worker_timeout: float = 120.0


def _expect(key: str, value: Any, *types: type) -> Any:
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        wanted = " or ".join(t.__name__ for t in types)
        raise ConfigError(f"cluster.{key} must be {wanted}, got {type(value).__name__}: {value!r}")
    return value


_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "address": (str, type(None)),
    "jobs": (int,),
    "cores": (int,),
    "memory": (str, type(None)),
    "processes": (int,),
    "walltime": (str, type(None)),
    "queue": (str, type(None)),
    "account": (str, type(None)),
    "disk": (str, type(None)),
    "adaptive": (dict, type(None)),
    "job_extra_directives": (list, dict),
    "job_script_prologue": (list,),
    "log_directory": (str, type(None)),
    "local_directory": (str, type(None)),
    "worker_timeout": (int, float),
}


def parse_cluster(raw: Any) -> ClusterConfig:
    """Validate a ``cluster:`` section (a dict, as YAML loads it).

    Raises
    ------
    ConfigError
        An unknown key (with the closest known one), a wrong type, an unknown kind, a
        memory or walltime that does not parse, a count that is not positive, keys that
        the kind does not take (``queue`` for a local cluster).

    Examples
    --------
    >>> parse_cluster({"kind": "local", "jobs": 2}).jobs
    2
    >>> parse_cluster({"kind": "lsf"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ConfigError: cluster.kind must be one of ['local', 'htcondor', ...
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"cluster must be a mapping, got {type(raw).__name__}: {raw!r}")
    known = [f.name for f in fields(ClusterConfig)]
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"unknown key cluster.{key}{suggest_name(str(key), known)}; known keys: {known}"
            )
        _expect(key, raw[key], *_TYPES[key])
    cfg = ClusterConfig(**raw)
    if cfg.kind not in KINDS:
        raise ConfigError(f"cluster.kind must be one of {list(KINDS)}, got {cfg.kind!r}")
    for key in ("jobs", "cores", "processes"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"cluster.{key} must be at least 1, got {getattr(cfg, key)}")
    if cfg.worker_timeout < 0:
        raise ConfigError(f"cluster.worker_timeout must be >= 0, got {cfg.worker_timeout}")
    _check_sizes(cfg)
    _check_kind(cfg, raw)
    return cfg


def _check_sizes(cfg: ClusterConfig) -> None:
    from dask.utils import parse_bytes

    for key in ("memory", "disk"):
        value = getattr(cfg, key)
        if value is None:
            continue
        try:
            if parse_bytes(value) <= 0:
                raise ValueError("not positive")
        except ValueError as exc:
            raise ConfigError(f"cluster.{key} must be a size such as '4 GiB', got {value!r}") from (
                exc
            )
    if cfg.walltime is not None and not _WALLTIME.match(cfg.walltime):
        raise ConfigError(f"cluster.walltime must be HH:MM:SS, got {cfg.walltime!r}")
    if cfg.adaptive is not None:
        extra = set(cfg.adaptive) - {"minimum", "maximum"}
        if extra or "maximum" not in cfg.adaptive:
            raise ConfigError(
                f"cluster.adaptive must be {{minimum: N, maximum: M}}, got {cfg.adaptive!r}"
            )
        low, high = cfg.adaptive.get("minimum", 0), cfg.adaptive["maximum"]
        for key, value in (("minimum", low), ("maximum", high)):
            _expect(f"adaptive.{key}", value, int)
        if not 0 <= low <= high or high < 1:
            raise ConfigError(
                f"cluster.adaptive needs 0 <= minimum <= maximum, maximum >= 1; got {low}, {high}"
            )


def _check_kind(cfg: ClusterConfig, raw: dict[str, Any]) -> None:
    batch_only = ["walltime", "queue", "account", "disk", "job_extra_directives"]
    batch_only += ["job_script_prologue", "log_directory"]
    if cfg.address is not None:
        ignored = [k for k in raw if k not in ("address", "kind", "worker_timeout")]
        if ignored:
            raise ConfigError(
                f"cluster.address connects to a running scheduler; it takes no {ignored}"
            )
        return
    if cfg.kind == "local":
        wrong = [k for k in batch_only if k in raw]
        if wrong or "processes" in raw:
            raise ConfigError(
                f"cluster.kind local takes no {wrong or ['processes']} (batch-job settings); "
                "its workers are 'jobs' processes with 'cores' threads and 'memory' each"
            )
        return
    if cfg.memory is None:
        raise ConfigError(f"cluster.memory is required for kind {cfg.kind} (per job, '4 GiB')")
    if cfg.kind == "htcondor":
        if cfg.disk is None:
            raise ConfigError("cluster.disk is required for kind htcondor (per job, '2 GiB')")
        if not isinstance(cfg.job_extra_directives, dict):
            raise ConfigError(
                "cluster.job_extra_directives must be a mapping of submit-file keys for "
                f"htcondor, got {cfg.job_extra_directives!r}"
            )
    elif isinstance(cfg.job_extra_directives, dict):
        raise ConfigError(
            f"cluster.job_extra_directives must be a list of lines for {cfg.kind}, "
            f"got {cfg.job_extra_directives!r}"
        )
    elif cfg.disk is not None:
        raise ConfigError(f"cluster.disk is for htcondor only, not {cfg.kind}")


def _seconds(walltime: str) -> int:
    h, m, s = (int(x) for x in walltime.split(":"))
    return h * 3600 + m * 60 + s


def _jobqueue_kwargs(cfg: ClusterConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "cores": cfg.cores,
        "memory": cfg.memory,
        "processes": cfg.processes,
        "job_script_prologue": list(cfg.job_script_prologue),
        "log_directory": cfg.log_directory,
        "local_directory": cfg.local_directory,
    }
    extra = cfg.job_extra_directives
    if cfg.kind == "htcondor":
        assert isinstance(extra, dict)
        extra = dict(extra)
        if cfg.walltime is not None:
            extra.setdefault("+MaxRuntime", str(_seconds(cfg.walltime)))
        kwargs.update(disk=cfg.disk, job_extra_directives=extra)
    else:
        kwargs.update(walltime=cfg.walltime, queue=cfg.queue, account=cfg.account)
        kwargs["job_extra_directives"] = list(extra)
    if cfg.kind == "htcondor" and cfg.queue is not None:
        kwargs["job_extra_directives"].setdefault("+JobFlavour", f'"{cfg.queue}"')
    return {k: v for k, v in kwargs.items() if v is not None}


def make_cluster(cfg: ClusterConfig) -> Any:
    """The cluster of ``cfg``, started but not scaled: no batch job is submitted yet.

    A batch cluster's ``job_script()`` shows the job that scaling it would submit.
    With ``address``, there is no cluster object to make: a ConfigError.
    """
    if cfg.address is not None:
        raise ConfigError("cluster.address names a running scheduler: there is no cluster to make")
    if cfg.kind == "local":
        import distributed

        return distributed.LocalCluster(
            n_workers=0,
            threads_per_worker=cfg.cores,
            processes=True,
            memory_limit=cfg.memory or "auto",
            local_directory=cfg.local_directory,
            dashboard_address=":0",
        )
    from skcal._optional import import_optional

    jobqueue = import_optional("dask_jobqueue", purpose=f"cluster.kind {cfg.kind}")
    return getattr(jobqueue, str(KINDS[cfg.kind]))(**_jobqueue_kwargs(cfg))


def _close(cluster: Any) -> None:
    """Close a cluster (and cancel its jobs); a failure to close is logged, so that it
    never hides the error that ended the block (dask-jobqueue cannot close a cluster
    whose jobs failed to submit)."""
    try:
        cluster.close()
    except Exception as exc:
        logger.warning("closing the Dask cluster failed: %s: %s", type(exc).__name__, exc)


@contextlib.contextmanager
def start_cluster(cfg: ClusterConfig | None) -> Iterator[Any]:
    """Run the block on the cluster of ``cfg``; yield its ``distributed.Client`` (or None).

    The client is the default scheduler inside the block, so every Dask computation of
    a fit, an evaluation or a calibration runs on the cluster's workers; the cluster (and
    its batch jobs) and the client are closed when the block ends, also on an error.
    ``None`` runs the block as it is, on Dask's local scheduler.

    Examples
    --------
    >>> from skcal.distributed import parse_cluster, start_cluster
    >>> with start_cluster(None) as client:
    ...     client is None
    True
    """
    if cfg is None:
        yield None
        return
    import distributed

    with contextlib.ExitStack() as stack:
        if cfg.address is not None:
            client = stack.enter_context(distributed.Client(cfg.address))
        else:
            cluster = make_cluster(cfg)
            stack.callback(_close, cluster)
            if cfg.adaptive is not None:
                low, high = cfg.adaptive.get("minimum", 0), cfg.adaptive["maximum"]
                if cfg.kind == "local":
                    cluster.adapt(minimum=low, maximum=high)
                else:
                    cluster.adapt(minimum_jobs=low, maximum_jobs=high)
            elif cfg.kind == "local":
                cluster.scale(cfg.jobs)
            else:
                cluster.scale(jobs=cfg.jobs)
            client = stack.enter_context(distributed.Client(cluster))
        if cfg.worker_timeout > 0:
            try:
                client.wait_for_workers(1, timeout=cfg.worker_timeout)
            except TimeoutError as exc:
                raise SkcalError(
                    f"no Dask worker joined the cluster within cluster.worker_timeout = "
                    f"{cfg.worker_timeout} s ({client.dashboard_link}); check the batch "
                    "system's queue and the jobs' logs (cluster.log_directory)"
                ) from exc
        yield client
