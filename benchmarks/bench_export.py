"""Exported calibrations: ONNX Runtime against skcal's predict, correctionlib against the chain.

On the same held-out jets on CPU: the largest relative difference of the exported
model's response (and sigma) from ``predict``, and the throughput of each (jets per
second; the median of alternating rounds, with the min and max), for the demo's MDN
pipeline, a deep ensemble of such MDNs (one graph: the members and their combination),
a GDN pipeline and the energy-mass network (ONNX), and the standard chain
(correctionlib). Both sides get the same number of threads.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write_results
from _small_r import reco_columns

FEATURES = ["e_reco", "pt_reco", "eta", "m_reco", "mu", "npv"]


def _rounds(funcs: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in funcs}
    for f in funcs.values():  # warm-up
        f()
    for _ in range(rounds):
        for k, f in funcs.items():
            start = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - start)
    return times


def _row(
    name: str, n: int, diffs: dict[str, float], times: dict[str, list[float]], ours: str
) -> dict[str, Any]:
    base, new = np.median(times["predict"]), np.median(times[ours])
    return {
        "model": name,
        "n_jets": n,
        **{f"max_rel_{k}": f"{v:.2e}" for k, v in diffs.items()},
        "predict_jets_per_s": round(n / base),
        f"{ours}_jets_per_s": round(n / new),
        "ratio": round(base / new, 3),
        "ratio_min": round(min(times["predict"]) / max(times[ours]), 3),
        "ratio_max": round(max(times["predict"]) / min(times[ours]), 3),
    }


def bench_onnx(
    name: str, model: Any, X: Any, rounds: int, threads: int, std: bool
) -> dict[str, Any]:
    import onnxruntime as ort

    from skcal.export import to_onnx

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    with tempfile.TemporaryDirectory() as tmp:
        to_onnx(model, Path(tmp) / "m.onnx")
        session = ort.InferenceSession(
            str(Path(tmp) / "m.onnx"), options, providers=["CPUExecutionProvider"]
        )
    feed = {i.name: X[i.name].to_numpy(np.float32) for i in session.get_inputs()}
    out = dict(zip([o.name for o in session.get_outputs()], session.run(None, feed)))
    ref = model.predict(X, return_std=True) if std else (model.predict(X),)
    diffs = {"response": float(np.max(np.abs(out["response"] / ref[0] - 1)))}
    if std:
        diffs["sigma"] = float(np.max(np.abs(out["sigma"] / ref[1] - 1)))
    times = _rounds(
        {
            "predict": lambda: model.predict(X, return_std=std),
            "onnxruntime": lambda: session.run(None, feed),
        },
        rounds,
    )
    return _row(name, len(X), diffs, times, "onnxruntime")


def bench_chain(chain: Any, X: Any, rounds: int) -> dict[str, Any]:
    import correctionlib

    from skcal.export import to_correctionlib

    ev = correctionlib.CorrectionSet.from_string(
        to_correctionlib(chain).model_dump_json(exclude_unset=True)
    )
    compound = ev.compound["calibration"]
    table = X.assign(calib_scale=1.0) if "calib_scale" not in X else X  # uncalibrated jets
    columns = [table[i.name].to_numpy() for i in compound.inputs]
    out = compound.evaluate(*columns)
    diffs = {"response": float(np.max(np.abs(out / chain.predict(X).to_numpy() - 1)))}
    times = _rounds(
        {"predict": lambda: chain.predict(X), "correctionlib": lambda: compound.evaluate(*columns)},
        rounds,
    )
    return _row("standard chain (PileupOffset, NI, GSC)", len(X), diffs, times, "correctionlib")


def _add(rows: list[dict[str, Any]], row: dict[str, Any]) -> None:
    rows.append(row)
    print(row, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=200_000)
    parser.add_argument("--n-test", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-train-em", type=int, default=30_000)
    parser.add_argument("--ensemble-members", type=int, default=3, help="0: no ensemble row")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from sklearn.pipeline import make_pipeline

    from skcal.datasets import make_jets
    from skcal.demo import mdn_pipeline, standard_chain
    from skcal.neural import EnergyMassCalibrator, EnsembleCalibrator, GDNCalibrator
    from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler

    train, test = make_jets(args.n_train, random_state=1), make_jets(args.n_test, random_state=2)
    r = train.e_reco / train.e_true
    rows = []
    mdn = mdn_pipeline(args.epochs, 0).fit(train[FEATURES], r)
    _add(
        rows,
        bench_onnx(
            "demo MDN pipeline (K=3, 64x64x64)",
            mdn,
            test[FEATURES],
            args.rounds,
            args.threads,
            True,
        ),
    )
    if args.ensemble_members:
        ensemble = mdn_pipeline(args.epochs, 0)
        mdn_step = ensemble.steps[-1][1]
        ensemble.steps[-1] = (
            "ensemblecalibrator",
            EnsembleCalibrator(mdn_step, n_members=args.ensemble_members, random_state=0),
        )
        ensemble.fit(train[FEATURES], r)
        _add(
            rows,
            bench_onnx(
                f"ensemble of {args.ensemble_members} demo MDNs",
                ensemble,
                test[FEATURES],
                args.rounds,
                args.threads,
                True,
            ),
        )
    gdn = (
        make_pipeline(
            LogTransformer(columns=["e_reco", "pt_reco", "m_reco"]),
            EtaAnnotation(),
            SymmetricScaler(clip=True),
            GDNCalibrator(
                max_epochs=args.epochs,
                batch_size=2048,
                random_state=0,
                module__hidden_sizes=(64, 64),
            ),
        )
        .set_output(transform="pandas")
        .fit(train[FEATURES], r)
    )
    _add(
        rows,
        bench_onnx("GDN pipeline (64x64)", gdn, test[FEATURES], args.rounds, args.threads, True),
    )
    em_features = ["e_reco", "m_reco", "eta", "mu"]
    em = EnergyMassCalibrator(epoch_scale=0.01, batch_scale=0.03, random_state=0)
    few = train.head(args.n_train_em)  # the paper-size network trains slowly on CPU
    em.fit(few[em_features], np.column_stack([r.to_numpy()[: len(few)], few.m_reco / few.m_true]))
    _add(
        rows,
        bench_onnx(
            "energy-mass network (paper size)",
            em,
            test[em_features],
            args.rounds,
            args.threads,
            True,
        ),
    )
    features = reco_columns(train)
    chain = standard_chain().fit(train[features], r)
    outside = test[features].copy()
    outside.loc[outside.index[:1000], "eta"] *= 2.0
    outside.loc[outside.index[1000:2000], "e_reco"] *= 20.0
    _add(rows, bench_chain(chain, outside, args.rounds))
    write_results(
        "export",
        parameters=vars(args),
        rows=rows,
        title="Export: ONNX Runtime and correctionlib against skcal's predict",
        notes="max_rel_*: the largest |exported / predict - 1| over the held-out jets (the chain's "
        "include 2000 jets beyond the |eta| bins and the inversion grids). ratio: predict's time "
        "over the exported model's (above 1: the export is faster), median of alternating rounds "
        "after a warm-up, with the min and max ratio; the same number of threads on both sides.",
    )


if __name__ == "__main__":
    main()
