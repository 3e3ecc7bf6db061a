"""The benchmark suite's runner: a tiny real run writes the JSON schema and RESULTS.md."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    """A script of ``benchmarks/`` imported as a module
    (it puts ``benchmarks/`` on sys.path itself)."""
    spec = importlib.util.spec_from_file_location(f"skcal_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _runner():
    return _module("run")


def test_tiny_run_writes_json_schema_and_results_md(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "run.py"),
            "synthetic",
            "--tiny",
            "--results-dir",
            str(results),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    payload = json.loads((results / "synthetic.json").read_text())
    assert {"benchmark", "machine", "parameters", "results"} <= set(payload)
    assert payload["benchmark"] == "synthetic"
    assert {"platform", "cpus", "python", "versions"} <= set(payload["machine"])
    assert payload["machine"]["versions"]["numpy"]
    assert payload["parameters"]["n_jets"] == 20_000
    assert payload["parameters"]["seeds"] == {"jets": 0, "bare": 0}
    assert [row["kind"] for row in payload["results"]] == ["small_r", "large_r"]
    assert all(
        0 < row["ratio_min"] <= row["ratio_low"] <= row["ratio"] <= row["ratio_high"]
        and row["ratio_high"] <= row["ratio_max"]
        and row["repeats"] == 9
        for row in payload["results"]
    )

    suite = json.loads((results / "suite.json").read_text())
    assert suite["size"] == "tiny"
    assert [(r["benchmark"], r["status"]) for r in suite["benchmarks"]] == [("synthetic", "ok")]

    md = (results / "RESULTS.md").read_text()
    assert "(`synthetic`)" in md and "| small_r | 20000 |" in md
    assert "generator (small_r) / bare numpy normals" in md


def test_render_marks_each_ratio_against_its_target(tmp_path: Path) -> None:
    run = _runner()
    machine = run.machine()
    for name, rows in {
        "inversion_throughput": [
            {"n_jets": 1000, "ratio": 0.3, "ratio_min": 0.25, "ratio_max": 0.35}
        ],
        "reader": [
            {
                "measure": "in-memory read, jets/s (median)",
                "skcal": 1.0,
                "bare_uproot": 1.0,
                "ratio": 0.95,
                "ratio_min": 0.9,
                "ratio_max": 1.0,
            }
        ],
    }.items():
        payload = {
            "benchmark": name,
            "title": name,
            "notes": "",
            "machine": machine,
            "parameters": {},
            "results": rows,
        }
        (tmp_path / f"{name}.json").write_text(json.dumps(payload))
    text = run.render(tmp_path).read_text()
    assert (
        "| NI histogramming / bare numpy.histogramdd | 0.3 | 0.25 | 0.35 | 0.25 | 0.35 "
        "| >= 0.5 | fail | inversion_throughput |" in text
    )
    assert (
        "| reader / bare uproot (throughput) | 0.95 | 0.9 | 1 | 0.9 | 1 | >= 0.8 | pass | reader |"
        in text
    )


def test_unknown_benchmark_is_refused() -> None:
    with pytest.raises(SystemExit):
        _runner().main(["no_such_benchmark", "--quick"])


def test_peer_checks_name_the_worst_bin_and_fail_where_the_mdn_loses() -> None:
    peers = _module("bench_peers")
    per_pt = {
        "NI": {"30-40": 0.20, "60-80": 0.10, "400-600": 0.05},
        "LightGBM L1": {"30-40": 0.09, "60-80": 0.060, "400-600": 0.040},
        peers.MDN: {"30-40": 0.50, "60-80": 0.055, "400-600": 0.041},
    }
    summary = [
        {"calibration": "LightGBM L1", "worst_closure": 0.03},
        {"calibration": peers.MDN, "worst_closure": 0.01},
    ]
    against_ni, against_lgbm, closure = peers.checks(summary, per_pt)
    # The 30-40 GeV bin is below the 50 GeV threshold: the MDN's bad value there does not count.
    assert against_ni["pass"] and against_ni["value"] == pytest.approx(0.041 / 0.05)
    assert not against_lgbm["pass"] and against_lgbm["value"] == pytest.approx(0.041 / 0.040)
    assert "(400-600;" in against_lgbm["check"]
    assert closure["pass"] and (closure["value"], closure["versus"]) == (0.01, 0.03)


def test_readme_shows_the_committed_quick_results() -> None:
    run = _runner()
    text = run.README.read_text()
    start, end = (text.index(marker) for marker in run.README_MARKERS)
    block = text[start + len(run.README_MARKERS[0]) : end].strip()
    assert block == run.readme_block(BENCHMARKS / "results" / "quick").strip(), (
        "README's benchmark block is stale: "
        "run `python benchmarks/run.py --quick --render-only --readme`"
    )
    assert "| MDN (K=3, log r) |" in block
    assert "| check | value | low | high | min | max | target | result |" in block


def test_neural_rows_merge_only_from_the_same_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peers = _module("bench_peers")
    monkeypatch.setattr(peers, "RESULTS_DIR", tmp_path)
    summary = [{"calibration": "NI", "source": "bench_peers", "fit_s": 0.1, "worst_closure": 0.05}]
    per_pt = {"NI": {"30-40": 0.2}, peers.ORACLE: {"30-40": 0.1}}
    assert "not found" in peers.merge_neural("quality_small_r", 10, 5, summary, per_pt)

    quality = {
        "parameters": {"n_train": 10, "n_test": 5},
        "results": [{"calibration": peers.MDN, "fit_s": 2.0, "worst_closure": 0.01, "epochs": 3}],
    }
    (tmp_path / "quality_small_r.json").write_text(json.dumps(quality))
    (tmp_path / "quality_small_r_resolution.json").write_text(
        json.dumps({"results": [{"pt_true": "30-40", peers.MDN: 0.12}]})
    )
    assert "not merged" in peers.merge_neural("quality_small_r", 20, 5, summary, per_pt)
    assert len(summary) == 1 and peers.MDN not in per_pt

    assert "merged from" in peers.merge_neural("quality_small_r", 10, 5, summary, per_pt)
    assert summary[1] == {
        "calibration": peers.MDN,
        "source": "quality_small_r",
        "fit_s": 2.0,
        "worst_closure": 0.01,
    }
    assert per_pt[peers.MDN] == {"30-40": 0.12}


def test_peer_checks_fail_without_the_mdn() -> None:
    peers = _module("bench_peers")
    (row,) = peers.checks([], {"NI": {"60-80": 0.1}})
    assert row["check"] == "MDN present" and row["pass"] is False


def test_readme_without_markers_is_left_as_it_is(tmp_path: Path) -> None:
    run = _runner()
    readme = tmp_path / "README.md"
    readme.write_text("# A README\n")
    with pytest.raises(ValueError, match="has no <!-- benchmarks:quick:start -->"):
        run.update_readme(BENCHMARKS / "results" / "quick", readme)
    assert readme.read_text() == "# A README\n"
