"""The binnings of the report, and their check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skcal._params import check_params
from skcal.exceptions import ParameterError
from skcal.response import DEFAULT_RESPONSE_EDGES, check_edges

__all__ = ["ReportBins"]


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
        Edges of NPV and mu in each cell (up to the HL-LHC's mu = 200).
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

    Examples
    --------
    >>> from skcal.evaluation import ReportBins
    >>> bins = ReportBins(pt=[20, 100, 3000], abs_eta=[0, 2.5, 4.5], density_bins=()).checked()
    >>> bins.pt.tolist(), bins.flavour_abs_eta
    ([20.0, 100.0, 3000.0], (0.0, 2.5))
    >>> ReportBins(pt=[100, 20]).checked()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skcal.exceptions.ParameterError: pt must be at least two finite, strictly increasing edges; ...
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
        default_factory=lambda: np.array(
            [0, 8, 12, 16, 20, 24, 28, 32, 36, 42, 50, 60, 80, 100, 130, 160, 200.0]
        )
    )
    mu: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 200.0, 21))
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
        """A copy with every binning validated (ParameterError naming the bad one)."""
        check_params(
            {"density_bins": ["array-like"], "spectrum_column": [str]},
            {"density_bins": self.density_bins, "spectrum_column": self.spectrum_column},
            "ReportBins",
        )
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
                raise ParameterError(
                    "density_bins: each bin is (pt_low, pt_high, abs_eta_low, abs_eta_high), "
                    f"got {box!r}"
                )
            check_edges(box[:2], "density_bins pT")
            check_edges(box[2:], "density_bins |eta|")
            boxes.append(tuple(float(v) for v in box))
        values["density_bins"] = tuple(boxes)
        values["spectrum_column"] = self.spectrum_column
        return ReportBins(**values)
