"""Remote files: URLs that uproot opens through fsspec (``root://``, ``https://``, ``s3://``).

A URL is passed to uproot as it is; this module only checks, before any file is opened,
that its protocol can be read here (``root://`` needs the ``xrootd`` extra:
fsspec-xrootd and the XRootD client; ``s3://`` needs s3fs), and expands a glob in a URL
with the protocol's own listing (``root://host//store/sample/*.root``). ``root://``
files are read with uproot's own XRootD source: through fsspec-xrootd 0.5, uproot 5.7
fails to size a chunk in memory (``step_size="100 MB"``) because it passes numpy
integers as offsets, which the XRootD client refuses. A missing remote file or tree gives
the same :class:`~skcal.exceptions.ROOTFileError` as a local one.
"""

from __future__ import annotations

from typing import Any

from skcal.exceptions import MissingDependencyError, ROOTFileError

__all__ = ["expand_url", "is_url", "open_options"]

#: The fsspec protocols whose package is an extra of skcal.
_EXTRAS = {"root": "xrootd", "roots": "xrootd"}
_GLOB_CHARS = set("*?[")


def is_url(path: str) -> bool:
    """Whether ``path`` is a URL to read through fsspec (``file://`` is a local path).

    Examples
    --------
    >>> is_url("root://eosatlas.cern.ch//eos/atlas/jets.root"), is_url("jets.root")
    (True, False)
    """
    return "://" in path and not path.startswith("file://")


def open_options(path: str) -> dict[str, Any]:
    """The keyword arguments of ``uproot.open`` for ``path``: uproot's XRootD source for
    ``root://`` (see the module's docstring), nothing for other paths."""
    if not path.startswith(("root://", "roots://")):
        return {}
    _filesystem(path)
    import uproot

    return {"handler": uproot.source.xrootd.XRootDSource}


def _filesystem(url: str) -> tuple[object, str]:
    import fsspec

    protocol = url.split("://", 1)[0]
    if protocol in ("root", "roots"):
        _xrootd_client(url)
    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError as exc:
        extra = _EXTRAS.get(protocol)
        install = f"pip install 'skcal[{extra}]'" if extra else "install fsspec's package for it"
        raise MissingDependencyError(
            f"reading {url!r} needs fsspec's {protocol}:// implementation, which is not "
            f"installed ({exc}). Install it with: {install}"
        ) from exc
    except ValueError as exc:
        raise ROOTFileError(f"{url!r}: unknown protocol {protocol!r} ({exc})") from exc
    return fsspec.core.url_to_fs(url)


def _xrootd_client(url: str) -> None:
    try:
        import XRootD.client  # noqa: F401  (the client that uproot's XRootD source uses)
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading {url!r} needs the XRootD client, which is not installed ({exc}). "
            "Install it with: pip install 'skcal[xrootd]'"
        ) from exc


def expand_url(url: str) -> list[str]:
    """The URLs that ``url`` names: itself, or the matches of a glob in its path.

    Raises
    ------
    MissingDependencyError
        A protocol whose fsspec implementation is not installed (names the extra).
    ROOTFileError
        An unknown protocol, or a glob that matches no file.

    Examples
    --------
    >>> import fsspec
    >>> for name in ("a", "b"):
    ...     with fsspec.open(f"memory://doc/{name}.root", "wb") as f:
    ...         _ = f.write(b"")
    >>> expand_url("memory://doc/*.root")
    ['memory:///doc/a.root', 'memory:///doc/b.root']
    """
    fs, path = _filesystem(url)
    if not _GLOB_CHARS & set(url.split("://", 1)[1]):
        return [url]
    try:
        found = sorted(fs.glob(path))  # type: ignore[attr-defined]
    except OSError as exc:
        raise ROOTFileError(f"cannot list the files of {url!r}: {exc}") from exc
    if not found:
        raise ROOTFileError(f"no file matches the pattern {url!r}")
    return [fs.unstrip_protocol(p) for p in found]  # type: ignore[attr-defined]
