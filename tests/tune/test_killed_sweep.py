"""Issue 18, fault injection: a sweep's process is killed (SIGKILL), then resumed.

The sweep (``_sweep_process.py``: two MDN trials, one at a time, three epochs each)
runs in its own process with its own local Ray. Once the state that the sweep saves in
its folder records one trial's final result, and while the other is held at its start,
the process is killed with SIGKILL: no handler runs, nothing is flushed. The
same call with ``resume=True`` then finishes the sweep, and every trial must have
completed exactly once: each trial id reports its final epoch once, and the finished
trial is neither trained nor reported again.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ray import tune

from . import _sweep_process as sweep

pytestmark = pytest.mark.slow

SCRIPT = Path(sweep.__file__)
#: Generous bound on the first run's progress on two busy cores (not a timing assertion:
#: the test fails only if the sweep never gets there).
DEADLINE_S = 300.0


def _environment() -> dict[str, str]:
    paths = [str(SCRIPT.parent), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    root = str(Path(__file__).resolve().parents[2])  # skcal, also when not installed
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, root]).strip(os.pathsep)}


def _run(storage: Path, gate: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(storage), str(gate), *args],
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: its Ray processes with it
    )


def _saved_trials(folder: Path) -> list[Any]:
    """The trials as the sweep's saved state records them ([] until it is readable)."""
    try:
        return list(tune.ExperimentAnalysis(str(folder)).trials)
    except Exception:  # not written yet, or being replaced
        return []


def _finished(trial: Any) -> bool:
    return str(trial.status) == "TERMINATED" or trial.last_result.get("epoch") == sweep.EPOCHS


def _final_reports(folder: Path) -> dict[str, int]:
    """Per trial id, how many times the trial reported its final epoch (its result.json)."""
    counts: dict[str, int] = {}
    for results in folder.glob("train_pipeline_*/result.json"):
        rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
        for row in rows:
            counts.setdefault(row["trial_id"], 0)
            counts[row["trial_id"]] += row["epoch"] == sweep.EPOCHS
    return counts


def _epochs_of(folder: Path, trial_id: str) -> list[int]:
    (results,) = [
        p
        for p in folder.glob("train_pipeline_*/result.json")
        if json.loads(p.read_text().splitlines()[0])["trial_id"] == trial_id
    ]
    return [json.loads(line)["epoch"] for line in results.read_text().splitlines() if line]


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGKILL to the process group: the sweep's driver and what is left of its Ray."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()


def test_a_killed_sweep_resumes_and_completes_every_trial_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # reading the state of a running sweep warns of trials without results yet
    caplog.set_level(logging.ERROR, logger="ray.tune.analysis.experiment_analysis")
    storage, gate = tmp_path / "sweeps", tmp_path / "gate"
    gate.mkdir()
    (gate / "hold").touch()
    folder = storage / sweep.NAME

    first = _run(storage, gate)
    deadline = time.monotonic() + DEADLINE_S
    try:
        while not any(_finished(t) for t in _saved_trials(folder)):
            assert first.poll() is None, f"the sweep ended before its kill: {first.stderr}"
            assert time.monotonic() < deadline, "no trial finished in the first run"
            time.sleep(0.2)
        os.kill(first.pid, signal.SIGKILL)  # the driver only, as a lost machine would
        first.wait()
    finally:
        _stop(first)
    assert first.returncode == -signal.SIGKILL

    saved = _saved_trials(folder)
    done = [t.trial_id for t in saved if _finished(t)]
    # one trial finished; the other held at its start or not yet created
    assert len(done) == 1, [(t.trial_id, str(t.status), t.last_result.get("epoch")) for t in saved]
    before = _final_reports(folder)
    assert before == {done[0]: 1}, before

    (gate / "hold").unlink()
    second = _run(storage, gate, "--resume")
    try:
        out, err = second.communicate(timeout=DEADLINE_S)
    finally:
        _stop(second)
    assert second.returncode == 0, err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    n_trials = len(sweep.LEARNING_RATES)
    assert summary == {
        "trials": n_trials,
        "errors": 0,
        "best_lr": summary["best_lr"],
        "final_epochs": [sweep.EPOCHS] * n_trials,
    }
    assert summary["best_lr"] in sweep.LEARNING_RATES

    after = _final_reports(folder)
    assert len(after) == n_trials, after  # no trial lost, none added
    assert set(after.values()) == {1}, after  # each completed exactly once
    assert _epochs_of(folder, done[0]) == [1, 2, 3]  # the finished trial was not run again
    assert all(str(t.status) == "TERMINATED" for t in _saved_trials(folder))
