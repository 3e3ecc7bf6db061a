"""The unfolding benchmark is registered and its checks reach the suite's targets."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_unfolding_checks_become_targets_with_their_verdicts() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    import _report
    import run

    assert run.REGISTRY["unfolding"].module == "bench_unfolding"
    checks = [
        {"check": "1-D MultiFold chi2/ndf", "value": 0.9, "target": "<= 1.5", "pass": True},
        {"check": "2-D mean of x", "value": 2.5, "target": "<= 2", "pass": False},
    ]
    rows = _report.targets({"unfolding_checks": {"results": checks}})
    got = {r["check"]: (r["result"], r["source"]) for r in rows}
    assert got["1-D MultiFold chi2/ndf"] == ("pass", "unfolding_checks")
    assert got["2-D mean of x"] == ("fail", "unfolding_checks")
    skipped = _report.targets({"unfolding_checks": {"results": checks}}, {"unfolding": "no"})
    assert {r["result"] for r in skipped} == {"skipped"}
