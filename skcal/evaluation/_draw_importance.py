"""The report's feature-importance figure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from skcal.evaluation._style import (
    COLOURS,
    PlotStyle,
    draw_label,
    figure,
    save,
)


def plot_importance(importance: Mapping[str, pd.Series], path: Path, style: PlotStyle) -> Path:
    """Horizontal bars of each model's feature importance (mean relative change of R)."""
    features = sorted(
        {f for s in importance.values() for f in s.index},
        key=lambda f: -max(s.get(f, 0.0) for s in importance.values()),
    )
    from matplotlib.ticker import NullLocator

    n_models = len(importance)
    with figure(style) as (fig, (ax,)):
        fig.set_size_inches(10, max(6, 0.45 * len(features) * max(n_models, 1) + 2))
        y = np.arange(len(features))
        height = 0.8 / max(n_models, 1)
        for i, (name, series) in enumerate(importance.items()):
            percent = [100 * series.get(f, np.nan) for f in features]
            ax.barh(
                y + (i - (n_models - 1) / 2) * height,
                percent,
                height=height,
                color=COLOURS[i % len(COLOURS)],
                label=name,
            )
        ax.set_yticks(y, features)
        ax.yaxis.set_minor_locator(NullLocator())
        ax.invert_yaxis()
        values = np.array([v for s in importance.values() for v in s.to_numpy()], dtype=np.float64)
        if (
            values.size
            and np.isfinite(values).all()
            and (values > 0).all()
            and values.max() > 20 * values.min()
        ):
            ax.set_xscale("log")
        ax.set_xlabel(r"Mean $|\Delta R| / R$ [%], input moved by $\pm 1\%$ of its std. dev.")
        ax.legend(loc="lower right", fontsize="small")
        draw_label(ax, style)
        return save(fig, path)
