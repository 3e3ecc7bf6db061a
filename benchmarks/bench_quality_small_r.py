"""Calibration quality on synthetic small-R jets: NI against the neural calibrators.

Fit on ``--n-train`` synthetic small-R jets (``make_jets``), evaluate on ``--n-test``
held-out jets (another seed) with ``skcal.evaluation.apply_calibration`` and
``closure_table``:

- the worst-bin and median-bin closure ``|mode - 1|`` over (pT_true, |eta_true|)
  bins with pT_true > 30 GeV and at least 500 jets;
- the resolution ``(q84 - q16) / (2 mode)`` per pT_true bin (all |eta_true| together);

for numerical inversion alone (NI), the standard chain (pile-up offset + NI + GSC),
the GDN, the MDN and the point (MAE) regressor, and the oracle floor
(``r / oracle_response``: the generator's noise-free response).

The neural calibrators read the reconstructed kinematics, the pile-up variables and
the calibration inputs (never a truth column), through
``LogTransformer -> EtaAnnotation -> SymmetricScaler -> calibrator``. The training
sample is flat in log pT_true (``spectrum="sliced"``), so no prior weights are used;
5% of it is held out for the per-epoch validation loss.

    python benchmarks/bench_quality_small_r.py [--quick] [--n-train 1000000] [--n-test 500000]
                                               [--epochs 20] [--threads 2]

The sample, the binning and the summary are ``_small_r.py``'s, shared with
``bench_peers.py`` so that its table takes these rows.

Writes ``results/quality_small_r{,_quick}.{json,md}`` (summary) and
``results/quality_small_r{,_quick}_resolution.{json,md}`` (resolution per pT_true bin).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write_results
from _small_r import (
    FEATURES,
    MDN,
    MIN_BIN_ENTRIES,
    ORACLE,
    PT_MIN_CHECK,
    QUICK_SIZES,
    SEEDS,
    SIZES,
    evaluate,
    oracle_response,
    reco_columns,
    samples,
)


def _neural(est: Any) -> Any:
    from sklearn.pipeline import make_pipeline

    from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

    return make_pipeline(
        LogTransformer(columns=["e_reco", "pt_reco", "m_reco"]),
        EtaAnnotation(),
        SymmetricScaler(clip=True),
        est,
    ).set_output(transform="pandas")


def models(
    epochs: int, hidden: tuple[int, ...], batch: int, lr: float
) -> dict[str, tuple[Any, list[str] | None]]:
    """Each calibrator and its features (None: every non-truth column, as NI's chain takes them)."""
    from sklearn.pipeline import make_pipeline
    from skorch.callbacks import LRScheduler

    from skcal.inversion import GlobalSequentialCalibration, NumericalInversion, PileupOffset
    from skcal.neural import GDNCalibrator, MDNCalibrator, PointCalibrator

    def common() -> dict[str, Any]:
        return dict(
            max_epochs=epochs,
            batch_size=batch,
            lr=lr,
            random_state=SEEDS["models"],
            validation_fraction=0.05,
            module__hidden_sizes=hidden,
            callbacks=[("cosine", LRScheduler(policy="CosineAnnealingLR", T_max=epochs))],
        )

    return {
        "NI": (NumericalInversion(), None),
        "pile-up + NI + GSC": (
            make_pipeline(PileupOffset(), NumericalInversion(), GlobalSequentialCalibration()),
            None,
        ),
        "GDN": (_neural(GDNCalibrator(**common())), FEATURES),
        MDN: (_neural(MDNCalibrator(n_components=3, training_space="log", **common())), FEATURES),
        "point (MAE)": (_neural(PointCalibrator(loss="mae", **common())), FEATURES),
    }


def run(
    n_train: int,
    n_test: int,
    epochs: int,
    hidden: tuple[int, ...],
    batch: int,
    lr: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fit and evaluate each calibrator;
    return the summary rows and the resolution per pT_true bin."""
    from skcal.evaluation import apply_calibration

    train, test, y = samples(n_train, n_test)
    summary, per_pt = [], {}
    for name, (model, features) in models(epochs, hidden, batch, lr).items():
        start = time.perf_counter()
        model.fit(train[features or reco_columns(train)], y)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        calibrated = apply_calibration(model, test)
        pred_s = time.perf_counter() - start
        extra: dict[str, Any] = {}
        history = getattr(model[-1] if hasattr(model, "steps") else model, "history", None)
        if history is not None:
            extra = {
                "epochs": len(history),
                "final_train_loss": float(history[-1, "train_loss"]),
                "final_valid_loss": float(history[-1, "valid_loss"]),
            }
        row, per_pt[name] = evaluate(
            name,
            (calibrated["e_calib"] / calibrated["e_true"]).to_numpy(),
            test,
            fit_s=round(fit_s, 1),
            predict_s=round(pred_s, 2),
            **extra,
        )
        summary.append(row)
        print(row, flush=True)
    row, per_pt[ORACLE] = evaluate(ORACLE, oracle_response(test), test, fit_s=0.0, predict_s=0.0)
    summary.append(row)

    rows = []
    for label in per_pt["NI"]:
        row = {"pt_true": label, **{name: resolution[label] for name, resolution in per_pt.items()}}
        row["MDN_vs_NI"] = row[MDN] / row["NI"]
        row["MDN_vs_GSC_chain"] = row[MDN] / row["pile-up + NI + GSC"]
        rows.append(row)
    return summary, rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="200k training jets, 100k held out, 5 epochs"
    )
    parser.add_argument("--n-train", type=int, default=SIZES["n_train"])
    parser.add_argument("--n-test", type=int, default=SIZES["n_test"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64, 64])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.epochs = QUICK_SIZES["n_train"], QUICK_SIZES["n_test"], 5
    import torch

    torch.set_num_threads(args.threads)
    summary, rows = run(
        args.n_train, args.n_test, args.epochs, tuple(args.hidden), args.batch, args.lr
    )
    name = "quality_small_r_quick" if args.quick else "quality_small_r"
    parameters = vars(args) | {"seeds": SEEDS, "features": FEATURES}
    above = [r for r in rows if float(r["pt_true"].split("-")[0]) >= PT_MIN_CHECK]
    beats = all(r["MDN_vs_NI"] < 1 for r in above)
    write_results(
        name,
        parameters=parameters,
        rows=summary,
        title="Calibration quality on synthetic small-R jets: NI and the neural calibrators",
        notes="Held-out jets binned in pT_true x |eta_true|; bins with pT_true > 30 GeV "
        "and at least "
        f"{MIN_BIN_ENTRIES} jets. worst_closure, median_closure = |mode - 1| in the worst and the "
        f"median bin; mean_resolution_pt_gt_50 = mean over pT_true bins from 50 GeV of the "
        f"resolution (all |eta|). Neural: {'x'.join(map(str, args.hidden))} Mish MLP, Adam + "
        f"cosine LR, batch {args.batch}, {args.epochs} epochs, 5% validation. MDN resolution "
        f"below NI's in every pT_true bin from 50 GeV: {beats}.",
    )
    write_results(
        f"{name}_resolution",
        parameters=parameters,
        rows=rows,
        title="Resolution per pT_true bin (all |eta_true|) on synthetic small-R jets",
        notes="resolution = (q84 - q16) / (2 mode) of E_calib / E_true; MDN_vs_NI = MDN / NI "
        "(below 1: the MDN is sharper).",
    )
    print(f"MDN beats NI in every pT_true bin from 50 GeV: {beats}")


if __name__ == "__main__":
    main()
