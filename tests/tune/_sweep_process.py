"""A small MDN sweep run in its own process, for the test of a sweep killed with SIGKILL
(``test_killed_sweep.py``).

``python _sweep_process.py STORAGE GATE [--resume]`` runs two trials, one at a time,
of three epochs each, on a local Ray with two CPUs, and prints a JSON summary of the
result. The folder ``GATE`` holds the pipeline's :class:`Hold` callback's files: while
``GATE/hold`` exists, a trial that starts after another has finished waits (for the
kill), so that the kill always lands with one trial finished and the other not. This
module's folder must be on ``PYTHONPATH`` (Ray's workers unpickle :class:`Hold`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from skorch.callbacks import Callback

NAME = "killed"
EPOCHS = 3
LEARNING_RATES = [3e-3, 1e-3]
#: A held trial waits at most this long for the kill, then goes on.
HOLD_S = 120.0


class Hold(Callback):
    """Marks ``gate/finished`` when a fit ends; holds a fit that starts while
    ``gate/hold`` and ``gate/finished`` exist."""

    def __init__(self, gate: str | None = None) -> None:
        self.gate = gate

    def on_train_begin(self, net: Any, **kwargs: Any) -> None:
        gate = Path(str(self.gate))
        deadline = time.monotonic() + HOLD_S
        while (gate / "hold").exists() and (gate / "finished").exists():
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)

    def on_train_end(self, net: Any, **kwargs: Any) -> None:
        (Path(str(self.gate)) / "finished").touch()


def main(storage: str, gate: str, resume: bool) -> None:
    import ray
    from ray import tune
    from sklearn.pipeline import make_pipeline

    from skcal.datasets import make_jets
    from skcal.neural import MDNCalibrator
    from skcal.preprocessing import LogTransformer, SymmetricScaler
    from skcal.tune import tune_pipeline

    jets = make_jets(1500, random_state=7)
    X, y = jets[["e_reco", "pt_reco", "eta", "mu"]], (jets.e_reco / jets.e_true).to_numpy()
    pipe = make_pipeline(
        LogTransformer(columns=["e_reco", "pt_reco"]),
        SymmetricScaler(clip=True),
        MDNCalibrator(
            n_components=2,
            training_space="log",
            max_epochs=EPOCHS,
            batch_size=256,
            random_state=0,
            module__hidden_sizes=(8,),
            callbacks=[Hold(gate)],
        ),
    ).set_output(transform="pandas")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    result = tune_pipeline(
        pipe,
        {"mdncalibrator__lr": tune.grid_search(LEARNING_RATES)},
        X,
        y,
        num_samples=1,
        scheduler="fifo",
        max_concurrent_trials=1,
        checkpoint_every=1,
        storage_path=storage,
        name=NAME,
        resume=resume,
        seed=0,
        verbose=0,
    )
    summary = {
        "trials": len(result.grid),
        "errors": result.grid.num_errors,
        "best_lr": result.best_params["mdncalibrator__lr"],
        "final_epochs": sorted(int(r.metrics["epoch"]) for r in result.grid),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    import _sweep_process  # Hold under its module's name, not __main__, for Ray's workers

    _sweep_process.main(sys.argv[1], sys.argv[2], "--resume" in sys.argv[3:])
