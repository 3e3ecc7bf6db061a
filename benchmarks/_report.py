"""The suite's report: each figure against its target, and RESULTS.md.

Read from the result JSON of one results folder (``<name>.json`` of each benchmark and
``suite.json`` of the runner). A speed ratio's verdict comes from the confidence
interval of its median over the rounds (``_harness.median_interval``: the min-max range
of 5 rounds, the second smallest to the second largest of 9; ``_harness.verdict``):
"pass" or "fail" only when the whole interval lies on one side of the target, else
"unclear". A benchmark that the runner recorded as skipped (an extra
not installed) keeps its rows in the tables, as "skipped".
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _harness import markdown_table, result_markdown, verdict

MAX_ROWS = 25  # longer tables are cut in RESULTS.md; the full table is in <name>.md
SKIPPED = "skipped"
CHECK_COLUMNS = ("check", "value", "low", "high", "min", "max", "target", "result")


def load(results_dir: Path) -> dict[str, dict[str, Any]]:
    """Every benchmark result (``<stem>.json`` with ``benchmark`` and ``results``) in the folder."""
    out = {}
    for path in sorted(results_dir.glob("*.json")):
        payload = json.loads(path.read_text())
        if isinstance(payload, dict) and "results" in payload and "benchmark" in payload:
            out[path.stem] = payload
    return out


def load_suite(results_dir: Path) -> dict[str, Any] | None:
    path = results_dir / "suite.json"
    return json.loads(path.read_text()) if path.exists() else None


def skipped(suite: dict[str, Any] | None) -> dict[str, str]:
    """Each benchmark the suite record marks as skipped, with its reason."""
    runs = suite["benchmarks"] if suite else []
    return {r["benchmark"]: r.get("reason", "") for r in runs if r["status"] == SKIPPED}


def owner(stem: str, names: Sequence[str]) -> str | None:
    """The benchmark of ``names`` that writes ``<stem>.json`` (its name starts the stem)."""
    return next((name for name in names if stem.startswith(name)), None)


def find_result(results: dict[str, dict[str, Any]], *names: str) -> dict[str, Any] | None:
    return next((results[name] for name in names if name in results), None)


def _row(
    check: str,
    value: Any,
    target: str,
    result: str,
    source: str,
    interval: Sequence[Any] = ("", ""),
    extremes: Sequence[Any] = ("", ""),
) -> dict[str, Any]:
    return {
        "check": check,
        "value": value,
        "low": interval[0],
        "high": interval[1],
        "min": extremes[0],
        "max": extremes[1],
        "target": target,
        "result": result,
        "source": source,
    }


def _ranged(
    check: str, value: Any, row: dict[str, Any], key: str, target: str, source: str
) -> dict:
    """A timed figure ``row[key]``: its median, the interval of the median that decides
    its verdict (``<key>_low``, ``<key>_high``; results written before the interval: the
    min-max range) and its min and max. Without a range (a result written before the
    repeats) there is no verdict: "unclear"."""
    extremes = (row.get(f"{key}_min"), row.get(f"{key}_max"))
    interval = (row.get(f"{key}_low", extremes[0]), row.get(f"{key}_high", extremes[1]))
    if None in interval:
        result = "n/a" if verdict(0.0, 0.0, target) == "n/a" else "unclear"
        return _row(check, value, target, result, source)
    return _row(check, value, target, verdict(*interval, target), source, interval, extremes)


def _speed(check: str, row: dict[str, Any], target: str, source: str) -> dict[str, Any]:
    """A speed ratio of a row (``ratio`` and its range; older results: ``ratio_to_bare``)."""
    value = row.get("ratio", row.get("ratio_to_bare"))
    return _ranged(check, value, row, "ratio", target, source)


def _single(check: str, value: float, target: str, source: str) -> dict[str, Any]:
    """A figure without spread (a peak memory): its value against the target."""
    return _row(check, value, target, verdict(value, value, target), source)


def _given(
    check: str,
    value: Any,
    target: str,
    passed: bool | str | None,
    source: str,
    extremes: Sequence[Any] = ("", ""),
) -> dict:
    """A check whose benchmark gave the verdict (True, False, None or a verdict string);
    ``extremes``: the range of its figure over training seeds, where it has one."""
    result = passed if isinstance(passed, str) else {True: "pass", False: "fail"}.get(passed, "n/a")
    return _row(check, value, target, result, source, extremes=extremes)


def _dask_memory_checks(results: list[dict[str, Any]], fit: str, source: str) -> list[dict]:
    """A streamed fit's memory (what reading and fitting add to the loaded libraries) against the
    in-memory fit of the same files, and against the streamed fit of the first file alone."""
    by = {r["fit"]: r for r in results}
    dask, memory, one = (
        by.get("dask (read_jets dask=True)"),
        by.get("in memory (read_jets)"),
        by.get("dask, first file only"),
    )
    rows = []
    if dask and memory:
        rows.append(
            _single(
                f"{fit} memory / in-memory fit "
                f"({dask['n_jets']} jets, {dask['partitions']} partitions)",
                dask["fit_rss_mib"] / memory["fit_rss_mib"],
                "< 1",
                source,
            )
        )
    if dask and one:
        rows.append(
            _single(
                f"{fit} memory, {dask['files']} files / 1 file",
                dask["fit_rss_mib"] / one["fit_rss_mib"],
                "<= 1.5 (does not grow with the sample; assumed)",
                source,
            )
        )
    return rows


def _speed_checks(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    if (p := find_result(results, "reader")) is not None:
        row = next(
            r for r in p["results"] if str(r["measure"]).startswith("in-memory read, jets/s")
        )
        rows.append(_speed("reader / bare uproot (throughput)", row, ">= 0.8", "reader"))
    if (p := find_result(results, "inversion_throughput")) is not None:
        rows.append(
            _speed(
                "NI histogramming / bare numpy.histogramdd",
                p["results"][0],
                ">= 0.5",
                "inversion_throughput",
            )
        )
    for r in (p := find_result(results, "neural")) and p["results"] or []:
        if r["measure"].startswith("training"):
            check, target = "neural training / bare torch loop", ">= 0.9 (issue 6, batch 4096)"
        elif "forward only" in r["measure"]:
            check, target = "inference (predict_dist) / bare forward", ">= 0.8 (assumed)"
        else:
            check = r["measure"].replace("inference: ", "inference ") + " / bare forward"
            target = "none (mode search on top of the forward)"
        rows.append(_speed(check, r, target, "neural"))
    for r in (p := find_result(results, "pythia_speed")) and p["results"] or []:
        rows.append(_speed("Pythia sample / bare Pythia generation", r, ">= 0.5", "pythia_speed"))
    for r in (p := find_result(results, "synthetic")) and p["results"] or []:
        rows.append(_speed(f"generator ({r['kind']}) / bare numpy normals", r, "none", "synthetic"))
    for r in (p := find_result(results, "scaling")) and p["results"] or []:
        if str(r["calibrator"]).endswith("linear fit"):
            rows.append(
                _ranged(
                    f"{r['calibrator'].split(':')[0]}: log-log slope of time vs sample size",
                    r["loglog_slope"],
                    r,
                    "loglog_slope",
                    "<= 1.15 (linear)",
                    "scaling",
                )
            )
    return rows


def _quality_checks(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name in ("peers_checks", "peers_quick_checks"):
        for r in results.get(name, {}).get("results", []):
            value = (
                r["value"]
                if r.get("versus") in (None, 1.0)
                else f"{r['value']:.4g} vs {r['versus']:.4g}"
            )
            rows.append(_given(r["check"], value, r["target"], r.get("verdict", r["pass"]), name))
    for name in ("unfolding_checks", "unfolding_quick_checks"):
        for r in results.get(name, {}).get("results", []):
            rows.append(_given(r["check"], r["value"], r["target"], r["pass"], name))
    for name in ("large_r_summary", "large_r_summary_quick"):
        for r in results.get(name, {}).get("results", []):
            if "dnn_better_resolution" in r:
                rows.append(
                    _given(
                        f"large-R DNN resolution < sequential NI: {r['check']}",
                        f"{r['dnn_resolution']:.4g} vs {r['ni_resolution']:.4g}",
                        "DNN below NI",
                        r["dnn_better_resolution"],
                        name,
                    )
                )
            elif "annotation_helps" in r:
                rows.append(
                    _given(
                        r["check"],
                        f"{r['with_annotation']:.4g} vs {r['without_annotation']:.4g}",
                        "with annotation below without",
                        r["annotation_helps"],
                        name,
                    )
                )
    for name in ("heavy_ion_checks", "heavy_ion_quick_checks"):
        for r in results.get(name, {}).get("results", []):
            seeds = (r.get("min", ""), r.get("max", ""))
            rows.append(_given(r["check"], r["value"], r["target"], r["pass"], name, seeds))
    for name in ("clusters_checks", "clusters_checks_quick"):
        for r in results.get(name, {}).get("results", []):
            if "median" in r:  # over the training seeds: median, best and worst figure
                check = f"{r['check']} ({r['figure']}; seeds passing {r['seeds_passing']})"
                seeds = (f"{r['best']:.4g}", f"{r['worst']:.4g}")
                value = f"{r['median']:.4g}"
                rows.append(_given(check, value, "as stated", bool(r["pass"]), name, seeds))
                continue
            value = next(
                (f"{r[k]:.4g}" for k in r if k.startswith("worst") and isinstance(r[k], float)),
                "see clusters_checks",
            )
            rows.append(_given(r["check"], value, "as stated", r["pass"], name))
    return rows


def targets(
    results: dict[str, dict[str, Any]], skip: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Each ratio (and quality check) of the suite against its target.

    The rows of a benchmark in ``skip`` (name: reason) stay, marked "skipped" and
    emptied; one without earlier results gets one "skipped" row.
    """
    skip = skip or {}
    rows = _speed_checks(results)
    for source, fit in (("inversion_dask_root", "Dask NI fit"), ("neural_dask", "Dask MDN fit")):
        if (p := find_result(results, source)) is not None:
            rows += _dask_memory_checks(p["results"], fit, source)
    rows += _quality_checks(results)
    for row in rows:
        if owner(row["source"], list(skip)) is not None:
            row.update(value="", min="", max="", result=SKIPPED)
    shown = {owner(row["source"], list(skip)) for row in rows}
    rows += [
        _row(f"`{name}` benchmark", "", "", SKIPPED, name) for name in skip if name not in shown
    ]
    return rows


def skipped_note(skip: dict[str, str]) -> str:
    """One line per skipped benchmark and its reason (empty when none was)."""
    return "".join(f"Skipped: `{name}` ({reason}).\n" for name, reason in skip.items())


def headline(
    results: dict[str, dict[str, Any]], skip: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Per calibrator on the small-R quality sample:
    training time, closure, resolution over the oracle floor."""
    peers = find_result(results, "peers", "peers_quick")
    if peers is None:
        return []
    keys = (
        "calibration",
        "fit_s",
        "worst_closure",
        "median_closure",
        "median_res_over_oracle",
        "max_res_over_oracle",
    )
    rows = [{k: row.get(k) for k in keys} for row in peers["results"]]
    if "peers" in (skip or {}):
        rows = [{k: (v if k == "calibration" else SKIPPED) for k, v in row.items()} for row in rows]
    return rows


def _fmt_machine(m: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items() if v)
    return (
        f"{m.get('platform')}, {m.get('cpus')} CPUs, "
        f"Python {m.get('python')}; {versions}; {m.get('date', '')}"
    )


def _suite_lines(suite: dict[str, Any]) -> list[str]:
    rerun = ["python benchmarks/run.py"] + (
        [] if suite["size"] == "default" else [f"--{suite['size']}"]
    )
    runs = [
        {
            "benchmark": r["benchmark"],
            "status": r["status"],
            "wall_s": r["wall_s"],
            "argv": " ".join(r["argv"] or []),
            "reason": r.get("reason", ""),
        }
        for r in suite["benchmarks"]
    ]
    return [
        f"Size `{suite['size']}`, run {suite['started']} to {suite['finished']} "
        f"({suite['wall_s'] / 60:.1f} min of benchmarks in all) "
        f"on {_fmt_machine(suite['machine'])}.",
        "",
        f"Rerun: `{' '.join(rerun)}` (one or more names run a subset; `--list` lists them; "
        "`--check` exits non-zero when a target fails).",
        "",
        markdown_table(runs),
        "",
    ]


def _section(stem: str, payload: dict[str, Any], reason: str | None) -> list[str]:
    lines = [f"## {payload.get('title') or stem} (`{stem}`)", ""]
    if reason is not None:
        return lines + [f"Skipped in this run: {reason}.", ""]
    if payload.get("notes"):
        lines += [payload["notes"], ""]
    rows = payload["results"]
    shown = [
        {
            k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
            for k, v in r.items()
        }
        for r in rows[:MAX_ROWS]
    ]
    lines.append(markdown_table(shown))
    if len(rows) > MAX_ROWS:
        lines.append(f"\n({len(rows) - MAX_ROWS} more rows in `{stem}.md` / `{stem}.json`.)\n")
    return lines + [
        f"Machine: {_fmt_machine(payload['machine'])}; parameters: "
        f"`{json.dumps(payload['parameters'], default=str)[:600]}`",
        "",
    ]


def render(results_dir: Path, order: Sequence[str]) -> Path:
    """Write ``RESULTS.md`` (and each ``<name>.md``) from the result JSON in ``results_dir``,
    its sections in the order of the benchmarks ``order``; return its path."""
    results = load(results_dir)
    for stem, payload in results.items():
        (results_dir / f"{stem}.md").write_text(result_markdown(payload))
    suite = load_suite(results_dir)
    skip = skipped(suite)
    lines = ["# skcal benchmark results", ""] + (_suite_lines(suite) if suite else [])
    if rows := headline(results, skip):
        lines += ["## Headline: calibration quality on small-R jets", "", markdown_table(rows), ""]
    if checks := targets(results, skip):
        lines += [
            "## Targets",
            "",
            "Each ratio is skcal's throughput over the bare baseline's, measured in the same "
            "run (1 = no overhead): the median over alternating rounds after a warm-up, with "
            "its min and max. Low-high is the median's confidence interval (order statistics, "
            "at least the 94% coverage of the min-max range of 5 rounds: of 9 rounds, the "
            "second smallest to the second largest). A verdict is pass or fail only when the "
            "whole low-high interval lies on one side of the target, else unclear (which "
            '`--check` does not count as a failure). "assumed": the target is this suite\'s, '
            "not one stated in an issue.",
            "",
            markdown_table(checks) + skipped_note(skip),
            "",
        ]
    position = {name: i for i, name in enumerate(order)}
    for stem in sorted(results, key=lambda s: (position.get(owner(s, order) or "", len(order)), s)):
        name = owner(stem, list(skip))
        lines += _section(stem, results[stem], None if name is None else skip[name])
    path = results_dir / "RESULTS.md"
    path.write_text("\n".join(lines))
    return path
