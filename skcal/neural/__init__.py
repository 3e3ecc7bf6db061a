"""Neural density calibrators: torch modules returning response densities, and skorch estimators.

- :class:`GDNCalibrator`: a Gaussian density network (mode and width per jet; with
  ``asymmetric=True`` the split normal of the ATLAS MDNA loss).
- :class:`MDNCalibrator`: a mixture of K normal or split-normal components; ``predict``
  returns the true mode of the mixture.
- :class:`PointCalibrator`: the MAE/MSE regression baseline (median or mean response).
- :class:`EnergyMassCalibrator`: the ATLAS simultaneous energy-and-mass network of
  large-R jets, trained with a declarative schedule of :class:`Stage` (the paper's
  table 3 by default, :func:`paper_schedule`).
- :class:`EnsembleCalibrator`: a deep ensemble of any of the first three; it adds the
  statistical uncertainty (the spread of its members) to the density's width.
- :class:`BayesianMDNCalibrator`: an MDN with Gaussian posteriors on its weights
  (Bayes by backprop); ``sigma_stat`` from weight sets drawn from the posterior.
- :class:`ClosureMonitor`: a callback recording the validation closure each epoch.

All train on numpy, pandas or Dask input (streamed), with sample weights, and predict
the response ``r = E_reco / E_true`` (``E_calib = E_reco / predict(X)``).

Every public name is imported from ``skcal.neural`` itself; the former modules
``skcal.neural.energy_mass``, ``.schedule``, ``.distributions``, ``.modules`` and
``.callbacks`` still resolve their names, with a FutureWarning, for one release.

>>> from skcal.neural import MDNCalibrator
>>> MDNCalibrator(n_components=3, module__hidden_sizes=(64, 64)).n_components
3
"""

from skcal.neural._bayes import BayesianMDNCalibrator
from skcal.neural._bayes_modules import BayesianDensityNetwork, BayesLinear
from skcal.neural._callbacks import ClosureMonitor
from skcal.neural._energy_mass import EnergyMassCalibrator
from skcal.neural._energy_mass_network import EnergyMassNetwork
from skcal.neural._ensemble import EnsembleCalibrator
from skcal.neural._estimators import GDNCalibrator, MDNCalibrator
from skcal.neural._families import AsymmetricNormal, Truncated
from skcal.neural._loss import TrainingDivergedError, nll_loss
from skcal.neural._modes import find_mode, mixture_mode
from skcal.neural._modules import MLP, DensityNetwork, PointNetwork
from skcal.neural._point import PointCalibrator
from skcal.neural._prediction import DensityPrediction
from skcal.neural._schedule import PAPER_SCHEDULE, Stage, paper_schedule

__all__ = [
    "MLP",
    "PAPER_SCHEDULE",
    "BayesLinear",
    "BayesianDensityNetwork",
    "BayesianMDNCalibrator",
    "ClosureMonitor",
    "EnergyMassCalibrator",
    "EnergyMassNetwork",
    "EnsembleCalibrator",
    "Stage",
    "paper_schedule",
    "AsymmetricNormal",
    "DensityNetwork",
    "DensityPrediction",
    "GDNCalibrator",
    "MDNCalibrator",
    "PointCalibrator",
    "PointNetwork",
    "TrainingDivergedError",
    "Truncated",
    "find_mode",
    "mixture_mode",
    "nll_loss",
]
