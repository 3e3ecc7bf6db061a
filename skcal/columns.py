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

#: Inputs of the topo-cluster calibration (:func:`skcal.datasets.make_clusters`): the
#: features of the ATLAS DNN-HGM cluster calibration, in its order.
CLUSTER_INPUTS: tuple[str, ...] = (
    "e_em",  # E_clus^EM: the cluster's energy at the EM scale
    "y_clus",  # the cluster's rapidity
    "zeta_clus",  # significance E_clus^EM / sigma_noise
    "t_clus",  # the cluster's time (ns)
    "var_t_cell",  # energy-weighted variance of the cell times (ns^2)
    "lambda_clus",  # depth of the centre of gravity along the shower axis (mm)
    "c_clus",  # |c_clus|, distance of the centre of gravity from the nominal vertex (mm)
    "f_emc",  # energy fraction in the EM calorimeters
    "rho_cell",  # <rho_cell>, energy-weighted mean cell energy density (GeV / mm^3)
    "m_long2",  # <m_long^2>, normalised longitudinal second moment
    "m_lat2",  # <m_lat^2>, normalised lateral second moment
    "ptd",  # p_T D, sqrt(sum pT_cell^2) / sum pT_cell
    "f_iso",  # isolation: fraction of the boundary not shared with other clusters
    "npv",  # reconstructed primary vertices
    "mu",  # interactions per crossing
)
#: Truth of the topo-clusters: the deposited energy (the calibration's target), the
#: particle (PDG code) and its rapidity. Never a model input.
CLUSTER_TRUTH: tuple[str, ...] = ("e_dep", "particle", "y_true")

#: Flavour codes of the ``flavour`` column.
GLUON, CHARM, BOTTOM, UNKNOWN = 21, 4, 5, 0
LIGHT: tuple[int, ...] = (1, 2, 3)

__all__ = [
    "BOTTOM",
    "CHARM",
    "CLUSTER_INPUTS",
    "CLUSTER_TRUTH",
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
