"""Realistic jets: Pythia 8 events, FastJet clustering and a parametric detector.

:func:`make_pythia_jets` returns the jet table of :func:`skcal.datasets.make_jets`
(same columns, same dtypes) from simulated collisions, so that every calibrator and
benchmark runs on jets whose response emerges from physics rather than from a
formula. It needs the ``sim`` extra (``pip install 'skcal[sim]'``: pythia8mc and
fastjet). It is **not** a full simulation: there is no Geant4, the calorimeter is a
per-particle parametrisation (its choices and their sources are in the docstrings of
the private modules named below, and in ``docs/pythia.md``).

- **Hard process** (``_events.py``): pp at 13.6 TeV; QCD dijets (``HardQCD:all``) in
  pT-hat slices like the ATLAS JZ slices (20 GeV to 3.2 TeV), ``weight`` the slice's
  cross-section per generated event (normalised to mean 1), which restores the physical
  spectrum; for large-R jets W, Z (from ZW production, the partner decaying to
  neutrinos or a muon), top pairs, and H -> bb (from HZ, Z -> nu nu). ``shower="vincia"``
  swaps Pythia's shower for Vincia for generator-dependence checks.
- **Truth** (``_truth.py``, ``_trim.py``): anti-kt 0.4, or 1.0 trimmed, of the stable
  particles without neutrinos and muons; flavour by ghost association.
- **Pile-up** (``_pileup.py``, ``_tracker.py``, ``_reco.py``): a minimum-bias library
  overlaid Poisson(mu) times, mu flat in ``mu_range`` (up to 200); NPV from the
  reconstructed vertices; rho the median pT / area of kt R = 0.4 jets; areas from
  ghosts.
- **Detector** (``_calorimeter.py``, ``_tracker.py``): EM and hadronic showers with a
  non-compensating response and Groom's energy-dependent EM fraction, stochastic,
  noise and constant terms, a tower grid with noise thresholds and transitions,
  longitudinal layers (EM3, Tile0), tracks with |eta| < 2.5, pT > 0.5 GeV and an
  efficiency (ghost-associated, separable by vertex), muon segments from punch-through.
- **Reconstruction** (``_reco.py``, ``_features.py``, ``_substructure.py``): anti-kt
  jets of the towers, matched to truth jets with :class:`skcal.io.DeltaRMatch` (the
  ATLAS isolation, as the readers do), and the calibration inputs of the kind.

Oracle columns: ``oracle_response`` is the response of the same reco jet (same towers)
without the calorimeter's stochastic smearing and noise, pile-up included;
``oracle_response_m`` likewise for the mass. Unlike the synthetic generator's they are
not the resolution floor: clustering, thresholds and pile-up fluctuations stay in them.

Reproducible by seed, independent of ``n_jobs``: the sample is a sequence of blocks,
each with its own seeds (the scheme of ``make_jets``), and the first ``n_jets`` jets
of the sequence are returned.
"""

from __future__ import annotations

from skcal.datasets.pythia._make import make_pythia_jets
from skcal.datasets.pythia._settings import JZ_SLICES, MU_MAX

__all__ = ["JZ_SLICES", "MU_MAX", "make_pythia_jets"]
