"""The optional integrations of skcal.distributed: imported lazily, and a missing one names
its extra (jobqueue, daskml, xrootd)."""

from __future__ import annotations

import subprocess
import sys

import dask.array as da
import pytest

from skcal.distributed import fit_search, make_cluster, parse_cluster
from skcal.exceptions import MissingDependencyError
from skcal.io import read_jets


def test_importing_skcal_config_and_distributed_imports_no_optional_package() -> None:
    code = (
        "import sys, skcal.config, skcal.distributed, skcal.io; "
        "print(sorted(m for m in ('dask_ml', 'dask_jobqueue', 'fsspec_xrootd', 'XRootD') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_missing_dask_jobqueue_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)
    cfg = parse_cluster({"kind": "slurm", "memory": "4 GiB"})
    with pytest.raises(
        MissingDependencyError, match=r"cluster.kind slurm needs .*pip install 'skcal\[jobqueue\]'"
    ):
        make_cluster(cfg)


def test_a_missing_dask_ml_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask_ml", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'skcal\[daskml\]'"):
        fit_search(object(), da.ones(3))


def test_a_missing_xrootd_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "XRootD", None)
    monkeypatch.setitem(sys.modules, "XRootD.client", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'skcal\[xrootd\]'"):
        read_jets("root://eosatlas.cern.ch//eos/atlas/jets.root")
