"""The Bayesian mixture density network: a posterior over the MDN's weights.

The network is a :class:`~skcal.neural._bayes_modules.BayesianDensityNetwork`
(Bayes-by-backprop layers, Gaussian posteriors, a Gaussian prior), trained on the
negative evidence lower bound per jet,

    loss = NLL (weighted mean over the batch) + KL(q || p) / N_train,

the KL term scaled to the number of training jets ``N_train``, so that the posterior
narrows as the sample grows. Prediction draws ``n_samples`` weight sets from the
posterior (seeded at fit, so that ``predict`` is deterministic and equal for memory and
Dask input) and combines their densities as a deep ensemble combines its members'
(:class:`~skcal.neural.EnsembleCalibrator`).
"""

from __future__ import annotations

import threading
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from torch.distributions import Distribution

from skcal._params import Interval
from skcal.exceptions import DataError
from skcal.neural._bayes_modules import BayesianDensityNetwork
from skcal.neural._data import DaskStream
from skcal.neural._ensemble import mixture_of
from skcal.neural._estimators import _COMMON_DOC, MDNCalibrator
from skcal.neural._modes import mixture_mode
from skcal.neural._prediction import _CHUNK, _DEPRECATED, TRAINING_SPACES, DensityPrediction
from skcal.neural._split import Fold
from skcal.neural._uncertainty import predict_with_spread, validation_pull_width

__all__ = ["BayesianMDNCalibrator", "count_jets", "predictive_mode"]

#: Held while a network's drawn weight sets are in place: Dask's threads predict the
#: partitions of one (frozen) copy at once, and a draw is state of the shared module.
_DRAWING = threading.Lock()


def count_jets(data: Any) -> int:
    """The number of jets in in-memory training data or a Dask stream (one pass over
    the stream's partitions for Dask)."""
    if isinstance(data, DaskStream):
        import dask

        blocks = [data.blocks[int(i)][0] for i in data.partitions]
        lengths = dask.compute(*(dask.delayed(len)(block) for block in blocks))
        return int(sum(lengths))
    return len(data)


def predictive_mode(pred: DensityPrediction, draw_modes: np.ndarray) -> np.ndarray:
    """The mode of a posterior predictive density (the mixture of the drawn networks'
    densities), found by Newton ascent from every drawn network's own mode.

    The same maximum as :meth:`DensityPrediction.mode`, which starts from every
    component of the mixture (``n_samples * n_components`` starts, each evaluating
    every component), at a fraction of the cost: the drawn networks differ by
    ``sigma_stat``, far less than their widths, so the maximum lies near their modes.
    ``draw_modes`` has shape (n_samples, n_jets), in the space of the response.
    """
    jac = pred.mode_space == "response" and pred.training_space != "response"
    slope = pred._jacobian_slope() if jac else 0.0
    to_training = TRAINING_SPACES[pred.training_space][0]
    t0 = to_training(torch.as_tensor(draw_modes, dtype=torch.float64)).T
    out = []
    for start in range(0, len(pred), _CHUNK):
        dist = pred.build(pred.raw[start : start + _CHUNK])
        out.append(mixture_mode(dist, slope, starts=t0[start : start + _CHUNK].contiguous()))
    return pred._from_training(torch.cat(out)).cpu().numpy().astype(np.float64)


_ATTRIBUTES = """
    Attributes
    ----------
    n_train_ : int
        The number of training jets that scales the KL term (with Dask input, counted
        in one pass over the partitions before training).
    draw_seed_ : int
        Seeds the weight sets drawn at prediction.
    sigma_scale_ : float
        The factor on every width (1.0 unless ``sigma_scaling``).

"""


class BayesianMDNCalibrator(MDNCalibrator):
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MDNCalibrator._parameter_constraints,
        "prior_sigma": [Interval(Real, 0, None, closed="neither")],
        "init_sigma": [Interval(Real, 0, None, closed="neither")],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "posterior_lr_scale": [Interval(Real, 0, None, closed="neither")],
        "sigma_scaling": ["boolean"],
    }

    __doc__ = (
        """A Bayesian mixture density network (Bayes by backprop).

    The MDN of :class:`~skcal.neural.MDNCalibrator` with a Gaussian posterior
    ``N(mu, softplus(rho)^2)`` on every weight and bias instead of one value, and the
    prior ``N(0, prior_sigma^2)`` on each, independent. Training minimises the
    negative evidence lower bound per jet: the weighted mean negative log-likelihood
    of the batch plus ``KL(posterior || prior) / N_train``, with ``N_train`` the
    number of training jets (the KL term is scaled to the training size, so the
    posterior, and with it ``sigma_stat``, narrows as the sample grows).

    Prediction draws ``n_samples`` weight sets from the posterior (the same ones for
    every call, seeded at fit):

    - ``predict(X)`` is the mode of the posterior predictive density, the
      equal-weight mixture of the drawn networks' densities (``predict_dist``);
    - ``sigma_syst`` is the mean over the draws of the standard deviation of their
      densities (the width of the mixture of each drawn network);
    - ``sigma_stat`` is the standard deviation (``ddof=1``) of the drawn networks'
      modes;
    - ``predict(X, return_std=True)`` returns ``sigma_tot = sqrt(sigma_stat**2 +
      sigma_syst**2)``, and ``predict_uncertainty`` all three.

    Parameters
    ----------
    n_components : int, default=3
        Mixture components.
    asymmetric : bool, default=False
        Split-normal components.
    prior_sigma : float, default=1.0
        The width of the Gaussian prior of every weight and bias (inputs scaled to
        unit size, as ``SymmetricScaler`` does, suit it).
    init_sigma : float, default=0.01
        The initial width of every weight's posterior (the means start as the MDN's
        initial weights).
    posterior_lr_scale : float, default=30.0
        The learning rate of the posterior widths (their ``rho``) relative to ``lr``.
        A width must travel from ``init_sigma`` to its equilibrium, where the KL term's
        pull (falling as ``1 / N_train``) balances the likelihood's; at the means'
        learning rate it hardly moves in a few thousand steps, and ``sigma_stat``
        would reflect ``init_sigma`` instead of the data. (A ``param_groups`` entry of
        ``optimizer__param_groups`` with its own ``lr`` takes precedence.)
    n_samples : int, default=10
        Weight sets drawn at prediction (at least 2); the cost of a prediction grows
        with it, the noise of ``sigma_stat`` falls as ``1 / sqrt(2 (n_samples - 1))``.
    sigma_scaling : bool, default=False
        Post-hoc calibration of the widths, off by default, as in
        :class:`~skcal.neural.EnsembleCalibrator`: ``fit(X, y, X_val=..., y_val=...)``
        (required then) multiplies every width by the robust width (half the central
        68%) of the validation jets' pulls ``(R_pred - r) / sigma_tot``,
        ``sigma_scale_``, so that they have width 1."""
        + _COMMON_DOC.replace(
            "    **kwargs\n",
            "    module : torch module class, default=BayesianDensityNetwork\n"
            "        Must offer ``kl()`` and ``draw_weights(generator)``.\n"
            "    **kwargs\n",
        ).replace("    Notes\n    -----\n", _ATTRIBUTES + "    Notes\n    -----\n")
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skcal.neural import BayesianMDNCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(512, 2)).astype("float32")
    >>> y = np.exp(0.1 * X[:, 0] + 0.1 * rng.normal(size=512))
    >>> bnn = BayesianMDNCalibrator(n_components=2, training_space="log", max_epochs=2,
    ...                             batch_size=128, random_state=0,
    ...                             module__hidden_sizes=(16,)).fit(X, y)
    >>> u = bnn.predict_uncertainty(X[:3])
    >>> list(u.columns), bool((u.sigma_stat > 0).all())
    (['sigma_stat', 'sigma_syst', 'sigma_tot'], True)
    >>> mode, sigma = bnn.predict(X[:3], return_std=True)
    >>> bool(np.allclose(sigma, u.sigma_tot))
    True
    """
    )

    def __init__(
        self,
        *,
        n_components: int = 3,
        asymmetric: bool = False,
        prior_sigma: float = 1.0,
        init_sigma: float = 0.01,
        posterior_lr_scale: float = 30.0,
        n_samples: int = 10,
        sigma_scaling: bool = False,
        training_space: str = "response",
        mode_space: str = "response",
        truncation: float | None = None,
        min_scale: float = 1e-3,
        random_state: Any = None,
        validation_fraction: float | None = None,
        buffer_partitions: int = 4,
        target: Any = _DEPRECATED,
        module: Any = BayesianDensityNetwork,
        optimizer: Any = torch.optim.Adam,
        lr: float = 1e-3,
        max_epochs: int = 20,
        batch_size: int = 4096,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            n_components=n_components,
            asymmetric=asymmetric,
            training_space=training_space,
            mode_space=mode_space,
            truncation=truncation,
            min_scale=min_scale,
            random_state=random_state,
            validation_fraction=validation_fraction,
            buffer_partitions=buffer_partitions,
            target=target,
            module=module,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            verbose=verbose,
            **kwargs,
        )
        self._set_own(
            prior_sigma=prior_sigma,
            init_sigma=init_sigma,
            posterior_lr_scale=posterior_lr_scale,
            n_samples=n_samples,
            sigma_scaling=sigma_scaling,
        )

    def _module_kwargs(self) -> dict[str, Any]:
        return {
            **super()._module_kwargs(),
            "prior_sigma": self.prior_sigma,
            "init_sigma": self.init_sigma,
        }

    # ------------------------------------------------------------- training
    def get_params_for_optimizer(
        self, prefix: str, named_parameters: Any
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """skorch's optimizer groups, with the posterior widths at ``posterior_lr_scale``
        times the learning rate (a group with its own ``lr`` is left as it is)."""
        named = list(named_parameters)
        args, kwargs = super().get_params_for_optimizer(prefix, named)
        if prefix != "optimizer":
            return args, kwargs
        widths = {id(p) for name, p in named if name.endswith("_rho")}
        groups: list[dict[str, Any]] = []
        for group in args[0]:
            if "lr" in group:
                groups.append(group)
                continue
            rho = [p for p in group["params"] if id(p) in widths]
            rest = [p for p in group["params"] if id(p) not in widths]
            if rest:
                groups.append({**group, "params": rest})
            if rho:
                lr = kwargs.get("lr", self.lr) * self.posterior_lr_scale
                groups.append({**group, "params": rho, "lr": lr})
        return (groups, *args[1:]), kwargs

    def get_loss(
        self, y_pred: Distribution, y_true: torch.Tensor, X: Any = None, training: bool = False
    ) -> torch.Tensor:
        """The negative ELBO per jet in training; the plain NLL on validation jets."""
        nll = super().get_loss(y_pred, y_true, X=X, training=training)
        if not training:
            return nll
        return nll + self.module_.kl() / self.n_train_

    def _run(self, fold: Fold, fit_params: dict[str, Any]) -> None:
        self.n_train_ = count_jets(fold.train)
        gen = getattr(self, "_shuffle_generator_", None)
        self.draw_seed_ = int(torch.randint(0, 2**62, (), generator=gen).item())
        super()._run(fold, fit_params)

    def fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        X_val: Any = None,
        y_val: Any = None,
        sample_weight_val: Any = None,
        **fit_params: Any,
    ) -> BayesianMDNCalibrator:
        """Train from scratch (as :meth:`MDNCalibrator.fit`); with ``sigma_scaling``,
        then fit the width factor on ``X_val``, ``y_val`` (required then)."""
        if self.sigma_scaling is True and X_val is None:
            raise DataError(
                "sigma_scaling=True fits the widths on validation jets: pass them as "
                "fit(X, y, X_val=..., y_val=...)"
            )
        self.sigma_scale_ = 1.0
        super().fit(
            X,
            y,
            sample_weight,
            X_val=X_val,
            y_val=y_val,
            sample_weight_val=sample_weight_val,
            **fit_params,
        )
        if self.sigma_scaling:
            self.sigma_scale_ = validation_pull_width(self, X_val, y_val)
        return self

    # ----------------------------------------------------------- prediction
    def predict_draws(self, X: Any) -> list[DensityPrediction]:
        """The densities of each jet under each of the ``n_samples`` drawn weight sets."""
        self._check_fitted()
        gen = torch.Generator().manual_seed(int(self.draw_seed_))
        draws = []
        with _DRAWING:
            try:
                for _ in range(int(self.n_samples)):
                    self.module_.draw_weights(gen)
                    draws.append(MDNCalibrator.predict_dist(self, X))
            finally:
                self.module_.draw_weights(None)
        return draws

    def predict_dist(self, X: Any) -> DensityPrediction:
        """The posterior predictive density of each jet: the equal-weight mixture of the
        densities of the ``n_samples`` drawn networks.

        Returns
        -------
        DensityPrediction
            With ``mode()``, ``mean()``, ``std()``, ``quantile(q)``, ``pdf(r)`` and
            ``sample(n)`` in the space of the response.
        """
        return mixture_of(self.predict_draws(X))

    def _summaries(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The response, sigma_stat and sigma_syst of in-memory jets."""
        scale = getattr(self, "sigma_scale_", 1.0)
        draws = self.predict_draws(X)
        modes = np.stack([self._guarded(d.mode(), X) for d in draws])
        widths = np.stack([self._guarded(d.std(), X, "widths") for d in draws])
        stat, syst = scale * modes.std(axis=0, ddof=1), scale * widths.mean(axis=0)
        return self._guarded(predictive_mode(mixture_of(draws), modes), X), stat, syst

    def _stat_syst(self, chunk: Any) -> tuple[np.ndarray, np.ndarray]:
        _, stat, syst = self._summaries(chunk)
        return stat, syst

    def _predict_chunk(self, chunk: Any, rows: Any, which: str) -> np.ndarray:
        if which == "mode":
            return self._summaries(chunk)[0]
        _, stat, syst = self._summaries(chunk)
        return self._guarded(np.hypot(stat, syst), chunk, "widths")

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """The most probable response: the mode of the posterior predictive density.

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
