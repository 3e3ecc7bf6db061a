"""Pile-up independence up to HL-LHC conditions (issue 17): the chain and the neural calibrators.

Fits on ``--n-train`` synthetic small-R jets with mu flat in ``[0, --mu-max]`` (default
200) and checks on ``--n-test`` held-out jets of another seed, in each (pT_true,
|eta_true|) bin of :data:`PT_BINS` x :data:`ETA_BINS`:

- the response mode (of ``E_calib / E_true``) in the top 10% of NPV (jets with NPV at
  or above the test sample's 90% quantile) against the bottom 10% (at or below its 10%
  quantile), their difference ``shift = top - bottom``, and the difference's
  statistical error from ``--n-bootstrap`` Poisson-bootstrap replicas of the two
  histograms; the same for mu;
- pass: ``|shift| - tolerance <= n_sigma * error`` for NPV and mu, with the tolerance
  1% (2% at 20-30 GeV) and ``--n-sigma`` 1: the shift is within the tolerance, beyond
  its statistical error;
- the straight-line slope of the response mode against NPV and mu (the report's
  pile-up check, :func:`skcal.evaluation._dependence.pileup_slopes`);
- the resolution ``(q84 - q16) / (2 mode)`` in bins of mu (``pileup_resolution``).

Calibrations (``--calibrations``): ``pu-ni`` (pile-up offset + NI), ``chain`` (pile-up
offset + NI + GSC), ``chain-stored`` (the GSC binning the stored charged fraction, as
before the fix: the "before" row), ``mdn`` and ``gdn`` (the defaults:
``ResidualInversion(make_pipeline(EtaAnnotation(), SymmetricScaler(),
MDNCalibrator(random_state=s)))``, whose residual inversion has mu cells, and the same
pipeline alone, the fitted ``calibrator_``, in a row of its own; ``--epochs`` overrides
``max_epochs`` for quick runs).

    python benchmarks/bench_pileup.py [--n-train 1000000] [--n-test 500000]
        [--calibrations pu-ni chain chain-stored mdn gdn] [--epochs N] [--n-bootstrap 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write_results
from _small_r import FEATURES, reco_columns

SEEDS = {"train": 1, "test": 2, "models": 0, "bootstrap": 0}
PT_BINS = [20.0, 30.0, 60.0, 120.0, 300.0]
ETA_BINS = [0.0, 0.8, 1.5, 2.5, 4.5]
MU_RESOLUTION_BINS = [0.0, 40.0, 80.0, 120.0, 160.0, 200.0]
SLOPE_BINS = {"npv": np.arange(0.0, 191.0, 10.0), "mu": np.arange(0.0, 201.0, 10.0)}
CALIBRATIONS = ("pu-ni", "chain", "chain-stored", "mdn", "gdn")
NAMES = {
    "pu-ni": "pile-up + NI",
    "chain": "pile-up + NI + GSC",
    "chain-stored": "pile-up + NI + GSC (stored charged fraction, before the fix)",
    "mdn": "MDN + residual NI (defaults)",
    "gdn": "GDN + residual NI (defaults)",
}
ALONE = {"mdn": "MDN pipeline alone", "gdn": "GDN pipeline alone"}


def tolerance(pt_low: float) -> float:
    """The allowed top-minus-bottom decile shift: 2% at 20-30 GeV, 1% above."""
    return 0.02 if pt_low < 30.0 else 0.01


def _model(key: str, epochs: int | None) -> tuple[Any, bool]:
    """The unfitted calibration and whether it reads FEATURES (else every reco column)."""
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset

    if key == "pu-ni":
        return make_pipeline(PileupOffset(), NumericalInversion()), False
    if key in ("chain", "chain-stored"):
        gsc = GlobalSequentialCalibration(**({"pt_fractions": ()} if key != "chain" else {}))
        return make_pipeline(PileupOffset(), NumericalInversion(), gsc), False
    from skcal.inversion import ResidualInversion
    from skcal.neural import GDNCalibrator, MDNCalibrator
    from skcal.preprocessing import EtaAnnotation, SymmetricScaler

    net = (MDNCalibrator if key == "mdn" else GDNCalibrator)(random_state=SEEDS["models"])
    if epochs is not None:
        net.set_params(max_epochs=epochs)
    pipe = make_pipeline(EtaAnnotation(), SymmetricScaler(), net).set_output(transform="pandas")
    return ResidualInversion(pipe), True


def _classes(values: np.ndarray) -> np.ndarray:
    """0 for the bottom 10% (at or below the 10% quantile), 2 for the top 10%, 1 between."""
    low, high = np.quantile(values, [0.1, 0.9])
    return np.where(values <= low, 0.0, np.where(values >= high, 2.0, 1.0))


def decile_shifts(
    r: np.ndarray, test: pd.DataFrame, variable: str, n_bootstrap: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Per (pT_true, |eta_true|) bin: the bottom and top decile modes, shift and its error."""
    from skcal.response import DEFAULT_RESPONSE_EDGES, ResponseHistogram, table_from_histogram
    from skcal.response._modefit import estimate_modes, poisson_replicas

    hist = ResponseHistogram(
        {"pt_true": PT_BINS, "abs_eta_true": ETA_BINS, "decile": [0.0, 0.5, 1.5, 2.5]},
        DEFAULT_RESPONSE_EDGES,
    )
    hist.fill(
        r,
        {
            "pt_true": test["pt_true"].to_numpy(),
            "abs_eta_true": np.abs(test["eta_true"].to_numpy()),
            "decile": _classes(test[variable].to_numpy()),
        },
    )
    table = table_from_histogram(hist, n_bootstrap=0)
    shape = (len(PT_BINS) - 1, len(ETA_BINS) - 1, 3)
    modes = table["mode"].to_numpy().reshape(shape)
    sumw, sumw2 = hist.flat()
    reps_w, reps_w2 = poisson_replicas(sumw, sumw2, n_bootstrap, rng)
    n_r = sumw.shape[1]
    boot = estimate_modes(
        reps_w.reshape(-1, n_r), reps_w2.reshape(-1, n_r), hist.response_edges
    ).mode.reshape((n_bootstrap, *shape))
    shift_err = np.nanstd(boot[..., 2] - boot[..., 0], axis=0, ddof=1)
    out = []
    for i, (pt_lo, pt_hi) in enumerate(zip(PT_BINS[:-1], PT_BINS[1:], strict=True)):
        for j, (eta_lo, eta_hi) in enumerate(zip(ETA_BINS[:-1], ETA_BINS[1:], strict=True)):
            out.append(
                {
                    "pt_true": f"{pt_lo:g}-{pt_hi:g}",
                    "abs_eta_true": f"{eta_lo:g}-{eta_hi:g}",
                    "pt_low": pt_lo,
                    f"{variable}_bottom": modes[i, j, 0],
                    f"{variable}_top": modes[i, j, 2],
                    f"{variable}_shift": modes[i, j, 2] - modes[i, j, 0],
                    f"{variable}_shift_err": shift_err[i, j],
                }
            )
    return pd.DataFrame(out)


def slopes(r: np.ndarray, test: pd.DataFrame, variable: str) -> pd.DataFrame:
    """The report's straight-line slope of the mode against ``variable`` in each bin."""
    from skcal.evaluation._dependence import pileup_slopes
    from skcal.response import DEFAULT_RESPONSE_EDGES, ResponseHistogram

    values = test[variable].to_numpy(dtype=float)
    hist = ResponseHistogram(
        {"pt_true": PT_BINS, "abs_eta_true": ETA_BINS, variable: SLOPE_BINS[variable]},
        DEFAULT_RESPONSE_EDGES,
        extras=(variable,),
    )
    hist.fill(
        r,
        {
            "pt_true": test["pt_true"].to_numpy(),
            "abs_eta_true": np.abs(test["eta_true"].to_numpy()),
            variable: values,
        },
        extras={variable: values},
    )
    table, _ = pileup_slopes(hist, variable, n_bootstrap=0)
    return table[["slope", "slope_err"]].rename(
        columns={"slope": f"{variable}_slope", "slope_err": f"{variable}_slope_err"}
    )


def resolution_vs_mu(name: str, r: np.ndarray, test: pd.DataFrame) -> list[dict[str, Any]]:
    from skcal.response import closure_table

    table = closure_table(
        r,
        data=test,
        bins={"pt_true": PT_BINS, "abs_eta_true": ETA_BINS, "mu": MU_RESOLUTION_BINS},
        n_bootstrap=0,
    )
    return [
        {
            "calibration": name,
            "pt_true": f"{row.pt_true_low:g}-{row.pt_true_high:g}",
            "abs_eta_true": f"{row.abs_eta_true_low:g}-{row.abs_eta_true_high:g}",
            "mu": f"{row.mu_low:g}-{row.mu_high:g}",
            "mode": round(float(row.mode), 4),
            "resolution": round(float(row.resolution), 4),
        }
        for row in table.itertuples()
    ]


def evaluate(
    name: str, r: np.ndarray, test: pd.DataFrame, n_bootstrap: int, n_sigma: float
) -> list[dict[str, Any]]:
    """The rows of one calibration: shifts, errors, slopes and pass/fail per bin."""
    rng = np.random.default_rng(SEEDS["bootstrap"])
    parts = []
    for variable in ("npv", "mu"):
        shifts = decile_shifts(r, test, variable, n_bootstrap, rng)
        parts.append(pd.concat([shifts, slopes(r, test, variable)], axis=1))
    table = parts[0].merge(parts[1], on=["pt_true", "abs_eta_true", "pt_low"])
    rows = []
    for row in table.to_dict("records"):
        tol = tolerance(row.pop("pt_low"))
        ok = all(
            abs(row[f"{v}_shift"]) - tol <= n_sigma * row[f"{v}_shift_err"] for v in ("npv", "mu")
        )
        rows.append(
            {"calibration": name, **{k: _round(v) for k, v in row.items()}, "tolerance": tol}
            | {"pass": bool(ok)}
        )
    return rows


def summarise(name: str, rows: list[dict[str, Any]], fit_s: float) -> dict[str, Any]:
    """One calibration's summary row: bins passed and the worst shift in NPV and mu."""
    worst = {
        v: max(rows, key=lambda row, v=v: np.nan_to_num(abs(row[f"{v}_shift"]), nan=-1.0))
        for v in ("npv", "mu")
    }
    return {
        "calibration": name,
        "fit_s": round(fit_s, 1),
        "bins_pass": f"{sum(row['pass'] for row in rows)}/{len(rows)}",
        **{
            f"worst_{v}_shift": f"{w[f'{v}_shift']:+.4f} +- {w[f'{v}_shift_err']:.4f} "
            f"(pT {w['pt_true']}, |eta| {w['abs_eta_true']})"
            for v, w in worst.items()
        },
    }


def _round(value: Any) -> Any:
    return round(float(value), 5) if isinstance(value, float | np.floating) else value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1_000_000)
    parser.add_argument("--n-test", type=int, default=500_000)
    parser.add_argument("--mu-max", type=float, default=200.0)
    parser.add_argument(
        "--calibrations", nargs="+", choices=CALIBRATIONS, default=list(CALIBRATIONS)
    )
    parser.add_argument("--epochs", type=int, default=None, help="max_epochs of the networks")
    parser.add_argument("--n-bootstrap", type=int, default=100)
    parser.add_argument("--n-sigma", type=float, default=1.0)
    args = parser.parse_args(argv)
    from skcal.datasets import make_jets

    mu_range = (0.0, args.mu_max)
    train = make_jets(args.n_train, mu_range=mu_range, random_state=SEEDS["train"])
    test = make_jets(args.n_test, mu_range=mu_range, random_state=SEEDS["test"])
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    rows, summary, resolution = [], [], []
    for key in args.calibrations:
        model, neural = _model(key, args.epochs)
        columns = FEATURES if neural else reco_columns(train)
        start = time.perf_counter()
        model.fit(train[columns], y)
        fit_s = time.perf_counter() - start
        predictions = {NAMES[key]: model.predict(test[columns])}
        if key in ALONE:
            predictions[ALONE[key]] = model.calibrator_.predict(test[columns])
        for name, response in predictions.items():
            r = (test["e_reco"] / np.asarray(response) / test["e_true"]).to_numpy()
            mine = evaluate(name, r, test, args.n_bootstrap, args.n_sigma)
            rows += mine
            resolution += resolution_vs_mu(name, r, test)
            summary.append(summarise(name, mine, fit_s))
            print(pd.DataFrame(mine).to_string(), flush=True)
    parameters = {k: str(v) for k, v in vars(args).items()} | {
        "seeds": SEEDS,
        "mu_range": list(mu_range),
        "pt_bins": PT_BINS,
        "eta_bins": ETA_BINS,
    }
    criterion = (
        "pass: |shift| - tolerance <= n_sigma x error for NPV and mu, tolerance 1% (2% at "
        f"20-30 GeV), n_sigma = {args.n_sigma:g}"
    )
    deciles = (
        "shift = mode of E_calib/E_true in the top 10% of NPV (mu) of the held-out jets minus "
        "that in the bottom 10%; error from Poisson-bootstrap replicas of both histograms; "
        "slope: straight line through the modes in bins of 10 NPV (mu)"
    )
    write_results(
        "pileup_summary",
        parameters=parameters,
        rows=summary,
        title=f"Pile-up independence at mu flat in [0, {args.mu_max:g}]: summary",
        notes=f"{args.n_train} training jets (seed 1), {args.n_test} held-out (seed 2). "
        f"{deciles}. {criterion}.",
    )
    write_results(
        "pileup",
        parameters=parameters,
        rows=rows,
        title=f"Pile-up independence at mu flat in [0, {args.mu_max:g}], per bin",
        notes=f"{deciles}. {criterion}.",
    )
    write_results(
        "pileup_resolution",
        parameters=parameters,
        rows=resolution,
        title="Resolution (q84 - q16) / (2 mode) against mu",
        notes="Per (pT_true, |eta_true|, mu) bin of the held-out jets.",
    )


if __name__ == "__main__":
    main()
