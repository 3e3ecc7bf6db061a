"""Run skcal's benchmark suite (all benchmarks or a named subset) and render RESULTS.md.

    python benchmarks/run.py [NAME ...] [--quick | --full] [--results-dir DIR] [--list]
    python benchmarks/run.py --render-only [--results-dir DIR] [--readme]

Sizes: ``--quick`` (minutes on 2 cores; results in ``benchmarks/results/quick``), the
default (25 min on 2 idle cores; ``benchmarks/results``), ``--full`` (large samples;
``benchmarks/results/full``). ``--tiny`` is for the suite's own test. Each benchmark
runs in its own process through its script's ``main(argv)``, so one that fails is
reported and the others go on; each writes ``<name>.json`` and ``<name>.md`` into the
results folder (``$SKCAL_BENCH_RESULTS``), and the runner writes ``suite.json`` (what
ran, how long, how it ended) and renders ``RESULTS.md`` from every ``*.json`` there,
with the targets of the ratios, each marked pass or fail. ``--readme`` also writes the
headline table and the targets into README.md, between its benchmark markers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _harness import RESULTS_ENV, machine, markdown_table, result_markdown  # noqa: E402

SIZES = ("tiny", "quick", "default", "full")
README = HERE.parent / "README.md"
README_MARKERS = ("<!-- benchmarks:quick:start -->", "<!-- benchmarks:quick:end -->")
MAX_ROWS = 25  # longer tables are cut in RESULTS.md; the full table is in <name>.md


@dataclass(frozen=True)
class Benchmark:
    """One script of the suite: its module and its arguments for each size
    (``{work}``: scratch folder)."""

    module: str
    argv: dict[str, list[str]] = field(default_factory=dict)
    summary: str = ""

    def args(self, size: str, work: Path) -> list[str] | None:
        argv = self.argv.get(size)
        return None if argv is None else [a.replace("{work}", str(work)) for a in argv]


REGISTRY: dict[str, Benchmark] = {
    "synthetic": Benchmark(
        "bench_synthetic",
        {
            "tiny": ["--n-jets", "20000", "--chunk-size", "10000"],
            "quick": ["--n-jets", "1000000", "--chunk-size", "250000"],
            "default": ["--n-jets", "10000000"],
            "full": ["--n-jets", "50000000"],
        },
        "generator throughput against bare numpy",
    ),
    "reader": Benchmark(
        "bench_reader",
        {
            "quick": [
                "--n-jets",
                "1000000",
                "--chunk-jets",
                "500000",
                "100000",
                "--repeats",
                "2",
                "--file",
                "{work}/reader_1000000.root",
            ],
            "default": ["--n-jets", "10000000", "--file", "{work}/reader_10000000.root"],
            "full": [
                "--n-jets",
                "30000000",
                "--chunk-jets",
                "1000000",
                "250000",
                "--file",
                "{work}/reader_30000000.root",
            ],
        },
        "ROOT reader against bare uproot; peak memory of a Dask reduction",
    ),
    "inversion": Benchmark(
        "bench_inversion",
        {
            "quick": [
                "--n-train",
                "200000",
                "--n-test",
                "200000",
                "--n-throughput",
                "1000000",
                "--n-dask",
                "4000000",
                "--n-files",
                "4",
                "--step-size",
                "250000",
                "--data-dir",
                "{work}/inversion",
            ],
            "default": ["--data-dir", "{work}/inversion"],
            "full": [
                "--n-train",
                "4000000",
                "--n-test",
                "2000000",
                "--n-throughput",
                "20000000",
                "--n-dask",
                "50000000",
                "--n-files",
                "8",
                "--step-size",
                "2000000",
                "--data-dir",
                "{work}/inversion",
            ],
        },
        "NI closure per stage; histogramming against numpy.histogramdd; Dask-streamed NI fit",
    ),
    "neural": Benchmark(
        "bench_neural",
        {
            "quick": [
                "--jets",
                "100000",
                "--epochs",
                "2",
                "--repeats",
                "2",
                "--dask-jets",
                "1000000",
                "--dask-files",
                "4",
                "--step-size",
                "62500",
                "--data-dir",
                "{work}/neural",
            ],
            "default": ["--jets", "400000", "--epochs", "3", "--data-dir", "{work}/neural"],
            "full": [
                "--jets",
                "2000000",
                "--epochs",
                "3",
                "--dask-jets",
                "16000000",
                "--dask-files",
                "16",
                "--step-size",
                "250000",
                "--data-dir",
                "{work}/neural",
            ],
        },
        "neural training and inference against bare torch; peak memory of a Dask-streamed fit",
    ),
    "quality_small_r": Benchmark(
        "bench_quality_small_r",
        {
            "quick": ["--quick"],
            "default": [],
            "full": ["--n-train", "2000000", "--n-test", "1000000", "--epochs", "30"],
        },
        "NI and the neural calibrators on small-R jets",
    ),
    "peers": Benchmark(
        "bench_peers",
        {
            "quick": ["--quick"],
            "default": [],
            "full": ["--n-train", "2000000", "--n-test", "1000000", "--n-estimators", "1000"],
        },
        "LightGBM (L1, quantile 0.5) and HistGradientBoosting "
        "beside skcal (same sample as quality_small_r)",
    ),
    "large_r": Benchmark(
        "bench_large_r",
        {
            "quick": ["--quick"],
            "default": [],
            "full": [
                "--n-train",
                "600000",
                "--n-test",
                "200000",
                "--n-other",
                "100000",
                "--epoch-scale",
                "0.5",
            ],
        },
        "energy-and-mass network against sequential NI on large-R jets",
    ),
    "scaling": Benchmark(
        "bench_scaling",
        {
            "tiny": ["--sizes", "100000", "200000", "--skip-neural"],
            "quick": ["--sizes", "100000", "400000"],
            "default": ["--sizes", "1000000", "4000000", "16000000"],
            "full": ["--sizes", "1000000", "4000000", "16000000"],
        },
        "NI fit and neural training time against sample size",
    ),
    "export": Benchmark(
        "bench_export",
        {
            "quick": ["--n-train", "100000", "--epochs", "2"],
            "default": [],
            "full": ["--n-train", "1000000", "--epochs", "10"],
        },
        "ONNX Runtime / correctionlib against predict",
    ),
}


def default_results_dir(size: str) -> Path:
    return HERE / "results" if size == "default" else HERE / "results" / size


def run_one(name: str, size: str, results_dir: Path, work: Path) -> dict[str, Any]:
    """Run one benchmark in a child process; return what the suite records about it."""
    bench = REGISTRY[name]
    argv = bench.args(size, work)
    if argv is None:
        return {
            "benchmark": name,
            "status": "skipped",
            "reason": f"no {size!r} size",
            "argv": None,
            "wall_s": 0.0,
        }
    code = f"import sys; from benchmarks.{bench.module} import main; main(sys.argv[1:])"
    env = {**os.environ, RESULTS_ENV: str(results_dir)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")]))
    print(f"== {name} ({size}): {' '.join(argv)}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=HERE.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wall = time.perf_counter() - start
    (results_dir / "logs").mkdir(parents=True, exist_ok=True)
    (results_dir / "logs" / f"{name}.log").write_text(proc.stdout)
    status = "ok" if proc.returncode == 0 else "failed"
    print(f"== {name}: {status} in {wall:.0f} s", flush=True)
    if status == "failed":
        print(proc.stdout[-3000:], flush=True)
    return {
        "benchmark": name,
        "status": status,
        "returncode": proc.returncode,
        "argv": argv,
        "wall_s": round(wall, 1),
        "log_tail": proc.stdout[-1500:] if status == "failed" else "",
    }


def merge_suite(path: Path, size: str, started: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite record: these runs,
    over the earlier record of the same size for the benchmarks not rerun."""
    finished = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for r in runs:
        r["finished"] = finished
    earlier = json.loads(path.read_text()) if path.exists() else {}
    by_name = (
        {r["benchmark"]: r for r in earlier.get("benchmarks", [])}
        if earlier.get("size") == size
        else {}
    )
    by_name.update({r["benchmark"]: r for r in runs})
    ordered = [by_name[n] for n in REGISTRY if n in by_name]
    return {
        "benchmark": "suite",
        "size": size,
        "started": earlier.get("started", started)
        if by_name.keys() - {r["benchmark"] for r in runs}
        else started,
        "finished": finished,
        "wall_s": round(sum(r["wall_s"] for r in ordered), 1),
        "machine": machine(),
        "benchmarks": ordered,
    }


# ------------------------------------------------------------------ rendering
def _load(results_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(results_dir.glob("*.json")):
        payload = json.loads(path.read_text())
        if isinstance(payload, dict) and "results" in payload and "benchmark" in payload:
            out[path.stem] = payload
    return out


def _find(results: dict[str, dict[str, Any]], *names: str) -> dict[str, Any] | None:
    for name in names:
        if name in results:
            return results[name]
    return None


def _check(check: str, value: Any, target: str, passed: bool | None, source: str) -> dict[str, Any]:
    verdict = "n/a" if passed is None else ("pass" if passed else "FAIL")
    return {"check": check, "value": value, "target": target, "result": verdict, "source": source}


def _dask_memory_checks(
    results: list[dict[str, Any]], fit: str, source: str
) -> list[dict[str, Any]]:
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
        ratio = dask["fit_rss_mib"] / memory["fit_rss_mib"]
        rows.append(
            _check(
                f"{fit} memory / in-memory fit "
                f"({dask['n_jets']} jets, {dask['partitions']} partitions)",
                ratio,
                "< 1",
                ratio < 1,
                source,
            )
        )
    if dask and one:
        ratio = dask["fit_rss_mib"] / one["fit_rss_mib"]
        rows.append(
            _check(
                f"{fit} memory, {dask['files']} files / 1 file",
                ratio,
                "<= 1.5 (does not grow with the sample; assumed)",
                ratio <= 1.5,
                source,
            )
        )
    return rows


def targets(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each ratio (and quality check) of the suite against its target."""
    rows = []
    if (p := _find(results, "reader")) is not None:
        row = next(
            r for r in p["results"] if str(r["measure"]).startswith("in-memory read, jets/s")
        )
        rows.append(
            _check(
                "reader / bare uproot (throughput)",
                row["ratio_to_bare"],
                ">= 0.8",
                row["ratio_to_bare"] >= 0.8,
                "reader",
            )
        )
    if (p := _find(results, "inversion_throughput")) is not None:
        ratio = p["results"][0]["ratio_to_bare"]
        rows.append(
            _check(
                "NI histogramming / bare numpy.histogramdd",
                ratio,
                ">= 0.5",
                ratio >= 0.5,
                "inversion_throughput",
            )
        )
    if (p := _find(results, "neural")) is not None:
        for r in p["results"]:
            if r["measure"].startswith("training"):
                rows.append(
                    _check(
                        "neural training / bare torch loop",
                        r["ratio"],
                        ">= 0.9 (issue 6, batch 4096)",
                        r["ratio"] >= 0.9,
                        "neural",
                    )
                )
            elif "forward only" in r["measure"]:
                rows.append(
                    _check(
                        "inference (predict_dist) / bare forward",
                        r["ratio"],
                        ">= 0.8 (assumed)",
                        r["ratio"] >= 0.8,
                        "neural",
                    )
                )
            elif "mixture mode" in r["measure"]:
                rows.append(
                    _check(
                        r["measure"].replace("inference: ", "inference ") + " / bare forward",
                        r["ratio"],
                        "none (mode search on top of the forward)",
                        None,
                        "neural",
                    )
                )
    for source, fit in (("inversion_dask_root", "Dask NI fit"), ("neural_dask", "Dask MDN fit")):
        if (p := _find(results, source)) is not None:
            rows += _dask_memory_checks(p["results"], fit, source)
    if (p := _find(results, "synthetic")) is not None:
        for r in p["results"]:
            rows.append(
                _check(
                    f"generator ({r['kind']}) / bare numpy normals",
                    r["ratio_to_bare"],
                    "none",
                    None,
                    "synthetic",
                )
            )
    if (p := _find(results, "scaling")) is not None:
        for r in p["results"]:
            if str(r["calibrator"]).endswith("linear fit"):
                rows.append(
                    _check(
                        f"{r['calibrator'].split(':')[0]}: log-log slope of time vs sample size",
                        r["loglog_slope"],
                        "<= 1.15 (linear)",
                        r["loglog_slope"] <= 1.15,
                        "scaling",
                    )
                )
    for name in ("peers_checks", "peers_quick_checks"):
        for r in results.get(name, {}).get("results", []):
            value = (
                r["value"]
                if r.get("versus") in (None, 1.0)
                else f"{r['value']:.4g} vs {r['versus']:.4g}"
            )
            rows.append(_check(r["check"], value, r["target"], r["pass"], name))
    for name in ("large_r_summary", "large_r_summary_quick"):
        for r in results.get(name, {}).get("results", []):
            if "dnn_better_resolution" in r:
                rows.append(
                    _check(
                        f"large-R DNN resolution < sequential NI: {r['check']}",
                        f"{r['dnn_resolution']:.4g} vs {r['ni_resolution']:.4g}",
                        "DNN below NI",
                        r["dnn_better_resolution"],
                        name,
                    )
                )
            elif "annotation_helps" in r:
                rows.append(
                    _check(
                        r["check"],
                        f"{r['with_annotation']:.4g} vs {r['without_annotation']:.4g}",
                        "with annotation below without",
                        r["annotation_helps"],
                        name,
                    )
                )
    return rows


def headline(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per calibrator on the small-R quality sample:
    training time, closure, resolution over the oracle floor."""
    peers = _find(results, "peers", "peers_quick")
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
    return [{k: row.get(k) for k in keys} for row in peers["results"]]


def readme_block(results_dir: Path) -> str:
    """The README's benchmark table: the headline and the targets of the run in ``results_dir``."""
    results = _load(results_dir)
    suite = json.loads((results_dir / "suite.json").read_text())
    peers = _find(results, "peers", "peers_quick")
    sample = (
        ""
        if peers is None
        else (
            f" Quality on {peers['parameters']['n_test']:,} held-out small-R jets "
            f"(trained on {peers['parameters']['n_train']:,})."
        )
    )
    return "\n".join(
        [
            f"Latest `{suite['size']}` run: {suite['finished'][:10]}, "
            f"{suite['wall_s'] / 60:.1f} min on "
            f"{suite['machine']['cpus']} CPUs.{sample} "
            "Closure is |mode - 1| in the worst and the median "
            "(pT_true, |eta_true|) bin above 30 GeV; "
            "resolution over the oracle floor per pT_true bin.",
            "",
            markdown_table(headline(results)),
            markdown_table(
                [
                    {k: c[k] for k in ("check", "value", "target", "result")}
                    for c in targets(results)
                ]
            ),
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


def _section_order(stem: str) -> tuple[int, str]:
    for i, name in enumerate(REGISTRY):
        if stem.startswith(name):
            return i, stem
    return len(REGISTRY), stem


def _fmt_machine(m: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items() if v)
    return (
        f"{m.get('platform')}, {m.get('cpus')} CPUs, "
        f"Python {m.get('python')}; {versions}; {m.get('date', '')}"
    )


def render(results_dir: Path) -> Path:
    """Write ``RESULTS.md`` (and each ``<name>.md``)
    from the result JSON in ``results_dir``; return its path."""
    results = _load(results_dir)
    for stem, payload in results.items():
        (results_dir / f"{stem}.md").write_text(result_markdown(payload))
    suite_path = results_dir / "suite.json"
    suite = json.loads(suite_path.read_text()) if suite_path.exists() else None
    lines = ["# skcal benchmark results", ""]
    if suite:
        lines += [
            f"Size `{suite['size']}`, run {suite['started']} to {suite['finished']} "
            f"({suite['wall_s'] / 60:.1f} min of benchmarks in all) "
            f"on {_fmt_machine(suite['machine'])}.",
            "",
            "Rerun: `"
            + " ".join(
                ["python benchmarks/run.py"]
                + ([] if suite["size"] == "default" else [f"--{suite['size']}"])
            )
            + "` (one or more names run a subset; `--list` lists them).",
            "",
        ]
        lines += [
            markdown_table(
                [
                    {
                        "benchmark": r["benchmark"],
                        "status": r["status"],
                        "wall_s": r["wall_s"],
                        "argv": " ".join(r["argv"] or []),
                    }
                    for r in suite["benchmarks"]
                ]
            ),
            "",
        ]
    if rows := headline(results):
        lines += ["## Headline: calibration quality on small-R jets", "", markdown_table(rows), ""]
    checks = targets(results)
    if checks:
        lines += [
            "## Targets",
            "",
            "Each ratio is skcal's throughput over the bare baseline's, measured in the same "
            "run (1 = no overhead). "
            '"assumed": the target is this suite\'s, not one stated in an issue.',
            "",
            markdown_table(checks),
            "",
        ]
    for stem in sorted(results, key=_section_order):
        payload = results[stem]
        rows = payload["results"]
        title = payload.get("title") or stem
        lines += [f"## {title} (`{stem}`)", ""]
        if payload.get("notes"):
            lines += [payload["notes"], ""]
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
        lines += [
            f"Machine: {_fmt_machine(payload['machine'])}; parameters: "
            f"`{json.dumps(payload['parameters'], default=str)[:600]}`",
            "",
        ]
    path = results_dir / "RESULTS.md"
    path.write_text("\n".join(lines))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(REGISTRY)}"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quick", action="store_const", dest="size", const="quick", help="minutes on 2 cores"
    )
    group.add_argument(
        "--full", action="store_const", dest="size", const="full", help="large samples"
    )
    group.add_argument(
        "--tiny", action="store_const", dest="size", const="tiny", help="seconds; for the tests"
    )
    parser.set_defaults(size="default")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where the JSON, Markdown and RESULTS.md go "
        "(default: benchmarks/results[/quick|/full])",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="scratch folder for ROOT files (default: <tmp>/skcal-bench)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the benchmarks and their arguments, then exit"
    )
    parser.add_argument(
        "--render-only", action="store_true", help="only render RESULTS.md from the JSON there"
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also write the headline and the targets into README.md's benchmark block",
    )
    args = parser.parse_args(argv)

    if args.list:
        for name, bench in REGISTRY.items():
            print(f"{name:16s} {bench.summary}")
            for size in SIZES:
                if size in bench.argv:
                    print(f"{'':18s}{size:8s} {' '.join(bench.argv[size]) or '(script defaults)'}")
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(REGISTRY)}")
    results_dir = (args.results_dir or default_results_dir(args.size)).resolve()
    results_dir.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        print(render(results_dir))
        if args.readme:
            update_readme(results_dir)
        return 0
    work = (args.work_dir or Path(tempfile.gettempdir()) / "skcal-bench").resolve()
    work.mkdir(parents=True, exist_ok=True)

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    runs = [run_one(name, args.size, results_dir, work) for name in (args.names or list(REGISTRY))]
    suite = merge_suite(results_dir / "suite.json", args.size, started, runs)
    (results_dir / "suite.json").write_text(json.dumps(suite, indent=2) + "\n")
    print(
        f"rendered {render(results_dir)}; {sum(r['wall_s'] for r in runs) / 60:.1f} min", flush=True
    )
    if args.readme:
        update_readme(results_dir)
    return 0 if all(r["status"] != "failed" for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
