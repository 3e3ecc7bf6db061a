"""MultiFold: unbinned unfolding by classifier reweighting, as a scikit-learn meta-estimator."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter

from skcal._contract import TableContract
from skcal._params import HasMethods, Interval, StrictInterval, StrOptions, check_params
from skcal.exceptions import DataError, ParameterError
from skcal.unfolding._inputs import (
    TruthColumns,
    UnfoldingInputs,
    as_mask,
    positive_weights,
    validate_inputs,
    validate_reco,
)
from skcal.unfolding._iterate import Settings, unfold
from skcal.unfolding._replicas import run_replicas

__all__ = ["MultiFold", "default_classifier"]

_CLIENT = [HasMethods(["submit", "scatter", "gather"]), None]


def default_classifier() -> HistGradientBoostingClassifier:
    """The default classifier of every step: 200 gradient-boosted trees of depth 2.

    Shallow trees (at least 50 events a leaf, learning rate 0.1) sum to a smooth ratio
    that still follows the tails and, at depth 2, the correlation of two columns; the
    earlier default (100 trees of 15 leaves, 200 events a leaf) left the 2-D Gaussian
    toy's unfolded widths 0.042 too wide on 2,000 events (mean of 5 seeds and both
    columns; these trees: 0.017; the exact ratio after 4 iterations: 0.005):
    ``benchmarks/results/unfolding_study.md``. Without early stopping, which stops too
    soon on a few thousand events and leaves the ratio near 1.
    """
    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_depth=2,
        min_samples_leaf=50,
        early_stopping=False,
    )


class MultiFold(TableContract, BaseEstimator):
    """Unbinned unfolding (MultiFold / OmniFold) with any probabilistic classifier.

    The simulation is reweighted to the data at detector level by a classifier, and the
    weights are pulled back to particle level by a second one, ``n_iterations`` times
    (the steps, the treatment of misses and fakes and the weight clipping are in the
    User guide, "Unbinned unfolding"). The result is a weight per simulated event: any
    binning and any function of the particle-level columns can be formed afterwards.

    Parameters
    ----------
    classifier : classifier, default=None
        Any scikit-learn classifier with ``fit(X, y, sample_weight=...)`` and
        ``predict_proba``; cloned for every step (and seeded where it has a
        ``random_state``). ``None``: :func:`default_classifier` (HistGradientBoosting).
        For many observables, a neural network (scikit-learn's ``MLPClassifier``) may
        do better.
    n_iterations : int, default=4
        Iterations of the two steps (more: less dependence on the simulation's prior,
        larger statistical uncertainty).
    max_weight : float, default=50.0
        Each step's likelihood ratio is clipped to ``[1 / max_weight, max_weight]``.
    random_state : int, RandomState or None, default=None
        Draws the seed of every classifier (``seed_``).

    Attributes
    ----------
    weights_ : ndarray of shape (n_iterations, n_sim)
        The particle-level weights of each iteration (the prior weights included; 0 for
        fakes, which have no particle level).
    detector_weights_ : ndarray of shape (n_iterations, n_sim)
        The detector-level (step 1) weights of each iteration (0 for misses).
    bootstrap_weights_ : dict of str to ndarray of shape (n_replicas, n_sim)
        The final weights of each replica made by :meth:`bootstrap`, under ``"data"``
        and ``"sim"``.
    systematic_weights_ : dict of str to ndarray of shape (n_sim,)
        The weights of each variation made by :meth:`systematic`.
    truth_mask_ : ndarray of bool of shape (n_sim,)
        Which simulated events have a particle level (not fakes).
    seed_ : int
        The seed of the nominal unfolding (and of the systematic variations).
    n_features_in_, feature_names_in_
        The detector-level columns; ``truth_feature_names_in_``: the particle-level ones.

    Examples
    --------
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from skcal.unfolding import MultiFold, make_gaussian_toy
    >>> sim_reco, sim_truth, data_reco, data_truth = make_gaussian_toy(2000, random_state=0)
    >>> trees = HistGradientBoostingClassifier(max_iter=10, learning_rate=0.3)
    >>> mf = MultiFold(trees, n_iterations=2, random_state=0).fit(sim_reco, sim_truth, data_reco)
    >>> w = mf.unfolded_weights()
    >>> w.shape
    (2000,)
    >>> mean = float((w * sim_truth["x"]).sum() / w.sum())
    >>> abs(mean - 0.2) < abs(float(sim_truth["x"].mean()) - 0.2)  # moved towards the data
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "n_iterations": [StrictInterval(Integral, 1, None, closed="left")],
        "max_weight": [Interval(Real, 1, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        classifier: Any = None,
        n_iterations: int = 4,
        *,
        max_weight: float = 50.0,
        random_state: Any = None,
    ) -> None:
        self.classifier = classifier
        self.n_iterations = n_iterations
        self.max_weight = max_weight
        self.random_state = random_state

    def _settings(self) -> Settings:
        classifier = default_classifier() if self.classifier is None else self.classifier
        if not has_fit_parameter(classifier, "sample_weight"):
            raise ParameterError(
                f"The 'classifier' parameter of MultiFold must accept sample_weight in fit; "
                f"{type(classifier).__name__}.fit does not"
            )
        return Settings(classifier, int(self.n_iterations), float(self.max_weight))

    def fit(
        self,
        sim_reco: Any,
        sim_truth: Any,
        data_reco: Any,
        sim_weights: Any = None,
        data_weights: Any = None,
        *,
        reco_mask: Any = None,
        truth_mask: Any = None,
    ) -> MultiFold:
        """Unfold ``data_reco`` with the simulated pairs (``sim_reco``, ``sim_truth``).

        Parameters
        ----------
        sim_reco : array-like, DataFrame or Dask collection of shape (n_sim, n_reco)
            The simulated events at detector level.
        sim_truth : array-like, DataFrame or Dask collection of shape (n_sim, n_truth)
            The same events at particle level, row for row.
        data_reco : array-like, DataFrame or Dask collection of shape (n_data, n_reco)
            The measured events, with the columns of ``sim_reco``.
        sim_weights, data_weights : array-like of shape (n_sim,) / (n_data,), optional
            Event weights, strictly positive (1 where not given).
        reco_mask : array-like of bool of shape (n_sim,), optional
            False for a miss: a simulated event without a reco side (its ``sim_reco``
            row is ignored and may be NaN).
        truth_mask : array-like of bool of shape (n_sim,), optional
            False for a fake: an event without a truth side (its ``sim_truth`` row is
            ignored and may be NaN).

        Returns
        -------
        self : MultiFold

        Raises
        ------
        DataError
            Mismatched lengths, columns of ``data_reco`` other than ``sim_reco``'s,
            non-positive or non-finite weights, NaN or infinite values in a row not
            labelled as a miss or a fake.
        ParameterError
            A classifier without ``predict_proba`` or ``sample_weight``.

        Notes
        -----
        Dask tables are computed once: the classifiers need every event in memory.
        """
        self._validate_params()
        settings = self._settings()
        self._truth = TruthColumns()
        inputs = validate_inputs(
            self, self._truth, sim_reco, sim_truth, data_reco,
            sim_weights, data_weights, reco_mask, truth_mask,
        )  # fmt: skip
        self.truth_feature_names_in_ = getattr(self._truth, "feature_names_in_", None)
        self.seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.detector_weights_, self.weights_ = unfold(inputs, settings, self.seed_)
        self.bootstrap_weights_: dict[str, np.ndarray] = {}
        self.systematic_weights_: dict[str, np.ndarray] = {}
        self.truth_mask_ = inputs.truth_mask
        self._inputs: UnfoldingInputs | None = inputs
        return self

    def unfolded_weights(self, iteration: int = -1) -> np.ndarray:
        """The particle-level weight of every simulated event after ``iteration`` (the last)."""
        self._check_fitted()
        return np.asarray(self.weights_[iteration])

    def _stored_inputs(self, method: str) -> UnfoldingInputs:
        self._check_fitted()
        if getattr(self, "_inputs", None) is None:
            raise DataError(
                f"{method} needs the events of the fit, which a copied or loaded MultiFold "
                "does not keep; fit it again first"
            )
        assert self._inputs is not None
        return self._inputs

    def bootstrap(
        self, n_replicas: int, *, of: str = "data", random_state: Any = None, client: Any = None
    ) -> np.ndarray:
        """Unfold ``n_replicas`` bootstrap replicas of the data or of the simulation.

        Each replica multiplies the data's (``of="data"``: the statistical uncertainty)
        or the simulation's (``of="sim"``: the MC statistical uncertainty) weights by
        Poisson(1) weights per event and unfolds again, with the classifiers seeded
        from the replica's seed.

        Parameters
        ----------
        n_replicas : int
            How many replicas (at least 2; more than the bins of any covariance wanted).
        of : {"data", "sim"}, default="data"
            What is resampled.
        random_state : int, RandomState or None, default=None
            Draws the replicas' seeds: the same seeds give the same weights, in
            sequence or on a client.
        client : distributed.Client, optional
            Run one task per replica on the client's workers.

        Returns
        -------
        weights : ndarray of shape (n_replicas, n_sim)
            The final particle-level weights of each replica (the simulation's Poisson
            factor included); also kept in ``bootstrap_weights_[of]``.
        """
        check_params(
            {
                "n_replicas": [StrictInterval(Integral, 2, None, closed="left")],
                "of": [StrOptions({"data", "sim"})],
                "random_state": ["random_state"],
                "client": _CLIENT,
            },
            {"n_replicas": n_replicas, "of": of, "random_state": random_state, "client": client},
            "MultiFold.bootstrap",
        )
        inputs = self._stored_inputs("bootstrap")
        rng = check_random_state(random_state)
        seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=n_replicas)]
        weights = run_replicas(inputs, self._settings(), of, seeds, client)
        self.bootstrap_weights_[of] = weights
        return weights

    def systematic(
        self,
        name: str,
        *,
        sim_reco: Any = None,
        sim_weights: Any = None,
        reco_mask: Any = None,
        scheme: str = "unfold",
    ) -> np.ndarray:
        """The unfolded weights under a systematic variation of the simulation.

        The varied simulation is the nominal one with its detector level replaced
        (``sim_reco``, ``reco_mask``: a detector variation such as the track
        efficiency) and/or its weights replaced (``sim_weights``: a reweighting
        template, e.g. :func:`~skcal.unfolding.reweight` of the nominal truth to an
        alternative generator's, times the nominal weights).

        Parameters
        ----------
        name : str
            The key in ``systematic_weights_``.
        sim_reco, sim_weights, reco_mask : optional
            The varied simulation (as in :meth:`fit`); what is not given is nominal.
        scheme : {"unfold", "closure"}, default="unfold"
            ``"unfold"``: the data are unfolded with the varied simulation. ``"closure"``
            (the two-step reweighting): the varied simulation's detector level is
            unfolded as pseudo-data with the nominal simulation; its non-closure (the
            unfolded weights minus the varied simulation's particle-level weights,
            scaled to the nominal sum) is added to the nominal weights.

        Returns
        -------
        weights : ndarray of shape (n_sim,)
            The varied weights: their binned difference from :meth:`unfolded_weights`
            is the systematic shift. Also kept in ``systematic_weights_[name]``.
        """
        check_params(
            {"name": [str], "scheme": [StrOptions({"unfold", "closure"})]},
            {"name": name, "scheme": scheme},
            "MultiFold.systematic",
        )
        inputs = self._stored_inputs("systematic")
        n = inputs.sim_weights.shape[0]
        changes: dict[str, Any] = {}
        if reco_mask is not None and sim_reco is None:
            raise ParameterError("MultiFold.systematic: reco_mask varies only with sim_reco")
        if reco_mask is not None:
            changes["reco_mask"] = as_mask(reco_mask, n, "reco_mask")
        if sim_reco is not None:
            mask = changes.get("reco_mask", inputs.reco_mask)
            changes["sim_reco"] = validate_reco(self, sim_reco, mask, n)
        if sim_weights is not None:
            changes["sim_weights"] = positive_weights(sim_weights, n, "sim_weights")
        varied_inputs = inputs.replace(**changes)
        settings, nominal = self._settings(), self.unfolded_weights()
        if scheme == "unfold":
            weights = unfold(varied_inputs, settings, self.seed_)[1][-1]
        else:
            mask = varied_inputs.reco_mask
            pseudo = inputs.replace(
                data_reco=varied_inputs.sim_reco[mask],
                data_weights=varied_inputs.sim_weights[mask],
            )
            unfolded = unfold(pseudo, settings, self.seed_)[1][-1]
            target = np.where(inputs.truth_mask, varied_inputs.sim_weights, 0.0)
            weights = nominal + (unfolded - target) * (nominal.sum() / target.sum())
        self.systematic_weights_[name] = np.asarray(weights)
        return self.systematic_weights_[name]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state["_inputs"] = None  # the events of the fit are not part of the model
        return state
