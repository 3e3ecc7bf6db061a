"""How the cost of a fit grows with the sample: NI fit time and neural training time.

For each size in ``--sizes``, in a fresh process (its own peak memory): generate the
jets, then time ``NumericalInversion().fit`` on (E_reco, pT_reco, eta) and, in another
fresh process, ``MDNCalibrator.fit`` for a fixed ``--epochs`` (no validation split) on
the neural calibrators' 18 features: ``--warmups`` untimed fits, then ``--repeats``
timed ones (``_harness.time_alternating``). Reports the median time (with its min and
max), the cost per jet and the peak memory per size, a least-squares fit ``t = a + b n``
of the median times, and the log-log slope ``d log t / d log n`` (1 = linear) per
calibrator: the median, min and max of the slopes of the timed rounds (round i's fits
at every size).

    python benchmarks/bench_scaling.py [--sizes 1000000 4000000 16000000] [--epochs 1] [--threads 2]
                                       [--warmups 1] [--repeats 9]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    add_repeat_arguments,
    measure_in_subprocess,
    spread,
    time_alternating,
    write_results,
)
from _small_r import FEATURES

SEEDS = {"jets": 1, "network": 0}


def fit_ni(n_jets: int, warmups: int, repeats: int) -> list[float]:
    from skcal.datasets import make_jets
    from skcal.inversion import NumericalInversion

    jets = make_jets(n_jets, random_state=SEEDS["jets"])
    y = jets["e_reco"] / jets["e_true"]
    X = jets[["e_reco", "pt_reco", "eta"]]
    fit = {"fit": lambda: NumericalInversion().fit(X, y)}
    return time_alternating(fit, warmups=warmups, repeats=repeats)["fit"]


def fit_mdn(
    n_jets: int, epochs: int, batch: int, threads: int, warmups: int, repeats: int
) -> list[float]:
    import torch

    from skcal.datasets import make_jets
    from skcal.neural import MDNCalibrator

    torch.set_num_threads(threads)
    jets = make_jets(n_jets, random_state=SEEDS["jets"])
    y = (jets["e_reco"] / jets["e_true"]).to_numpy()
    X = jets[FEATURES].to_numpy(dtype=np.float32)
    X = (X - X.mean(axis=0)) / X.std(axis=0)

    def fit() -> None:
        MDNCalibrator(
            n_components=3,
            max_epochs=epochs,
            batch_size=batch,
            random_state=SEEDS["network"],
            validation_fraction=None,
            module__hidden_sizes=(64, 64, 64),
        ).fit(X, y)

    return time_alternating({"fit": fit}, warmups=warmups, repeats=repeats)["fit"]


def linear_fit(sizes: list[int], seconds: list[list[float]]) -> dict[str, float]:
    """``t = a + b n`` by least squares on the median times, and the log-log slope
    (1 = linear) of each timed round: median, min and max.

    ``seconds[j]``: the timed rounds at ``sizes[j]``, all of the same length.
    """
    n, t = np.asarray(sizes, float), np.asarray(seconds, float)
    b, a = np.polyfit(n, np.median(t, axis=1), 1)
    slopes = [float(np.polyfit(np.log(n), np.log(t[:, i]), 1)[0]) for i in range(t.shape[1])]
    return {
        "intercept_s": float(a),
        "s_per_million_jets": float(b * 1e6),
        **spread(slopes, "loglog_slope"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 4_000_000, 16_000_000])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-neural", action="store_true")
    add_repeat_arguments(parser)
    args = parser.parse_args(argv)
    if len(args.sizes) < 2:
        parser.error("--sizes needs at least two sizes to show how the cost grows")

    rows: list[dict[str, Any]] = []
    times: dict[str, list[list[float]]] = {"NI fit": [], f"MDN fit, {args.epochs} epoch(s)": []}
    rounds = (args.warmups, args.repeats)
    for n in sorted(args.sizes):
        runs = {"NI fit": measure_in_subprocess(fit_ni, n, *rounds)}
        if not args.skip_neural:
            runs[f"MDN fit, {args.epochs} epoch(s)"] = measure_in_subprocess(
                fit_mdn, n, args.epochs, args.batch, args.threads, *rounds
            )
        for name, run in runs.items():
            times[name].append(run["result"])
            fit_s = spread(run["result"], "fit_s")
            rows.append(
                {
                    "calibrator": name,
                    "n_jets": n,
                    **fit_s,
                    "us_per_jet": fit_s["fit_s"] / n * 1e6,
                    "peak_rss_mib": run["peak_rss_mib"],
                }
            )
            print(rows[-1], flush=True)
    sizes = sorted(args.sizes)
    for name, seconds in times.items():
        if seconds:
            rows.append(
                {"calibrator": f"{name}: linear fit", "n_jets": "all", **linear_fit(sizes, seconds)}
            )
            print(rows[-1], flush=True)
    write_results(
        "scaling",
        parameters=vars(args) | {"seeds": SEEDS},
        rows=rows,
        title="Scaling: NI fit time and neural training time against sample size",
        notes="Each size in a fresh process; the time covers the fit only "
        f"(not generating the jets): the median of {args.repeats} fits after {args.warmups} "
        "untimed, with the min and max; loglog_slope: the median (min, max) of the slopes "
        "of the timed rounds; "
        "peak_rss_mib includes the generated table. MDN: 64x64x64, K=3, batch "
        f"{args.batch}, {args.threads} threads, no validation split. loglog_slope = d log t / "
        "d log n (1 = cost linear in the sample; below 1 while fixed costs still count).",
    )


if __name__ == "__main__":
    main()
