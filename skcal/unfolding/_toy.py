"""The Gaussian toy of the OmniFold paper (arXiv:1911.09107), in one or two dimensions."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from skcal._params import Interval, StrictInterval, check_params

__all__ = ["make_gaussian_toy"]


def _sample(
    rng: np.random.Generator, n: int, mean: float, sigma: float, rho: float, dims: int
) -> np.ndarray:
    cov = np.full((dims, dims), rho * sigma**2)
    np.fill_diagonal(cov, sigma**2)
    return rng.multivariate_normal(np.full(dims, mean), cov, size=n)


def make_gaussian_toy(
    n_sim: int,
    n_data: int | None = None,
    *,
    dims: int = 1,
    sim: tuple[float, float] = (0.0, 1.0),
    data: tuple[float, float] = (0.2, 0.8),
    smearing: float = 0.5,
    correlation: tuple[float, float] = (0.5, 0.3),
    random_state: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Simulated and measured events of the Gaussian toy, with the data's truth.

    Particle level: Normal(``sim``) for the simulation, Normal(``data``) for the data
    (mean, width); the detector adds Normal(0, ``smearing``) to each column. With
    ``dims=2`` the two columns ``x, y`` are correlated, with ``correlation[0]`` in the
    simulation and ``correlation[1]`` in the data.

    Parameters
    ----------
    n_sim : int
        Simulated events.
    n_data : int, optional
        Measured events (``n_sim`` by default).
    dims : {1, 2}, default=1
    sim, data : (float, float)
        Mean and width of the particle level.
    smearing : float, default=0.5
        The detector resolution.
    correlation : (float, float), default=(0.5, 0.3)
        The correlation of ``x`` and ``y`` (``dims=2``) in the simulation and the data.
    random_state : int, Generator or None

    Returns
    -------
    sim_reco, sim_truth, data_reco, data_truth : DataFrame
        Columns ``x`` (and ``y``); the reco tables of the detector level.

    Examples
    --------
    >>> sim_reco, sim_truth, data_reco, data_truth = make_gaussian_toy(1000, random_state=0)
    >>> list(sim_reco.columns), len(data_truth)
    (['x'], 1000)
    """
    check_params(
        {
            "n_sim": [StrictInterval(Integral, 1, None, closed="left")],
            "n_data": [StrictInterval(Integral, 1, None, closed="left"), None],
            "dims": [StrictInterval(Integral, 1, 2, closed="both")],
            "smearing": [Interval(Real, 0, None, closed="left")],
        },
        {"n_sim": n_sim, "n_data": n_data, "dims": dims, "smearing": float(smearing)},
        "make_gaussian_toy",
    )
    rng = np.random.default_rng(random_state)
    columns = ["x", "y"][:dims]
    tables = []
    for n, (mean, sigma), rho in (
        (n_sim, sim, correlation[0]),
        (n_data or n_sim, data, correlation[1]),
    ):
        truth = _sample(rng, n, mean, sigma, rho, dims)
        reco = truth + rng.normal(0.0, smearing, size=truth.shape)
        tables += [pd.DataFrame(reco, columns=columns), pd.DataFrame(truth, columns=columns)]
    sim_reco, sim_truth, data_reco, data_truth = tables
    return sim_reco, sim_truth, data_reco, data_truth
