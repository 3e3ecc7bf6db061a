"""Eta annotation: Gaussian encodings of the jet's distance to calorimeter regions."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np

from skcal._params import Interval
from skcal._validation import resolve_columns
from skcal.exceptions import DataError, ParameterError
from skcal.preprocessing._base import TableTransformer

#: Default centres (in |eta|) of the eleven annotation Gaussians: the regions and
#: transitions of the ATLAS calorimeters, as in MLST 5 (2024) 035051, section 5.2.
ETA_CENTRES: tuple[float, ...] = (
    0.0,  # central barrel
    0.5,  # barrel
    0.9,  # tile barrel / extended-barrel gap (|eta| 0.8 to 1.0)
    1.2,  # start of the barrel / end-cap transition
    1.45,  # barrel / end-cap crack of the EM calorimeter (|eta| 1.37 to 1.52)
    1.7,  # end of the tile extended barrel, start of the end-cap proper
    2.1,  # end-cap
    2.5,  # tracker edge; EM end-cap outer / inner wheel
    3.2,  # end-cap / forward calorimeter transition
    3.8,  # forward calorimeter
    4.5,  # forward edge of the jet acceptance
)
#: Default widths (standard deviations, in eta) of the eleven Gaussians: narrow at the
#: transitions, wide in the smooth regions; together they leave no |eta| < 4.5 where
#: all annotations are below 0.2.
ETA_WIDTHS: tuple[float, ...] = (0.3, 0.2, 0.15, 0.1, 0.08, 0.12, 0.2, 0.2, 0.2, 0.3, 0.2)


def _label(centre: float) -> str:
    """A column-name-safe spelling of a centre: 1.45 -> '1p45', -0.5 -> 'm0p5'."""
    return repr(float(centre)).replace("-", "m").replace(".", "p").replace("+", "")


def _as_vector(value: Any, param: str) -> np.ndarray:
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{param}: expected a sequence of numbers, got {value!r}") from exc
    if vector.ndim != 1 or vector.size == 0:
        raise ParameterError(f"{param}: expected a non-empty sequence of numbers, got {value!r}")
    if not np.isfinite(vector).all():
        raise ParameterError(f"{param}: values must be finite, got {vector.tolist()}")
    return vector


class EtaAnnotation(TableTransformer):
    """Append Gaussian encodings of eta, keeping the raw eta.

    For each centre ``c_i`` and width ``w_i`` the transformer appends the feature
    ``f_i(eta) = exp(-(eta - c_i)**2 / (2 * w_i**2))``: a smooth measure of how close
    the jet is to a calorimeter region or transition, which helps a network model the
    sharp eta dependence of the response (MLST 5 (2024) 035051, section 5.2). By
    default there are eleven Gaussians in ``|eta|`` (see ``ETA_CENTRES`` and
    ``ETA_WIDTHS``): with the raw eta, twelve representations in all.

    Parameters
    ----------
    column : str or int, default="eta"
        The eta column: a name (DataFrame input) or a position (any input).
    centres : sequence of float, optional
        Centres of the Gaussians. Default: ``ETA_CENTRES``; with ``symmetric=False``,
        the same mirrored to negative eta (21 Gaussians).
    widths : float or sequence of float, optional
        Standard deviations of the Gaussians, one per centre or one for all.
        Default: ``ETA_WIDTHS`` (mirrored like the centres).
    symmetric : bool, default=True
        Annotate ``|eta|`` (the detector is symmetric in eta), or the signed eta.

    Attributes
    ----------
    eta_index_ : int
        Position of the eta column in the input.
    centres_ : ndarray of shape (n_annotations,)
        The centres used.
    widths_ : ndarray of shape (n_annotations,)
        The widths used.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns, where they have string names.

    Notes
    -----
    The output is the input columns unchanged, followed by one column per Gaussian,
    named ``{eta}_annot_abs{centre}`` (or ``{eta}_annot_{centre}`` for signed eta),
    with ``p`` for the decimal point and ``m`` for a minus: ``eta_annot_abs1p45``.
    Fitting reads no values from a Dask collection: NaN or infinite values in Dask
    input are reported when the output is computed. Minimum sample size: one row in
    memory (an empty table is a :class:`~skcal.exceptions.DataError`); over Dask any
    number, empty partitions included.

    Examples
    --------
    >>> import pandas as pd
    >>> from skcal.preprocessing import EtaAnnotation
    >>> jets = pd.DataFrame({"pt_reco": [50.0, 80.0], "eta": [0.0, -1.45]})
    >>> annot = EtaAnnotation().set_output(transform="pandas").fit(jets)
    >>> out = annot.transform(jets)
    >>> out.shape
    (2, 13)
    >>> out.columns[:4].tolist()
    ['pt_reco', 'eta', 'eta_annot_abs0p0', 'eta_annot_abs0p5']
    >>> out["eta_annot_abs1p45"].round(3).tolist()
    [0.0, 1.0]
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "column": [str, Interval(Integral, None, None, closed="neither")],
        "centres": ["array-like", None],
        "widths": [Interval(Real, 0, None, closed="neither"), "array-like", None],
        "symmetric": ["boolean"],
    }

    def __init__(
        self,
        *,
        column: str | int = "eta",
        centres: Sequence[float] | None = None,
        widths: float | Sequence[float] | None = None,
        symmetric: bool = True,
    ) -> None:
        self.column = column
        self.centres = centres
        self.widths = widths
        self.symmetric = symmetric

    def _fit_params(self) -> None:
        names_in = getattr(self, "feature_names_in_", None)
        (self.eta_index_,) = resolve_columns(
            self.column, names_in, self.n_features_in_, param="column"
        )
        default = self.centres is None
        centres = np.asarray(ETA_CENTRES) if default else _as_vector(self.centres, "centres")
        if self.widths is None:
            if not default:
                raise ParameterError(
                    "widths: give one width per centre (or one for all) with centres"
                )
            widths = np.asarray(ETA_WIDTHS)
        elif np.ndim(self.widths) == 0:
            widths = np.full(centres.shape, _as_vector([self.widths], "widths")[0])
        else:
            widths = _as_vector(self.widths, "widths")
        if widths.shape != centres.shape:
            raise ParameterError(
                f"widths: {widths.size} widths for {centres.size} centres; give one per "
                "centre, or one for all"
            )
        if (widths <= 0).any():
            raise ParameterError(f"widths: must be positive, got {widths.tolist()}")
        if default and not self.symmetric:  # mirror the |eta| defaults to negative eta
            mirrored = centres > 0
            centres = np.concatenate([-centres[mirrored][::-1], centres])
            widths = np.concatenate([widths[mirrored][::-1], widths])
        if self.symmetric and (centres < 0).any():
            raise ParameterError(
                f"centres: symmetric=True annotates |eta|, which never reaches the negative "
                f"centres {centres[centres < 0].tolist()}; pass symmetric=False for signed centres"
            )
        if len(np.unique(centres)) != len(centres):
            raise ParameterError(f"centres: each centre must appear once, got {centres.tolist()}")
        self.centres_ = centres
        self.widths_ = widths

        clash = set(self._annotation_names(self._eta_name())) & set(
            getattr(self, "feature_names_in_", [])
        )
        if clash:
            raise DataError(
                f"X already has the annotation columns {sorted(clash)}: is the eta "
                "annotation applied twice?"
            )

    def _eta_name(self, names_in: Any = None) -> str:
        if names_in is not None:
            return str(names_in[self.eta_index_])
        names = getattr(self, "feature_names_in_", None)
        return str(names[self.eta_index_]) if names is not None else f"x{self.eta_index_}"

    def _annotation_names(self, eta_name: str) -> list[str]:
        kind = "abs" if self.symmetric else ""
        return [f"{eta_name}_annot_{kind}{_label(c)}" for c in self.centres_]

    def _names_out(self, names_in: np.ndarray) -> list[str]:
        return [*map(str, names_in), *self._annotation_names(self._eta_name(names_in))]

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        n_in = X.shape[1]
        out = np.empty((X.shape[0], n_in + len(self.centres_)), dtype=X.dtype)
        out[:, :n_in] = X
        eta = X[:, self.eta_index_, None]
        if self.symmetric:
            eta = np.abs(eta)
        pull = (eta - self.centres_.astype(X.dtype)) / self.widths_.astype(X.dtype)
        with np.errstate(over="ignore"):  # far from a centre: exp(-inf) = 0, as it should
            out[:, n_in:] = np.exp(-0.5 * pull * pull)
        return out
