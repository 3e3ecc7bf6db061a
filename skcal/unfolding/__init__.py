"""Unfolding: MultiFold (unbinned, classifier reweighting) and its binned IBU baseline.

- :class:`MultiFold`: the OmniFold iterations as a scikit-learn meta-estimator, with
  bootstrap replicas of the data and of the simulation (:meth:`MultiFold.bootstrap`, in
  sequence or on a ``distributed.Client``) and systematic variations
  (:meth:`MultiFold.systematic`);
- :func:`iterative_bayesian_unfolding`: D'Agostini's iterations from a response matrix;
- binned views of weighted events: :func:`histogram`, :func:`covariance`,
  :func:`chi2`, :func:`plot_covariance`;
- templates: :func:`reweight`, :func:`track_efficiency_mask`;
- output: :func:`unfolded_table`, :func:`write_unfolded` (ROOT);
- the Gaussian toy of the OmniFold paper: :func:`make_gaussian_toy`.
"""

from skcal.unfolding._binned import (
    bin_index,
    chi2,
    covariance,
    histogram,
    plot_covariance,
    replica_histograms,
)
from skcal.unfolding._ibu import IBUResult, iterative_bayesian_unfolding
from skcal.unfolding._multifold import MultiFold, default_classifier
from skcal.unfolding._output import unfolded_table, write_unfolded
from skcal.unfolding._templates import reweight, track_efficiency_mask
from skcal.unfolding._toy import make_gaussian_toy

__all__ = [
    "IBUResult",
    "MultiFold",
    "bin_index",
    "chi2",
    "covariance",
    "default_classifier",
    "histogram",
    "iterative_bayesian_unfolding",
    "make_gaussian_toy",
    "plot_covariance",
    "replica_histograms",
    "reweight",
    "track_efficiency_mask",
    "unfolded_table",
    "write_unfolded",
]
