"""Torch modules: the MLP trunk, density heads returning ``Distribution`` objects, and
the point regressor.

A :class:`DensityNetwork` maps jet features to a batch of response densities in the
training space of the target (``r`` or ``log r``): a Normal (GDN), an asymmetric
normal (MDNA), or a mixture of K of either (MDN). Its raw outputs are available
separately (:meth:`DensityNetwork.raw`, :meth:`DensityNetwork.distribution`), so that
predictions over many batches can be concatenated before a distribution is built.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Categorical, Distribution, MixtureSameFamily, Normal
from torch.nn import functional as F

from skcal.neural._families import AsymmetricNormal

__all__ = ["ACTIVATIONS", "DensityNetwork", "MLP", "PointNetwork", "locations"]

#: Activations of the trunk by name (Mish as in the ATLAS large-R calibration).
ACTIVATIONS: dict[str, type[nn.Module]] = {"mish": nn.Mish, "relu": nn.ReLU, "silu": nn.SiLU}


#: Sharpness of the positive link: softplus_k(z) = ln(1 + exp(k z)) / k, within 1e-5 of z
#: for z > 1 and within 5% of it down to z = 0.3.
POSITIVE_SHARPNESS = 10.0


def locations(out: torch.Tensor, loc: float, scale: float, positive: bool) -> torch.Tensor:
    """Raw outputs to locations: ``loc + scale * out``, or its positive version.

    The positive link is ``loc * softplus_10(1 + scale * out / loc)``: the linear link
    in the bulk (no overflow for large outputs, the same training), going smoothly to 0
    instead of below it, and floored at the smallest normal float where it underflows.

    Examples
    --------
    >>> import torch
    >>> locations(torch.tensor([0.0, 1.0]), 1.0, 0.2, positive=False)
    tensor([1.0000, 1.2000])
    >>> locations(torch.tensor([0.0, 1.0]), 1.0, 0.2, positive=True)
    tensor([1.0000, 1.2000])
    >>> bool((locations(torch.tensor([-1e3, -10.0, 1e6]), 1.0, 0.2, positive=True) > 0).all())
    True
    """
    if positive:
        z = 1.0 + out * (scale / loc)
        return (loc * F.softplus(z, beta=POSITIVE_SHARPNESS)).clamp_min(torch.finfo(out.dtype).tiny)
    return loc + scale * out


class MLP(nn.Sequential):
    """A fully connected trunk: ``Linear`` and activation per hidden layer.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_sizes : sequence of int, default=(64, 64)
        Width of each hidden layer (the depth is its length).
    activation : {"mish", "relu", "silu"}, default="mish"
        Activation after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> MLP(3, (8, 4))(torch.zeros(5, 3)).shape
    torch.Size([5, 4])
    """

    def __init__(
        self, n_features: int, hidden_sizes: Sequence[int] = (64, 64), activation: str = "mish"
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if len(hidden_sizes) == 0 or any(int(h) < 1 for h in hidden_sizes):
            raise ValueError(
                f"hidden_sizes must be a non-empty sequence of positive ints, got {hidden_sizes!r}"
            )
        layers: list[nn.Module] = []
        width = int(n_features)
        for h in hidden_sizes:
            layers += [nn.Linear(width, int(h)), ACTIVATIONS[activation]()]
            width = int(h)
        super().__init__(*layers)
        self.out_features = width


class DensityNetwork(nn.Module):
    """An MLP with a density head: ``forward(x)`` returns a torch ``Distribution``.

    The head predicts, per component, a location, one width (Normal) or two
    (``asymmetric=True``: widths below and above the mode), and, for
    ``n_components > 1``, the mixture logits. Locations and widths are given in units
    of ``scale`` around ``loc`` (the estimators set them to the target's mean and
    standard deviation, so that the initial densities cover the data); every width has
    the floor ``min_scale * scale``. With ``positive=True`` (a density of the response
    itself) every location is ``loc * softplus_10(1 + scale * out / loc)``
    (:func:`locations`): positive whatever the output, and the linear link wherever that
    is above about a third of ``loc``.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_sizes : sequence of int, default=(64, 64)
        Widths of the trunk's hidden layers.
    activation : {"mish", "relu", "silu"}, default="mish"
        Activation of the trunk.
    n_components : int, default=1
        Mixture components; 1 gives a single Normal or AsymmetricNormal, not a mixture.
    asymmetric : bool, default=False
        Asymmetric normal components (MDNA) instead of normal ones.
    min_scale : float, default=1e-3
        Floor of the widths, relative to ``scale``.
    loc, scale : float, default=0.0, 1.0
        Offset and unit of the outputs.
    positive : bool, default=False
        Constrain every location to be positive (``loc`` must then be positive).

    Examples
    --------
    >>> import torch
    >>> net = DensityNetwork(3, (8,), n_components=2, asymmetric=True)
    >>> d = net(torch.zeros(5, 3))
    >>> type(d).__name__, d.batch_shape, type(d.component_distribution).__name__
    ('MixtureSameFamily', torch.Size([5]), 'AsymmetricNormal')
    """

    def __init__(
        self,
        n_features: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "mish",
        n_components: int = 1,
        asymmetric: bool = False,
        min_scale: float = 1e-3,
        loc: float = 0.0,
        scale: float = 1.0,
        positive: bool = False,
    ) -> None:
        super().__init__()
        if positive and not loc > 0:
            raise ValueError(f"positive locations need a positive loc, got {loc!r}")
        if int(n_components) < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components!r}")
        if not min_scale > 0 or not scale > 0:
            raise ValueError(
                f"min_scale and scale must be positive, got {min_scale!r} and {scale!r}"
            )
        self.n_components, self.asymmetric = int(n_components), bool(asymmetric)
        self.min_scale, self.loc, self.scale = float(min_scale), float(loc), float(scale)
        self.positive = bool(positive)
        self.trunk = MLP(n_features, hidden_sizes, activation)
        per = 3 if self.asymmetric else 2
        n_out = self.n_components * per + (self.n_components if self.n_components > 1 else 0)
        self.head = nn.Linear(self.trunk.out_features, n_out)

    @property
    def n_raw(self) -> int:
        """The number of raw outputs per jet."""
        return self.head.out_features

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The head's raw outputs, shape (n_jets, n_raw)."""
        return self.head(self.trunk(x))

    def distribution(self, raw: torch.Tensor) -> Distribution:
        """The batch of densities that raw outputs describe (in the target's space)."""
        k = self.n_components
        per = 3 if self.asymmetric else 2
        params = raw[:, : k * per].reshape(-1, k, per)
        loc = locations(params[..., 0], self.loc, self.scale, self.positive)
        widths = self.scale * (F.softplus(params[..., 1:]) + self.min_scale)
        # No argument validation: a diverging training must reach the loss's finiteness
        # check (a clear TrainingDivergedError), not fail inside a constructor.
        if self.asymmetric:
            comp: Distribution = AsymmetricNormal(
                loc, widths[..., 0], widths[..., 1], validate_args=False
            )
        else:
            comp = Normal(loc, widths[..., 0], validate_args=False)
        if k == 1:
            if self.asymmetric:
                return AsymmetricNormal(
                    loc[:, 0], widths[:, 0, 0], widths[:, 0, 1], validate_args=False
                )
            return Normal(loc[:, 0], widths[:, 0, 0], validate_args=False)
        return MixtureSameFamily(
            Categorical(logits=raw[:, k * per :], validate_args=False), comp, validate_args=False
        )

    def forward(self, x: torch.Tensor) -> Distribution:
        return self.distribution(self.raw(x))


class PointNetwork(nn.Module):
    """An MLP with one output: a point estimate of the target, ``loc + scale * out``.

    Parameters
    ----------
    n_features : int
        Input width.
    hidden_sizes : sequence of int, default=(64, 64)
        Widths of the hidden layers.
    activation : {"mish", "relu", "silu"}, default="mish"
        Activation of the trunk.
    loc, scale : float, default=0.0, 1.0
        Offset and unit of the output.
    positive : bool, default=False
        A positive output (:func:`locations`; ``loc`` must then be positive).

    Examples
    --------
    >>> import torch
    >>> PointNetwork(3, (8,))(torch.zeros(5, 3)).shape
    torch.Size([5])
    """

    def __init__(
        self,
        n_features: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "mish",
        loc: float = 0.0,
        scale: float = 1.0,
        positive: bool = False,
    ) -> None:
        super().__init__()
        if positive and not loc > 0:
            raise ValueError(f"a positive output needs a positive loc, got {loc!r}")
        self.loc, self.scale, self.positive = float(loc), float(scale), bool(positive)
        self.trunk = MLP(n_features, hidden_sizes, activation)
        self.head = nn.Linear(self.trunk.out_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return locations(self.head(self.trunk(x))[:, 0], self.loc, self.scale, self.positive)
