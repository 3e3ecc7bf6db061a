"""Unbinned unfolding on the Gaussian toy: MultiFold against IBU (and the `omnifold` package).

The toy of the OmniFold paper (arXiv:1911.09107): particle level Normal(0, 1) in the
simulation and Normal(0.2, 0.8) in the data, detector smearing 0.5; in 2-D with the
correlation 0.5 (simulation) and 0.3 (data). For each: skcal's MultiFold (default
classifier, HistGradientBoosting) with ``--replicas`` bootstrap replicas of the data and
as many of the simulation; the unfolded mean and width of each column against the data's
truth, in units of the bootstrap standard deviation (data and simulation replicas in
quadrature); the binned unfolded distribution's chi2/ndf against the data's truth with
the bootstrap covariance (data plus simulation replicas), beside IBU's in the same bins
(with its own bootstrap covariance, as many replicas). The chi2 is corrected for the
noise of a covariance from few replicas (``chi2(..., dof=2 * (replicas - 1))``: the
inverse of a covariance from 8 + 8 replicas for 9 bins is 3.5 times too large on
average); the raw value and, for MultiFold, the raw value with 8 + 8 replicas are
quoted beside it. Every toy runs for each of ``--seeds`` (the events and every seed
of the unfolding); a check's verdict is its worst seed, and each seed's value is quoted.
With ``--omnifold-dir`` (the
weights that ``benchmarks/_omnifold_side.py`` wrote from the same events, in an
environment with the `omnifold` package, from the events it saved there): MultiFold,
IBU and the package on those events, all three with IBU's bootstrap covariance
(``--package-replicas``; one package run per toy: its replicas would take hours on CPU;
the events are those of the first seed).

    python benchmarks/bench_unfolding.py [--n-events 2000] [--replicas 16] [--quick]
        [--seeds 11 12 13] [--omnifold-dir DIR] [--workers 2]

Writes ``results/unfolding{,_quick}.{json,md}`` (one row per toy and method) and
``results/unfolding{,_quick}_checks.{json,md}`` (the issue's checks, each with its verdict).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write_results

PACKAGE = "omnifold 0.1.36 (Keras MLP)"


def _edges(dims: int, n_bins: int) -> Any:
    if dims == 1:
        return np.linspace(-2.4, 2.4, n_bins + 1)
    return [np.linspace(-1.8, 1.8, 4)] * 2  # 3 x 3 bins: a covariance from a few dozen replicas


def _moments(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean and width of each column, weighted; shape (2, n_columns)."""
    mean = weights @ values / weights.sum()
    width = np.sqrt(weights @ (values - mean) ** 2 / weights.sum())
    return np.vstack([mean, width])


def _replica_std(values: np.ndarray, *replica_sets: np.ndarray) -> np.ndarray:
    variance = sum(
        np.var([_moments(values, w) for w in replicas], axis=0, ddof=1) for replicas in replica_sets
    )
    return np.sqrt(variance)


def _omnifold_weights(directory: Path, dims: int, wait_s: float) -> Any:
    path = directory / f"weights_{dims}d.npz"
    deadline = time.monotonic() + wait_s
    while not path.exists() and time.monotonic() < deadline:  # the package still running
        time.sleep(10)
    if not path.exists():
        return None, f"no weights ({path} missing: the package did not finish)"
    with np.load(path) as w:
        return (np.asarray(w["weights"], dtype=np.float64), float(w["seconds"])), ""


def _check(rows: list[dict[str, Any]], check: str, value: float, target: str, ok: bool) -> None:
    rows.append({"check": check, "value": round(float(value), 4), "target": target, "pass": ok})
    print(rows[-1], flush=True)


def run_toy(dims: int, seed: int, args: argparse.Namespace, client: Any) -> tuple[list, dict]:
    """One toy and seed: the table's rows and the checks' values (pulls, chi2/ndf)."""
    from skcal.unfolding import (
        MultiFold,
        chi2,
        covariance,
        histogram,
        iterative_bayesian_unfolding,
        make_gaussian_toy,
    )

    sim_reco, sim_truth, data_reco, data_truth = make_gaussian_toy(
        args.n_events, dims=dims, random_state=seed + dims
    )
    truth = sim_truth.to_numpy()
    edges = _edges(dims, args.bins)
    target = histogram(data_truth, edges)
    start = time.perf_counter()
    mf = MultiFold(n_iterations=args.iterations, random_state=seed)
    mf.fit(sim_reco, sim_truth, data_reco)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    boot = {
        of: mf.bootstrap(args.replicas, of=of, random_state=seed + i, client=client)
        for i, of in enumerate(("data", "sim"))
    }
    boot_s = time.perf_counter() - start
    w = mf.unfolded_weights()
    cov = covariance(sim_truth, edges, boot["data"]) + covariance(sim_truth, edges, boot["sim"])
    few = covariance(sim_truth, edges, boot["data"][:8]) + covariance(
        sim_truth, edges, boot["sim"][:8]
    )
    ibu = iterative_bayesian_unfolding(
        sim_reco, sim_truth, data_reco, edges, edges, n_iterations=args.iterations,
        n_replicas=args.replicas, random_state=seed,
    )  # fmt: skip
    dof = 2 * (args.replicas - 1)  # data and simulation replicas
    true_moments = _moments(data_truth.to_numpy(), np.ones(len(data_truth)))
    moments, std = _moments(truth, w), _replica_std(truth, boot["data"], boot["sim"])
    name = f"{dims}-D"
    rows: list[dict[str, Any]] = []

    def row(method: str, counts: np.ndarray, cov_: np.ndarray, m: Any, extra: dict) -> float:
        raw, ndf = chi2(counts, target, cov_)
        value, _ = chi2(counts, target, cov_, dof=dof)
        rows.append(
            {
                "toy": name,
                "seed": seed,
                "method": method,
                "chi2_ndf": round(value / ndf, 3),
                "ndf": ndf,
                "raw_chi2_ndf": round(raw / ndf, 3),
                **(
                    {}
                    if m is None
                    else {
                        "mean": np.round(m[0], 4).tolist(),
                        "width": np.round(m[1], 4).tolist(),
                    }
                ),
                **extra,
            }
        )
        print(rows[-1], flush=True)
        return value / ndf

    counts = histogram(sim_truth, edges, w)
    mf_chi2 = row(
        "skcal MultiFold (HGB)", counts, cov, moments,
        {"raw_chi2_ndf_8_replicas": round(chi2(counts, target, few)[0] / target.size, 3),
         "mean_std": np.round(std[0], 4).tolist(), "width_std": np.round(std[1], 4).tolist(),
         "fit_s": round(fit_s, 1), "bootstrap_s": round(boot_s, 1)},
    )  # fmt: skip
    ibu_chi2 = row("IBU (own bootstrap covariance)", ibu.counts, ibu.covariance(), None, {})
    row("IBU (MultiFold's covariance)", ibu.counts, cov, None, {})
    rows.append({"toy": name, "seed": seed, "method": "data truth",
                 "mean": np.round(true_moments[0], 4).tolist(),
                 "width": np.round(true_moments[1], 4).tolist()})  # fmt: skip
    pulls = np.abs(moments - true_moments) / std
    values: dict[str, float] = {}
    for k, column in enumerate(sim_truth.columns):
        for j, what in enumerate(("mean", "width")):
            values[f"{name} {what} of {column}: |unfolded - truth| / bootstrap std"] = pulls[j, k]
    values[f"{name} MultiFold chi2/ndf (bootstrap covariance)"] = mf_chi2
    values[f"{name} MultiFold chi2/ndf - IBU's"] = mf_chi2 - ibu_chi2
    return rows, values


TARGETS = {"|": (2.0, "<= 2"), "(bootstrap": (1.5, "<= 1.5"), "IBU's": (0.0, "<= 0 (no worse)")}


def seed_checks(per_seed: list[dict[str, float]], seeds: list[int]) -> list[dict[str, Any]]:
    """Each check over the seeds: its worst value decides; every seed's value is quoted."""
    checks: list[dict[str, Any]] = []
    for check in per_seed[0]:
        limit, target = next(v for k, v in TARGETS.items() if k in check)
        values = [float(p[check]) for p in per_seed]
        checks.append(
            {"check": check, "value": round(max(values), 4), "target": target,
             "pass": max(values) <= limit,
             "per seed": {str(s): round(v, 3) for s, v in zip(seeds, values)}}
        )  # fmt: skip
        print(checks[-1], flush=True)
    return checks


def compare_package(dims: int, args: argparse.Namespace) -> tuple[list, list]:
    """MultiFold, IBU and the omnifold package on the package's events, with one yardstick.

    The package ran once on ``events_<dims>d.npz`` (its bootstrap would take hours on
    CPU), so all three are held against the data's truth with the same covariance: IBU's
    bootstrap replicas (``--package-replicas`` of the data plus as many of the simulation).
    """

    from skcal.unfolding import (
        MultiFold,
        chi2,
        histogram,
        iterative_bayesian_unfolding,
        make_gaussian_toy,
    )

    name = f"{dims}-D"
    path = args.omnifold_dir / f"events_{dims}d.npz" if args.omnifold_dir else None
    if path is None or not path.exists():
        return [{"toy": name, "method": f"omnifold package: not run ({path} missing)"}], []
    with np.load(path) as saved:
        n = saved["sim_reco"].shape[0]
        events = {k: saved[k] for k in ("sim_reco", "sim_truth", "data_reco")}
    sim_reco, sim_truth, data_reco, data_truth = make_gaussian_toy(
        n, dims=dims, random_state=args.seeds[0] + dims
    )
    if not all(
        np.array_equal(events[k], t.to_numpy(np.float32))
        for k, t in (("sim_reco", sim_reco), ("sim_truth", sim_truth), ("data_reco", data_reco))
    ):
        return [{"toy": name, "method": f"omnifold package: {path} holds other events"}], []
    package, reason = _omnifold_weights(args.omnifold_dir, dims, args.omnifold_wait)
    edges = _edges(dims, args.bins)
    target = histogram(data_truth, edges)
    ibu = iterative_bayesian_unfolding(
        sim_reco, sim_truth, data_reco, edges, edges, n_iterations=args.iterations,
        n_replicas=args.package_replicas, random_state=args.seeds[0],
    )  # fmt: skip
    cov = ibu.covariance()
    mf = MultiFold(n_iterations=args.iterations, random_state=args.seeds[0])
    w = mf.fit(sim_reco, sim_truth, data_reco).unfolded_weights()
    truth = sim_truth.to_numpy()
    found = {"skcal MultiFold (HGB)": (histogram(sim_truth, edges, w), _moments(truth, w))}
    found["IBU"] = (ibu.counts, None)
    rows: list[dict[str, Any]] = []
    if package is None:
        rows.append({"toy": name, "n_events": n, "method": f"omnifold package: {reason}"})
    else:
        pw = package[0] * (len(data_reco) / package[0].sum())  # its weights sum to 1e6
        found["omnifold 0.1.36 (Keras MLP)"] = (
            histogram(sim_truth, edges, pw),
            _moments(truth, pw),
        )
    values = {}
    for method, (counts, m) in found.items():
        value, ndf = chi2(counts, target, cov, dof=2 * (args.package_replicas - 1))
        values[method] = value / ndf
        rows.append(
            {"toy": name, "n_events": n, "method": f"{method}, IBU's covariance",
             "chi2": round(value, 2), "ndf": ndf, "chi2_ndf": round(value / ndf, 3),
             **({} if m is None else {"mean": np.round(m[0], 4).tolist(),
                                      "width": np.round(m[1], 4).tolist()})}
        )  # fmt: skip
        print(rows[-1], flush=True)
    checks: list[dict[str, Any]] = []
    if package is not None:
        rows[-1]["fit_s"] = round(package[1], 1)
        mf_value, of_value = values["skcal MultiFold (HGB)"], values[PACKAGE]
        check = f"{name} MultiFold chi2/ndf - omnifold package's (same events, IBU's covariance)"
        _check(checks, check, mf_value - of_value, "<= 0 (as good)", mf_value <= of_value)
    return rows, checks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 events, 10 replicas, 1 seed")
    parser.add_argument("--n-events", type=int, default=2000)
    parser.add_argument("--replicas", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--bins", type=int, default=5, help="bins of the 1-D toy (2-D: 3 x 3)")
    parser.add_argument("--dims", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--workers", type=int, default=0, help="a LocalCluster of N processes")
    parser.add_argument("--omnifold-dir", type=Path, default=None)
    parser.add_argument("--package-replicas", type=int, default=100)
    parser.add_argument(
        "--omnifold-wait", type=float, default=0.0, help="seconds to wait for its weights"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n_events, args.replicas, args.seeds = 1000, 10, args.seeds[:1]
    from threadpoolctl import threadpool_limits

    client, cluster = None, None
    if args.workers:
        import distributed

        cluster = distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster)
    rows, checks = [], []
    try:
        with threadpool_limits(1):
            for dims in args.dims:
                per_seed = []
                for seed in args.seeds:
                    r, values = run_toy(dims, seed, args, client)
                    rows += r
                    per_seed.append(values)
                checks += seed_checks(per_seed, args.seeds)
            for dims in args.dims if args.omnifold_dir else []:
                r, c = compare_package(dims, args)
                rows += r
                checks += c
    finally:
        if client is not None:
            client.close()
            cluster.close()
    suffix = "_quick" if args.quick else ""
    parameters = {**vars(args), "omnifold_dir": str(args.omnifold_dir)}
    write_results(
        f"unfolding{suffix}",
        parameters=parameters,
        rows=rows,
        title="Unfolding the Gaussian toy: MultiFold, IBU and the omnifold package",
        notes="chi2_ndf: against the data's particle-level histogram with the covariance of "
        "the bootstrap replicas (data + simulation), with the correction of the noisy "
        "covariance's inverse (skcal.unfolding.chi2's dof: (dof - ndf - 1) / dof, dof = 2 x "
        "(replicas - 1)); raw_chi2_ndf: uncorrected; raw_chi2_ndf_8_replicas: uncorrected "
        "with 8 + 8 of the replicas (the earlier measurement's count). mean_std / width_std: "
        "the bootstrap standard deviation of the unfolded mean and width. One thread per "
        "process.",
    )
    write_results(
        f"unfolding{suffix}_checks",
        parameters=parameters,
        rows=checks,
        title="Unfolding: the issue's checks on the Gaussian toy",
    )


if __name__ == "__main__":
    main()
