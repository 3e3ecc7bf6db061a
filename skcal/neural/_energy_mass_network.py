"""The forked energy-and-mass network of the ATLAS large-R calibration, and its densities.

See :class:`~skcal.neural.EnergyMassCalibrator` for the architecture (MLST 5 (2024) 035051).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution, Normal

from skcal.exceptions import DataError
from skcal.neural._families import AsymmetricNormal
from skcal.neural._modules import MLP
from skcal.neural._schedule import PARAMETER_GROUPS
from skcal.preprocessing import ETA_CENTRES, ETA_WIDTHS

__all__ = ["N_PARAMS", "EnergyMassNetwork", "target_distribution"]

N_PARAMS = 3  # per target: mode, width below, width above


def target_distribution(params: torch.Tensor, variant: str) -> Distribution:
    """The response density of one target from its three parameters per jet.

    Parameters
    ----------
    params : Tensor of shape (n_jets, 3)
        Mode, width below and width above the mode (as the network outputs them).
    variant : {"asymmetric", "gaussian"}
        A split normal (MDNA), or a Normal of the mean of the two widths (MDN).

    Examples
    --------
    >>> import torch
    >>> d = target_distribution(torch.tensor([[1.0, 0.1, 0.3]]), "gaussian")
    >>> d.mean.item(), round(d.stddev.item(), 3)
    (1.0, 0.2)
    """
    mode, low, high = params[:, 0], params[:, 1], params[:, 2]
    if variant == "asymmetric":
        return AsymmetricNormal(mode, low, high, validate_args=False)
    if variant == "gaussian":
        return Normal(mode, 0.5 * (low + high), validate_args=False)
    raise DataError(
        f"unknown loss variant {variant!r}; valid variants are ['asymmetric', 'gaussian']"
    )


class EnergyMassNetwork(nn.Module):
    """The forked energy-and-mass network with a multiplicative residual connection.

    ``forward(x)`` returns a tensor of shape (n_jets, 6): for the energy and then the
    mass, the mode (``tanh + 1``, in (0, 2)) and the widths below and above it
    (``scale * (softplus + min_scale)``, positive).

    Parameters
    ----------
    n_features : int
        Input width.
    eta_index : int, optional
        Position of the (unscaled) eta among the inputs: the eta annotation is then
        computed from it and appended. None: no annotation.
    eta_centres, eta_widths : sequence of float, optional
        Centres and widths in |eta| of the annotation Gaussians (default
        :data:`~skcal.preprocessing.ETA_CENTRES`, :data:`~skcal.preprocessing.ETA_WIDTHS`).
    input_centre, input_scale : sequence of float, optional
        Per-input offset and half-range: the network sees ``(x - centre) / scale``.
        Default: no scaling.
    core_sizes : sequence of int, default=(210, 210, 210, 210, 210)
        Widths of the shared core (its first layer takes the processed inputs).
    branch_sizes : sequence of int, default=(210, 210, 210, 210, 210)
        Widths of each fork (energy and mass have the same layers).
    residual_sizes : sequence of int, default=(210, 210)
        Widths of the residual connection's Mish layers; a last layer of width
        ``branch_sizes[-1]`` with a softmax follows.
    activation : {"mish", "relu", "silu"}, default="mish"
    min_scale : float, default=1e-3
        Floor of the widths, relative to ``width_scale``.
    width_scale : sequence of two floats, default=(0.1, 0.2)
        Unit of the energy and mass widths (the estimator sets the targets' spreads).
    initial_mode : sequence of two floats, default=(1.0, 1.0)
        The energy and mass modes of the untrained network (the estimator sets the
        targets' medians), so that a truncated loss sees the data from the start.

    Attributes
    ----------
    core, energy, mass, residual : nn.Module
        The parameter groups (:data:`~skcal.neural._schedule.PARAMETER_GROUPS`);
        ``energy_head`` and ``mass_head`` belong to their forks.

    Examples
    --------
    >>> import torch
    >>> net = EnergyMassNetwork(4, eta_index=0, core_sizes=(8,), branch_sizes=(6, 6),
    ...                         residual_sizes=(5,))
    >>> net(torch.zeros(3, 4)).shape, net.residual(net.processed(torch.zeros(3, 4))).shape
    (torch.Size([3, 6]), torch.Size([3, 6]))
    >>> sorted(net.parameter_groups())
    ['core', 'energy', 'mass', 'residual']
    """

    # buffers (register_buffer), typed for the forward pass
    eta_centres: torch.Tensor
    eta_widths: torch.Tensor
    input_centre: torch.Tensor
    input_scale: torch.Tensor
    width_scale: torch.Tensor

    def __init__(
        self,
        n_features: int,
        *,
        eta_index: int | None = None,
        eta_centres: Sequence[float] | None = None,
        eta_widths: Sequence[float] | None = None,
        input_centre: Sequence[float] | None = None,
        input_scale: Sequence[float] | None = None,
        core_sizes: Sequence[int] = (210,) * 5,
        branch_sizes: Sequence[int] = (210,) * 5,
        residual_sizes: Sequence[int] = (210, 210),
        activation: str = "mish",
        min_scale: float = 1e-3,
        width_scale: Sequence[float] = (0.1, 0.2),
        initial_mode: Sequence[float] = (1.0, 1.0),
    ) -> None:
        super().__init__()
        n_features = int(n_features)
        self.eta_index = None if eta_index is None else int(eta_index)
        if self.eta_index is not None and not 0 <= self.eta_index < n_features:
            raise DataError(
                f"eta_index must be a column position below {n_features}, got {eta_index!r}"
            )
        centres = torch.as_tensor(
            ETA_CENTRES if eta_centres is None else eta_centres, dtype=torch.float32
        )
        widths = torch.as_tensor(
            ETA_WIDTHS if eta_widths is None else eta_widths, dtype=torch.float32
        )
        if centres.shape != widths.shape or centres.ndim != 1:
            raise DataError(
                f"eta_centres and eta_widths need one width per centre, got {centres.shape[0]} "
                f"centres and {widths.numel()} widths"
            )
        if not bool((widths > 0).all()):
            raise DataError(f"eta_widths must be positive, got {widths.tolist()}")
        centre = (
            torch.zeros(n_features)
            if input_centre is None
            else torch.as_tensor(input_centre, dtype=torch.float32)
        )
        scale = (
            torch.ones(n_features)
            if input_scale is None
            else torch.as_tensor(input_scale, dtype=torch.float32)
        )
        if (
            centre.shape != (n_features,)
            or scale.shape != (n_features,)
            or not bool((scale > 0).all())
        ):
            raise DataError(
                f"input_centre and input_scale need {n_features} values (scales positive)"
            )
        ws = torch.as_tensor(width_scale, dtype=torch.float32)
        if ws.shape != (2,) or not bool((ws > 0).all()) or not min_scale > 0:
            raise DataError(
                f"width_scale needs two positive values and min_scale must be positive, "
                f"got {width_scale!r} and {min_scale!r}"
            )
        self.register_buffer("eta_centres", centres)
        self.register_buffer("eta_widths", widths)
        self.register_buffer("input_centre", centre)
        self.register_buffer("input_scale", scale)
        self.register_buffer("width_scale", ws)
        self.min_scale = float(min_scale)
        if len(branch_sizes) == 0:
            raise DataError("branch_sizes must hold at least one layer width")
        n_in = n_features + (centres.numel() if self.eta_index is not None else 0)
        self.n_processed = n_in
        self.core = MLP(n_in, core_sizes, activation)
        self.energy = MLP(self.core.out_features, branch_sizes, activation)
        self.mass = MLP(self.core.out_features, branch_sizes, activation)
        width = self.mass.out_features
        self.energy_head = nn.Linear(width, N_PARAMS)
        self.mass_head = nn.Linear(width, N_PARAMS)
        residual: list[nn.Module] = []
        if len(residual_sizes):
            trunk = MLP(n_in, residual_sizes, activation)
            residual += [trunk, nn.Linear(trunk.out_features, width)]
        else:
            residual += [nn.Linear(n_in, width)]
        self.residual = nn.Sequential(*residual, nn.Softmax(dim=-1))
        start = torch.as_tensor(initial_mode, dtype=torch.float32)
        if start.shape != (2,) or not bool(((start > 0) & (start < 2)).all()):
            raise DataError(f"initial_mode needs two values between 0 and 2, got {initial_mode!r}")
        for head, mode in zip((self.energy_head, self.mass_head), start, strict=True):
            nn.init.zeros_(head.bias)
            with torch.no_grad():
                head.bias[0] = torch.atanh(mode - 1.0)

    def parameter_groups(self) -> dict[str, list[tuple[str, nn.Parameter]]]:
        """The named parameters of each group that a training stage may freeze."""
        parts: dict[str, list[nn.Module]] = {
            "core": [self.core],
            "energy": [self.energy, self.energy_head],
            "mass": [self.mass, self.mass_head],
            "residual": [self.residual],
        }
        groups: dict[str, list[tuple[str, nn.Parameter]]] = {g: [] for g in PARAMETER_GROUPS}
        for group, modules in parts.items():
            for module in modules:
                groups[group] += list(module.named_parameters())
        return groups

    def processed(self, x: torch.Tensor) -> torch.Tensor:
        """The input layer: scaled inputs, followed by the eta annotation."""
        scaled = (x - self.input_centre) / self.input_scale
        if self.eta_index is None:
            return scaled
        eta = x[:, self.eta_index : self.eta_index + 1].abs()
        annotation = torch.exp(-0.5 * ((eta - self.eta_centres) / self.eta_widths) ** 2)
        return torch.cat([scaled, annotation], dim=1)

    def _params(self, raw: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
        # tanh + 1 in (0, 2), floored where float32 rounds it to 0: positive by construction
        mode = (torch.tanh(raw[:, :1]) + 1.0).clamp_min(torch.finfo(raw.dtype).tiny)
        widths = unit * (nn.functional.softplus(raw[:, 1:]) + self.min_scale)
        return torch.cat([mode, widths], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = self.processed(x)
        h = self.core(h0)
        energy = self.energy_head(self.energy(h))
        mass = self.mass_head(self.mass(h) * self.residual(h0))
        return torch.cat(
            [self._params(energy, self.width_scale[0]), self._params(mass, self.width_scale[1])],
            dim=1,
        )
