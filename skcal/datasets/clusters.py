r"""Synthetic topo-clusters of single particles, with their deposited energy as the truth.

Each row is the leading topo-cluster of one particle: its energy at the EM scale
``e_em`` (:math:`E^\mathrm{EM}_\mathrm{clus}`), the features of the ATLAS DNN-HGM
cluster calibration (:data:`skcal.columns.CLUSTER_INPUTS`) and the truth
(:data:`skcal.columns.CLUSTER_TRUTH`): ``e_dep`` (:math:`E^\mathrm{dep}_\mathrm{clus}`,
the energy the calibration must restore, never an input), ``particle`` (PDG code) and
``y_true``. The response is ``e_em / e_dep``. The sample is generated in seeded blocks
(:mod:`skcal.datasets._blocks`): the same seed gives the same clusters in any
chunking, and the first ``n`` clusters of a larger sample are the sample of ``n``.

The model follows the topo-cluster paper (ATLAS, *Topological cell clustering in the
ATLAS calorimeters and its performance in LHC Run 1*, Eur. Phys. J. C 77 (2017) 490;
sections 3-5 for the moments, 6 for the local hadronic calibration) and the
hadronic-shower parametrisations it relies on; lengths are in mm, energies in GeV.

**Particles.** pi+ and pi- (17.5% each), pi0 (20%) and photons (15%), neutrons and
protons (15% each); energy log-uniform in 0.2 GeV - 2 TeV, rapidity flat in
:math:`|y| < 4.5`. The leading cluster holds a Beta-distributed share of the
deposited energy, 0.93 on average for EM showers and
:math:`0.82 - 0.02\log_{10}E` (0.6-0.85) for hadrons, whose showers split more.

**Response.** EM showers respond at the EM scale. Hadron showers have an EM fraction
:math:`f_\mathrm{em}` after Groom, :math:`\langle f_\mathrm{em}\rangle = 1 -
(E/1\,\mathrm{GeV})^{-0.18}` (baryons :math:`-0.15`: fewer pi0), at least 0.05,
Beta-distributed per shower (concentration 6), and respond
:math:`f_\mathrm{em} + (1 - f_\mathrm{em})\,h/e` with :math:`h/e = 0.45` (neutrons
0.9 of that): the non-compensation that LCW corrects, falling away as the energy rises.

**Shapes** (the paper's section 3 moments). Depth of the centre of gravity
:math:`\lambda_\mathrm{clus}`: the shower start (exponential, mean :math:`9/7\,X_0` or
:math:`\lambda_I`) plus :math:`X_0(\ln(E/E_c) + 0.5)` for EM showers (:math:`X_0 = 18`,
:math:`E_c = 10` MeV) or :math:`\lambda_I(0.25\ln E + 0.7)` for hadrons
(:math:`\lambda_I = 250`), with log-normal spreads of 10% and 25%. ``f_emc``: 1 minus
a leak of :math:`0.02(E/100)^{0.3}` (EM) or a logistic function of the depth against
the EM calorimeter's :math:`1.2\lambda_I` (hadrons). ``m_long2`` and ``m_lat2``
(normalised second moments) are Beta-distributed around 0.12 and 0.20 (EM) or
:math:`0.25 + 0.35(1 - f_\mathrm{em})` and :math:`0.35 + 0.35(1 - f_\mathrm{em})`
(hadrons). ``rho_cell`` is the energy over the shower volume, interpolated
geometrically in :math:`f_\mathrm{em}` between an EM core (Moliere radius 35,
:math:`15X_0` long) and a hadronic one (radius 120, :math:`1.5\lambda_I`, 16 times the
volume): EM clusters are denser. Cells: :math:`2 + 5\sqrt{E}` (EM) or :math:`3 + 10\sqrt{E}`
(hadrons), log-normal 30%; ``ptd`` :math:`\approx 1/\sqrt{1 + k N_\mathrm{cells}}`.
``c_clus`` is the distance to the calorimeter's front face (barrel at r = 1.5 m,
end-caps at 3.7 m, FCal at 4.7 m) plus the depth.

**Losses** (the paper's section 6: what the LCW out-of-cluster and dead-material
steps restore). Out-of-cluster: :math:`0.04` (EM) or :math:`0.12` (hadrons)
:math:`\times E^{-0.35}(0.5 + m_\mathrm{lat}^2)`, log-normal 30%, at most 0.6, times
the isolation ``f_iso`` (energy leaking towards a neighbouring cluster is not lost).
Dead material: :math:`0.05E^{-0.2}` in front for EM showers (0.02 for hadrons), the
cryostat between the EM and hadronic calorimeters :math:`0.24 f_\mathrm{emc}(1 -
f_\mathrm{emc})` for hadrons, back leakage, and the transitions at :math:`|y|` = 1.45
(12%, width 0.08) and 3.2 (10%, width 0.1); log-normal 30%, at most 0.5.

**Noise and pile-up.** Sampling :math:`0.10/\sqrt{E}` (EM) or :math:`0.35/\sqrt{E}`
(hadrons) with a 1% constant term; electronic noise 30 MeV per cell (rising forward)
and pile-up noise :math:`10\sqrt{\mu/40}` MeV per cell (rising as :math:`1 + (|y|/2)^2`)
in quadrature over the cells give :math:`\sigma_\mathrm{noise}`, and ``zeta_clus`` =
:math:`E^\mathrm{EM}/\sigma_\mathrm{noise}`; an event shift
:math:`2\,\mathrm{MeV}\sqrt{N_\mathrm{cells}}(N_{PV} - 1 - 0.65\mu)` follows the
in-time pile-up. Only clusters with ``zeta_clus`` >= 2 are formed (the threshold bias
of the softest hadron clusters is real). :math:`\mu` is flat in ``mu_range`` and
:math:`N_{PV} = 1 + \mathrm{Poisson}(0.65\mu)` as for the jets. ``t_clus`` is
:math:`0.4(1 - f_\mathrm{em})` ns late on average (slow neutrons), smeared by
:math:`\sqrt{0.3^2 + (2/\zeta)^2}` ns; ``var_t_cell`` grows with the hadronic fraction
and the pile-up share of the noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from skcal._params import Interval, StrictInterval, check_params
from skcal.datasets._blocks import iter_blocks
from skcal.datasets._clusters import EM_CODES, cluster_block
from skcal.datasets._settings import _range, seed_entropy

__all__ = ["EM_CODES", "iter_clusters", "make_clusters"]

_COUNT = StrictInterval(Integral, 1, None, closed="left")
_CONSTRAINTS: dict[str, list[Any]] = {
    "n_clusters": [_COUNT],
    "chunk_size": [_COUNT, None],
    "start": [Interval(Integral, 0, None, closed="left")],
    "random_state": [StrictInterval(Integral, 0, None, closed="left"), np.random.Generator, None],
}


def make_clusters(
    n_clusters: int,
    *,
    mu_range: tuple[float, float] = (10.0, 70.0),
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Generate a table of single-particle topo-clusters with their deposited energy.

    Parameters
    ----------
    n_clusters : int
        Number of clusters, positive.
    mu_range : (float, float), default (10, 70)
        Range of the interactions per crossing (flat).
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same table.

    Returns
    -------
    DataFrame
        The columns :data:`skcal.columns.CLUSTER_INPUTS` (the calibration's inputs,
        ``e_em`` first) and :data:`skcal.columns.CLUSTER_TRUTH` (``e_dep``,
        ``particle``, ``y_true``); the response is ``e_em / e_dep``. Write it to ROOT
        with :func:`skcal.io.write_root`.

    Raises
    ------
    ParameterError
        For a non-positive ``n_clusters``, a bad ``mu_range`` or a negative seed.

    Examples
    --------
    >>> from skcal.datasets import make_clusters
    >>> clusters = make_clusters(2000, random_state=0)
    >>> hadrons = ~clusters["particle"].isin([22, 111])
    >>> r = clusters["e_em"] / clusters["e_dep"]
    >>> bool(r[hadrons].median() < r[~hadrons].median() < 1.05)
    True
    """
    return next(
        _generate(
            "make_clusters",
            n_clusters,
            chunk_size=None,
            start=0,
            mu_range=mu_range,
            random_state=random_state,
        )
    )


def iter_clusters(
    n_clusters: int,
    *,
    chunk_size: int | None = 1_000_000,
    start: int = 0,
    mu_range: tuple[float, float] = (10.0, 70.0),
    random_state: int | np.random.Generator | None = None,
) -> Iterator[pd.DataFrame]:
    """The clusters of :func:`make_clusters` in chunks of ``chunk_size`` rows.

    The chunks hold the same clusters as one call of :func:`make_clusters` with the
    same arguments, with a continuous index; ``start`` skips the first clusters.

    Examples
    --------
    >>> from skcal.datasets import iter_clusters, make_clusters
    >>> chunks = list(iter_clusters(2500, chunk_size=1000, random_state=1))
    >>> [len(c) for c in chunks]
    [1000, 1000, 500]
    >>> bool((pd.concat(chunks) == make_clusters(2500, random_state=1)).all().all())
    True
    """
    return _generate(
        "iter_clusters",
        n_clusters,
        chunk_size=chunk_size,
        start=start,
        mu_range=mu_range,
        random_state=random_state,
    )


def _generate(
    caller: str,
    n_clusters: int,
    *,
    chunk_size: int | None,
    start: int,
    mu_range: tuple[float, float],
    random_state: int | np.random.Generator | None,
) -> Iterator[pd.DataFrame]:
    params = {
        "n_clusters": n_clusters,
        "chunk_size": chunk_size,
        "start": start,
        "random_state": random_state,
    }
    check_params(_CONSTRAINTS, params, caller)
    block = partial(cluster_block, mu_range=_range("mu_range", mu_range, allow_zero=True))
    yield from iter_blocks(
        block,
        n_clusters,
        chunk_size=chunk_size,
        start=start,
        entropy=seed_entropy(random_state),
    )
