"""skorch callbacks of the calibrators: the closure monitor.

The loss of a density calibrator often stops moving while its calibration keeps
improving; :class:`ClosureMonitor` measures what matters (the binned closure and
resolution on a validation sample) at the end of every epoch, and gives a single
figure of merit for early stopping and for Ray Tune.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from skorch.callbacks import Callback

from skcal.exceptions import DataError
from skcal.response import closure_table

__all__ = ["ClosureMonitor"]


class ClosureMonitor(Callback):
    """Record the validation closure, resolution and a figure of merit each epoch.

    At the end of each epoch the net predicts the response ``R`` of the validation
    jets; the calibrated response ``y_val / R`` (``y_val = E_reco / E_true``) is
    histogrammed in the bins of the truth columns and, per bin with at least
    ``min_entries`` jets, its mode and resolution are estimated
    (:func:`skcal.response.closure_table`). Recorded in ``net.history``:

    - ``<name>_closure``: the mean over bins of ``|mode - 1|`` (``"mean"``) or its
      maximum (``"worst"``);
    - ``<name>_resolution``: the mean resolution over bins;
    - ``<name>_fom``: ``<name>_closure + resolution_weight * <name>_resolution``,
      lower is better: ``EarlyStopping(monitor="valid_fom")`` (list the monitor
      before ``EarlyStopping``) or ``tune.report`` reads it.

    Parameters
    ----------
    X_val : DataFrame or array of shape (n_jets, n_features)
        Validation inputs, as the net receives them (in a Pipeline, pass
        ``transform``: the earlier steps, fitted by the time the net trains).
    y_val : array-like of shape (n_jets,)
        Their responses ``E_reco / E_true``.
    truth : DataFrame or mapping of str to array
        The binning columns of the validation jets (for example ``pt_true`` and
        ``eta_true``; ``abs_<col>`` means ``|col|``).
    bins : mapping of str to array-like
        Edges per truth column, for example ``{"pt_true": [20, 50, 200, 1000],
        "abs_eta_true": [0, 1.5, 4.5]}``.
    transform : fitted transformer, optional
        Applied to ``X_val`` before predicting (for example ``pipe[:-1]``).
    closure : {"mean", "worst"}, default "mean"
        How the bins' ``|mode - 1|`` are combined.
    resolution_weight : float, default 1.0
        Weight of the resolution in the figure of merit.
    min_entries : float, default 50
        Bins with fewer effective jets are left out.
    name : str, default "valid"
        Prefix of the history keys.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skcal.neural import ClosureMonitor, GDNCalibrator
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.uniform(0, 1, 2000)})
    >>> y = (0.8 + 0.2 * X.x) * rng.normal(1, 0.05, 2000)
    >>> truth = pd.DataFrame({"pt_true": 20 + 100 * X.x})
    >>> monitor = ClosureMonitor(X, y, truth=truth, bins={"pt_true": [20, 70, 120]}, min_entries=20)
    >>> net = GDNCalibrator(max_epochs=2, callbacks=[monitor], verbose=0, random_state=0).fit(X, y)
    >>> sorted(k for k in net.history[-1] if k.startswith("valid_"))
    ['valid_closure', 'valid_fom', 'valid_resolution']
    """

    def __init__(
        self,
        X_val: Any,
        y_val: Any,
        *,
        truth: Any,
        bins: Mapping[str, Any],
        transform: Any = None,
        closure: str = "mean",
        resolution_weight: float = 1.0,
        min_entries: float = 50.0,
        name: str = "valid",
    ) -> None:
        self.X_val = X_val
        self.y_val = y_val
        self.truth = truth
        self.bins = bins
        self.transform = transform
        self.closure = closure
        self.resolution_weight = resolution_weight
        self.min_entries = min_entries
        self.name = name

    def initialize(self) -> ClosureMonitor:
        if self.closure not in ("mean", "worst"):
            raise DataError(f"closure must be 'mean' or 'worst', got {self.closure!r}")
        y = np.asarray(self.y_val, dtype=np.float64).reshape(-1)
        if not (np.isfinite(y).all() and (y > 0).all()):
            raise DataError("y_val must be finite, positive responses E_reco / E_true")
        if len(y) != len(self.X_val) or len(y) != len(pd.DataFrame(self.truth)):
            raise DataError(
                f"X_val, y_val and truth must have the same length; got {len(self.X_val)}, "
                f"{len(y)} and {len(pd.DataFrame(self.truth))}"
            )
        self.y_ = y
        return self

    def measure(self, net: Any) -> dict[str, float]:
        """The closure, resolution and figure of merit of ``net`` on the validation sample."""
        X = self.X_val if self.transform is None else self.transform.transform(self.X_val)
        response = np.asarray(net.predict(X), dtype=np.float64).reshape(len(self.y_), -1)[:, 0]
        if not (np.isfinite(response).all() and (response > 0).all()):
            worst = np.inf
            return {"closure": worst, "resolution": worst, "fom": worst}
        table = closure_table(
            self.y_ / response,
            bins=self.bins,
            data=pd.DataFrame(self.truth),
            min_entries=self.min_entries,
            n_bootstrap=0,
        )
        use = table[(table["status"] == "ok") & (table["n_effective"] >= self.min_entries)]
        if use.empty:
            raise DataError(
                f"no bin of the validation sample has {self.min_entries} jets: widen the bins"
            )
        deviation = (use["mode"] - 1.0).abs()
        closure = float(deviation.max() if self.closure == "worst" else deviation.mean())
        resolution = float(use["resolution"].mean())
        return {
            "closure": closure,
            "resolution": resolution,
            "fom": closure + self.resolution_weight * resolution,
        }

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        for key, value in self.measure(net).items():
            net.history.record(f"{self.name}_{key}", value)
