"""The benchmark suite's runner: a tiny real run writes the JSON schema and RESULTS.md."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _runner():
    spec = importlib.util.spec_from_file_location("skcal_bench_run", BENCHMARKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_tiny_run_writes_json_schema_and_results_md(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "synthetic", "--tiny",
                           "--results-dir", str(results), "--work-dir", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    payload = json.loads((results / "synthetic.json").read_text())
    assert {"benchmark", "machine", "parameters", "results"} <= set(payload)
    assert payload["benchmark"] == "synthetic"
    assert {"platform", "cpus", "python", "versions"} <= set(payload["machine"])
    assert payload["machine"]["versions"]["numpy"]
    assert payload["parameters"]["n_jets"] == 20_000
    assert [row["kind"] for row in payload["results"]] == ["small_r", "large_r"]
    assert all(row["ratio_to_bare"] > 0 for row in payload["results"])

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
        "inversion_throughput": [{"n_jets": 1000, "ratio_to_bare": 0.3}],
        "reader": [{"measure": "in-memory read, jets/s (best)", "skcal": 1.0, "bare_uproot": 1.0,
                    "ratio_to_bare": 0.95}],
    }.items():
        payload = {"benchmark": name, "title": name, "notes": "", "machine": machine, "parameters": {},
                   "results": rows}
        (tmp_path / f"{name}.json").write_text(json.dumps(payload))
    text = run.render(tmp_path).read_text()
    assert "| NI histogramming / bare numpy.histogramdd | 0.3 | >= 0.5 | FAIL | inversion_throughput |" in text
    assert "| reader / bare uproot (throughput) | 0.95 | >= 0.8 | pass | reader |" in text


def test_unknown_benchmark_is_refused() -> None:
    with pytest.raises(SystemExit):
        _runner().main(["no_such_benchmark", "--quick"])
