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
from skcal._validation import as_finite_vector, as_weights, column
from skcal.evaluation._apply import (
    check_prediction,
    density_predictor,
    model_features,
    predict_response,
)
from skcal.exceptions import DataError
from skcal.response import DEFAULT_RESPONSE_EDGES, ResponseHistogram, check_edges

#: Flavour classes of the report, in order, and the ``flavour`` codes of each.
FLAVOURS: dict[str, tuple[int, ...]] = {
    "gluon": (21,),
    "light": (1, 2, 3),
    "charm": (4,),
    "bottom": (5,),
}
#: Jets per chosen bin and chunk whose predicted density is evaluated (a random subset beyond).
_DENSITY_JETS = 2000


@dataclass(frozen=True)
class ReportBins:
    """The binnings of the report (all in GeV; pseudorapidities of the true jet).

    Attributes
    ----------
    pt : array
        pT_true edges of closure and resolution versus pT.
    abs_eta : array
        |eta_true| slices of closure versus pT (and of pulls and the spectrum check).
    eta : array
        Signed eta_true edges of closure versus eta.
    eta_pt : array
        pT_true slices of closure versus eta.
    flavour_abs_eta : (float, float)
        |eta_true| range of the flavour check.
    pileup_pt, pileup_abs_eta : array
        pT_true and |eta_true| cells in which the pile-up slopes are fitted.
    npv, mu : array
        Edges of NPV and mu in each cell.
    spectrum : array
        Truth-energy bins in which the test sample is re-weighted to a flat spectrum.
    spectrum_column : str
        The truth variable re-weighted (``e_true``).
    response : array
        Response edges of the closure histograms.
    spectrum_response : array
        Response edges of the spectrum check (its core only, to keep it small).
    pull : array
        Pull edges.
    density_bins : tuple of (pt_low, pt_high, abs_eta_low, abs_eta_high)
        Bins whose response distributions are drawn.
    density_response : array
        Response edges of those distributions (the predicted density is evaluated at
        their centres).
    """

    pt: np.ndarray = field(
        default_factory=lambda: np.array(
            [
                20,
                25,
                30,
                40,
                50,
                60,
                80,
                100,
                130,
                170,
                220,
                300,
                400,
                550,
                750,
                1000,
                1400,
                2000,
                3000,
            ],
            float,
        )
    )
    abs_eta: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.8, 1.5, 2.5, 3.2, 4.5]))
    eta: np.ndarray = field(default_factory=lambda: np.linspace(-4.5, 4.5, 37))
    eta_pt: np.ndarray = field(default_factory=lambda: np.array([20.0, 40.0, 100.0, 300.0, 3000.0]))
    flavour_abs_eta: tuple[float, float] = (0.0, 2.5)
    pileup_pt: np.ndarray = field(default_factory=lambda: np.array([20.0, 60.0, 3000.0]))
    pileup_abs_eta: np.ndarray = field(
        default_factory=lambda: np.array([0.0, 0.8, 1.5, 2.5, 3.2, 4.5])
    )
    npv: np.ndarray = field(
        default_factory=lambda: np.array([0, 8, 12, 16, 20, 24, 28, 32, 36, 42, 50, 100.0])
    )
    mu: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 80.0, 9))
    spectrum: np.ndarray = field(default_factory=lambda: np.geomspace(10.0, 7000.0, 25))
    spectrum_column: str = "e_true"
    response: np.ndarray = field(default_factory=lambda: DEFAULT_RESPONSE_EDGES.copy())
    spectrum_response: np.ndarray = field(default_factory=lambda: np.linspace(0.4, 1.6, 241))
    pull: np.ndarray = field(default_factory=lambda: np.linspace(-5.0, 5.0, 201))
    density_bins: tuple[tuple[float, float, float, float], ...] = (
        (20.0, 30.0, 0.0, 0.8),
        (100.0, 130.0, 0.0, 0.8),
        (1000.0, 1400.0, 0.0, 0.8),
        (100.0, 130.0, 3.2, 4.5),
    )
    density_response: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 2.5, 126))

    def checked(self) -> ReportBins:
        """A copy with every edge array validated (DataError naming the bad one)."""
        values: dict[str, Any] = {}
        for name in (
            "pt",
            "abs_eta",
            "eta",
            "eta_pt",
            "pileup_pt",
            "pileup_abs_eta",
            "npv",
            "mu",
            "spectrum",
            "response",
            "spectrum_response",
            "pull",
            "density_response",
        ):
            values[name] = check_edges(getattr(self, name), name)
        low, high = check_edges(self.flavour_abs_eta, "flavour_abs_eta")[[0, -1]]
        values["flavour_abs_eta"] = (float(low), float(high))
        boxes = []
        for box in self.density_bins:
            if len(box) != 4:
                raise DataError(
                    f"density_bins: each bin is (pt_low, pt_high, abs_eta_low, abs_eta_high), got {box!r}"
                )
            check_edges(box[:2], "density_bins pT")
            check_edges(box[2:], "density_bins |eta|")
            boxes.append(tuple(float(v) for v in box))
        values["density_bins"] = tuple(boxes)
        if not isinstance(self.spectrum_column, str):
            raise DataError(f"spectrum_column must be a column name, got {self.spectrum_column!r}")
        values["spectrum_column"] = self.spectrum_column
        return ReportBins(**values)


@dataclass
class ModelFill:
    """The histograms of one model, summed over the chunks seen so far."""

    closure_pt: ResponseHistogram
    closure_eta: ResponseHistogram
    spectrum: ResponseHistogram
    density: list[ResponseHistogram]
    flavour: ResponseHistogram | None = None
    pileup: dict[str, ResponseHistogram] = field(default_factory=dict)
    pulls: ResponseHistogram | None = None
    predicted_density: np.ndarray | None = None  # (n_density_bins, n_points): summed weight * pdf
    predicted_weight: np.ndarray | None = None  # (n_density_bins,): summed weight of those jets

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
            pulls=add(self.pulls, other.pulls),
            predicted_density=add(self.predicted_density, other.predicted_density),
            predicted_weight=add(self.predicted_weight, other.predicted_weight),
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


def flavour_class(codes: np.ndarray) -> np.ndarray:
    """Index in :data:`FLAVOURS` of each jet's ``flavour`` code; -1 for unknown."""
    out = np.full(codes.shape, -1.0)
    for i, values in enumerate(FLAVOURS.values()):
        out[np.isin(codes, values)] = i
    return out


@dataclass(frozen=True)
class _Chunk:
    """The truth and pile-up quantities of one chunk, checked once."""

    e_reco: np.ndarray
    e_true: np.ndarray
    pt_true: np.ndarray
    eta_true: np.ndarray
    weight: np.ndarray | None
    flavour: np.ndarray | None
    pileup: dict[str, np.ndarray]
    spectrum: np.ndarray

    @property
    def abs_eta(self) -> np.ndarray:
        return np.abs(self.eta_true)


def _truth(chunk: pd.DataFrame, bins: ReportBins, weights: str | None) -> _Chunk:
    n = len(chunk)
    arrays = {
        name: as_finite_vector(column(chunk, name), name, n=n)
        for name in ("e_reco", "e_true", "pt_true", "eta_true")
    }
    for name in ("e_reco", "e_true", "pt_true"):
        if (arrays[name] <= 0).any():
            raise DataError(
                f"column {name!r} must be > 0; the first bad value is "
                f"{arrays[name][arrays[name] <= 0][0]!r}"
            )
    weight = None if weights is None else as_weights(column(chunk, weights), n, weights)
    flavour = None
    if "flavour" in chunk.columns:
        flavour = flavour_class(np.asarray(chunk["flavour"]))
    pileup = {
        name: as_finite_vector(chunk[name], name, n=n)
        for name in ("npv", "mu")
        if name in chunk.columns
    }
    spectrum = as_finite_vector(column(chunk, bins.spectrum_column), bins.spectrum_column, n=n)
    return _Chunk(weight=weight, flavour=flavour, pileup=pileup, spectrum=spectrum, **arrays)


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
        fill.pulls = ResponseHistogram(closure_bins, bins.pull, extras=("pull", "pull2"))
        n_points = bins.density_response.size - 1
        fill.predicted_density = np.zeros((len(bins.density_bins), n_points))
        fill.predicted_weight = np.zeros(len(bins.density_bins))
    return fill


def _fill_model(
    fill: ModelFill,
    model: Any,
    chunk: pd.DataFrame,
    truth: _Chunk,
    bins: ReportBins,
    rng: np.random.Generator,
) -> None:
    density = density_predictor(model) if fill.pulls is not None else None
    if density is not None:
        prediction = density(chunk)
        response = check_prediction(model, prediction.mode(), len(chunk))
        std = check_prediction(model, prediction.std(), len(chunk), what="widths")
    else:
        prediction, std = None, None
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
        fill.pileup[name].fill(
            r, {**common, name: truth.pileup[name]}, w, extras={name: truth.pileup[name]}
        )
    if prediction is not None:
        pull = (response - raw) / std
        hist = fill.pulls
        hist.fill(pull, common, w, extras={"pull": pull, "pull2": pull * pull}, checked=True)
        _fill_predicted_density(fill, prediction, response, truth, bins, rng)


def _fill_predicted_density(
    fill: ModelFill,
    prediction: Any,
    response: np.ndarray,
    truth: _Chunk,
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
        fill.predicted_density[k] += (pdf * w[None, :]).sum(axis=1)
        fill.predicted_weight[k] += w.sum()


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
    truth = _truth(chunk, bins, weights)
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
