"""A deep ensemble of neural calibrators: the statistical uncertainty of a prediction.

The members are clones of one base calibrator that differ by their seeds (initial
weights, shuffling, validation split) and, with ``bootstrap=True``, by Poisson(1)
weights per jet. Their spread estimates ``sigma_stat``, the uncertainty that a finite
training sample leaves (:mod:`skcal.neural._uncertainty`); fitting is
:mod:`skcal.neural._ensemble_fit`.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import check_random_state
from torch.distributions import Categorical, Distribution, MixtureSameFamily, Normal

from skcal._params import HasMethods, StrictInterval
from skcal._validation import check_calibrated, is_dask
from skcal.exceptions import DataError, ParameterError
from skcal.neural._bounds import bound_responses
from skcal.neural._ensemble_fit import MemberInputs, fit_members
from skcal.neural._estimators import GDNCalibrator, MDNCalibrator
from skcal.neural._families import AsymmetricNormal, scale_of
from skcal.neural._point import PointCalibrator
from skcal.neural._prediction import DensityPrediction
from skcal.neural._uncertainty import UncertaintyMixin, predict_with_spread, validation_pull_width

__all__ = ["EnsembleCalibrator"]


class EqualMixture:
    """The equal-weight mixture of the members' densities, from its parameters.

    ``raw`` has shape (n_jets, 4 * n_components): log weights, locations, widths below
    and widths above the mode of every member's every component (in the training
    space). A plain class, so that it pickles with the prediction.
    """

    def __init__(self, n_components: int, asymmetric: bool) -> None:
        self.n_components, self.asymmetric = int(n_components), bool(asymmetric)

    def __call__(self, raw: torch.Tensor) -> Distribution:
        j = self.n_components
        log_w, loc, low, high = (raw[:, k * j : (k + 1) * j] for k in range(4))
        comp: Distribution = (
            AsymmetricNormal(loc, low, high, validate_args=False)
            if self.asymmetric
            else Normal(loc, low, validate_args=False)
        )
        return MixtureSameFamily(
            Categorical(logits=log_w, validate_args=False), comp, validate_args=False
        )


def mixture_of(predictions: list[DensityPrediction]) -> DensityPrediction:
    """The equal-weight mixture of one density prediction per member, on the same jets."""
    parts: list[list[torch.Tensor]] = [[], [], [], []]
    asymmetric = False
    log_m = math.log(len(predictions))
    for pred in predictions:
        dist = pred.distribution()
        n = len(pred)
        if isinstance(dist, MixtureSameFamily):
            comp = dist.component_distribution
            log_w = torch.log_softmax(dist.mixture_distribution.logits, dim=-1)
        else:
            comp, log_w = dist, torch.zeros((n, 1), dtype=pred.raw.dtype)
        asymmetric = isinstance(comp, AsymmetricNormal)
        low, high = scale_of(comp)
        for k, values in enumerate((log_w - log_m, comp.mode, low, high)):
            parts[k].append(values.reshape(n, -1))
    columns = [torch.cat(p, dim=1) for p in parts]
    first = predictions[0]
    return DensityPrediction(
        torch.cat(columns, dim=1),
        EqualMixture(columns[0].shape[1], asymmetric),
        training_space=first.training_space,
        mode_space=first.mode_space,
    )


class EnsembleCalibrator(UncertaintyMixin, RegressorMixin, BaseEstimator):
    """A deep ensemble of neural calibrators, with statistical and systematic widths.

    ``n_members`` clones of ``base`` are fitted on the same jets, each with its own
    ``random_state`` (drawn from this one's), and with ``bootstrap=True`` each with
    its own Poisson(1) weight per jet (times ``sample_weight``). With a density base
    (:class:`~skcal.neural.GDNCalibrator`, :class:`~skcal.neural.MDNCalibrator`):

    - ``predict(X)`` is the mode of the **averaged density**, the equal-weight mixture
      of the members' densities (taken in the base's ``mode_space``, with the
      Jacobian of its training space), found numerically from every component's
      mode as for one MDN;
    - ``sigma_syst`` is the mean over the members of the standard deviation of
      their densities; ``sigma_stat`` is the standard deviation of the members'
      modes (with ``ddof=1``: an unbiased variance for a few members);
    - ``predict(X, return_std=True)`` returns ``sigma_tot = sqrt(sigma_stat**2 +
      sigma_syst**2)``, and :meth:`predict_uncertainty` all three.

    With a :class:`~skcal.neural.PointCalibrator` base, ``predict`` is the mean of
    the members' predictions, ``sigma_stat`` their spread, and ``sigma_syst`` is 0
    (a point regressor predicts no density); ``predict_dist`` is refused.

    Parameters
    ----------
    base : GDNCalibrator, MDNCalibrator or PointCalibrator
        The (unfitted) member; it is cloned, never fitted itself.
    n_members : int, default=5
        Members (at least 2: one member has no spread).
    bootstrap : bool, default=False
        Also vary the members by Poisson(1) weights per jet (seeded).
    random_state : int, RandomState or None, default=None
        Draws every member's ``random_state`` and bootstrap seed (``member_seeds_``).
    client : distributed.Client, optional
        Fit one member per task on the client's workers, in parallel: in-memory input
        is scattered to every worker once; Dask input travels as a graph and each
        member streams it on its worker. ``None``: the members are fitted in sequence.
        The same seeds give the same members either way. The client is not pickled
        (a saved or copied ensemble has ``client=None``).
    sigma_scaling : bool, default=False
        Post-hoc calibration of the widths, off by default: after the members are
        fitted, the pulls ``(R_pred - r) / sigma_tot`` of the validation jets given to
        ``fit`` (``X_val``, ``y_val``; required then) are computed, and every width
        (``sigma_stat``, ``sigma_syst``, ``sigma_tot``) is multiplied by their robust
        width (half the central 68% interval), ``sigma_scale_``, so that the
        validation pulls have width 1. One factor for all jets: it corrects an
        overall over- or under-estimate, not one that depends on the jet.

    Attributes
    ----------
    members_ : list of calibrators
        The fitted members.
    member_seeds_ : ndarray of shape (n_members, 2)
        Each member's ``random_state`` and bootstrap seed.
    sigma_scale_ : float
        The factor on every width (1.0 unless ``sigma_scaling``).
    response_range_ : ndarray of shape (2, 1)
        The range of the responses seen in training (over every member): predictions
        are bounded to it, and refused unless finite and positive, as a single
        calibrator's are (README, "What a neural calibrator guarantees").
    n_features_in_, feature_names_in_
        The input columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import EnsembleCalibrator, GDNCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(512, 2)).astype("float32")
    >>> y = 1.0 + 0.1 * X[:, 0] + 0.05 * rng.normal(size=512)
    >>> base = GDNCalibrator(max_epochs=2, batch_size=128, module__hidden_sizes=(16,))
    >>> ens = EnsembleCalibrator(base, n_members=3, random_state=0).fit(X, y)
    >>> mode, sigma = ens.predict(X[:3], return_std=True)
    >>> u = ens.predict_uncertainty(X[:3])
    >>> list(u.columns), bool((u.sigma_stat > 0).all())
    (['sigma_stat', 'sigma_syst', 'sigma_tot'], True)
    >>> bool(np.allclose(sigma, np.hypot(u.sigma_stat, u.sigma_syst)))
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "base": [GDNCalibrator, MDNCalibrator, PointCalibrator],
        "n_members": [StrictInterval(Integral, 2, None, closed="left")],
        "bootstrap": ["boolean"],
        "random_state": ["random_state"],
        "client": [HasMethods(["submit", "scatter", "gather"]), None],
        "sigma_scaling": ["boolean"],
    }

    def __init__(
        self,
        base: Any,
        n_members: int = 5,
        *,
        bootstrap: bool = False,
        random_state: Any = None,
        client: Any = None,
        sigma_scaling: bool = False,
    ) -> None:
        self.base = base
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.random_state = random_state
        self.client = client
        self.sigma_scaling = sigma_scaling

    # ------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, **fit_params: Any) -> Any:
        """Fit ``n_members`` clones of ``base``, in sequence or on the client's workers.

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        y : array-like or Dask collection of shape (n_jets,)
            The response ``E_reco / E_true``, positive.
        sample_weight : array-like or Dask collection of shape (n_jets,), optional
            Per-jet weights (for example prior-flattening weights), non-negative.
        **fit_params
            Passed to every member's ``fit`` (``X_val``, ``y_val``, ...).

        Returns
        -------
        self
        """
        self._validate_params()
        for attr in ("members_", "n_features_in_", "feature_names_in_"):
            self.__dict__.pop(attr, None)
        if self.sigma_scaling and fit_params.get("X_val") is None:
            raise DataError(
                "sigma_scaling=True fits the widths on validation jets: pass them as "
                "fit(X, y, X_val=..., y_val=...)"
            )
        if y is None:
            raise DataError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(y is the response E_reco / E_true)"
            )
        self._validate_table(X, reset=True, ensure_finite=False)  # the members check values
        seeds = check_random_state(self.random_state).randint(
            0, 2**31 - 1, size=(self.n_members, 2)
        )
        members = [clone(self.base).set_params(random_state=int(s)) for s in seeds[:, 0]]
        boot = [int(b) if self.bootstrap else None for b in seeds[:, 1]]
        inputs = MemberInputs(X, y, sample_weight, fit_params)
        self.members_ = fit_members(members, boot, inputs, self.client)
        self.member_seeds_ = seeds
        ranges = np.stack([m.response_range_ for m in self.members_])
        self.response_range_ = np.stack([ranges[:, 0].min(axis=0), ranges[:, 1].max(axis=0)])
        self.sigma_scale_ = 1.0
        if self.sigma_scaling:
            self.sigma_scale_ = self._pull_width(fit_params["X_val"], fit_params.get("y_val"))
        return self

    def _pull_width(self, X_val: Any, y_val: Any) -> float:
        """Half the central 68% interval of the validation pulls (``sigma_scaling``)."""
        return validation_pull_width(self, X_val, y_val)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "members_")

    @property
    def _density(self) -> bool:
        return not isinstance(self.base, PointCalibrator)

    # ---------------------------------------------------------- prediction
    def predict_dist(self, X: Any) -> DensityPrediction:
        """The averaged density of each jet: the equal-weight mixture of the members'.

        Returns
        -------
        DensityPrediction
            With ``mode()``, ``mean()``, ``std()``, ``quantile(q)``, ``pdf(r)`` and
            ``sample(n)`` in the space of the response. Its ``std()`` is the width of
            the mixture, which holds the spread of the members' means; ``predict``'s
            ``sigma_tot`` combines the members' mean width and the spread of their modes.
        """
        self._check_fitted()
        if not self._density:
            raise ParameterError(
                "an EnsembleCalibrator of PointCalibrator members has no density; use a "
                "GDNCalibrator or MDNCalibrator base for predict_dist"
            )
        if is_dask(X):
            raise DataError("predict_dist needs an in-memory table; use predict on Dask input")
        return mixture_of([m.predict_dist(X) for m in self.members_])

    def _guarded(self, values: np.ndarray, X: Any, what: str = "responses") -> np.ndarray:
        if what == "responses":
            values = bound_responses(values, self.response_range_)
        return check_calibrated(values, X, owner=type(self).__name__, what=what)

    def _summaries(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ensemble's response, sigma_stat and sigma_syst of in-memory jets."""
        scale = getattr(self, "sigma_scale_", 1.0)
        if not self._density:
            modes = np.stack([m.predict(X) for m in self.members_])
            mean = self._guarded(modes.mean(axis=0), X)
            return mean, scale * modes.std(axis=0, ddof=1), np.zeros_like(mean)
        preds = [m.predict_dist(X) for m in self.members_]
        modes = np.stack([m._guarded(p.mode(), X) for m, p in zip(self.members_, preds)])
        widths = np.stack([m._guarded(p.std(), X, "widths") for m, p in zip(self.members_, preds)])
        # member modes are finite and bounded (the guard above), so their spread is finite
        stat, syst = scale * modes.std(axis=0, ddof=1), scale * widths.mean(axis=0)
        return self._guarded(mixture_of(preds).mode(), X), stat, syst

    def _stat_syst(self, chunk: Any) -> tuple[np.ndarray, np.ndarray]:
        _, stat, syst = self._summaries(chunk)
        return stat, syst

    def _predict_chunk(self, chunk: Any, rows: Any, which: str) -> np.ndarray:
        if which == "mode" and self._density:
            return self._guarded(self.predict_dist(chunk).mode(), chunk)
        mode, stat, syst = self._summaries(chunk)
        return mode if which == "mode" else self._guarded(np.hypot(stat, syst), chunk, "widths")

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The ensemble's response: the mode of the averaged density (class docstring).

        Parameters
        ----------
        X : array-like, DataFrame or Dask collection of shape (n_jets, n_features)
        return_std : bool, default=False
            Also return ``sigma_tot = sqrt(sigma_stat**2 + sigma_syst**2)``.

        Returns
        -------
        mode : ndarray of shape (n_jets,); a Dask Series (DataFrame in) or Array (Array in)
        sigma_tot : same, only if ``return_std``
        """
        return predict_with_spread(self, X, return_std)

    def sample(self, X: Any, n: int, random_state: int | None = None) -> np.ndarray:
        """``n`` responses drawn from each jet's averaged density, shape (n_jets, n)."""
        return self.predict_dist(X).sample(n, random_state=random_state)

    # -------------------------------------------------------------- copies
    def __sklearn_clone__(self) -> EnsembleCalibrator:
        """A clone with the same client (a client cannot be copied)."""
        params = self.get_params(deep=False)
        client = params.pop("client")
        new = type(self)(**{k: clone(v, safe=False) for k, v in params.items()}, client=client)
        return new

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state["client"] = None  # a connection, not a parameter of the model
        return state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.positive_only = True
        tags.non_deterministic = self.random_state is None
        return tags
