"""Throughput of the neural calibrators against bare torch, in the same run.

Training: ``MDNCalibrator.fit`` against a bare loop (same network, batch size 4096,
Adam, loss, per-epoch shuffle by one gather). Inference: ``predict`` (the mixture's
mode included, with and without a log target's Jacobian) and the raw forward of
``predict_dist`` against a bare ``module.raw(x)`` pass. Each ratio comes from
``--warmups`` untimed rounds and then ``--repeats`` rounds of the sides in turn
(``_harness.time_alternating``; the cores are shared): its median, min and max.

Memory (``neural_dask``): one epoch of an MDN pipeline (``LogTransformer ->
SymmetricScaler -> MDNCalibrator``) over ``--dask-jets`` jets in ``--dask-files`` ROOT
files, read through Dask in partitions of ``--step-size`` jets (streamed four
partitions at a time), read in memory, and through Dask over the first file alone,
each in a fresh process: the peak resident size and the part of it that the read and
the fit add over the loaded libraries.

Run: ``python benchmarks/bench_neural.py [--jets N] [--threads T] [--batch B] [--warmups W]
[--repeats R]
[--dask-jets N --dask-files F --step-size S --data-dir DIR | --skip-dask]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    ROOT_FILE_SEEDS,
    add_repeat_arguments,
    measure_in_subprocess,
    peak_rss_mib,
    ratio_stats,
    rss_mib,
    synthetic_root_files,
    time_alternating,
    write_results,
)

from skcal.neural import DensityNetwork, MDNCalibrator, nll_loss

SEEDS = {"data": 0, "torch": 0, "dask_files": ROOT_FILE_SEEDS}
STREAM_FEATURES = [
    "e_reco",
    "pt_reco",
    "eta",
    "mu",
    "npv",
    "rho",
    "area",
    "charged_frac",
    "n_trk",
    "width",
]


def _data(n: int, n_features: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEEDS["data"])
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    y = np.exp(0.1 * X[:, 0] + 0.1 * rng.normal(size=n))
    return X, y


def bare_loop(
    X: np.ndarray, y: np.ndarray, epochs: int, batch: int, hidden: tuple[int, ...], k: int
) -> float:
    torch.manual_seed(SEEDS["torch"])
    t = torch.from_numpy(y.astype(np.float32))
    net = DensityNetwork(
        X.shape[1], hidden, n_components=k, loc=float(t.mean()), scale=float(t.std())
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.from_numpy(X)
    gen = torch.Generator().manual_seed(SEEDS["torch"])
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        xs, ts = x[perm], t[perm]
        for i in range(0, len(xs), batch):
            opt.zero_grad()
            loss = nll_loss(net(xs[i : i + batch]), ts[i : i + batch])
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def fit_from_root(
    paths: list[str], use_dask: bool, step_size: int, batch: int, threads: int
) -> dict[str, Any]:
    """One epoch of an MDN pipeline over ``paths``;
    the resident size before reading and at its peak."""
    import dask.dataframe  # noqa: F401  (loaded before the baseline in both modes)
    import uproot  # noqa: F401
    from sklearn.pipeline import make_pipeline

    from skcal.io import read_jets
    from skcal.preprocessing import LogTransformer, SymmetricScaler

    torch.set_num_threads(threads)
    imports_rss = rss_mib()
    jets = read_jets(
        paths, columns=[*STREAM_FEATURES, "e_true"], step_size=step_size, dask=use_dask
    )
    model = make_pipeline(
        LogTransformer(columns=["e_reco", "pt_reco"]),
        SymmetricScaler(clip=True),
        MDNCalibrator(n_components=3, max_epochs=1, batch_size=batch, random_state=SEEDS["torch"]),
    )
    model.set_output(transform="pandas").fit(jets[STREAM_FEATURES], jets["e_reco"] / jets["e_true"])
    return {
        "n_jets": len(jets),
        "partitions": jets.npartitions if use_dask else 1,
        "imports_rss_mib": imports_rss,
        "peak_rss_mib": peak_rss_mib(),
    }


def dask_memory(
    n_jets: int,
    n_files: int,
    data_dir: Path,
    step_size: int,
    batch: int,
    threads: int,
) -> list[dict[str, Any]]:
    paths = [str(p) for p in synthetic_root_files(n_jets, data_dir, n_files)]
    rows = []
    for name, files, use_dask in (
        ("dask (read_jets dask=True)", paths, True),
        ("in memory (read_jets)", paths, False),
        ("dask, first file only", paths[:1], True),
    ):
        run = measure_in_subprocess(fit_from_root, files, use_dask, step_size, batch, threads)[
            "result"
        ]
        rows.append(
            {
                "fit": name,
                "n_jets": run["n_jets"],
                "files": len(files),
                "partitions": run["partitions"],
                "peak_rss_mib": run["peak_rss_mib"],
                "fit_rss_mib": run["peak_rss_mib"] - run["imports_rss_mib"],
            }
        )
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jets", type=int, default=200_000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    add_repeat_arguments(ap)
    ap.add_argument("--dask-jets", type=int, default=4_000_000)
    ap.add_argument("--dask-files", type=int, default=8)
    ap.add_argument("--step-size", type=int, default=125_000, help="jets per Dask partition")
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/skcal-bench-neural"))
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    hidden, k = (128, 128, 128), 3
    X, y = _data(args.jets)
    fitted: list[MDNCalibrator] = []

    def ours() -> None:
        fitted[:] = [
            MDNCalibrator(
                n_components=k,
                max_epochs=args.epochs,
                batch_size=args.batch,
                random_state=SEEDS["torch"],
                module__hidden_sizes=hidden,
            ).fit(X, y)
        ]

    repeats = {"warmups": args.warmups, "repeats": args.repeats}
    training = time_alternating(
        {"bare": lambda: bare_loop(X, y, args.epochs, args.batch, hidden, k), "skcal": ours},
        **repeats,
    )
    n = args.jets * args.epochs
    rows = [
        {
            "measure": f"training: MDN fit, batch {args.batch}",
            "skcal_jets_per_s": n / float(np.median(training["skcal"])),
            "bare_jets_per_s": n / float(np.median(training["bare"])),
            **ratio_stats(training["bare"], training["skcal"]),
        }
    ]
    est = fitted[0]
    log_est = MDNCalibrator(
        n_components=k,
        training_space="log",
        max_epochs=1,
        batch_size=args.batch,
        random_state=SEEDS["torch"],
        module__hidden_sizes=hidden,
    ).fit(X, y)
    xt = torch.from_numpy(X)
    est.module_.eval()

    def bare_forward() -> None:
        with torch.no_grad():
            for i in range(0, len(xt), 1 << 16):
                est.module_.raw(xt[i : i + (1 << 16)])

    timings = time_alternating(
        {
            "bare": bare_forward,
            "raw": lambda: est.predict_dist(X),
            "mode": lambda: est.predict(X),
            "mode_log": lambda: log_est.predict(X),
        },
        **repeats,
    )
    labels = {
        "raw": "inference: predict_dist (forward only)",
        "mode": "inference: predict (mixture mode, target r)",
        "mode_log": "inference: predict (mixture mode, target log r, with Jacobian)",
    }
    for name, label in labels.items():
        rows.append(
            {
                "measure": label,
                "skcal_jets_per_s": args.jets / float(np.median(timings[name])),
                "bare_jets_per_s": args.jets / float(np.median(timings["bare"])),
                **ratio_stats(timings["bare"], timings[name]),
            }
        )
    write_results(
        "neural",
        parameters=vars(args)
        | {"seeds": SEEDS, "hidden": hidden, "n_components": k, "features": 20},
        rows=rows,
        title="Neural calibrators: throughput against bare torch",
        notes="ratio = bare time / skcal time (1.0 = no overhead), the median over "
        f"{args.repeats} rounds of the sides in turn after {args.warmups} warm-up round(s), "
        "with its min and max (the cores are shared). Bare training: the same network, Adam, "
        "NLL and per-epoch gather shuffle in a plain loop; bare inference: module.raw over "
        "65536-jet slices.",
    )
    for r in rows:
        print(r)
    if not args.skip_dask:
        rows = dask_memory(
            args.dask_jets, args.dask_files, args.data_dir, args.step_size, args.batch, args.threads
        )
        write_results(
            "neural_dask",
            parameters=vars(args) | {"seeds": SEEDS, "features": STREAM_FEATURES},
            rows=rows,
            title="Neural fit over jets in ROOT files: peak memory through Dask and in memory",
            notes="One epoch of LogTransformer -> SymmetricScaler -> MDNCalibrator (64x64 default "
            "network, K=3) per row, each in a fresh process; the Dask fit streams "
            "buffer_partitions=4 partitions at a time. peak_rss_mib is VmHWM; fit_rss_mib = peak "
            "RSS - the RSS before reading (every library already loaded).",
        )


if __name__ == "__main__":
    main()
