"""The MultiFold iterations (OmniFold, arXiv:1911.09107 and 2105.04448), on validated arrays.

Each iteration has two classifier steps, with the simulation's prior weights ``w0``
and the particle-level ("push") weights ``nu`` of the previous iteration (1 at first):

1. **Detector level.** A classifier tells the data's reco events from the simulation's
   (weights ``w0 * nu``); its likelihood ratio ``p / (1 - p)`` reweights each simulated
   event with a reco side: the "pull" weights ``omega``, normalised so that the
   reweighted simulation has the data's sum of weights.
   *Efficiency step* (only where there are misses): an event without a reco side gets
   the average ``omega / nu`` of the events with the same truth, learnt by a classifier
   at particle level between the events with both sides weighted ``w0 * nu`` and
   ``w0 * omega``.
2. **Particle level.** A classifier tells the simulation's truth weighted ``w0`` from
   the same events weighted ``w0 * omega``; its ratio is the new ``nu``, a function of
   the truth alone (the paper's formulation: each iteration learns the whole ratio).
   *Acceptance*: an event without a truth side (a fake) keeps its
   pull weight, as there is no particle level to pull it back to; it is absent from the
   unfolded (particle-level) distribution.

Both classes of every classifier are balanced (each sums to half the events), so the
ratio is one of shapes and the normalisations are set explicitly. **Weight clipping**:
the classifier's probability is clipped to ``[1e-7, 1 - 1e-7]`` and every ratio to
``[1 / max_weight, max_weight]``, so that one badly classified event cannot take all
the weight; each step's ratio multiplies the previous weights, so the final weights
may range wider than one step's clip.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from skcal.exceptions import SkcalError
from skcal.unfolding._inputs import UnfoldingInputs

__all__ = ["Settings", "density_ratio", "unfold"]

_EPS = 1e-7


class Settings:
    """What every unfolding of one estimator shares (a plain object, sent to workers)."""

    def __init__(self, classifier: Any, n_iterations: int, max_weight: float) -> None:
        self.classifier, self.n_iterations, self.max_weight = classifier, n_iterations, max_weight


def _seeded(classifier: Any, seed: int) -> Any:
    est = clone(classifier)
    if "random_state" in est.get_params(deep=False):
        est.set_params(random_state=int(seed))
    return est


def density_ratio(
    classifier: Any,
    X0: np.ndarray,
    w0: np.ndarray,
    X1: np.ndarray,
    w1: np.ndarray,
    X_eval: np.ndarray,
    *,
    seed: int,
    max_weight: float,
) -> np.ndarray:
    """The ratio of the (normalised) weighted densities of class 1 over class 0 at ``X_eval``.

    A clone of ``classifier`` (seeded with ``seed`` where it has a ``random_state``) is
    trained on both classes with balanced sums of weights; the ratio is ``p / (1 - p)``,
    clipped as the module's docstring says.
    """
    n0, n1 = X0.shape[0], X1.shape[0]
    half = 0.5 * (n0 + n1)
    weights = np.concatenate([w0 * (half / w0.sum()), w1 * (half / w1.sum())])
    labels = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    est = _seeded(classifier, seed)
    est.fit(np.concatenate([X0, X1]), labels, sample_weight=weights)
    column = int(np.flatnonzero(np.asarray(est.classes_) == 1)[0])
    p = np.asarray(est.predict_proba(X_eval), dtype=np.float64)[:, column]
    if not np.isfinite(p).all():
        raise SkcalError(
            f"{type(est).__name__}.predict_proba returned {int((~np.isfinite(p)).sum())} "
            "non-finite probabilities; the unfolding cannot go on"
        )
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return np.clip(p / (1.0 - p), 1.0 / max_weight, max_weight)


def unfold(inputs: UnfoldingInputs, settings: Settings, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The detector-level and particle-level weights of every iteration.

    Returns two arrays of shape ``(n_iterations, n_sim)``: ``w0 * omega`` (0 for misses,
    which have no detector level) and ``w0 * nu`` (0 for fakes, which have no particle
    level). Each classifier gets its own seed, drawn from ``seed``.
    """
    reco, gen = inputs.sim_reco, inputs.sim_truth
    w0, reco_mask, truth_mask = inputs.sim_weights, inputs.reco_mask, inputs.truth_mask
    both, misses = reco_mask & truth_mask, truth_mask & ~reco_mask
    seeds = iter(np.random.SeedSequence(int(seed)).generate_state(3 * settings.n_iterations))
    ratio = {"classifier": settings.classifier, "max_weight": settings.max_weight}
    nu = np.ones_like(w0)
    pulls, pushes = [], []
    for _ in range(settings.n_iterations):
        r, prior = reco[reco_mask], w0[reco_mask] * nu[reco_mask]
        step1 = density_ratio(
            X0=r, w0=prior, X1=inputs.data_reco, w1=inputs.data_weights, X_eval=r,
            seed=next(seeds), **ratio,
        )  # fmt: skip
        omega = nu.copy()
        omega[reco_mask] = nu[reco_mask] * step1 * (inputs.data_weights.sum() / prior.sum())
        seed_eff = next(seeds)
        if misses.any():
            g, before, after = gen[both], w0[both] * nu[both], w0[both] * omega[both]
            eff = density_ratio(
                X0=g, w0=before, X1=g, w1=after, X_eval=gen[misses], seed=seed_eff, **ratio
            )
            omega[misses] = nu[misses] * eff * (after.sum() / before.sum())
        g, prior_truth = gen[truth_mask], w0[truth_mask]
        after = prior_truth * omega[truth_mask]
        step2 = density_ratio(
            X0=g, w0=prior_truth, X1=g, w1=after, X_eval=g, seed=next(seeds), **ratio
        )
        new_nu = omega.copy()  # fakes keep their pull weight
        new_nu[truth_mask] = step2 * (after.sum() / prior_truth.sum())
        nu = new_nu
        pulls.append(np.where(reco_mask, w0 * omega, 0.0))
        pushes.append(np.where(truth_mask, w0 * nu, 0.0))
    return np.asarray(pulls), np.asarray(pushes)
