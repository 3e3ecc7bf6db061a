"""The README's benchmark block: the headline, the closure over seeds and the targets.

Rendered from one results folder (``benchmarks/results/quick`` for the README) by
:func:`readme_block`; :func:`update_readme` replaces the block between the README's
markers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _harness import markdown_table
from _report import (
    CHECK_COLUMNS,
    find_result,
    headline,
    load,
    load_suite,
    skipped,
    skipped_note,
    targets,
)

README = Path(__file__).resolve().parent.parent / "README.md"
README_MARKERS = ("<!-- benchmarks:quick:start -->", "<!-- benchmarks:quick:end -->")


def closure_over_seeds(
    results: dict[str, dict[str, Any]], skip: dict[str, str] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The closure benchmark's spread over training seeds: a sentence and its table."""
    closure = find_result(results, "closure", "closure_quick")
    if closure is None or "closure" in (skip or {}):
        return "", []
    p = closure["parameters"]
    keys = ("calibration", "binning", "seeds", "worst_30_50_median", "worst_30_50_max")
    keys += ("worst_ge_50_median", "worst_ge_50_max", "worst_vs_chain")
    rows = [{k: row.get(k) for k in keys} for row in closure["results"]]
    return (
        f"Closure at the defaults over training seeds {p['seeds']} ({p['n_train']:,} training "
        f"jets, {p['epochs'] or 'default'} epochs, {p['n_test']:,} held out): the worst-bin "
        "|mode - 1| at 30-50 GeV and from 50 GeV, median and worst (max) over the seeds, "
        "in the suite's fine and a coarse 6 x 6 binning.",
        rows,
    )


def readme_block(results_dir: Path) -> str:
    """The README's benchmark table: the headline and the targets of the run in ``results_dir``."""
    results = load(results_dir)
    suite = load_suite(results_dir)
    if suite is None:
        raise FileNotFoundError(f"{results_dir / 'suite.json'} not found: run the suite first")
    skip = skipped(suite)
    peers = find_result(results, "peers", "peers_quick")
    sample = (
        ""
        if peers is None or "peers" in skip
        else (
            f" Quality on {peers['parameters']['n_test']:,} held-out small-R jets "
            f"(trained on {peers['parameters']['n_train']:,})."
        )
    )
    checks = [{k: c[k] for k in CHECK_COLUMNS} for c in targets(results, skip)]
    seeds_note, seeds_rows = closure_over_seeds(results, skip)
    return "\n".join(
        [
            f"Latest `{suite['size']}` run: {suite['finished'][:10]}, "
            f"{suite['wall_s'] / 60:.1f} min on "
            f"{suite['machine']['cpus']} CPUs.{sample} "
            "Closure is |mode - 1| in the worst and the median "
            "(pT_true, |eta_true|) bin above 30 GeV; "
            "resolution over the oracle floor per pT_true bin. "
            "Each speed ratio is the median of 9 alternating rounds after a warm-up, with "
            "its min and max and the median's confidence interval low-high (the second "
            "smallest to the second largest round); its verdict is pass or fail only when "
            "the whole low-high interval lies on one side of the target, else unclear.",
            "",
            markdown_table(headline(results, skip)),
            *([seeds_note, "", markdown_table(seeds_rows)] if seeds_rows else []),
            markdown_table(checks) + skipped_note(skip),
        ]
    )


def update_readme(results_dir: Path, readme: Path = README) -> None:
    """Replace the README's block between ``README_MARKERS`` with :func:`readme_block`."""
    text = readme.read_text()
    missing = [marker for marker in README_MARKERS if marker not in text]
    if missing:
        raise ValueError(f"{readme} has no {' and no '.join(missing)}: nothing to replace")
    start, end = (text.index(marker) for marker in README_MARKERS)
    readme.write_text(
        text[: start + len(README_MARKERS[0])] + "\n" + readme_block(results_dir) + text[end:]
    )
