"""The calibrations of ``bench_pythia``: NI and the GSC with bins for samples of thousands
of jets, the realistic quality table, generator dependence and flavour closure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

QUALITY_PT = [20, 30, 50, 80, 120, 200, 400, 3000]
#: Coarser bins than NI's and the GSC's defaults, for samples of thousands of jets.
MIN_ENTRIES = 30.0
ABS_ETA = [0.0, 0.8, 1.5, 2.5, 3.2, 4.5]


def massive(jets: pd.DataFrame) -> pd.DataFrame:
    """The jets with a mass: a jet of one (massless) tower has m_reco = 0, which the
    networks' log transform refuses (about 1 jet in 2000); they are dropped and counted."""
    keep = jets["m_reco"] > 0
    if not keep.all():
        print(f"dropped {int((~keep).sum())} of {len(jets)} jets with m_reco = 0", flush=True)
    return jets[keep].reset_index(drop=True)


def _ni(**extra: Any) -> Any:
    from skcal.inversion import NumericalInversion

    return NumericalInversion(
        condition={"abs_eta": ABS_ETA},
        target_bins=np.geomspace(20, 5000, 16),
        min_entries=MIN_ENTRIES,
        **extra,
    )


def _gsc_stage() -> Any:
    from skcal.inversion import GlobalSequentialCalibration

    # Coarse variable bins too (three or four per variable).
    bins = {
        "charged_frac": [0.0, 0.2, 0.4, 0.6, 0.8, 1.2],
        "tile0_frac": [0.0, 0.1, 0.2, 0.3, 1.0],
        "em3_frac": [0.0, 0.008, 0.012, 0.016, 1.0],
        "n_trk": [0, 3, 6, 10, 40],
        "trk_width": [0.0, 0.05, 0.1, 0.15, 0.5],
        "n_muon_segments": [0, 1, 5, 20, 1000],
    }
    return GlobalSequentialCalibration(
        variable_bins=bins,
        abs_eta_bins=ABS_ETA,
        pt_bins=np.geomspace(20, 3000, 8),
        min_entries=MIN_ENTRIES,
    )


def _quality(jets: pd.DataFrame, epochs: int, pileup: bool) -> list[dict[str, Any]]:
    from bench_quality_small_r import models

    from skcal.evaluation import apply_calibration
    from skcal.response import closure_table

    jets = massive(jets)
    n_train = int(0.7 * len(jets))
    train, test = jets.iloc[:n_train], jets.iloc[n_train:]
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    from sklearn.pipeline import make_pipeline

    from skcal.inversion import PileupOffset

    # Without pile-up the chain has no offset stage (its fit needs mu, NPV and rho to vary).
    chain = "pile-up + NI + GSC" if pileup else "NI + GSC"
    chosen = ("NI", chain, "MDN (K=3, log r)")
    stages = [PileupOffset()] if pileup else []
    candidates = {
        "NI": (_ni(), None),
        chain: (make_pipeline(*stages, _ni(), _gsc_stage()), None),
        chosen[2]: models(epochs, (64, 64), 512, 1e-3)[chosen[2]],
    }
    table: dict[str, pd.DataFrame] = {}
    for name, (model, features) in candidates.items():
        model.fit(train[features or _reco(train)], y)
        cal = apply_calibration(model, test)
        table[name] = closure_table(
            (cal["e_calib"] / test["e_true"]).to_numpy(),
            data=test,
            bins={"pt_true": QUALITY_PT},
            n_bootstrap=0,
        )
        print(name, table[name][["mode", "resolution"]].round(3).to_dict("list"), flush=True)
    rows = []
    ref = table[chosen[0]]
    for i in range(len(ref)):
        row: dict[str, Any] = {
            "pt_true": f"{ref['pt_true_low'][i]:g}-{ref['pt_true_high'][i]:g}",
            "test jets": int(ref["entries"][i]),
        }
        for name in chosen:
            row[f"{name} closure"] = float(table[name]["mode"][i])
            row[f"{name} resolution"] = float(table[name]["resolution"][i])
        row["MDN / chain resolution"] = (
            row[f"{chosen[2]} resolution"] / row[f"{chosen[1]} resolution"]
        )
        rows.append(row)
    return rows


FLAVOURS = {"gluon": [21], "light": [1, 2, 3], "charm": [4], "bottom": [5]}


COARSE_PT = [20, 40, 80, 200, 3000]


def _modes(response: np.ndarray, data: pd.DataFrame, edges: list[float]) -> pd.DataFrame:
    from skcal.response import closure_table

    return closure_table(response, data=data, bins={"pt_true": edges}, n_bootstrap=0)


def _closures(
    jets: pd.DataFrame, vincia: pd.DataFrame | None, epochs: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Generator dependence (fitted on the default shower, applied to Vincia) and flavour
    closure, for NI + GSC and the MDN, from the no-pile-up jets (fit on half)."""
    from bench_quality_small_r import models
    from sklearn.pipeline import make_pipeline

    from skcal.evaluation import apply_calibration

    jets = massive(jets)
    vincia = None if vincia is None else massive(vincia)
    train, test = jets.iloc[::2], jets.iloc[1::2]
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    fitted = {
        "NI + GSC": (make_pipeline(_ni(), _gsc_stage()), None),
        "MDN (K=3, log r)": models(epochs, (64, 64), 512, 1e-3)["MDN (K=3, log r)"],
    }
    generator, flavour = [], []
    for name, (model, features) in fitted.items():
        model.fit(train[features or _reco(train)], y)

        def closure(data: pd.DataFrame, edges: list[float]) -> pd.DataFrame:
            cal = apply_calibration(model, data)  # noqa: B023 (used at once)
            return _modes((cal["e_calib"] / data["e_true"]).to_numpy(), data, edges)

        base = closure(test, COARSE_PT)
        if vincia is not None:
            other = closure(vincia, COARSE_PT)
            for i in range(len(base)):
                generator.append(
                    {
                        "calibration": name,
                        "pt_true": f"{base['pt_true_low'][i]:g}-{base['pt_true_high'][i]:g}",
                        "closure pythia": float(base["mode"][i]),
                        "closure vincia": float(other["mode"][i]),
                        "shift": float(other["mode"][i] - base["mode"][i]),
                        "jets pythia": int(base["entries"][i]),
                        "jets vincia": int(other["entries"][i]),
                    }
                )
        for label, codes in FLAVOURS.items():
            part = test[test["flavour"].isin(codes)]
            table = closure(part, COARSE_PT)
            for i in range(len(table)):
                flavour.append(
                    {
                        "calibration": name,
                        "flavour": label,
                        "pt_true": f"{table['pt_true_low'][i]:g}-{table['pt_true_high'][i]:g}",
                        "closure": float(table["mode"][i]),
                        "jets": int(table["entries"][i]),
                        "status": str(table["status"][i]),
                    }
                )
    return generator, flavour


def _gsc(jets: pd.DataFrame) -> dict[str, Any]:
    """NI alone against NI + GSC, fitted on half the no-pile-up jets, on the other half."""
    from sklearn.pipeline import make_pipeline

    from skcal.evaluation import apply_calibration

    train, test = jets.iloc[::2], jets.iloc[1::2]
    y = (train["e_reco"] / train["e_true"]).to_numpy()
    resolutions = {}
    for name, model in (("NI", _ni()), ("NI + GSC", make_pipeline(_ni(), _gsc_stage()))):
        model.fit(train[_reco(train)], y)
        resolutions[name] = _resolution(apply_calibration(model, test), test, [50, 100, 200, 3000])
    from _pythia_checks import _check

    ratio = float(np.mean(resolutions["NI + GSC"] / resolutions["NI"]))
    return _check(
        "GSC narrows the resolution: NI+GSC / NI, mean over pT > 50 GeV",
        ratio,
        "< 1",
        ratio < 1,
        detail=f"NI {np.round(resolutions['NI'], 3).tolist()}, NI+GSC "
        f"{np.round(resolutions['NI + GSC'], 3).tolist()}",
    )


def _reco(jets: pd.DataFrame) -> list[str]:
    from skcal import columns

    drop = {*columns.TRUTH, *columns.ORACLE, "flavour", "weight"}
    return [c for c in jets.columns if c not in drop]


def _resolution(calibrated: pd.DataFrame, test: pd.DataFrame, edges: list[float]) -> np.ndarray:
    from skcal.response import closure_table

    table = closure_table(
        (calibrated["e_calib"] / test["e_true"]).to_numpy(),
        data=test,
        bins={"pt_true": edges},
        n_bootstrap=0,
    )
    return table["resolution"].to_numpy()
