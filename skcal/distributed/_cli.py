"""The command line's ``--cluster FILE`` option (``skcal evaluate``, ``skcal calibrate``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skcal.distributed._cluster import ClusterConfig, parse_cluster, start_cluster
from skcal.exceptions import ConfigError, SkcalError

__all__ = ["add_cluster_option", "cluster_from_file", "command_cluster", "start_cluster"]


def add_cluster_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--cluster FILE``: run the command's Dask work on that file's cluster."""
    parser.add_argument(
        "--cluster",
        type=Path,
        default=None,
        metavar="FILE",
        help="a YAML file with a cluster: section (or a training configuration with one): "
        "run on that Dask cluster (local, htcondor, slurm, pbs or a scheduler address)",
    )


def command_cluster(args: argparse.Namespace) -> ClusterConfig | None:
    """The cluster of a command's ``--cluster`` (None without one); it needs Dask input."""
    if args.cluster is not None and not getattr(args, "dask", True):
        raise SkcalError("--cluster needs --dask (a table in memory is not distributed)")
    return cluster_from_file(args.cluster)


def cluster_from_file(path: Path | None) -> ClusterConfig | None:
    """The ``cluster:`` section of ``path`` (None for no file), validated.

    The file holds a ``cluster:`` section alone, or is a whole training configuration
    (validated as such) with one.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ConfigError
        Invalid YAML, no ``cluster:`` section, or an invalid one.
    """
    if path is None:
        return None
    import yaml

    from skcal.config import load_config

    if not path.is_file():
        raise FileNotFoundError(f"no cluster file {path}")
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if isinstance(raw, dict) and set(raw) == {"cluster"}:
        try:
            return parse_cluster(raw["cluster"])
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(raw, dict) or "cluster" not in raw:
        raise ConfigError(f"{path}: no cluster section (cluster: {{kind: local, jobs: 2}})")
    cluster = load_config(path).cluster
    assert cluster is not None
    return cluster
