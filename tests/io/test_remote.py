"""Remote files through fsspec: a real HTTP server on the loopback interface (started
here, with byte ranges, as XRootD's and S3's HTTP endpoints serve them), fsspec's memory
file system, and a real local XRootD server where the ``xrootd`` daemon is installed.
A remote read gives the same table as a local one, and the same errors."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pytest
import uproot
import yaml

from skcal.cli import main
from skcal.datasets import make_jets
from skcal.exceptions import MissingDependencyError, ROOTFileError
from skcal.io import read_jets, write_root
from skcal.tracking import load_calibrator

COLUMNS = ["e_reco", "pt_reco", "eta", "mu", "e_true"]


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that answers ``Range: bytes=a-b`` requests (206)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        wanted = self.headers.get("Range")
        if not wanted or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        first, _, last = wanted.removeprefix("bytes=").partition("-")
        start, stop = int(first), min(int(last) if last else size - 1, size - 1)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(stop - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{stop}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("remote")
    write_root(make_jets(30_000, random_state=1), path / "train.root")
    write_root(make_jets(4_000, random_state=2), path / "test.root")
    return path


@pytest.fixture(scope="module")
def http_url(folder: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_RangeHandler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def test_an_http_read_gives_the_same_table_as_a_local_one(folder: Path, http_url: str) -> None:
    local = read_jets(folder / "test.root", columns=COLUMNS, cuts={"pt_true": (30, None)})
    remote = read_jets(
        f"{http_url}/test.root", columns=COLUMNS, cuts={"pt_true": (30, None)}, step_size="20 kB"
    )
    pd.testing.assert_frame_equal(remote, local)
    assert remote.attrs["read_summary"] == local.attrs["read_summary"]
    lazy = read_jets(f"{http_url}/test.root", columns=COLUMNS, dask=True, step_size=1000)
    assert lazy.npartitions == 4
    pd.testing.assert_frame_equal(
        lazy.compute().reset_index(drop=True), read_jets(folder / "test.root", columns=COLUMNS)
    )


def test_a_missing_remote_file_or_tree_is_the_same_error_as_a_local_one(
    folder: Path, http_url: str
) -> None:
    with pytest.raises(ROOTFileError, match=rf"file not found: '{http_url}/nothing\.root'"):
        read_jets(f"{http_url}/nothing.root")
    with pytest.raises(ROOTFileError) as local:
        read_jets(folder / "test.root", tree="jetz")
    with pytest.raises(ROOTFileError) as remote:
        read_jets(f"{http_url}/test.root", tree="jetz")
    url = f"{http_url}/test.root"
    assert str(remote.value) == str(local.value).replace(str(folder / "test.root"), url)
    assert "no tree 'jetz' in the file; it holds ['jets']; closest: 'jets'" in str(remote.value)


def test_memory_urls_and_their_globs_read_as_local_files(folder: Path) -> None:
    for name in ("test.root", "train.root"):
        with fsspec.open(f"memory://skcal-test/{name}", "wb") as f:
            f.write((folder / name).read_bytes())
    try:
        both = read_jets("memory://skcal-test/*.root", columns=COLUMNS)
        local = read_jets([folder / "test.root", folder / "train.root"], columns=COLUMNS)
        pd.testing.assert_frame_equal(both, local)
        with pytest.raises(ROOTFileError, match=r"no file matches the pattern 'memory://nope/\*"):
            read_jets("memory://nope/*.root")
    finally:
        fsspec.filesystem("memory").rm("/skcal-test", recursive=True)


def test_a_protocol_without_its_package_names_what_to_install() -> None:
    if importlib_missing("s3fs"):
        with pytest.raises(MissingDependencyError, match="needs fsspec's s3:// implementation"):
            read_jets("s3://bucket/jets.root")
    if importlib_missing("XRootD"):
        with pytest.raises(MissingDependencyError, match=r"pip install 'skcal\[xrootd\]'"):
            read_jets("root://eosatlas.cern.ch//eos/atlas/jets.root")
    with pytest.raises(ROOTFileError, match="unknown protocol 'nosuch'"):
        read_jets("nosuch://host/jets.root")


def importlib_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None


def test_fit_and_calibrate_read_urls_from_the_command_line(
    folder: Path, http_url: str, tmp_path: Path
) -> None:
    def fit(source: str, name: str) -> Any:
        config = {
            "data": {"source": source, "dask": True, "step_size": 10_000},
            "features": ["e_reco", "pt_reco", "eta"],
            "pipeline": [{"NumericalInversion": {"min_entries": 50}}],
            "output": {"model": str(tmp_path / f"{name}.joblib")},
        }
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(config))
        assert main(["fit", str(tmp_path / f"{name}.yaml")]) == 0
        return load_calibrator(tmp_path / f"{name}.joblib")

    remote = fit(f"{http_url}/train.root", "remote")
    local = fit(str(folder / "train.root"), "local")
    np.testing.assert_array_equal(remote[-1].response_grid_, local[-1].response_grid_)
    out = tmp_path / "calibrated"
    out.mkdir()
    model = str(tmp_path / "remote.joblib")
    assert main(["calibrate", f"{http_url}/test.root", "-m", model, "-o", str(out), "-q"]) == 0
    table = uproot.open(out / "test_calib.root")["jets"].arrays(library="pd")
    original = read_jets(folder / "test.root", columns=["e_reco", "pt_reco", "eta"])
    np.testing.assert_array_equal(table.r_pred, local.predict(original))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _xrootd_server(export: Path) -> Iterator[int]:
    """A real XRootD server on the loopback interface exporting ``export``."""
    port, logs = _free_port(), Path(tempfile.mkdtemp(prefix="skcal-xrootd-log-"))
    config = logs / "xrootd.cfg"
    config.write_text(f"all.export {export}\nxrd.port {port}\n")
    command = ["xrootd", "-c", str(config), "-l", str(logs / "xrootd.log"), "-n", "skcal-test"]
    if os.geteuid() == 0:  # xrootd refuses to serve as root: drop to its own user
        user = pwd.getpwnam("xrootd")
        os.chown(logs, user.pw_uid, user.pw_gid)
        command[1:1] = ["-R", "xrootd"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode() if server.stderr else ""
                pytest.fail(f"the xrootd server did not start: {err}")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(logs, ignore_errors=True)


@pytest.mark.skipif(shutil.which("xrootd") is None, reason="no xrootd daemon (xrootd-server)")
def test_a_root_url_through_a_real_xrootd_server_reads_as_a_local_file(folder: Path) -> None:
    pytest.importorskip("XRootD.client", reason="the xrootd extra: pip install 'skcal[xrootd]'")
    if os.geteuid() == 0:
        pytest.importorskip("pwd").getpwnam("xrootd")  # the server's user
    export = Path(tempfile.mkdtemp(prefix="skcal-xrootd-"))
    export.chmod(0o755)
    try:
        for name in ("test.root", "train.root"):
            shutil.copy(folder / name, export / name)
            (export / name).chmod(0o644)
        with _xrootd_server(export) as port:
            base = f"root://127.0.0.1:{port}/{export}"
            pd.testing.assert_frame_equal(
                read_jets(f"{base}/test.root", columns=COLUMNS),
                read_jets(folder / "test.root", columns=COLUMNS),
            )
            lazy = read_jets(f"{base}/*.root", columns=COLUMNS, dask=True, step_size="50 kB")
            local = read_jets([folder / "test.root", folder / "train.root"], columns=COLUMNS)
            pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), local)
            with pytest.raises(ROOTFileError, match=rf"file not found: '{base}/nothing\.root'"):
                read_jets(f"{base}/nothing.root")
    finally:
        shutil.rmtree(export, ignore_errors=True)
