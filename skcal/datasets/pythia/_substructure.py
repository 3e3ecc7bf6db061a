r"""Substructure inputs of trimmed large-R reco jets (table 2 of the ATLAS energy-and-mass
DNN, MLST 5 (2024) 035051), from the jets' towers.

``split12``, ``split23``: kt splitting scales :math:`\sqrt{d_{12}}`, :math:`\sqrt{d_{23}}`;
``tau21``, ``tau32``: N-subjettiness ratios (:math:`\beta = 1`, exclusive-kt axes);
``c2``, ``d2``: energy-correlation ratios (:math:`\beta = 1`, the 60 hardest towers);
``qw``: the smallest pairwise mass of the three exclusive kt subjets;
``groom_m_ratio``: trimmed over ungroomed mass; ``eff_n_consts``:
:math:`(\sum E)^2/\sum E^2`; ``neutral_frac``: the energy fraction in towers that no
track points to; ``charged_pt_frac``, ``charged_m_frac``: the hard-scatter tracks' pT and
mass over the jet's.
"""

from __future__ import annotations

import numpy as np

from skcal.datasets.pythia._cluster import Jets, delta_phi, exclusive_kt

ECF_CONSTITUENTS = 60


def _dr2(eta_a: np.ndarray, phi_a: np.ndarray, eta_b: np.ndarray, phi_b: np.ndarray) -> np.ndarray:
    return (eta_a - eta_b) ** 2 + delta_phi(phi_a, phi_b) ** 2


def _mass(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0.0))


def substructure(
    jets: Jets,
    fired: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    radius: float,
    select: np.ndarray,
) -> dict[str, np.ndarray]:
    """The substructure of the jets in ``select`` (flat jet indices), from the fired
    constituents' four-vectors (input arrays indexed by ``jets.const_index``)."""
    names = ("split12", "split23", "tau21", "tau32", "c2", "d2", "qw")
    out = {name: np.zeros(select.size) for name in names}
    keep = fired[jets.const_index] & np.isin(jets.const_jet, select)
    jet, idx = jets.const_jet[keep], jets.const_index[keep]
    n_const = np.bincount(jet, minlength=jets.e.size)
    usable = select[n_const[select] >= 3]
    if usable.size == 0:
        return out
    mask = np.isin(jet, usable)
    jet, idx = jet[mask], idx[mask]
    order = np.argsort(jet, kind="stable")
    jet, idx = jet[order], idx[order]
    kt = exclusive_kt(np.bincount(jet)[usable], px[idx], py[idx], pz[idx], e[idx])
    row = np.searchsorted(select, usable)
    out["split12"][row] = np.sqrt(np.maximum(kt["d12"], 0.0))
    out["split23"][row] = np.sqrt(np.maximum(kt["d23"], 0.0))
    sub3 = [kt[f"sub3_{c}"] for c in ("px", "py", "pz", "E")]
    pair_m = [
        _mass(*(sub3[c][:, a] + sub3[c][:, b] for c in range(4)))
        for a, b in ((0, 1), (0, 2), (1, 2))
    ]
    out["qw"][row] = np.min(pair_m, axis=0)

    pt = np.hypot(px[idx], py[idx])
    eta = np.arcsinh(pz[idx] / np.maximum(pt, 1e-12))
    phi = np.arctan2(py[idx], px[idx])
    starts = np.searchsorted(jet, usable)
    stops = np.searchsorted(jet, usable, side="right")
    axes = {}
    for k in (2, 3):
        spx, spy, spz = (kt[f"sub{k}_{c}"] for c in ("px", "py", "pz"))
        spt = np.hypot(spx, spy)
        axes[k] = (np.arcsinh(spz / np.maximum(spt, 1e-12)), np.arctan2(spy, spx))
    for i, (a, b) in enumerate(zip(starts, stops, strict=True)):
        w, et, ph = pt[a:b], eta[a:b], phi[a:b]
        tau = {}
        for k in (1, 2, 3):
            if k == 1:
                ax_eta = np.array(
                    [
                        np.arcsinh(
                            np.sum(pz[idx][a:b])
                            / np.hypot(np.sum(px[idx][a:b]), np.sum(py[idx][a:b]))
                        )
                    ]
                )
                ax_phi = np.array([np.arctan2(np.sum(py[idx][a:b]), np.sum(px[idx][a:b]))])
            else:
                ax_eta, ax_phi = axes[k][0][i], axes[k][1][i]
            d = np.sqrt(_dr2(et[:, None], ph[:, None], ax_eta[None, :], ax_phi[None, :]))
            tau[k] = np.sum(w * d.min(axis=1)) / (np.sum(w) * radius)
        out["tau21"][row[i]] = tau[2] / tau[1] if tau[1] > 0 else 0.0
        out["tau32"][row[i]] = tau[3] / tau[2] if tau[2] > 0 else 0.0
        hard = np.argsort(-w)[:ECF_CONSTITUENTS]
        z = w[hard] / np.sum(w[hard])
        dr = np.sqrt(
            _dr2(et[hard][:, None], ph[hard][:, None], et[hard][None, :], ph[hard][None, :])
        )
        za = z[:, None] * dr
        e2 = 0.5 * float(z @ dr @ z)
        e3 = float(np.trace(za @ za @ za)) / 6.0
        out["c2"][row[i]] = e3 / e2**2 if e2 > 0 else 0.0
        out["d2"][row[i]] = e3 / e2**3 if e2 > 0 else 0.0
    return out
