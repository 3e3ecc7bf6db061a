"""Mappings for the common per-event formats: CMS NanoAOD and ATLAS DAOD_PHYSLITE."""

from __future__ import annotations

from skcal.exceptions import DataError
from skcal.io._expr import Branch
from skcal.io._functions import At, Clip, Count, Flavour, InnerSum
from skcal.io._mapping import JetMapping
from skcal.io._matching import DeltaRMatch, IndexMatch
from skcal.io._source import closest

__all__ = ["NANOAOD", "PHYSLITE", "PRESETS", "get_preset"]

_raw = 1 - Branch("Jet_rawFactor")

#: CMS NanoAOD (tree ``Events``), AK4 jets matched to ``GenJet`` by ``Jet_genJetIdx``.
#:
#: The uncalibrated jet is ``Jet_pt * (1 - Jet_rawFactor)`` (likewise the mass); CMS's
#: calibrated ``Jet_pt`` is kept as ``pt_ref``, a reference to compare against (not a
#: model input). ``flavour`` combines ``Jet_hadronFlavour`` and ``Jet_partonFlavour``;
#: ``charged_frac`` and ``em_frac`` are sums of the PF energy fractions, which are also
#: kept one by one.
NANOAOD = JetMapping(
    name="nanoaod",
    description="CMS NanoAOD",
    tree="Events",
    jets={
        "pt_reco": Branch("Jet_pt") * _raw,
        "eta": "Jet_eta",
        "phi": "Jet_phi",
        "m_reco": Branch("Jet_mass") * _raw,
        "area": "Jet_area",
        "flavour": Flavour("Jet_hadronFlavour", "Jet_partonFlavour"),
        "charged_frac": Branch("Jet_chHEF") + Branch("Jet_chEmEF"),
        "em_frac": Branch("Jet_chEmEF") + Branch("Jet_neEmEF"),
        "ch_had_frac": "Jet_chHEF",
        "ne_had_frac": "Jet_neHEF",
        "ch_em_frac": "Jet_chEmEF",
        "ne_em_frac": "Jet_neEmEF",
        "mu_frac": "Jet_muEF",
        "n_constituents": "Jet_nConstituents",
        "pt_ref": "Jet_pt",
    },
    truth={
        "pt_true": "GenJet_pt",
        "eta_true": "GenJet_eta",
        "phi_true": "GenJet_phi",
        "m_true": "GenJet_mass",
    },
    event={
        "mu": "Pileup_nTrueInt",
        "npv": "PV_npvs",
        "rho": "fixedGridRhoFastjetAll",
        "weight": "genWeight",
    },
    match=IndexMatch("Jet_genJetIdx"),
)

_MEV = 0.001
_jet = "AnalysisJetsAuxDyn."
_truth = "AntiKt4TruthDressedWZJetsAux."
_event = "EventInfoAuxDyn."
_eps = _jet + "EnergyPerSampling"

#: ATLAS DAOD_PHYSLITE (tree ``CollectionTree``): ``AnalysisJets`` (small-R PFlow) at
#: constituent scale as the uncalibrated jet, matched by Delta R < 0.3 to
#: ``AntiKt4TruthDressedWZJets``.
#:
#: Momenta are converted from MeV to GeV. Track quantities are those of the first
#: primary vertex (the hard scatter, ``vertexType`` 1); a track width of -1 (no track)
#: becomes 0; ``charged_frac`` is the track pT sum over the constituent-scale pT;
#: ``em3_frac`` and ``tile0_frac`` come from ``EnergyPerSampling`` (EMB3 + EME3 and
#: TileBar0 + TileExt0 over the sum of all samplings). NPV counts the vertices that are
#: not dummies; ``weight`` is the first MC event weight; ATLAS's calibrated ``pt`` is
#: kept as ``pt_ref``, a reference to compare against (not a model input).
PHYSLITE = JetMapping(
    name="physlite",
    description="ATLAS DAOD_PHYSLITE",
    tree="CollectionTree",
    jets={
        "pt_reco": Branch(_jet + "JetConstitScaleMomentum_pt") * _MEV,
        "eta": _jet + "JetConstitScaleMomentum_eta",
        "phi": _jet + "JetConstitScaleMomentum_phi",
        "m_reco": Branch(_jet + "JetConstitScaleMomentum_m") * _MEV,
        "area": _jet + "ActiveArea4vec_pt",
        "flavour": Flavour(
            _jet + "HadronConeExclTruthLabelID", _jet + "PartonTruthLabelID", signed=False
        ),
        "em_frac": _jet + "EMFrac",
        "width": _jet + "Width",
        "detector_eta": _jet + "DetectorEta",
        "n_trk": At(_jet + "NumTrkPt1000", 0, default=0),
        "trk_width": Clip(At(_jet + "TrackWidthPt1000", 0, default=0.0), lower=0.0),
        "charged_frac": At(_jet + "SumPtTrkPt500", 0, default=0.0)
        / Branch(_jet + "JetConstitScaleMomentum_pt"),
        "em3_frac": InnerSum(_eps, (3, 7)) / InnerSum(_eps),
        "tile0_frac": InnerSum(_eps, (12, 18)) / InnerSum(_eps),
        "n_muon_segments": _jet + "GhostMuonSegmentCount",
        "pt_ref": Branch(_jet + "pt") * _MEV,
    },
    truth={
        "pt_true": Branch(_truth + "pt") * _MEV,
        "eta_true": _truth + "eta",
        "phi_true": _truth + "phi",
        "m_true": Branch(_truth + "m") * _MEV,
    },
    event={
        "mu": _event + "actualInteractionsPerCrossing",
        "npv": Count("PrimaryVerticesAuxDyn.vertexType", exclude=(0,)),
        "rho": Branch("Kt4EMPFlowEventShapeAuxDyn.Density") * _MEV,
        "weight": At(_event + "mcEventWeights", 0),
    },
    match=DeltaRMatch(max_dr=0.3),
)

#: The presets by name, for ``read_jets(..., preset="nanoaod")``.
PRESETS: dict[str, JetMapping] = {"nanoaod": NANOAOD, "physlite": PHYSLITE}


def get_preset(preset: str | JetMapping) -> JetMapping:
    """The preset of that name (case-insensitive), or the mapping itself.

    Examples
    --------
    >>> from skcal.io._presets import get_preset
    >>> get_preset("NanoAOD").tree
    'Events'
    """
    if isinstance(preset, JetMapping):
        return preset
    if not isinstance(preset, str) or preset.lower() not in PRESETS:
        raise DataError(
            f"unknown preset {preset!r}; the presets are {sorted(PRESETS)}"
            f"{closest(str(preset).lower(), list(PRESETS))}"
        )
    return PRESETS[preset.lower()]
