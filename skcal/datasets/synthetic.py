r"""Synthetic jets with a known truth: the embedded sample that every user can run.

Each jet is a row of the jet table (``docs/design.md`` section 3) plus *oracle* columns:
``oracle_response`` (and ``oracle_response_m`` for large-R jets) is the jet's response
before the stochastic smearing, so ``r / oracle_response`` is the irreducible part and
its resolution is the floor that no calibrator can beat. Everything is vectorised in
numpy and generated in blocks of :data:`BLOCK_SIZE` jets, each with its own seed
spawned from ``random_state``: the jets do not depend on the chunk size, and the first
``n`` jets of a larger sample are the sample of ``n`` jets.

The model is simple but honest: every effect that a real calibration corrects is
present, with the sign and rough size that the experiments report, and the inputs of
the global sequential calibration carry real information about the response.

**Truth** (``_truth.py``)

- pT follows :math:`d\sigma/dp_T \propto p_T^{-5}` (``spectrum="physical"``), or is flat
  in :math:`\log p_T` like sliced simulation (``"sliced"``) with
  ``weight`` :math:`= p_\mathrm{phys}(p_T) / p_\mathrm{sliced}(p_T)` (mean 1) restoring the
  physical spectrum. Range 20-3000 GeV (small-R) or 200-3000 GeV (large-R).
- eta is flat up to 4.5 (small-R) or 2.0 (large-R), and up to the kinematic limit
  :math:`E \le 6.8` TeV. Each jet is its own event.
- Flavour: gluon fraction :math:`0.72 - 0.42 x` with :math:`x = \log(p_T/20)/\log 150`
  (gluons dominate at low pT, valence quarks at high pT), 5% charm, 3% bottom, the rest
  light (u:d:s = 45:35:20). W and Z jets are light-quark, top and Higgs bottom jets.
- Mass: small-R :math:`m/p_T` log-normal (median 0.07 quarks, 0.10 gluons); large-R QCD
  :math:`\log_{10}(m^2/(p_T R)^2) \sim N(-1.65, 0.45)` (gluons -1.45), the Sudakov
  peak; for ``topology`` in w, z, top, higgs a Breit-Wigner at the resonance mass,
  smeared by 4% for radiation, contained (2 prongs, 3 for top) with probability
  :math:`\sigma((p_T - 2m/R)/0.25m)`; an uncontained top keeps the W half the time.

**Shower** (``_shower.py``)

- Constituent multiplicity :math:`2 + \mathrm{Poisson}(\Gamma)` around
  :math:`1.2 + 3\ln(E/2)`, times 1.6 for gluons (colour factor C_A/C_F, reduced by
  hadronisation) and 1.8 for large-R jets.
- Width :math:`0.22 R (30/p_T)^{0.35}`, times 1.45 for gluons, log-normal spread 35%.
- Energy fractions of charged hadrons, photons (pi0) and neutral hadrons: Dirichlet
  around (0.60, 0.27, 0.13) with concentration :math:`3N`: the pi0 fluctuations of
  the jet's fragmentation, smaller for more constituents.
- EM fraction of the hadron showers (Groom's parametrisation):
  :math:`1 - (E_h/1\,\mathrm{GeV})^{-0.18}` at the mean hadron energy :math:`E_h`,
  Beta-distributed per jet (pi0 production in the showers). It rises with energy, so
  gluon jets (softer hadrons) respond less.
- Semileptonic decays in 35% of b jets and 20% of c jets: the neutrino takes
  :math:`x_H \cdot \mathrm{Beta}(1.5, 8)` of the energy (:math:`x_H` the heavy-hadron
  fraction, Beta(7,2) for b, Beta(4,2) for c) and, half the time, a muon takes as much
  less the ~3 GeV it deposits: the low tail of heavy-flavour jets.

**Detector** (``_detector.py``, ``_inputs.py``)

- Non-compensating calorimeter at the EM scale: photons respond 1, hadrons
  :math:`\pi/e = f_\mathrm{em} + (1 - f_\mathrm{em})\,h/e` with :math:`h/e = 0.55`
  (neutral hadrons 0.9 of that). The response rises with energy.
- Out-of-cone and magnetic-field losses :math:`0.1\,(w/0.22R)(25/p_T)^{0.9}(0.5 + f_\mathrm{ch})`
  at low pT, smaller for large-R jets.
- Punch-through: with probability :math:`0.25 \sqrt{E/\mathrm{TeV}}/\cosh^2\eta`, a leak of
  the hadronic energy (exponential, mean 12%); muon-spectrometer segments are Poisson
  with mean :math:`0.1 E_\mathrm{leaked}/\mathrm{GeV}`.
- Transitions: the response dips by 15% at :math:`|\eta| = 1.45` (barrel/end-cap crack)
  and 12% at 3.2 (end-cap/forward), Gaussian in :math:`|\eta|` of width 0.07 and 0.10, and
  is 7% lower in the forward calorimeter; the measured eta is pushed away from the
  transitions by up to 0.03, and smeared by :math:`0.005 + 0.5/p_T`.
- Pile-up: :math:`\mu` flat in ``mu_range``, :math:`N_{PV} = 1 + \mathrm{Poisson}(0.65\mu)`,
  :math:`\rho = 0.6(N_{PV} - 1) + 0.1\mu` (+-1 GeV), area :math:`\pi R^2` (+-4%, larger
  for soft jets). The pT offset is :math:`\rho A + \alpha(\eta)(N_{PV} - 1) + \beta(\eta)\mu`
  with :math:`\alpha = 0.15(1 - |\eta|/6)` and :math:`\beta = 0.08(1 - (|\eta|/3.2)^2)` GeV
  (negative forward: out-of-time subtraction), 10% of it for groomed large-R jets,
  plus fluctuations of :math:`0.4\sqrt{\mu A/0.5}` GeV.
  The same formulas hold up to the HL-LHC's :math:`\langle\mu\rangle = 200`
  (``mu_range=(0, 200)``): NPV then averages 131 at :math:`\mu = 200` (65% of the
  vertices reconstructed), :math:`\rho` 98 GeV, and the offset of a central 25 GeV
  R = 0.4 jet is about 85 GeV of pT (0.44 GeV per interaction), with fluctuations of
  5.9 GeV: more than the jet's own pT, so the soft jets are the ones that the pile-up
  offset corrects by the largest factors.
  The default ``mu_range`` (10, 70) is Run-2/3-like.
- Energy resolution :math:`a/\sqrt{E} \oplus b/E \oplus c` with a = 0.55 (0.9 forward),
  b = 1.5 GeV, c = 3%. This and the pile-up fluctuations are the stochastic smearing
  *not* in ``oracle_response``.
- Mass (``_substructure.py``): follows the energy scale, broadened by the clusters'
  angular resolution and given a floor by it and by pile-up; smeared in log m by a
  split normal of widths :math:`0.8\sigma` below and :math:`1.6\sigma` above the mode,
  :math:`\sigma = 0.06 + 1.5/\sqrt{p_T}` (resolution effects add mass in quadrature),
  with a 4% chance of losing a prong in multi-prong jets: wider and more asymmetric
  than the energy response.

**Observed inputs**: EM fraction, third-LAr-layer and first-tile-layer fractions
(inside their acceptances, |eta| < 3.2 and < 1.7), calorimeter width, N90, muon
segments, detector eta; inside the tracker (|eta| < 2.5; zero beyond, as in real
files) the charged fraction (tracks' pT over the jet's uncalibrated reco pT, which
holds the pile-up offset), the track count above 1 GeV and the track width, all from
hard-scatter tracks only. Large-R jets carry the 16 substructure and detector inputs
of the ATLAS energy-and-mass DNN (table 2 of MLST 5 (2024) 035051); see
:data:`skcal.columns.LARGE_R_INPUTS`.

Sources: the ATLAS jet energy scale papers (Eur. Phys. J. C 81 (2021) 689, the
standard chain), Groom's hadron-shower EM fraction (NIM A 572 (2007) 633), the ATLAS
large-R DNN calibration (MLST 5 (2024) 035051), and the talks in ``shared/seeds``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
import pandas as pd

from skcal import columns
from skcal.datasets._blocks import BLOCK_SIZE, iter_blocks
from skcal.datasets._detector import calorimeter, pileup_residuals, sample_event, smear
from skcal.datasets._inputs import calorimeter_inputs, track_inputs
from skcal.datasets._settings import KINDS, check_settings
from skcal.datasets._shower import sample_shower
from skcal.datasets._substructure import reco_mass, substructure_inputs
from skcal.datasets._truth import (
    RADIUS,
    sample_eta,
    sample_flavour,
    sample_mass,
    sample_pt,
)

__all__ = ["BLOCK_SIZE", "iter_jets", "make_jets"]


def make_jets(
    n_jets: int,
    *,
    kind: str = "small_r",
    topology: str = "dijet",
    spectrum: str = "sliced",
    mu_range: tuple[float, float] = (10.0, 70.0),
    pt_range: tuple[float, float] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Generate a jet table of matched reco and true jets with a known truth.

    Parameters
    ----------
    n_jets : int
        Number of jets, positive.
    kind : {"small_r", "large_r"}, default "small_r"
        Anti-kt R = 0.4 jets with the calibration inputs of the standard chain, or
        R = 1.0 jets with the substructure inputs of the ATLAS energy-and-mass DNN.
    topology : {"dijet", "w", "z", "top", "higgs"}, default "dijet"
        QCD jets, or (large-R only) boosted resonance decays with a mass peak and a
        two- or three-prong substructure.
    spectrum : {"sliced", "physical"}, default "sliced"
        True pT flat in log pT with ``weight`` restoring the physical spectrum, or
        falling as pT^-5 with unit weights.
    mu_range : (float, float), default (10, 70)
        Range of the mean number of interactions per crossing (flat); (0, 200) covers
        the HL-LHC. NPV, rho and the pile-up offset follow it (see the module's notes).
    pt_range : (float, float), optional
        Range of true pT in GeV; default 20-3000 (small-R) or 200-3000 (large-R).
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same table.

    Returns
    -------
    DataFrame
        The jet table (:mod:`skcal.columns`) with the calibration inputs of ``kind``
        and the oracle columns.

    Raises
    ------
    ParameterError
        For a non-positive ``n_jets``, an unknown ``kind``, ``topology`` or
        ``spectrum``, an inverted or negative ``mu_range`` or ``pt_range``, or a
        negative ``random_state``.

    Examples
    --------
    >>> from skcal.datasets import make_jets
    >>> jets = make_jets(1000, random_state=0)
    >>> response = jets["e_reco"] / jets["e_true"]
    >>> bool(0.3 < response.median() < 1.2)
    True
    >>> make_jets(10, kind="large_r", topology="top", random_state=0).shape[0]
    10
    """
    return next(
        _generate(
            "make_jets",
            n_jets,
            chunk_size=None,
            start=0,
            kind=kind,
            topology=topology,
            spectrum=spectrum,
            mu_range=mu_range,
            pt_range=pt_range,
            random_state=random_state,
        )
    )


def iter_jets(
    n_jets: int,
    *,
    chunk_size: int | None = 1_000_000,
    start: int = 0,
    kind: str = "small_r",
    topology: str = "dijet",
    spectrum: str = "sliced",
    mu_range: tuple[float, float] = (10.0, 70.0),
    pt_range: tuple[float, float] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> Iterator[pd.DataFrame]:
    """Generate the jets of :func:`make_jets` as chunks of ``chunk_size`` rows
    (all in one chunk if ``chunk_size`` is None).

    For samples larger than memory: the chunks hold the same jets as one call of
    :func:`make_jets` with the same arguments, with a continuous index. ``start``
    skips the first jets of that sequence, so that separate processes can generate
    consecutive parts of one sample (``start=0, n`` then ``start=n, n``, ...).
    The other parameters are those of :func:`make_jets`.

    Examples
    --------
    >>> from skcal.datasets import iter_jets, make_jets
    >>> chunks = list(iter_jets(2500, chunk_size=1000, random_state=1))
    >>> [len(c) for c in chunks]
    [1000, 1000, 500]
    >>> bool((pd.concat(chunks) == make_jets(2500, random_state=1)).all().all())
    True
    """
    return _generate(
        "iter_jets",
        n_jets,
        chunk_size=chunk_size,
        start=start,
        kind=kind,
        topology=topology,
        spectrum=spectrum,
        mu_range=mu_range,
        pt_range=pt_range,
        random_state=random_state,
    )


def _generate(
    caller: str,
    n_jets: int,
    *,
    chunk_size: int | None,
    start: int,
    kind: str,
    topology: str,
    spectrum: str,
    mu_range: tuple[float, float],
    pt_range: tuple[float, float] | None,
    random_state: int | np.random.Generator | None,
) -> Iterator[pd.DataFrame]:
    """The chunks of :func:`iter_jets`; the parameters are checked at the first chunk."""
    config, entropy = check_settings(
        caller,
        {
            "n_jets": n_jets,
            "chunk_size": chunk_size,
            "start": start,
            "kind": kind,
            "topology": topology,
            "spectrum": spectrum,
            "random_state": random_state,
            "mu_range": mu_range,
            "pt_range": pt_range,
        },
    )
    yield from iter_blocks(
        partial(_generate_block, **config),
        n_jets,
        chunk_size=chunk_size,
        start=start,
        entropy=entropy,
    )


def _generate_block(
    rng: np.random.Generator,
    n: int,
    *,
    kind: str,
    topology: str,
    spectrum: str,
    mu_range: tuple[float, float],
    pt_range: tuple[float, float],
) -> pd.DataFrame:
    radius = RADIUS[kind]
    pileup_fraction = KINDS[kind]["pileup_fraction"]

    pt_true, weight = sample_pt(rng, n, pt_range, spectrum)
    eta_true = sample_eta(rng, pt_true, KINDS[kind]["eta_max"])
    phi_true = rng.uniform(-np.pi, np.pi, n)
    flavour = sample_flavour(rng, pt_true, topology)
    m_true, prongs = sample_mass(rng, pt_true, flavour, kind, topology)
    e_true = np.hypot(pt_true * np.cosh(eta_true), m_true)

    shower = sample_shower(rng, e_true, pt_true, flavour, radius)
    event = sample_event(rng, n, mu_range)
    area = np.pi * radius**2 * (1.0 + 0.04 * rng.standard_normal(n)) * (1.0 + 2.0 / pt_true)
    calo = calorimeter(rng, e_true, pt_true, eta_true, shower, radius)
    eta_reco = calo["eta_reco"]
    alpha, beta = pileup_residuals(np.abs(eta_reco))
    offset_pt = pileup_fraction * (event.rho * area + alpha * (event.npv - 1) + beta * event.mu)
    e_oracle, e_reco = smear(
        rng, calo["e_det"], eta_reco, offset_pt, pileup_fraction * area, event.mu
    )

    n_eff = 1.0 + 0.35 * shower.n_const * np.exp(0.2 * rng.standard_normal(n))
    m_oracle, m_reco = reco_mass(
        rng, m_true, pt_true, prongs, calo["e_det"] / e_true, shower, n_eff, event.mu
    )
    m_reco = np.minimum(m_reco, 0.9 * e_reco)  # a jet's mass cannot exceed its energy
    pt_reco = np.sqrt(e_reco**2 - m_reco**2) / np.cosh(eta_reco)
    phi_reco = np.angle(np.exp(1j * (phi_true + rng.normal(0.0, 0.01, n))))

    table = {
        "e_reco": e_reco,
        "pt_reco": pt_reco,
        "eta": eta_reco,
        "phi": phi_reco,
        "m_reco": m_reco,
        "e_true": e_true,
        "pt_true": pt_true,
        "eta_true": eta_true,
        "phi_true": phi_true,
        "m_true": m_true,
        "mu": event.mu,
        "npv": event.npv,
        "rho": event.rho,
        "area": area,
        "flavour": flavour,
        "weight": weight,
    }
    calo_inputs = calorimeter_inputs(rng, calo, shower, event.npv)
    if kind == "small_r":
        table |= calo_inputs | track_inputs(rng, shower, pt_true, pt_reco, eta_reco)
        table = {name: table[name] for name in (*_base_columns(), *columns.SMALL_R_INPUTS)}
        table["oracle_response"] = e_oracle / e_true
    else:
        table |= {name: calo_inputs[name] for name in ("em_frac", "em3_frac", "tile0_frac")}
        table |= substructure_inputs(
            rng, prongs, m_true, m_reco, pt_true, pt_reco, shower, n_eff, event.mu
        )
        table = {name: table[name] for name in (*_base_columns(), *columns.LARGE_R_INPUTS)}
        table["oracle_response"] = e_oracle / e_true
        table["oracle_response_m"] = np.minimum(m_oracle, 0.9 * e_oracle) / m_true
    return pd.DataFrame(table)


def _base_columns() -> tuple[str, ...]:
    return (*columns.RECO, *columns.TRUTH, *columns.PILEUP, *columns.LABELS)
