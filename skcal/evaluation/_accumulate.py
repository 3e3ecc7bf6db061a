"""The report's single pass over a jet table: every histogram it needs, filled chunk by chunk.

Each chunk (a row slice in memory, or one Dask partition) is calibrated by every
model once, and its calibrated responses, pulls and predicted densities are filled
into weighted histograms (:class:`ResponseHistogram`) that add across chunks. Every
figure of the report is then derived from the sums, so a Dask table is read once,
whatever the number of plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from skcal._chunks import reduce_chunks
from skcal.evaluation._apply import (
    check_prediction,
    density_predictor,
    model_features,
    predict_response,
    total_uncertainty,
)
from skcal.evaluation._bins import ReportBins
from skcal.evaluation._pulls import pulls
from skcal.evaluation._truth import FLAVOURS, ChunkTruth, chunk_truth
from skcal.exceptions import DataError
from skcal.response import ResponseHistogram

#: Jets per chosen bin and chunk whose predicted density is evaluated (a random subset beyond).
_DENSITY_JETS = 2000


@dataclass
class PredictionFill:
    """What a density calibrator adds: its pulls, and its predicted densities in chosen bins."""

    pulls: ResponseHistogram
    density: np.ndarray  # (n_density_bins, n_points): summed weight * pdf
    weight: np.ndarray  # (n_density_bins,): summed weight of those jets

    def __add__(self, other: PredictionFill) -> PredictionFill:
        return PredictionFill(
            self.pulls + other.pulls, self.density + other.density, self.weight + other.weight
        )


@dataclass
class ModelFill:
    """The histograms of one model, summed over the chunks seen so far."""

    closure_pt: ResponseHistogram
    closure_eta: ResponseHistogram
    spectrum: ResponseHistogram
    density: list[ResponseHistogram]
    flavour: ResponseHistogram | None = None
    pileup: dict[str, ResponseHistogram] = field(default_factory=dict)
    prediction: PredictionFill | None = None  # density calibrators only

    def __add__(self, other: ModelFill) -> ModelFill:
        def add(a: Any, b: Any) -> Any:
            return None if a is None else a + b

        return ModelFill(
            closure_pt=self.closure_pt + other.closure_pt,
            closure_eta=self.closure_eta + other.closure_eta,
            spectrum=self.spectrum + other.spectrum,
            density=[a + b for a, b in zip(self.density, other.density, strict=True)],
            flavour=add(self.flavour, other.flavour),
            pileup={k: v + other.pileup[k] for k, v in self.pileup.items()},
            prediction=add(self.prediction, other.prediction),
        )


@dataclass
class ReportFill:
    """Everything the report needs from the table: per-model histograms and a sample of rows."""

    models: dict[str, ModelFill]
    spectrum_counts: np.ndarray  # jets per bin of the re-weighted truth variable (all jets)
    spectrum_outside: int
    sample: pd.DataFrame  # a random subset of rows, for the feature importance
    n_jets: int
    max_sample: int

    def __add__(self, other: ReportFill) -> ReportFill:
        sample = self.sample
        if len(sample) < self.max_sample and len(other.sample):
            sample = pd.concat(
                [sample, other.sample.iloc[: self.max_sample - len(sample)]], ignore_index=True
            )
        return ReportFill(
            models={k: v + other.models[k] for k, v in self.models.items()},
            spectrum_counts=self.spectrum_counts + other.spectrum_counts,
            spectrum_outside=self.spectrum_outside + other.spectrum_outside,
            sample=sample,
            n_jets=self.n_jets + other.n_jets,
            max_sample=self.max_sample,
        )


def _empty_model(
    bins: ReportBins, flavour: bool, pileup: Sequence[str], density: bool
) -> ModelFill:
    closure_bins = {"pt_true": bins.pt, "abs_eta_true": bins.abs_eta}
    fill = ModelFill(
        closure_pt=ResponseHistogram(closure_bins, bins.response),
        closure_eta=ResponseHistogram(
            {"pt_true": bins.eta_pt, "eta_true": bins.eta}, bins.response
        ),
        spectrum=ResponseHistogram(
            {"spectrum_bin": np.arange(bins.spectrum.size, dtype=float), **closure_bins},
            bins.spectrum_response,
        ),
        density=[
            ResponseHistogram({"pt_true": box[:2], "abs_eta_true": box[2:]}, bins.density_response)
            for box in bins.density_bins
        ],
    )
    if flavour:
        fill.flavour = ResponseHistogram(
            {
                "flavour_class": np.arange(len(FLAVOURS) + 1, dtype=float),
                "pt_true": bins.pt,
                "abs_eta_true": bins.flavour_abs_eta,
            },
            bins.response,
        )
    for name in pileup:
        fill.pileup[name] = ResponseHistogram(
            {
                "pt_true": bins.pileup_pt,
                "abs_eta_true": bins.pileup_abs_eta,
                name: getattr(bins, name),
            },
            bins.response,
            extras=(name,),
        )
    if density:
        n_points = bins.density_response.size - 1
        fill.prediction = PredictionFill(
            pulls=ResponseHistogram(closure_bins, bins.pull, extras=("pull", "pull2")),
            density=np.zeros((len(bins.density_bins), n_points)),
            weight=np.zeros(len(bins.density_bins)),
        )
    return fill


def _fill_model(
    fill: ModelFill,
    model: Any,
    chunk: pd.DataFrame,
    truth: ChunkTruth,
    bins: ReportBins,
    rng: np.random.Generator,
) -> None:
    density = density_predictor(model) if fill.prediction is not None else None
    prediction = None if density is None else density(chunk)
    if prediction is not None:
        response = check_prediction(model, prediction.mode(), len(chunk))
    else:
        response = predict_response(model, chunk)
    if response.ndim == 2:  # energy and mass responses: the report covers the energy
        response = response[:, 0]
    raw = truth.e_reco / truth.e_true
    r = raw / response
    w = truth.weight
    abs_eta = truth.abs_eta
    common = {"pt_true": truth.pt_true, "abs_eta_true": abs_eta}
    fill.closure_pt.fill(r, common, w)
    fill.closure_eta.fill(r, {"pt_true": truth.pt_true, "eta_true": truth.eta_true}, w)
    spectrum_bin = np.searchsorted(bins.spectrum, truth.spectrum, side="right") - 1.0
    fill.spectrum.fill(r, {"spectrum_bin": spectrum_bin, **common}, w)
    for hist in fill.density:
        hist.fill(r, common, w)
    if fill.flavour is not None and truth.flavour is not None:
        fill.flavour.fill(r, {"flavour_class": truth.flavour, **common}, w)
    for name, hist in fill.pileup.items():
        hist.fill(r, {**common, name: truth.pileup[name]}, w, extras={name: truth.pileup[name]})
    if prediction is not None and fill.prediction is not None:
        total = total_uncertainty(model)
        width = prediction.std() if total is None else total(chunk)
        std = check_prediction(model, width, len(chunk), what="widths")
        pull = pulls(response, raw, std, getattr(prediction, "training_space", "response"))
        extras = {"pull": pull, "pull2": pull * pull}
        fill.prediction.pulls.fill(pull, common, w, extras=extras, checked=True)
        _fill_predicted_density(fill.prediction, prediction, response, truth, bins, rng)


def _fill_predicted_density(
    fill: PredictionFill,
    prediction: Any,
    response: np.ndarray,
    truth: ChunkTruth,
    bins: ReportBins,
    rng: np.random.Generator,
) -> None:
    """Sum over jets of the predicted density of the *calibrated* response, p(t R) R."""
    edges = bins.density_response
    grid = 0.5 * (edges[1:] + edges[:-1])
    grid = np.where(grid > 0, grid, 0.5 * edges[1])
    for k, (pt_lo, pt_hi, eta_lo, eta_hi) in enumerate(bins.density_bins):
        rows = np.flatnonzero(
            (truth.pt_true >= pt_lo)
            & (truth.pt_true < pt_hi)
            & (truth.abs_eta >= eta_lo)
            & (truth.abs_eta < eta_hi)
        )
        if rows.size == 0:
            continue
        if rows.size > _DENSITY_JETS:
            rows = np.sort(rng.choice(rows, _DENSITY_JETS, replace=False))
        subset = type(prediction)(
            prediction.raw[rows],
            prediction.build,
            training_space=prediction.training_space,
            mode_space=prediction.mode_space,
        )
        w = np.ones(rows.size) if truth.weight is None else truth.weight[rows]
        points = grid[:, None] * response[rows][None, :]
        pdf = subset.pdf(points) * response[rows][None, :]
        fill.density[k] += (pdf * w[None, :]).sum(axis=1)
        fill.weight[k] += w.sum()


def _fill_chunk(
    chunk: pd.DataFrame,
    models: Mapping[str, Any],
    bins: ReportBins,
    weights: str | None,
    max_sample: int,
    seed: int,
) -> ReportFill:
    if not isinstance(chunk, pd.DataFrame):
        raise DataError(f"the report needs a pandas or Dask DataFrame, got {type(chunk).__name__}")
    truth = chunk_truth(chunk, bins, weights)
    rng = np.random.default_rng(
        [seed, len(chunk), int(truth.e_true[:1].sum() * 1e3) if len(chunk) else 0]
    )
    pileup = [name for name in ("npv", "mu") if name in truth.pileup]
    fills = {}
    for name, model in models.items():
        fill = _empty_model(
            bins, truth.flavour is not None, pileup, density_predictor(model) is not None
        )
        if len(chunk):
            _fill_model(fill, model, chunk, truth, bins, rng)
        fills[name] = fill
    counts = np.histogram(truth.spectrum, bins=bins.spectrum)[0]
    outside = int(
        ((truth.spectrum < bins.spectrum[0]) | (truth.spectrum > bins.spectrum[-1])).sum()
    )
    features = sorted({f for model in models.values() for f in model_features(model)})
    take = min(len(chunk), max_sample)
    rows = np.sort(rng.choice(len(chunk), take, replace=False)) if take else np.array([], dtype=int)
    sample = chunk[features].iloc[rows].reset_index(drop=True)
    return ReportFill(
        models=fills,
        spectrum_counts=counts,
        spectrum_outside=outside,
        sample=sample,
        n_jets=len(chunk),
        max_sample=max_sample,
    )


def fill_report(
    models: Mapping[str, Any],
    table: Any,
    bins: ReportBins,
    *,
    weights: str | None = None,
    max_sample: int = 5000,
    random_state: int = 0,
    chunk_size: int = 1 << 18,
) -> ReportFill:
    """Fill every histogram of the report in one pass over ``table``'s chunks (or partitions)."""

    def fill(chunk: pd.DataFrame) -> ReportFill:
        return _fill_chunk(chunk, models, bins, weights, max_sample, random_state)

    return reduce_chunks(fill, table, chunk_size=chunk_size)
