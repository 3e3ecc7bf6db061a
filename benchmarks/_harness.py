"""What every benchmark shares: machine facts, peak memory, and writing results.

Each benchmark is a script ``benchmarks/bench_<name>.py`` with a ``main(argv)`` that
measures skcal against a bare baseline *in the same run* (docs/design.md section 6) and
calls :func:`write_results`, which writes ``benchmarks/results/<name>.json`` (machine
readable: machine, versions, sizes, seeds, figures) and ``<name>.md`` (a table).
Speed is reported as a ratio to the baseline, never asserted: :func:`speed_ratio` times
both sides alternately after a warm-up and gives the median ratio with its min and max;
:func:`verdict` holds that range against a target. A benchmark that needs an optional
dependency calls :func:`require` first: without it, it exits with :data:`SKIPPED_EXIT`
and a one-line reason naming the extra, and the runner records it as skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import multiprocessing as mp
import operator
import os
import platform
import re
import resource
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from queue import Empty
from typing import Any

RESULTS_ENV = "SKCAL_BENCH_RESULTS"
ROOT_FILE_SEED = 100  # file i of synthetic_root_files holds the jets of seed ROOT_FILE_SEED + i
ROOT_FILE_SEEDS = f"{ROOT_FILE_SEED} + file index"
MIN_WARMUPS, MIN_REPEATS = 1, 5  # a speed ratio's floor: noise must not decide its verdict
# 9 rounds: the median's interval (median_interval) leaves out the slowest and the fastest
# round, so that one round disturbed by the machine does not change a verdict.
DEFAULT_REPEATS = 9
# The coverage of a verdict's interval: that of the min-max range of 5 rounds, 1 - 2 / 2**5.
INTERVAL_COVERAGE = 1 - 2 / 2**MIN_REPEATS
SKIPPED_EXIT = 77  # a benchmark that cannot run here (the automake convention for "skipped")
SKIPPED_PREFIX = "skipped: "


def _results_dir() -> Path:
    """``benchmarks/results``, or the folder named by ``$SKCAL_BENCH_RESULTS``
    (set by ``run.py``)."""
    override = os.environ.get(RESULTS_ENV)
    return Path(override).resolve() if override else Path(__file__).resolve().parent / "results"


RESULTS_DIR = _results_dir()
_PACKAGES = (
    "skcal",
    "numpy",
    "pandas",
    "torch",
    "skorch",
    "dask",
    "uproot",
    "awkward",
    "scikit-learn",
    "lightgbm",
)


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    raise OSError(f"/proc/self/status has no {field}")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    Read from ``VmHWM`` (the high-water mark of this address space): ``ru_maxrss``
    would carry the parent's peak over into a spawned child.
    """
    try:
        return _status_mib("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mib() -> float:
    """Resident set size of this process now, in MiB (``VmRSS``; NaN where there is no /proc)."""
    try:
        return _status_mib("VmRSS")
    except OSError:
        return float("nan")


def machine() -> dict[str, Any]:
    """The machine and the versions a result was measured with."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _child(queue: Any, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    start = time.perf_counter()
    result = func(*args)
    queue.put(
        {"result": result, "seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib()}
    )


def measure_in_subprocess(func: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Run ``func(*args)`` in a fresh process; return its result, wall time and peak memory.

    A fresh process gives each measurement its own peak resident size. ``func`` must be
    importable (a module-level function) and its result picklable.
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, func, args))
    proc.start()
    while True:  # a child that dies before it returns (killed, out of memory) is an error
        try:
            out = queue.get(timeout=1.0)
            break
        except Empty:
            if not proc.is_alive():
                raise RuntimeError(
                    f"benchmark child {func.__name__} died with exit code {proc.exitcode} "
                    "before returning its result"
                ) from None
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"benchmark child {func.__name__} exited with {proc.exitcode}")
    return out


def require(module: str, extra: str) -> None:
    """Exit with :data:`SKIPPED_EXIT` and a one-line reason when ``module`` is not installed.

    The reason names the extra of skcal that brings it, so the runner can show the
    benchmark's rows as skipped instead of failing.
    """
    if importlib.util.find_spec(module) is None:
        print(
            f"{SKIPPED_PREFIX}needs {module}, from the `{extra}` extra "
            f"(make bench-quick, or pip install 'skcal[{extra}]')",
            flush=True,
        )
        raise SystemExit(SKIPPED_EXIT)


def add_repeat_arguments(parser: argparse.ArgumentParser) -> None:
    """``--warmups`` and ``--repeats`` of :func:`time_alternating`, with their floors."""

    def at_least(floor: int) -> Callable[[str], int]:
        def parse(text: str) -> int:
            value = int(text)
            if value < floor:
                raise argparse.ArgumentTypeError(f"must be at least {floor}, got {value}")
            return value

        return parse

    parser.add_argument(
        "--warmups",
        type=at_least(MIN_WARMUPS),
        default=MIN_WARMUPS,
        help=f"untimed rounds before the timed ones (at least {MIN_WARMUPS})",
    )
    parser.add_argument(
        "--repeats",
        type=at_least(MIN_REPEATS),
        default=DEFAULT_REPEATS,
        help=f"timed rounds, each side in turn (at least {MIN_REPEATS})",
    )


def time_alternating(
    funcs: Mapping[str, Callable[[], object]],
    *,
    warmups: int = MIN_WARMUPS,
    repeats: int = DEFAULT_REPEATS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Wall times of each of ``funcs``, called in turn, round after round (A B A B ...).

    ``warmups`` rounds first (caches, lazy imports, the page cache of a file both sides
    read), not recorded; then ``repeats`` timed rounds, so that a burst of load falls on
    both sides alike. Returns each name's ``repeats`` times, in order.
    """
    if warmups < MIN_WARMUPS or repeats < MIN_REPEATS:
        raise ValueError(
            f"a speed ratio needs at least {MIN_WARMUPS} warm-up and {MIN_REPEATS} repeats, "
            f"got warmups={warmups}, repeats={repeats}"
        )
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for round_ in range(warmups + repeats):
        for name, func in funcs.items():
            start = clock()
            func()
            if round_ >= warmups:
                times[name].append(clock() - start)
    return times


def median_interval(values: Sequence[float]) -> tuple[float, float]:
    """A distribution-free confidence interval of the median of ``values``: the k-th
    smallest and the k-th largest, with the largest k whose coverage,
    ``1 - 2 P(Binomial(n, 1/2) < k)``, is at least :data:`INTERVAL_COVERAGE`.

    With 5 to 8 values it is the min-max range; with 9 to 11 it leaves out the smallest
    and the largest value, and so on: one outlier round does not move it.

    Examples
    --------
    >>> median_interval([5.0, 1.0, 3.0, 2.0, 4.0])
    (1.0, 5.0)
    >>> median_interval([0.2, 1.0, 1.1, 1.0, 0.9, 1.2, 1.0, 5.0, 1.05])
    (0.9, 1.2)
    """
    ordered, n = sorted(float(v) for v in values), len(values)
    if n == 0:
        raise ValueError("the interval of the median needs at least one value")
    k = 1
    while k < (n + 1) // 2 and 1 - 2 * _binomial_cdf(k, n) >= INTERVAL_COVERAGE:
        k += 1
    return ordered[k - 1], ordered[n - k]


def _binomial_cdf(k: int, n: int) -> float:
    """P(Binomial(n, 1/2) < k + 1), i.e. at most k successes."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2**n


def spread(values: Sequence[float], key: str) -> dict[str, float]:
    """``{key: median, key_low, key_high: its interval (median_interval), key_min: min,
    key_max: max}`` of ``values``."""
    low, high = median_interval(values)
    return {
        key: float(statistics.median(values)),
        f"{key}_low": low,
        f"{key}_high": high,
        f"{key}_min": float(min(values)),
        f"{key}_max": float(max(values)),
    }


def ratio_stats(baseline_s: Sequence[float], skcal_s: Sequence[float]) -> dict[str, float]:
    """skcal's throughput over the baseline's, per round (baseline time / skcal time):
    ``ratio`` (the median), its interval ``ratio_low``, ``ratio_high``
    (:func:`median_interval`, which decides the verdict), ``ratio_min``, ``ratio_max`` and
    ``repeats``."""
    if len(baseline_s) != len(skcal_s) or not baseline_s:
        raise ValueError(f"{len(baseline_s)} baseline times against {len(skcal_s)} of skcal")
    ratios = [b / s for b, s in zip(baseline_s, skcal_s, strict=True)]
    return {**spread(ratios, "ratio"), "repeats": len(ratios)}


#: The keys of :func:`ratio_stats`, which a benchmark copies into its result rows.
RATIO_KEYS = ("ratio", "ratio_low", "ratio_high", "ratio_min", "ratio_max", "repeats")


def speed_ratio(
    skcal: Callable[[], object],
    bare: Callable[[], object],
    *,
    warmups: int = MIN_WARMUPS,
    repeats: int = DEFAULT_REPEATS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Time ``skcal`` and ``bare`` alternately (:func:`time_alternating`); return
    :func:`ratio_stats` with the median times (``skcal_s``, ``bare_s``) and every time
    (``times``)."""
    times = time_alternating(
        {"skcal": skcal, "bare": bare}, warmups=warmups, repeats=repeats, clock=clock
    )
    return {
        **ratio_stats(times["bare"], times["skcal"]),
        "skcal_s": float(statistics.median(times["skcal"])),
        "bare_s": float(statistics.median(times["bare"])),
        "times": times,
    }


_TARGET = re.compile(r"\s*(>=|<=|>|<)\s*([-+0-9.eE]+)")
_HOLDS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def verdict(low: float, high: float, target: str) -> str:
    """``"pass"`` or ``"fail"`` when all of ``[low, high]`` lies on one side of ``target``
    (a comparison first: ``">= 0.8"``, ``"< 1 (assumed)"``), else ``"unclear"``;
    ``"n/a"`` for a target that is no comparison (``"none"``)."""
    match = _TARGET.match(target)
    if match is None:
        return "n/a"
    if any(not isinstance(v, int | float) or math.isnan(v) for v in (low, high)):
        return "unclear"
    holds, threshold = _HOLDS[match[1]], float(match[2])
    met = {holds(low, threshold), holds(high, threshold)}
    return "unclear" if len(met) == 2 else ("pass" if met == {True} else "fail")


def synthetic_root_files(n_jets: int, data_dir: Path, n_files: int) -> list[Path]:
    """``n_jets`` synthetic small-R jets split over ``n_files`` flat ROOT files in ``data_dir``.

    A file is written once and reused by later runs asking for the same split (its
    name carries the sizes); file ``i`` holds the jets of seed ``ROOT_FILE_SEED + i``.
    """
    from skcal.datasets import iter_jets
    from skcal.io import write_root

    data_dir.mkdir(parents=True, exist_ok=True)
    per_file = -(-n_jets // n_files)
    paths = []
    for i in range(n_files):
        path = data_dir / f"jets_{n_jets}_{n_files}_{i}.root"
        n = min(per_file, n_jets - i * per_file)
        if not path.exists():
            start = time.perf_counter()
            write_root(iter_jets(n, chunk_size=500_000, random_state=ROOT_FILE_SEED + i), path)
            print(f"wrote {path} ({n} jets) in {time.perf_counter() - start:.0f} s", flush=True)
        paths.append(path)
    return paths


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of ``rows`` (dicts; a key missing from a row leaves its cell empty)."""
    if not rows:
        return ""
    keys = list(
        dict.fromkeys(k for row in rows for k in row)
    )  # every column, in order of first use

    def fmt(v: Any) -> str:
        return (
            f"{v:.4g}" if isinstance(v, float) else str(v).replace("|", "\\|")
        )  # a bare | splits the cell

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def result_markdown(payload: dict[str, Any]) -> str:
    """``<name>.md`` of a result: its title, notes, table, machine and parameters."""
    m = payload["machine"]
    md = f"## {payload['title']}\n\n"
    if payload.get("notes"):
        md += f"{payload['notes']}\n\n"
    return (
        md
        + markdown_table(payload["results"])
        + (
            f"\nMachine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}; "
            f"parameters: `{json.dumps(payload['parameters'], default=str)}`\n"
        )
    )


def write_results(
    name: str,
    *,
    parameters: dict[str, Any],
    rows: list[dict[str, Any]],
    title: str,
    notes: str = "",
) -> Path:
    """Write ``results/<name>.json`` and ``results/<name>.md``; return the JSON path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "title": title,
        "notes": notes,
        "machine": machine(),
        "parameters": parameters,
        "results": rows,
    }
    json_path = RESULTS_DIR / f"{name}.json"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (RESULTS_DIR / f"{name}.md").write_text(result_markdown(payload))
    return json_path
