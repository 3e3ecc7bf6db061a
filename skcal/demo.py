"""The quick-start job (``skcal demo``, ``make demo``): simulation to registered model.

1. simulate small-R jets with a known truth and write them to ROOT files;
2. read the training files back as a Dask DataFrame (chunks, never all in memory);
3. fit the standard chain (pile-up offset, numerical inversion, GSC) and a mixture
   density network pipeline followed by a residual numerical inversion (closure in
   bins of truth), both streaming over the chunks;
4. evaluate both on held-out jets: closure, resolution and robustness report;
5. log both to the local MLflow store, register the MDN with the alias ``champion``,
   and load it back from the registry;
6. print the summary and where the report and the store are.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline, make_pipeline

from skcal.columns import PILEUP, SMALL_R_INPUTS
from skcal.datasets import iter_jets
from skcal.evaluation import report
from skcal.inversion import (
    GlobalSequentialCalibration,
    NumericalInversion,
    PileupOffset,
    ResidualInversion,
)
from skcal.io import read_jets, write_root
from skcal.neural import MDNCalibrator
from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

__all__ = ["DemoResult", "run_demo"]

#: The inputs of both calibrations: reco kinematics, pile-up and the GSC variables.
FEATURES = [
    "e_reco",
    "pt_reco",
    "eta",
    "m_reco",
    *PILEUP,
    *(c for c in SMALL_R_INPUTS if c != "detector_eta"),
]
REGISTERED_NAME = "skcal-demo-mdn"
NEURAL = "MDN + residual NI"  # the demo's neural calibration, registered as the champion


@dataclass(frozen=True)
class DemoResult:
    """What the demo wrote."""

    data_dir: Path
    report_html: Path
    store_uri: str
    registry_uri: str
    summary: pd.DataFrame


def standard_chain() -> Pipeline:
    """Pile-up offset, numerical inversion and GSC, as the experiments calibrate."""
    return make_pipeline(PileupOffset(), NumericalInversion(), GlobalSequentialCalibration())


def mdn_pipeline(epochs: int, seed: int) -> Pipeline:
    """Log energies, eta annotation, [-1, 1] scaling and a 3-component MDN: the network
    (what :func:`skcal.export.to_onnx` exports)."""
    return make_pipeline(
        LogTransformer(columns=["e_reco", "pt_reco", "m_reco"]),
        EtaAnnotation(),
        SymmetricScaler(clip=True),
        MDNCalibrator(
            n_components=3,
            max_epochs=epochs,
            batch_size=2048,
            lr=2e-3,
            random_state=seed,
            module__hidden_sizes=(64, 64, 64),
            verbose=0,
        ),
    ).set_output(transform="pandas")


def neural_calibration(epochs: int, seed: int) -> ResidualInversion:
    """The demo's MDN pipeline followed by a numerical inversion of what it leaves, so
    that it closes in bins of truth (:class:`ResidualInversion`)."""
    return ResidualInversion(mdn_pipeline(epochs, seed))


def run_demo(
    output_dir: str | Path = "demo-output",
    *,
    n_train: int = 400_000,
    n_test: int = 200_000,
    n_files: int = 4,
    epochs: int = 6,
    seed: int = 0,
    say: Callable[[str], Any] = print,
) -> DemoResult:
    """Run the quick-start job; see the module's docstring.

    Parameters
    ----------
    output_dir : path-like, default "demo-output"
        Everything goes here: ``data/`` (ROOT files), ``report/``, ``mlflow-store/``.
        Files of an earlier demo in it are replaced.
    n_train, n_test : int
        Training jets (split over ``n_files`` files) and held-out jets.
    epochs : int
        Training epochs of the MDN.
    seed : int
        Seeds the simulation and the training.
    say : callable
        Where progress lines go.

    Returns
    -------
    DemoResult
    """
    from skcal.tracking import load_calibrator, log_calibrator, use_store

    output_dir = Path(output_dir).resolve()
    data_dir = output_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()

    def step(message: str) -> None:
        say(f"[{time.perf_counter() - clock:6.1f} s] {message}")

    step(f"simulating {n_train:,} training and {n_test:,} held-out jets into {data_dir}")
    per_file = n_train // n_files
    for i in range(n_files):
        write_root(
            iter_jets(per_file, start=i * per_file, chunk_size=100_000, random_state=seed),
            data_dir / f"train_{i:03d}.root",
            overwrite=True,
        )
    write_root(
        iter_jets(n_test, start=n_files * per_file, chunk_size=100_000, random_state=seed),
        data_dir / "test.root",
        overwrite=True,
    )

    train = read_jets(
        str(data_dir / "train_*.root"), columns=[*FEATURES, "e_true"], step_size=50_000, dask=True
    )
    step(f"reading the training files as Dask: {train.npartitions} partitions")
    y = train.e_reco / train.e_true
    models = {"NI+GSC": standard_chain(), NEURAL: neural_calibration(epochs, seed)}
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(train[FEATURES], y)
        step(f"fitted {name} over the chunks in {time.perf_counter() - start:.0f} s")

    test = read_jets(data_dir / "test.root")
    result = report(models, test, output_dir=output_dir / "report")
    step(f"report on {len(test):,} held-out jets: {result.html}")

    store_uri = use_store(root=output_dir / "mlflow-store", experiment="skcal-demo")
    logging.getLogger("mlflow").setLevel(
        logging.ERROR
    )  # after MLflow's import: the demo prints its own progress
    summaries = result.metrics["summary"]
    for name, model in models.items():
        metrics = {
            "worst_closure": summaries[name]["worst_closure"],
            "median_resolution": summaries[name]["median_resolution"],
        }
        register = REGISTERED_NAME if name == NEURAL else None
        with warnings.catch_warnings():  # MLflow's hints about integer columns and pickling
            warnings.simplefilter("ignore", UserWarning)
            logged = log_calibrator(
                model,
                test.head(),
                name=register,
                alias="champion" if register else None,
                metrics=metrics,
                report_dir=output_dir / "report",
            )
        step(
            f"logged {name} to MLflow run {logged.run_id}"
            + (f" as {logged.registry_uri}" if register else "")
        )

    registry_uri = f"models:/{REGISTERED_NAME}@champion"
    loaded = load_calibrator(registry_uri)
    if not np.array_equal(loaded.predict(test[FEATURES]), models[NEURAL].predict(test[FEATURES])):
        raise RuntimeError(
            f"the model loaded from {registry_uri} predicts differently from the fitted one"
        )
    step(f"loaded {registry_uri} back from the registry: identical predictions")

    summary = pd.DataFrame(
        {
            name: {
                "worst closure |R-1|": s["worst_closure"],
                "median resolution": s["median_resolution"],
                "bins outside +-1%": f"{s['n_outside_inner']}/{s['n_bins_usable']}",
            }
            for name, s in summaries.items()
        }
    )
    return DemoResult(data_dir, Path(result.html), store_uri, registry_uri, summary)
