"""Writing output files safely: never over an existing file unless asked, never half-written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_output", "check_output_path"]


def check_output_path(
    path: str | os.PathLike[str],
    *,
    overwrite: bool,
    hint: str = "pass overwrite=True to replace it",
) -> Path:
    """Refuse an output path whose folder is missing, or that exists (unless ``overwrite``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_output_path(pathlib.Path(tempfile.mkdtemp()) / "new.root", overwrite=False).name
    'new.root'
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; {hint}")
    return path


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``, renamed to ``path`` only if the block succeeds.

    An interrupted or failed write leaves neither a partial file under the final name
    nor the temporary file.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
