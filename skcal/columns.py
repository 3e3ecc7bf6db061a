"""The names of the jet table's columns (``docs/design.md`` section 3).

Every source of jets (the synthetic generator, the ROOT readers) produces these
names, lower case, energies in GeV, so that any calibrator applies to any table.

>>> from skcal import columns
>>> "e_true" in columns.TRUTH
True
"""

from __future__ import annotations

#: The uncalibrated reconstructed jet.
RECO: tuple[str, ...] = ("e_reco", "pt_reco", "eta", "phi", "m_reco")
#: The matched true (particle-level) jet. Never a model input.
TRUTH: tuple[str, ...] = ("e_true", "pt_true", "eta_true", "phi_true", "m_true")
#: Pile-up: interactions per crossing, primary vertices, energy density (GeV per unit
#: area), jet area.
PILEUP: tuple[str, ...] = ("mu", "npv", "rho", "area")
#: Truth label (21 gluon, 1-3 light quark, 4 charm, 5 bottom, 0 unknown) and event weight.
LABELS: tuple[str, ...] = ("flavour", "weight")
#: Generator-only columns: the response before stochastic smearing (the resolution floor).
ORACLE: tuple[str, ...] = ("oracle_response", "oracle_response_m")

#: Calibration inputs of small-R jets (the global sequential calibration's variables and more).
SMALL_R_INPUTS: tuple[str, ...] = (
    "em_frac",  # energy fraction in the electromagnetic calorimeter
    "em3_frac",  # energy fraction in the third layer of the LAr EM calorimeter
    "tile0_frac",  # energy fraction in the first layer of the tile calorimeter
    # sum of hard-scatter track pT over the uncalibrated jet pT, pt_reco (0 outside the
    # tracker, |eta| > 2.5); the GSC takes it relative to the pT of its stage
    "charged_frac",
    "n_trk",  # number of tracks with pT > 1 GeV (0 outside the tracker)
    "trk_width",  # pT-weighted track width (0 outside the tracker)
    "width",  # pT-weighted calorimeter width
    "n90",  # number of constituents that hold 90% of the energy
    "n_muon_segments",  # muon-spectrometer segments behind the jet (punch-through)
    "detector_eta",  # eta measured from the detector centre
)

#: Calibration inputs of large-R jets: the substructure and detector set of the ATLAS
#: energy-and-mass DNN (MLST 5 (2024) 035051, table 2).
LARGE_R_INPUTS: tuple[str, ...] = (
    "groom_m_ratio",
    "width",
    "split12",
    "split23",
    "c2",
    "d2",
    "tau21",
    "tau32",
    "qw",
    "em_frac",
    "em3_frac",
    "tile0_frac",
    "eff_n_consts",
    "neutral_frac",
    "charged_pt_frac",
    "charged_m_frac",
)

#: Flavour codes of the ``flavour`` column.
GLUON, CHARM, BOTTOM, UNKNOWN = 21, 4, 5, 0
LIGHT: tuple[int, ...] = (1, 2, 3)

__all__ = [
    "BOTTOM",
    "CHARM",
    "GLUON",
    "LABELS",
    "LARGE_R_INPUTS",
    "LIGHT",
    "ORACLE",
    "PILEUP",
    "RECO",
    "SMALL_R_INPUTS",
    "TRUTH",
    "UNKNOWN",
]
