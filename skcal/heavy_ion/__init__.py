"""Jets under a heavy-ion background: embedding, the area-based baseline, evaluation.

In Pb-Pb collisions at 5.02 TeV the underlying event adds 100-250 GeV per unit area to
charged-particle jets. This package reproduces the setting of ALICE's machine-learning
jet pT estimator (Phys. Lett. B 849 (2024) 138412) with skcal's parts:

- :func:`embed_in_background` (``_embed.py``, ``_jets.py``, ``_background.py``; the
  ``sim`` extra): Pythia 8 pp jets (charged particles, ``|eta| < 0.9``) embedded into
  a thermal background (Gamma pT spectrum with <pT> = 0.7 GeV, a multiplicity from the
  ALICE dN_ch/deta of the centrality, optional v2), anti-kt jets of R = 0.2 to 0.6 with
  FastJet areas, rho from kt jets without the two leading, matched to the pp truth jets;
  also :func:`skcal.datasets.embed_in_background`.
- :class:`AreaBasedSubtraction` (``_subtraction.py``): ``pT - rho * A``, the baseline.
- :func:`delta_pt_table` (``_evaluation.py``): the delta pT widths (sigma, IQR), the
  residual mean per R and pT_true bin, with bootstrap errors, and
  :func:`fake_fraction`.

The machine-learning estimators are skcal's own regressors and LightGBM, trained on
pT_true; ``docs/heavy_ion.md`` gives their targets and the benchmark's figures.
"""

from __future__ import annotations

from skcal.heavy_ion._embed import embed_in_background
from skcal.heavy_ion._evaluation import delta_pt_table, fake_fraction
from skcal.heavy_ion._subtraction import AreaBasedSubtraction

__all__ = ["AreaBasedSubtraction", "delta_pt_table", "embed_in_background", "fake_fraction"]
