"""The response statistics that calibration and evaluation share.

The definitions are those of ``docs/design.md`` section 2: the average response is the
mode (an iterative Gaussian fit of the core), the resolution is ``(q84 - q16) / (2 *
mode)``, and closure is the mode of the calibrated response in bins of true
quantities. Everything is computed from weighted response histograms
(:class:`ResponseHistogram`, on boost-histogram), which add across chunks, so that a
sample is histogrammed one chunk or one Dask partition at a time.

- edges: :data:`DEFAULT_RESPONSE_EDGES`, :func:`check_edges`, :func:`bin_lookup`;
- the histogram: :class:`ResponseHistogram`;
- one distribution: :func:`response_mode`, :func:`resolution` and their results;
- in bins of true quantities: :func:`closure_table`, :func:`fill_histogram`,
  :func:`table_from_histogram`.

>>> from skcal import response
>>> sorted(response.__all__)[:3]
['DEFAULT_RESPONSE_EDGES', 'ModeEstimate', 'ResolutionEstimate']
"""

from skcal.response._closure import closure_table, fill_histogram, table_from_histogram
from skcal.response._edges import DEFAULT_RESPONSE_EDGES, bin_lookup, check_edges
from skcal.response._estimate import (
    ModeEstimate,
    ResolutionEstimate,
    resolution,
    response_mode,
)
from skcal.response._histogram import ResponseHistogram

__all__ = [
    "DEFAULT_RESPONSE_EDGES",
    "ModeEstimate",
    "ResolutionEstimate",
    "ResponseHistogram",
    "bin_lookup",
    "check_edges",
    "closure_table",
    "fill_histogram",
    "resolution",
    "response_mode",
    "table_from_histogram",
]
