"""Running skcal where HEP sites run Dask: clusters from configuration, and dask-ml.

- :class:`ClusterConfig`, :func:`parse_cluster`, :func:`start_cluster`,
  :func:`make_cluster`: the ``cluster:`` section of a configuration (a LocalCluster of
  processes, an HTCondor, SLURM or PBS cluster through dask-jobqueue, or a running
  scheduler's address), started for a block of work and closed after it.
- :func:`fit_search`, :func:`log_likelihood_score`: dask-ml's incremental searches
  (``HyperbandSearchCV``, ``IncrementalSearchCV``) over a neural calibrator on a
  cluster, as an alternative to Ray Tune (the ``daskml`` extra).

See the documentation page "Running at a site" for the dask-ml parts that work with
the current Dask.
"""

from skcal.distributed._cluster import (
    KINDS,
    ClusterConfig,
    make_cluster,
    parse_cluster,
    start_cluster,
)
from skcal.distributed._daskml import fit_search, log_likelihood_score

__all__ = [
    "KINDS",
    "ClusterConfig",
    "fit_search",
    "log_likelihood_score",
    "make_cluster",
    "parse_cluster",
    "start_cluster",
]
