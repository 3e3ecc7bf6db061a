"""What the report wrote: the folder, the metrics and the tables behind every figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["CalibrationReport"]


@dataclass
class CalibrationReport:
    """What :func:`report` wrote, and the tables behind every figure.

    Attributes
    ----------
    output_dir : Path
        The folder holding the PNGs, ``metrics.json`` and ``index.html``.
    metrics : dict
        The content of ``metrics.json``.
    tables : dict of str to dict of str to DataFrame
        Per section (``closure_pt``, ``closure_eta``, ``flavour``, ``pileup_npv``,
        ``pileup_mu``, ``spectrum``, ``pulls``), per model, the table behind its plots.
    figures : list of Path
        The PNGs written.

    Examples
    --------
    >>> from pathlib import Path
    >>> from skcal.evaluation import CalibrationReport
    >>> summary = {"summary": {"nn": {"flags": ["closure 0.95 outside +-1%"]}}}
    >>> result = CalibrationReport(output_dir=Path("report"), metrics=summary)
    >>> result.html.as_posix(), result.flagged("nn")
    ('report/index.html', ['closure 0.95 outside +-1%'])
    """

    output_dir: Path
    metrics: dict[str, Any]
    tables: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)

    @property
    def html(self) -> Path:
        """The HTML page that shows every figure."""
        return self.output_dir / "index.html"

    def flagged(self, model: str) -> list[str]:
        """Human-readable findings for ``model`` (bins out of tolerance, pile-up slopes, ...)."""
        return list(self.metrics["summary"][model]["flags"])
