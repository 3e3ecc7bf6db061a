"""The least-squares solution of the pile-up offset's alpha and beta, bin by bin, and its policy.

Per |eta| bin, the sums that :class:`~skcal.inversion.PileupOffset` accumulates give the
"within" sums of squares and products (the per-true-pT intercepts eliminated). A bin is
fitted only when every check below passes; each check is free of the units and the size
of the sums (scaling NPV, mu, the weights or the number of jets changes nothing):

- at least ``min_jets`` jets, and more jets than intercepts and slopes;
- spread: the within-bin variance of ``NPV - 1`` (``mu``) is at least ``SPREAD_MIN`` of its
  mean square (a constant column leaves rounding noise, about 1e-16 of it);
- the correlation matrix of the two (the sums normalised by their diagonal) has a
  condition number below ``COND_MAX`` (NPV and mu not proportional).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from skcal.exceptions import DataError

#: Smallest within-bin variance of NPV - 1 (mu), relative to its mean square, to fit its slope.
SPREAD_MIN = 1e-6
#: Largest condition number of the correlation matrix of (NPV - 1, mu) within a bin.
COND_MAX = 1e8
#: The policies of the bins that cannot be fitted.
UNFITTED = ("borrow", "zero", "raise")


@dataclass
class OffsetFit:
    """alpha and beta per |eta| bin, their errors, the status and why a bin was not fitted."""

    alpha: np.ndarray
    beta: np.ndarray
    alpha_err: np.ndarray
    beta_err: np.ndarray
    status: np.ndarray
    reason: np.ndarray


def _within(s: dict[str, Any]) -> dict[str, np.ndarray]:
    """The within-true-pT-bin sums of squares and products per |eta| bin."""
    with np.errstate(invalid="ignore", divide="ignore"):
        inv_w = np.where(s["w"] > 0, 1.0 / np.where(s["w"] > 0, s["w"], 1.0), 0.0)
    pairs = {"nn": ("n", "n"), "nm": ("n", "m"), "mm": ("m", "m")}
    pairs |= {"nd": ("n", "d"), "md": ("m", "d"), "dd": ("d", "d")}
    return {
        key: s[f"w{key}"] - (s[f"w{a}"] * s[f"w{b}"] * inv_w).sum(axis=1)
        for key, (a, b) in pairs.items()
    }


def _why_not(
    s: dict[str, Any], within: dict[str, np.ndarray], e: int, used: list[str], min_jets: int
) -> str:
    """Why |eta| bin ``e`` cannot be fitted ('' if it can)."""
    n_jets = int(s["count"][e])
    n_groups = int((s["w"][e] > 0).sum())
    if n_jets < min_jets:
        return f"{n_jets} jets (fewer than min_jets={min_jets})"
    if n_jets <= n_groups + len(used):
        return f"{n_jets} jets in {n_groups} true-pT bins: no degree of freedom left"
    labels = {"n": "NPV", "m": "mu"}
    flat = [
        labels[v]
        for v in used
        if not within[v + v][e] > SPREAD_MIN * max(float(s[f"w{v}{v}"][e]), np.finfo(float).tiny)
    ]
    if flat:
        return f"{n_jets} jets without spread in {' and '.join(flat)} at fixed true pT"
    if len(used) == 2:
        corr = within["nm"][e] / np.sqrt(within["nn"][e] * within["mm"][e])
        matrix = np.array([[1.0, corr], [corr, 1.0]])
        if not np.isfinite(corr) or np.linalg.cond(matrix) > COND_MAX:
            return f"{n_jets} jets whose NPV and mu are proportional (correlation {corr:.9f})"
    return ""


def solve_offsets(
    s: dict[str, Any],
    *,
    use_npv: bool,
    use_mu: bool,
    min_jets: int,
    unfitted: str,
    eta_edges: np.ndarray,
) -> OffsetFit:
    """alpha and beta per |eta| bin from the accumulated sums, with the ``unfitted`` policy."""
    within = _within(s)
    n_e = s["w"].shape[0]
    used = [v for v, on in (("n", use_npv), ("m", use_mu)) if on]
    coef = {v: np.zeros(n_e) for v in ("n", "m")}
    err = {v: np.full(n_e, np.nan) for v in ("n", "m")}
    reason = np.array(
        [_why_not(s, within, e, used, min_jets) if used else "" for e in range(n_e)], dtype=object
    )
    for e in np.flatnonzero(reason == "").tolist():
        if not used:
            continue
        matrix = np.array([[within[max(a + b, b + a)][e] for b in used] for a in used])
        rhs = np.array([within[a + "d"][e] for a in used])
        # Solved on the correlation scale, which the checks above made well conditioned.
        norm = np.sqrt(np.diag(matrix))
        values = np.linalg.solve(matrix / np.outer(norm, norm), rhs / norm) / norm
        dof = int(s["count"][e]) - int((s["w"][e] > 0).sum()) - len(used)
        rss = max(float(within["dd"][e] - values @ rhs), 0.0)
        errors = np.sqrt(np.diag(np.linalg.inv(matrix)) * rss / dof)
        for v, value, error in zip(used, values, errors, strict=True):
            coef[v][e], err[v][e] = value, error
    fitted = reason == ""
    status = np.where(fitted, "fitted", "borrowed" if unfitted == "borrow" else "zero")
    if not fitted.all() and (unfitted == "raise" or (unfitted == "borrow" and not fitted.any())):
        bad = [
            f"|eta| [{eta_edges[e]:g}, {eta_edges[e + 1]:g}): {reason[e]}"
            for e in np.flatnonzero(~fitted).tolist()
        ]
        hint = (
            "no |eta| bin can be fitted"
            if not fitted.any()
            else "some |eta| bins cannot be fitted (unfitted='raise')"
        )
        raise DataError(
            f"PileupOffset: {hint}: " + "; ".join(bad) + ". Give more jets with varied NPV "
            "and mu, fewer abs_eta_bins, npv=None or mu=None for a constant column, or "
            "unfitted='zero' (alpha = beta = 0: only rho * area is subtracted)"
        )
    if unfitted == "borrow":
        sources = np.flatnonzero(fitted)
        for e in np.flatnonzero(~fitted).tolist():
            source = sources[np.argmin(np.abs(sources - e))]
            coef["n"][e], coef["m"][e] = coef["n"][source], coef["m"][source]
    return OffsetFit(
        alpha=coef["n"],
        beta=coef["m"],
        alpha_err=err["n"],
        beta_err=err["m"],
        status=status.astype(str),
        reason=np.array([str(r) for r in reason]),
    )
