"""Transformers that prepare jet features for the calibrators, and sample weights.

- :class:`EtaAnnotation`: Gaussian encodings of eta near the calorimeter transitions.
- :class:`LogTransformer`: the log of positive columns (energies, masses).
- :class:`SymmetricScaler`: each feature to [-1, 1] from robust quantiles.
- :func:`flat_prior_weights` and :func:`reweight_to_spectrum`: per-jet weights that
  flatten the truth spectrum (prior flattening) or give it a target shape.

All transformers take numpy arrays, pandas DataFrames and Dask collections (Dask in,
lazy Dask out), offer ``get_feature_names_out`` and ``set_output``, and refuse bad
input with a :class:`~skcal.exceptions.DataError` that names the column.

In a ``Pipeline`` whose steps pick columns by name, ask for pandas output between the
steps (numpy arrays have no column names):

>>> import pandas as pd
>>> from sklearn.pipeline import make_pipeline
>>> from skcal.preprocessing import EtaAnnotation, LogTransformer, SymmetricScaler
>>> jets = pd.DataFrame({"e_reco": [40.0, 250.0, 900.0], "eta": [0.3, -1.4, 3.1]})
>>> pipe = make_pipeline(
...     LogTransformer(columns=["e_reco"]), EtaAnnotation(), SymmetricScaler(clip=True)
... ).set_output(transform="pandas")
>>> pipe.fit_transform(jets).columns[:4].tolist()
['log_e_reco', 'eta', 'eta_annot_abs0p0', 'eta_annot_abs0p5']
"""

from skcal.preprocessing._eta import ETA_CENTRES, ETA_WIDTHS, EtaAnnotation
from skcal.preprocessing._log import LogTransformer
from skcal.preprocessing._scaling import SymmetricScaler
from skcal.preprocessing._weights import flat_prior_weights, reweight_to_spectrum

__all__ = [
    "ETA_CENTRES",
    "ETA_WIDTHS",
    "EtaAnnotation",
    "LogTransformer",
    "SymmetricScaler",
    "flat_prior_weights",
    "reweight_to_spectrum",
]
