"""Remote files: URLs that uproot opens through fsspec (``root://``, ``https://``, ``s3://``).

A URL is passed to uproot as it is; this module only checks, before any file is opened,
that its protocol can be read here (``root://`` needs fsspec-xrootd, the ``xrootd``
extra; ``s3://`` needs s3fs), and expands a glob in a URL with the protocol's own
listing (``root://host//store/sample/*.root``). A missing remote file or tree gives
the same :class:`~skcal.exceptions.ROOTFileError` as a local one.
"""

from __future__ import annotations

from skcal.exceptions import MissingDependencyError, ROOTFileError

__all__ = ["expand_url", "is_url"]

#: The fsspec protocols whose package is an extra of skcal.
_EXTRAS = {"root": "xrootd"}
_GLOB_CHARS = set("*?[")


def is_url(path: str) -> bool:
    """Whether ``path`` is a URL to read through fsspec (``file://`` is a local path).

    Examples
    --------
    >>> is_url("root://eosatlas.cern.ch//eos/atlas/jets.root"), is_url("jets.root")
    (True, False)
    """
    return "://" in path and not path.startswith("file://")


def _filesystem(url: str) -> tuple[object, str]:
    import fsspec

    protocol = url.split("://", 1)[0]
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
