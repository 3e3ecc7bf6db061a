"""The report's HTML page: the summary table, the findings and every figure."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from skcal.evaluation._result import CalibrationReport
from skcal.evaluation._style import PlotStyle

_SECTIONS = (
    ("Closure versus pT", "closure_pt_eta"),
    ("Closure versus eta", "closure_eta_pt"),
    ("Resolution versus pT", "resolution_pt_eta"),
    ("Response distributions", "response_"),
    ("Flavour dependence", "flavour_"),
    ("Pile-up dependence (NPV)", "pileup_npv"),
    ("Pile-up dependence (mu)", "pileup_mu"),
    ("Spectrum dependence", "spectrum_"),
    ("Pulls", "pulls"),
    ("Feature importance", "importance"),
)


def write_html(result: CalibrationReport, style: PlotStyle) -> Path:
    summary = result.metrics["summary"]
    keys = [k for k in next(iter(summary.values())) if k != "flags"]
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(f"<td>{_fmt(s.get(k))}</td>" for k in keys)
        + "</tr>"
        for name, s in summary.items()
    )
    head = "<tr><th>model</th>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>"
    flags = "".join(
        f"<h3>{html.escape(name)}: {len(s['flags'])} finding(s)</h3><ul>"
        + "".join(f"<li>{html.escape(f)}</li>" for f in s["flags"][:50])
        + ("<li>...</li>" if len(s["flags"]) > 50 else "")
        + "</ul>"
        for name, s in summary.items()
    )
    names = sorted(p.name for p in result.figures)
    body = []
    for title, prefix in _SECTIONS:
        shown = [n for n in names if n.startswith(prefix)]
        if shown:
            body.append(
                f"<h2>{html.escape(title)}</h2><div class='grid'>"
                + "".join(f"<a href='{n}'><img src='{n}' alt='{n}'></a>" for n in shown)
                + "</div>"
            )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>skcal calibration report</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
.grid img{{width:32%;min-width:380px}}</style>
</head><body>
<h1>Calibration report: {html.escape(", ".join(result.metrics["models"]))}</h1>
<p>{result.metrics["n_jets"]:,} jets. {html.escape(style.sample)}
Definitions and every number in the plots: <a href="metrics.json">metrics.json</a>.</p>
<h2>Summary</h2><table>{head}{rows}</table>{flags}
{"".join(body)}
</body></html>
"""
    path = result.html
    path.write_text(page)
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if not math.isfinite(value) else f"{value:.4g}"
    return html.escape(str(value))
