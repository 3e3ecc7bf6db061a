"""Finding the files of a dataset and opening their trees, with errors that say which
file is wrong and how."""

from __future__ import annotations

import contextlib
import difflib
import glob
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import uproot

from skcal.exceptions import ROOTFileError
from skcal.io._remote import expand_url, is_url, open_options

__all__ = [
    "Source",
    "branch_names",
    "closest",
    "corrupt",
    "cluster_offsets",
    "empty_arrays",
    "find_tree",
    "num_entries",
    "open_tree",
    "read_arrays",
    "resolve_sources",
]

PathLike = str | os.PathLike[str]
Source = PathLike | Sequence[PathLike] | Mapping[PathLike, str]

_TREE_CLASSES = ("TTree", "ROOT::RNTuple", "ROOT::Experimental::RNTuple")
_GLOB_CHARS = set("*?[")


def closest(name: str, candidates: Sequence[str], n: int = 3) -> str:
    """A ``"; closest: a, b"`` hint for a misspelt name, or ``""``."""
    matches = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in candidates}
        matches = [
            lowered[m]
            for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
        ]
    return f"; closest: {', '.join(repr(m) for m in matches)}" if matches else ""


def _expand(item: PathLike) -> list[str]:
    path = os.path.expanduser(os.fspath(item))
    if is_url(path):
        return expand_url(path)
    if _GLOB_CHARS & set(path):
        found = sorted(glob.glob(path))
        if not found:
            raise ROOTFileError(f"no file matches the pattern {path!r}")
        return found
    if os.path.isdir(path):
        found = sorted(str(p) for p in Path(path).glob("*.root"))
        if not found:
            raise ROOTFileError(f"the directory {path!r} holds no '*.root' file")
        return found
    if not os.path.exists(path):
        raise ROOTFileError(f"file not found: {path!r}")
    return [path]


def resolve_sources(source: Source) -> list[tuple[str, str | None]]:
    """The (file, tree or None) pairs that ``source`` names, in a stable order.

    ``source`` is a path, a glob pattern, a directory (its ``*.root`` files), a list of
    those, or a dict of path (or pattern) -> tree name.

    Examples
    --------
    >>> from skcal.io._source import resolve_sources
    >>> resolve_sources({"https://example.org/a.root": "Events"})
    [('https://example.org/a.root', 'Events')]
    """
    pairs: list[tuple[str, str | None]]
    if isinstance(source, Mapping):
        pairs = []
        for item, tree in source.items():
            if not isinstance(tree, str):
                raise ROOTFileError(f"the tree name for {item!r} must be a string, not {tree!r}")
            pairs += [(path, tree) for path in _expand(item)]
    elif isinstance(source, (str, os.PathLike)):
        pairs = [(path, None) for path in _expand(source)]
    elif isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        pairs = [(path, None) for item in source for path in _expand(item)]
    else:
        raise ROOTFileError(
            "source must be a path, a glob, a list of paths or a dict of path -> tree, "
            f"not {source!r}"
        )
    if not pairs:
        raise ROOTFileError(f"source {source!r} names no file")
    return pairs


def corrupt(path: str, exc: BaseException, doing: str) -> ROOTFileError:
    return ROOTFileError(
        f"{path}: cannot {doing}: the file is truncated, corrupt or not a ROOT file "
        f"({type(exc).__name__}: {exc})"
    )


@contextlib.contextmanager
def open_file(path: str) -> Iterator[Any]:
    """``uproot.open`` with errors that name the file; closed on exit."""
    try:
        # No array cache: chunks are read once, and a cache would only hold memory.
        handle = uproot.open(path, array_cache=None, **open_options(path))
    except FileNotFoundError as exc:
        raise ROOTFileError(f"file not found: {path!r}") from exc
    except Exception as exc:  # uproot raises many kinds on a damaged file
        raise corrupt(path, exc, "open it") from exc
    try:
        yield handle
    finally:
        handle.close()


def _trees(handle: Any, path: str) -> list[str]:
    try:
        classes = handle.classnames(recursive=True, cycle=False)
    except Exception as exc:
        raise corrupt(path, exc, "list its contents") from exc
    return [name for name, cls in classes.items() if cls in _TREE_CLASSES]


def find_tree(handle: Any, path: str, tree: str | None, *, hint: str = "") -> tuple[str, Any]:
    """The named tree (TTree or RNTuple) of an open file, or the file's only one.

    Without a name, a file with one tree gives that tree, and a file with several gives
    the one called ``jets`` (the name ``write_root`` uses) if present.
    """
    available = _trees(handle, path)
    if tree is None:
        if len(available) == 1:
            tree = available[0]
        elif "jets" in available:
            tree = "jets"
        elif not available:
            raise ROOTFileError(f"{path}: the file holds no TTree or RNTuple{hint}")
        else:
            raise ROOTFileError(
                f"{path}: the file holds several trees {available}; name one with tree=...{hint}"
            )
    elif tree not in available:
        raise ROOTFileError(
            f"{path}: no tree {tree!r} in the file; it holds {available or 'no TTree or RNTuple'}"
            f"{closest(tree, available)}{hint}"
        )
    try:
        return tree, handle[tree]
    except Exception as exc:
        raise corrupt(path, exc, f"read the tree {tree!r}") from exc


def branch_names(obj: Any, path: str) -> list[str]:
    """Every branch (field) name of a tree, nested ones by their own and full names."""
    try:
        names = list(obj.keys(recursive=True, full_paths=False))
        names += [n for n in obj.keys(recursive=True, full_paths=True) if n not in names]
    except Exception as exc:  # an RNTuple reads its header and footer only now
        raise corrupt(path, exc, f"list the branches of {obj.name!r}") from exc
    return names


def num_entries(obj: Any, path: str) -> int:
    """The number of entries of a tree, a damaged file being a ROOTFileError."""
    try:
        return int(obj.num_entries)
    except Exception as exc:
        raise corrupt(path, exc, f"read the size of {obj.name!r}") from exc


@contextlib.contextmanager
def open_tree(path: str, tree: str | None, *, hint: str = "") -> Iterator[tuple[str, Any]]:
    """Open ``path`` and yield (tree name, tree object); both closed on exit."""
    with open_file(path) as handle:
        yield find_tree(handle, path, tree, hint=hint)


def read_arrays(
    obj: Any, path: str, tree: str, branches: Sequence[str], start: int, stop: int, library: str
) -> Any:
    """Entries ``[start, stop)`` of ``branches``; damage in the file is a ROOTFileError."""
    try:
        return obj.arrays(list(branches), entry_start=start, entry_stop=stop, library=library)
    except Exception as exc:
        doing = (
            f"read entries {start}-{stop} of {tree!r}"
            if stop > start
            else f"read the branches of {tree!r}"
        )
        raise corrupt(path, exc, doing) from exc


def empty_arrays(obj: Any, path: str, tree: str, branches: Sequence[str]) -> dict[str, Any]:
    """Arrays of no entries with the branches' types, from the metadata alone.

    ``arrays(entry_stop=0)`` would decompress the first basket (cluster) of every
    branch; the types are in the metadata.
    """
    import awkward as ak

    try:
        if hasattr(obj, "to_akform"):  # RNTuple
            form = obj.to_akform()
            form = form[0] if isinstance(form, tuple) else form
            return {b: ak.Array(form.content(b).length_zero_array()) for b in branches}
        return {
            b: ak.Array(obj[b].interpretation.awkward_form(obj.file).length_zero_array())
            for b in branches
        }
    except Exception:
        empty = read_arrays(obj, path, tree, branches, 0, 0, "ak")
        return {b: empty[b] for b in branches}


def cluster_offsets(obj: Any, branches: Sequence[str], n_entries: int) -> list[int]:
    """Entry numbers at which every one of ``branches`` starts a new basket (TTree) or
    cluster (RNTuple), from 0 to ``n_entries``; ``[0, n_entries]`` if unknown."""
    offsets: list[int] = []
    try:
        if hasattr(obj, "cluster_summaries"):
            offsets = [int(c.num_first_entry) for c in obj.cluster_summaries] + [n_entries]
        else:
            wanted = set(branches)
            offsets = [
                int(x) for x in obj.common_entry_offsets(filter_branch=lambda b: b.name in wanted)
            ]
    except Exception:
        offsets = []
    if len(offsets) < 2 or offsets[0] != 0 or offsets[-1] != n_entries:
        return [0, n_entries] if n_entries else [0]
    return sorted(set(offsets))
