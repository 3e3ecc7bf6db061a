"""The output paths of the command line, planned and checked before anything is written.

Every command that writes files plans all of its outputs first, then checks the plan
as a whole: no output is an input (whatever ``--overwrite`` says), no two outputs are
one file, every folder exists and no existing file is replaced without
``--overwrite``. Only then is the first file written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from skcal._outputs import check_output_path
from skcal.exceptions import ParameterError

__all__ = ["calibrate_outputs", "simulate_outputs", "source_path"]

_HINT = "pass --overwrite to replace it"


def source_path(text: str) -> Path | str:
    """An input of the command line: a local path, or a URL (``root://``, ``https://``) as is."""
    from skcal.io._remote import is_url

    return text if is_url(text) else Path(text)


def _same_file(a: Path | str, b: Path | str) -> bool:
    """Whether two paths name one file (links and ``..`` included); URLs by their text."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def calibrate_outputs(
    inputs: Sequence[Path | str],
    output_dir: Path,
    suffix: str,
    *,
    overwrite: bool,
    keep: Sequence[Path] = (),
) -> dict[Path | str, Path]:
    """Each input file of ``skcal calibrate`` -> its output, all checked together.

    ``keep`` are other files that are read and so never written (the model file). An
    input may be a URL (:func:`source_path`): its output is named after the URL's file.

    Raises
    ------
    FileNotFoundError
        An input that is not a file, or a missing output folder.
    FileExistsError
        An output that is an input (never allowed, even with ``overwrite``), an input
        given twice, two inputs with one output, or an existing output without
        ``overwrite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> (tmp / "a.root").touch()
    >>> out = calibrate_outputs([tmp / "a.root"], tmp, "_calib", overwrite=False)
    >>> [path.name for path in out.values()]
    ['a_calib.root']
    >>> calibrate_outputs([tmp / "a.root"], tmp, "", overwrite=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileExistsError: .../a.root is the input ...; calibrate never overwrites its inputs...
    """
    for source in inputs:
        if isinstance(source, Path) and not source.is_file():
            raise FileNotFoundError(f"no input file {source}")
    outputs: dict[Path | str, Path] = {}
    for source in inputs:
        seen = next((s for s in outputs if _same_file(s, source)), None)
        if seen is not None:
            raise FileExistsError(
                f"{source} is given twice (also as {seen}); each input is calibrated once"
            )
        name = Path(source.rsplit("/", 1)[-1]) if isinstance(source, str) else source
        out = output_dir / f"{name.stem}{suffix}{name.suffix}"
        for other in [*inputs, *keep]:
            if _same_file(out, other):
                raise FileExistsError(
                    f"{out} is the input {other}; calibrate never overwrites its inputs, "
                    "even with --overwrite (choose another --output-dir or --suffix)"
                )
        clash = next((s for s, o in outputs.items() if _same_file(o, out)), None)
        if clash is not None:
            raise FileExistsError(
                f"{clash} and {source} would both be written to {out}; calibrate never "
                "writes two outputs to one file (calibrate them into separate folders)"
            )
        outputs[source] = out
    for out in outputs.values():
        check_output_path(out, overwrite=overwrite, hint=_HINT)
    return outputs


def simulate_outputs(output: Path, n_jets: int, files: int, *, overwrite: bool) -> list[Path]:
    """The files of ``skcal simulate``, checked (and the split of the jets) before writing.

    Raises
    ------
    ParameterError
        Fewer jets than files: some file would hold no jet.
    FileNotFoundError, FileExistsError
        A missing folder, or an existing file without ``overwrite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "few.root"
    >>> [p.name for p in simulate_outputs(out, 10, 2, overwrite=False)]
    ['few_000.root', 'few_001.root']
    >>> simulate_outputs(out, 2, 3, overwrite=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ParameterError: --files 3 splits 2 jets into files of fewer than one jet; ...
    """
    if n_jets < files:
        raise ParameterError(
            f"--files {files} splits {n_jets} jets into files of fewer than one jet; "
            f"ask for at most {n_jets} files"
        )
    if files == 1:
        paths = [output]
    else:
        paths = [output.with_name(f"{output.stem}_{i:03d}{output.suffix}") for i in range(files)]
    for path in paths:
        check_output_path(path, overwrite=overwrite, hint=_HINT)
    return paths
