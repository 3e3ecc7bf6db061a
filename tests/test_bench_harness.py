"""The benchmark harness's logic: verdicts from a ratio's range, alternating repeats,
skipped benchmarks and the runner's --check gate (no timing is asserted)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"skcal_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


harness = _module("_harness")
run = _module("run")


class FakeClock:
    """A clock that each timed call moves on by the duration it was given."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def step(self, seconds: float):
        def func() -> None:
            self.now += seconds

        return func


@pytest.mark.parametrize(
    ("low", "high", "target", "expected"),
    [
        (0.85, 0.95, ">= 0.8", "pass"),
        (0.8, 0.95, ">= 0.8", "pass"),  # on the target counts as meeting it
        (0.5, 0.79, ">= 0.8", "fail"),
        (0.42, 0.93, ">= 0.8", "unclear"),  # issue 25's two runs, as one range
        (0.5, 0.9, "< 1", "pass"),
        (0.9, 1.0, "< 1", "unclear"),
        (1.0, 1.2, "< 1", "fail"),
        (1.0, 1.1, "<= 1.15 (linear)", "pass"),
        (1.1, 1.2, "<= 1.15 (linear)", "unclear"),
        (1.2, 1.3, "<= 1.15 (linear)", "fail"),
        (2.0, 3.0, "> 1", "pass"),
        (0.5, 1.0, "> 1", "fail"),
        (0.1, 0.2, "none", "n/a"),
        (0.1, 0.2, "none (mode search on top of the forward)", "n/a"),
        (float("nan"), 0.9, ">= 0.8", "unclear"),
    ],
)
def test_a_verdict_is_pass_or_fail_only_when_the_range_is_on_one_side(
    low: float, high: float, target: str, expected: str
) -> None:
    assert harness.verdict(low, high, target) == expected


def test_repeats_alternate_the_sides_after_the_warmups() -> None:
    calls: list[str] = []
    clock = FakeClock()

    def side(name: str, seconds: float):
        tick = clock.step(seconds)

        def func() -> None:
            calls.append(name)
            tick()

        return func

    times = harness.time_alternating(
        {"skcal": side("skcal", 2.0), "bare": side("bare", 1.0)},
        warmups=2,
        repeats=5,
        clock=clock,
    )
    assert calls == ["skcal", "bare"] * 7  # A B A B ..., the warm-up rounds first
    assert times == {"skcal": [2.0] * 5, "bare": [1.0] * 5}  # warm-ups not recorded


def test_speed_ratio_is_the_median_of_the_rounds_with_min_and_max() -> None:
    clock = FakeClock()
    skcal_s = iter([9.0, 1.0, 2.0, 4.0, 1.0, 1.0])  # the first is the warm-up
    bare_s = iter([9.0, 1.0, 1.0, 1.0, 2.0, 0.5])

    def timed(durations):
        return lambda: clock.step(next(durations))()

    speed = harness.speed_ratio(timed(skcal_s), timed(bare_s), warmups=1, repeats=5, clock=clock)
    # per round bare / skcal: 1, 0.5, 0.25, 2, 0.5
    assert speed["ratio"] == pytest.approx(0.5)
    assert (speed["ratio_min"], speed["ratio_max"]) == pytest.approx((0.25, 2.0))
    # of 5 rounds, the interval of the median is the min-max range
    assert (speed["ratio_low"], speed["ratio_high"]) == pytest.approx((0.25, 2.0))
    assert speed["repeats"] == 5
    assert speed["skcal_s"] == 1.0 and speed["bare_s"] == 1.0
    assert speed["times"]["skcal"] == [1.0, 2.0, 4.0, 1.0, 1.0]


@pytest.mark.parametrize(("warmups", "repeats"), [(0, 5), (1, 4)])
def test_too_few_warmups_or_repeats_are_refused(warmups: int, repeats: int) -> None:
    with pytest.raises(ValueError, match="at least 1 warm-up and 5 repeats"):
        harness.time_alternating({"a": lambda: None}, warmups=warmups, repeats=repeats)


def test_repeat_arguments_have_their_floors() -> None:
    parser = argparse.ArgumentParser()
    harness.add_repeat_arguments(parser)
    assert vars(parser.parse_args([])) == {"warmups": 1, "repeats": harness.DEFAULT_REPEATS}
    assert parser.parse_args(["--repeats", "7"]).repeats == 7
    with pytest.raises(SystemExit):
        parser.parse_args(["--repeats", "2"])


def test_ratio_stats_refuses_unpaired_times() -> None:
    with pytest.raises(ValueError, match="2 baseline times against 1"):
        harness.ratio_stats([1.0, 1.0], [1.0])


def test_a_missing_extra_skips_with_a_reason_naming_it(capsys: pytest.CaptureFixture) -> None:
    harness.require("json", extra="bench")  # present: nothing happens
    with pytest.raises(SystemExit) as exit_info:
        harness.require("skcal_no_such_module", extra="bench")
    assert exit_info.value.code == harness.SKIPPED_EXIT
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("skipped: needs skcal_no_such_module, from the `bench` extra")
    assert run.skip_reason(f"noise\n{line}\n").startswith("needs skcal_no_such_module")
    assert "gave no reason" in run.skip_reason("noise\n")


def _write(results: Path, name: str, rows: list[dict]) -> None:
    payload = {
        "benchmark": name,
        "title": name,
        "notes": "",
        "machine": harness.machine(),
        "parameters": {"n_train": 10, "n_test": 5},
        "results": rows,
    }
    (results / f"{name}.json").write_text(json.dumps(payload))


def _suite(results: Path, statuses: dict[str, str]) -> None:
    runs = [
        {"benchmark": name, "status": status, "argv": [], "wall_s": 1.0}
        | ({"reason": "needs lightgbm, from the `bench` extra"} if status == "skipped" else {})
        for name, status in statuses.items()
    ]
    suite = {
        "benchmark": "suite",
        "size": "quick",
        "started": "2026-01-01T00:00:00",
        "finished": "2026-01-01T00:01:00",
        "wall_s": 60.0,
        "machine": harness.machine(),
        "benchmarks": runs,
    }
    (results / "suite.json").write_text(json.dumps(suite))


def _reader(results: Path, low: float, high: float) -> None:
    row = {"measure": "in-memory read, jets/s (median)", "ratio": (low + high) / 2}
    _write(results, "reader", [row | {"ratio_min": low, "ratio_max": high, "repeats": 5}])


@pytest.mark.parametrize(
    ("low", "high", "plain", "checked"), [(0.5, 0.7, 0, 1), (0.7, 0.9, 0, 0), (0.85, 0.9, 0, 0)]
)
def test_check_exits_non_zero_only_when_a_target_fails(
    tmp_path: Path, low: float, high: float, plain: int, checked: int
) -> None:
    _reader(tmp_path, low, high)
    _suite(tmp_path, {"reader": "ok"})
    base = ["--render-only", "--results-dir", str(tmp_path)]
    assert run.main(base) == plain
    assert run.main([*base, "--check"]) == checked
    verdict = {(0.5, 0.7): "fail", (0.7, 0.9): "unclear", (0.85, 0.9): "pass"}[(low, high)]
    (row,) = run.targets(run._report.load(tmp_path))
    # a result written before the interval: the min-max range decides, and is both
    assert (row["low"], row["high"], row["min"], row["max"]) == (low, high, low, high)
    assert row["result"] == verdict
    assert (
        f"| {low:g} | {high:g} | {low:g} | {high:g} | >= 0.8 | {verdict} | reader |"
        in (tmp_path / "RESULTS.md").read_text()
    )


@pytest.mark.parametrize(("n", "k"), [(5, 1), (8, 1), (9, 2), (11, 2), (12, 3), (20, 6)])
def test_the_interval_of_the_median_has_the_coverage_of_five_rounds_min_max(n: int, k: int) -> None:
    values = list(range(n, 0, -1))  # n, ..., 1: the k-th smallest is k
    assert harness.median_interval(values) == (k, n + 1 - k)
    # its coverage, 1 - 2 P(Binomial(n, 1/2) < k), is at least that of 5 rounds' min-max
    below = sum(math.comb(n, i) for i in range(k)) / 2**n
    assert 1 - 2 * below >= harness.INTERVAL_COVERAGE == pytest.approx(0.9375)
    # and it is the narrowest such interval
    assert 1 - 2 * (below + math.comb(n, k) / 2**n) < harness.INTERVAL_COVERAGE


def test_one_disturbed_round_of_nine_does_not_decide_the_verdict() -> None:
    ratios = [0.95, 0.93, 0.97, 0.96, 0.55, 0.94, 0.95, 0.96, 0.98]  # one round at 0.55
    stats = harness.ratio_stats(ratios, [1.0] * 9)
    assert stats["ratio_min"] == pytest.approx(0.55)
    assert (stats["ratio_low"], stats["ratio_high"]) == pytest.approx((0.93, 0.97))
    assert harness.verdict(stats["ratio_low"], stats["ratio_high"], ">= 0.8") == "pass"
    assert harness.verdict(stats["ratio_min"], stats["ratio_max"], ">= 0.8") == "unclear"
    with pytest.raises(ValueError, match="at least one value"):
        harness.median_interval([])


def test_the_report_takes_the_verdict_from_the_interval_not_the_extremes(tmp_path: Path) -> None:
    row = {"measure": "in-memory read, jets/s (median)", "ratio": 0.9, "repeats": 9}
    row |= {"ratio_low": 0.85, "ratio_high": 0.95, "ratio_min": 0.6, "ratio_max": 1.3}
    _write(tmp_path, "reader", [row])
    _suite(tmp_path, {"reader": "ok"})
    (check,) = run.targets(run._report.load(tmp_path))
    assert (check["low"], check["high"], check["min"], check["max"]) == (0.85, 0.95, 0.6, 1.3)
    assert check["result"] == "pass"


def test_a_skipped_benchmark_keeps_its_rows_as_skipped(tmp_path: Path) -> None:
    check = {"check": "MDN resolution / NI", "value": 0.7, "versus": 1.0, "target": "< 1"}
    _write(tmp_path, "peers_quick_checks", [check | {"pass": True}])
    _write(
        tmp_path,
        "peers_quick",
        [{"calibration": "LightGBM L1", "fit_s": 2.0, "worst_closure": 0.03}],
    )
    _reader(tmp_path, 0.3, 0.4)
    _suite(tmp_path, {"reader": "ok", "peers": "skipped", "large_r": "skipped"})

    rows = run.targets(run._report.load(tmp_path), {"peers": "no lightgbm", "large_r": "no"})
    by_check = {r["check"]: r for r in rows}
    assert by_check["MDN resolution / NI"] | {"source": ""} == {
        "check": "MDN resolution / NI",
        "value": "",
        "low": "",
        "high": "",
        "min": "",
        "max": "",
        "target": "< 1",
        "result": "skipped",
        "source": "",
    }
    assert by_check["`large_r` benchmark"]["result"] == "skipped"  # no earlier rows: one row
    assert by_check["reader / bare uproot (throughput)"]["result"] == "fail"

    # A skipped benchmark's figures are not a failure, nor shown as this run's.
    assert run.main(["--render-only", "--check", "--results-dir", str(tmp_path)]) == 1
    text = (tmp_path / "RESULTS.md").read_text()
    assert "| LightGBM L1 | skipped | skipped |" in text
    assert "| MDN resolution / NI |  |  |  |  |  | < 1 | skipped | peers_quick_checks |" in text
    assert "Skipped: `peers` (needs lightgbm, from the `bench` extra)." in text
    assert "| 0.7 |" not in text
    block = run.readme_block(tmp_path)
    assert "| check | value | low | high | min | max | target | result |" in block
    assert "| MDN resolution / NI |  |  |  |  |  | < 1 | skipped |" in block


def test_peers_without_lightgbm_is_skipped_by_the_runner(tmp_path: Path) -> None:
    hide = tmp_path / "hide"
    hide.mkdir()
    # sys.modules[name] = None: importlib.util.find_spec then reports the module missing.
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['lightgbm'] = None\n")
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "peers", "--quick", "--check"]
        + ["--results-dir", str(results), "--work-dir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**run.os.environ, "PYTHONPATH": str(hide)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (record,) = json.loads((results / "suite.json").read_text())["benchmarks"]
    assert record["status"] == "skipped" and record["returncode"] == harness.SKIPPED_EXIT
    assert record["reason"].startswith("needs lightgbm, from the `bench` extra")
    assert (
        "| `peers` benchmark |  |  |  |  |  |  | skipped | peers |"
        in (results / "RESULTS.md").read_text()
    )


def test_a_child_that_dies_before_it_returns_is_an_error_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib
    import os

    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the spawned child imports it by name
    real = importlib.import_module("_harness")
    with pytest.raises(RuntimeError, match="died with exit code 3"):
        real.measure_in_subprocess(os._exit, 3)
