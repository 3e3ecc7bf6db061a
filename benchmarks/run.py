"""Run skcal's benchmark suite (all benchmarks or a named subset) and render RESULTS.md.

    python benchmarks/run.py [NAME ...] [--quick | --full] [--results-dir DIR] [--list] [--check]
    python benchmarks/run.py --render-only [--results-dir DIR] [--readme] [--check]

Sizes: ``--quick`` (minutes on 2 cores; results in ``benchmarks/results/quick``), the
default (``benchmarks/results``), ``--full`` (large samples; ``benchmarks/results/full``).
``--tiny`` is for the suite's own test. ``make bench-quick`` and ``make bench`` set up
the environment with the extras the benchmarks need (``bench``: LightGBM) and run it.
Each benchmark runs in its own process through its script's ``main(argv)``, so one that
fails is reported and the others go on; one that lacks an optional dependency exits
with ``_harness.SKIPPED_EXIT`` and a one-line reason naming the extra, and is recorded
as skipped. Each writes ``<name>.json`` and ``<name>.md`` into the results folder
(``$SKCAL_BENCH_RESULTS``); the runner writes ``suite.json`` (what ran, how long, how it
ended) and renders ``RESULTS.md`` from every ``*.json`` there, with each figure against
its target. A speed ratio is the median of alternating rounds of both sides after a
warm-up (9 by default), quoted with its min and max and the confidence interval of the
median (``_harness.median_interval``: the second smallest to the second largest of 9
rounds); its verdict is "pass" or "fail" only when that whole interval lies on one side
of the target, else "unclear". ``--check`` exits
non-zero when a target fails ("unclear" and "skipped" do not fail). ``--readme`` also
writes the headline table and the targets into README.md, between its benchmark markers.

Registering a benchmark ``benchmarks/bench_<name>.py``: one entry in ``REGISTRY``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _report  # noqa: E402
from _harness import RESULTS_ENV, SKIPPED_EXIT, SKIPPED_PREFIX, machine  # noqa: E402
from _readme import README, README_MARKERS, readme_block, update_readme  # noqa: E402, F401
from _report import targets  # noqa: E402, F401

SIZES = ("tiny", "quick", "default", "full")


@dataclass(frozen=True)
class Benchmark:
    """One script of the suite: its module, its arguments for each size (one string, split
    as a shell would; ``{work}``: scratch folder) and a one-line summary."""

    module: str
    argv: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    def args(self, size: str, work: Path) -> list[str] | None:
        argv = self.argv.get(size)
        return None if argv is None else [a.replace("{work}", str(work)) for a in shlex.split(argv)]


REGISTRY: dict[str, Benchmark] = {
    "synthetic": Benchmark(
        "bench_synthetic",
        {
            "tiny": "--n-jets 20000 --chunk-size 10000",
            "quick": "--n-jets 250000 --chunk-size 125000",
            "default": "--n-jets 10000000",
            "full": "--n-jets 50000000",
        },
        "generator throughput against bare numpy",
    ),
    "reader": Benchmark(
        "bench_reader",
        {
            "quick": (
                "--n-jets 2000000 --chunk-jets 250000 100000 --file {work}/reader_2000000.root"
            ),
            "default": "--n-jets 10000000 --file {work}/reader_10000000.root",
            "full": (
                "--n-jets 30000000 --chunk-jets 1000000 250000 --file {work}/reader_30000000.root"
            ),
        },
        "ROOT reader against bare uproot; peak memory of a Dask reduction",
    ),
    "inversion": Benchmark(
        "bench_inversion",
        {
            "quick": (
                "--n-train 200000 --n-test 200000 --n-throughput 500000 --n-dask 4000000 "
                "--n-files 4 --step-size 125000 --data-dir {work}/inversion"
            ),
            "default": "--data-dir {work}/inversion",
            "full": (
                "--n-train 4000000 --n-test 2000000 --n-throughput 20000000 --n-dask "
                "50000000 --n-files 8 --step-size 2000000 --data-dir {work}/inversion"
            ),
        },
        "NI closure per stage; histogramming against numpy.histogramdd; Dask-streamed NI fit",
    ),
    "neural": Benchmark(
        "bench_neural",
        {
            "quick": (
                "--jets 300000 --epochs 2 --dask-jets 1000000 --dask-files 4 --step-size "
                "62500 --data-dir {work}/neural"
            ),
            "default": "--jets 400000 --epochs 3 --data-dir {work}/neural",
            "full": (
                "--jets 2000000 --epochs 3 --dask-jets 16000000 --dask-files 16 "
                "--step-size 250000 --data-dir {work}/neural"
            ),
        },
        "neural training and inference against bare torch; peak memory of a Dask-streamed fit",
    ),
    "quality_small_r": Benchmark(
        "bench_quality_small_r",
        {
            "quick": "--quick",
            "default": "",
            "full": "--n-train 2000000 --n-test 1000000 --epochs 30",
        },
        "NI and the neural calibrators on small-R jets",
    ),
    "closure": Benchmark(
        "bench_closure",
        {
            "quick": "--quick --seeds 0 1 2 --n-train 100000 --n-test 50000 --epochs 3",
            "default": "",
            "full": "--n-train 2000000 --n-test 1000000",
        },
        (
            "closure of the default MDN, GDN and point calibrator, alone and with the "
            "residual NI, over 3 seeds; their positivity on 2M more held-out jets"
        ),
    ),
    "peers": Benchmark(
        "bench_peers",
        {
            "quick": "--quick",
            "default": "",
            "full": "--n-train 2000000 --n-test 1000000 --n-estimators 1000",
        },
        (
            "LightGBM (L1, quantile 0.5) and HistGradientBoosting beside skcal (same "
            "sample as quality_small_r)"
        ),
    ),
    "large_r": Benchmark(
        "bench_large_r",
        {
            "quick": "--quick",
            "default": "",
            "full": "--n-train 600000 --n-test 200000 --n-other 100000 --epoch-scale 0.5",
        },
        "energy-and-mass network against sequential NI on large-R jets",
    ),
    "pileup": Benchmark(
        "bench_pileup",
        {
            "quick": "--n-train 200000 --n-test 200000 --calibrations chain --n-bootstrap 20",
            "default": "--calibrations pu-ni chain",
            "full": "",
        },
        "response against NPV and mu at mu flat in [0, 200], chain and networks",
    ),
    "scaling": Benchmark(
        "bench_scaling",
        {
            "tiny": "--sizes 100000 200000 --skip-neural",
            "quick": "--sizes 200000 800000",
            "default": "--sizes 1000000 4000000 16000000",
            "full": "--sizes 1000000 4000000 16000000",
        },
        "NI fit and neural training time against sample size",
    ),
    "uncertainty": Benchmark(
        "bench_uncertainty",
        {
            "quick": (
                "--sizes 20000 80000 --n-test 20000 --n-val 20000 --epochs 3 --members 3 --jobs 2"
            ),
            "default": "--jobs 3",
            "full": "--sizes 100000 400000 1600000 6400000 --jobs 4",
        },
        "pull widths per pT bin (GDN, MDN, ensemble, BNN), sigma_stat against training size",
    ),
    "export": Benchmark(
        "bench_export",
        {
            "quick": "--n-train 50000 --epochs 2 --n-test 10000 --n-train-em 10000",
            "default": "",
            "full": "--n-train 1000000 --epochs 10",
        },
        "ONNX Runtime / correctionlib against predict",
    ),
    "unfolding": Benchmark(
        "bench_unfolding",
        {
            "quick": "--quick --workers 2",
            "default": "--workers 2",
            "full": "--n-events 100000 --replicas 40 --bins 8 --workers 2",
        },
        "MultiFold against IBU on the Gaussian toy (1-D, 2-D), bootstrap chi2 and pulls",
    ),
    "clusters": Benchmark(
        "bench_clusters",
        {
            "quick": "--quick",
            "default": "--seeds 0 1 2 --jobs 3 --threads 3 --bnn",
            "full": "--full",
        },
        "topo-clusters: EM scale, LCW, DNN-HGM: linearity, resolution, pulls per E_dep, 3 seeds",
    ),
    "pythia": Benchmark(
        "bench_pythia",
        {
            "quick": "--skip-physics --pileup-library 200 --cache {work}/pythia",
            "default": "--cache {work}/pythia",
            "full": "--n-physics 100000 --n-pileup 400000 --epochs 30 --cache {work}/pythia",
        },
        "Pythia sample: throughput against bare Pythia, physics checks, realistic quality",
    ),
    "heavy_ion": Benchmark(
        "bench_heavy_ion",
        {
            "quick": "--quick --cache {work}/heavy_ion",
            "default": (
                "--n-train 4000 --n-test 8000 --n-frag 500 --medium --cache {work}/heavy_ion"
            ),
            "full": (
                "--n-train 10000 --n-test 16000 --n-frag 2000 --medium --cache {work}/heavy_ion"
            ),
        },
        "jets in a Pb-Pb background: delta pT of the ML estimators against rho*A",
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
    status = {0: "ok", SKIPPED_EXIT: "skipped"}.get(proc.returncode, "failed")
    print(f"== {name}: {status} in {wall:.0f} s", flush=True)
    if status == "failed":
        print(proc.stdout[-3000:], flush=True)
    record = {
        "benchmark": name,
        "status": status,
        "returncode": proc.returncode,
        "argv": argv,
        "wall_s": round(wall, 1),
        "log_tail": proc.stdout[-1500:] if status == "failed" else "",
    }
    if status == "skipped":
        record["reason"] = skip_reason(proc.stdout)
        print(f"== {name}: {record['reason']}", flush=True)
    return record


def skip_reason(output: str) -> str:
    """The reason a skipped benchmark gave (its last line starting with ``skipped: ``)."""
    reasons = [
        line.removeprefix(SKIPPED_PREFIX).strip()
        for line in output.splitlines()
        if line.startswith(SKIPPED_PREFIX)
    ]
    return reasons[-1] if reasons else f"exited with {SKIPPED_EXIT} and gave no reason"


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


def render(results_dir: Path) -> Path:
    """Write ``RESULTS.md`` (and each ``<name>.md``) from the result JSON in ``results_dir``."""
    return _report.render(results_dir, list(REGISTRY))


def failed_targets(results_dir: Path) -> list[dict[str, Any]]:
    """The targets of the results in ``results_dir`` whose verdict is "fail"
    ("unclear" and "skipped" are not failures)."""
    suite = _report.load_suite(results_dir)
    checks = _report.targets(_report.load(results_dir), _report.skipped(suite))
    return [c for c in checks if c["result"] == "fail"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Exit status: 1 when a benchmark failed to run, or, with --check, when a "
        'target\'s verdict is "fail"; a verdict is "unclear" when the interval of a ratio\'s '
        "median straddles its target, and neither unclear nor skipped counts as a failure.",
    )
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
    parser.add_argument(
        "--check",
        action="store_true",
        help='exit non-zero when a target\'s verdict is "fail" (not when "unclear" or skipped): '
        "the suite as a gate",
    )
    args = parser.parse_args(argv)

    if args.list:
        for name, bench in REGISTRY.items():
            print(f"{name:16s} {bench.summary}")
            for size in SIZES:
                if size in bench.argv:
                    print(f"{'':18s}{size:8s} {bench.argv[size] or '(script defaults)'}")
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
        return 1 if args.check and _report_failures(results_dir) else 0
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
    crashed = [r["benchmark"] for r in runs if r["status"] == "failed"]
    if crashed:
        print(f"failed to run: {', '.join(crashed)}", flush=True)
    failed = args.check and _report_failures(results_dir)
    return 1 if crashed or failed else 0


def _report_failures(results_dir: Path) -> bool:
    """Print each target that fails; whether one does."""
    failed = failed_targets(results_dir)
    for c in failed:
        print(
            f"target failed: {c['check']}: {c['value']} (min {c['min']}, max {c['max']}), "
            f"target {c['target']}",
            flush=True,
        )
    return bool(failed)


if __name__ == "__main__":
    raise SystemExit(main())
