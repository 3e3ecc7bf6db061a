"""``skcal export MODEL -o calib.onnx | calib.json``: a fitted model for use without skcal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skcal._outputs import check_output_path
from skcal.exceptions import ExportError

__all__ = ["add_export_command"]

#: Output suffixes and the exporter each selects.
FORMATS = {".onnx": "onnx", ".json": "correctionlib", ".gz": "correctionlib"}


def _export(args: argparse.Namespace) -> None:
    from skcal.export import to_correctionlib, to_onnx
    from skcal.tracking import load_calibrator

    out: Path = args.output
    kind = FORMATS.get(out.suffix)
    if kind is None or (out.suffix == ".gz" and not out.name.endswith(".json.gz")):
        raise ExportError(
            f"-o {out}: the format comes from the suffix: .onnx (a neural pipeline, ONNX) or "
            ".json / .json.gz (the standard chain, correctionlib)"
        )
    check_output_path(out, overwrite=args.overwrite, hint="pass --overwrite to replace it")
    model = load_calibrator(args.model)
    exporter: Any = to_onnx if kind == "onnx" else to_correctionlib
    exporter(model, out)
    print(out)


def add_export_command(commands: Any) -> None:
    """Add ``export`` to the subcommands of the ``skcal`` parser."""
    export = commands.add_parser(
        "export",
        help="write a fitted model as ONNX (neural) or correctionlib JSON (standard chain)",
    )
    export.add_argument("model", help="a file from save_calibrator, or an MLflow model URI")
    export.add_argument(
        "-o", "--output", type=Path, required=True, help="calib.onnx, calib.json or .json.gz"
    )
    export.add_argument("--overwrite", action="store_true", help="replace an existing output")
    export.set_defaults(handler=_export)
