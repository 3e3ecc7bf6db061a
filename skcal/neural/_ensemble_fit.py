"""Fitting the members of a deep ensemble: in sequence, or one per Dask worker.

Every member is fitted by :func:`fit_member`, here or on a worker, from the same
inputs and its own seeds, so that the parallel and the sequential fits of one ensemble
are the same computation (and, on CPUs with one thread per worker, give the same
weights bit for bit).

- In-memory input is scattered to the workers once (``broadcast=True``), not sent
  with every member.
- Dask input is not computed on the client: the collections travel, as a graph, inside
  a :class:`MemberInputs`, which distributed does not look into, and each member
  streams the partitions itself on its worker (with the synchronous scheduler there,
  so that a member never waits for a worker thread that another member holds).
- Bootstrap: Poisson(1) weights per jet (:func:`skcal._chunks.bootstrap_weights`),
  times the sample weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skcal._chunks import bootstrap_weights
from skcal._validation import is_dask

__all__ = ["MemberInputs", "bootstrap_weights", "fit_member", "fit_members"]


class MemberInputs:
    """What every member is fitted on: ``X``, ``y``, ``sample_weight`` and fit parameters.

    A plain object (not a tuple or a dataclass), so that distributed sends Dask
    collections inside it as they are instead of computing them first.
    """

    def __init__(self, X: Any, y: Any, sample_weight: Any, fit_params: dict[str, Any]) -> None:
        self.X, self.y, self.sample_weight, self.fit_params = X, y, sample_weight, fit_params

    @property
    def lazy(self) -> bool:
        """Whether any input is a Dask collection."""
        values = [self.X, self.y, self.sample_weight, *self.fit_params.values()]
        return any(is_dask(v) for v in values)


def fit_member(member: Any, inputs: MemberInputs, boot_seed: int | None, remote: bool) -> Any:
    """Fit one member (a clone of the base with its own ``random_state``) and return it."""
    weights = inputs.sample_weight
    if boot_seed is not None:
        weights = bootstrap_weights(inputs.X, weights, boot_seed)
    if not remote:
        return member.fit(inputs.X, inputs.y, weights, **inputs.fit_params)
    import dask

    with dask.config.set(scheduler="sync"):
        return member.fit(inputs.X, inputs.y, weights, **inputs.fit_params)


def fit_members(
    members: Sequence[Any],
    boot_seeds: Sequence[int | None],
    inputs: MemberInputs,
    client: Any = None,
) -> list[Any]:
    """Fit every member: in sequence, or with a ``distributed.Client``, one task each."""
    if client is None:
        return [fit_member(m, inputs, b, False) for m, b in zip(members, boot_seeds, strict=True)]
    shared: Any = inputs
    if not inputs.lazy:
        [shared] = client.scatter([inputs], broadcast=True, hash=False)
    futures = [
        client.submit(fit_member, m, shared, b, True, pure=False)
        for m, b in zip(members, boot_seeds, strict=True)
    ]
    return list(client.gather(futures))
