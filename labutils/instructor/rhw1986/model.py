"""The 6-2-1 network of experiment 1 and its starting weights.

Weights travel between the trainers, the analysis and the plots as state_dict-like mappings with
the keys of `WEIGHT_KEYS`: "hidden.weight" (h, 6), "hidden.bias" (h,), "output.weight" (1, h),
"output.bias" (1,). A *batched* mapping (many networks, see `train_many`) has one more leading
dimension: (S, h, 6), (S, h), (S, 1, h), (S, 1). Checking and copying such mappings, and the
forward pass on weights, live in labutils.network_weights and labutils.symmetry_task (one
implementation for all).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

from labutils.network_weights import check_weights
from labutils.symmetry_task import N_INPUTS, WEIGHT_KEYS, Weights, forward, weight_shapes
from labutils.symmetry_task import activation as activation_of


def seed_for(seed: int, index: int) -> int:
    """The generator seed of network `index` in a study started with `seed`.

    Distinct (seed, index) pairs give unrelated streams, and any single network of a study can be
    re-created from the two numbers alone (see initial_weights).
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    mixed = (seed * 0x9E3779B97F4A7C15 + index * 0xBF58476D1CE4E5B9 + 1) % 2**64
    mixed ^= mixed >> 31
    return mixed % 2**63


def draw_weights(
    hidden: int = 2,
    init_range: float = 0.3,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Weights:
    """Weights and biases uniform in [-init_range, init_range], one vector in WEIGHT_KEYS order.

    Numbers are drawn in float64 and then converted, so a float32 network starts from the
    rounded float64 weights of the same generator.
    """
    if hidden < 1:
        raise ValueError(f"hidden must be >= 1 hidden unit, got {hidden}")
    if not init_range > 0:
        raise ValueError(f"init_range must be > 0, got {init_range}")
    shapes = weight_shapes(hidden)
    sizes = [math.prod(shape) for shape in shapes.values()]
    flat = torch.empty(sum(sizes), dtype=torch.float64)
    flat.uniform_(-init_range, init_range, generator=generator)
    parts = flat.split(sizes)
    weights = {
        key: part.view(shape).to(dtype)
        for (key, shape), part in zip(shapes.items(), parts, strict=True)
    }
    return weights


def initial_weights(
    seed: int,
    index: int,
    hidden: int = 2,
    init_range: float = 0.3,
    dtype: torch.dtype = torch.float64,
) -> Weights:
    """The starting weights of network `index` of a study run with `seed` (see train_many)."""
    generator = torch.Generator().manual_seed(seed_for(seed, index))
    return draw_weights(hidden, init_range, generator, dtype)


class SymmetryNet(nn.Module):
    """6 inputs -> `hidden` hidden units -> 1 logistic output, every unit with a bias.

    The paper's network is SymmetryNet() (2 logistic hidden units, weights uniform in [-0.3, 0.3]).
    forward() returns the output unit's activity y in (0, 1); logits() the net input before the
    output sigmoid (used by the cross-entropy loss).
    """

    def __init__(
        self,
        hidden: int = 2,
        activation: str = "sigmoid",
        init_range: float = 0.3,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.activation = activation_of(activation) and activation
        self.hidden = nn.Linear(N_INPUTS, hidden, dtype=dtype)
        self.output = nn.Linear(hidden, 1, dtype=dtype)
        self.load_weights(draw_weights(hidden, init_range, generator, dtype))

    @classmethod
    def from_weights(
        cls, weights: Mapping[str, torch.Tensor], activation: str = "sigmoid"
    ) -> SymmetryNet:
        """A network holding a copy of `weights` (its dtype is theirs)."""
        hidden = check_weights(weights)
        dtype = torch.as_tensor(weights["hidden.weight"]).dtype
        net = cls(hidden=hidden, activation=activation, dtype=dtype)
        net.load_weights(weights)
        return net

    def load_weights(self, weights: Mapping[str, torch.Tensor]) -> None:
        """Copy `weights` (a mapping with WEIGHT_KEYS) into this network."""
        hidden = check_weights(weights)
        if hidden != self.hidden.out_features:
            raise ValueError(
                f"hidden.weight: expected shape ({self.hidden.out_features}, {N_INPUTS}), "
                f"got ({hidden}, {N_INPUTS})"
            )
        with torch.no_grad():
            for key, param in zip(WEIGHT_KEYS, self.parameters(), strict=True):
                param.copy_(torch.as_tensor(weights[key]))

    def weights(self) -> Weights:
        """A detached copy of the parameters as {key: tensor}."""
        return {
            key: p.detach().clone() for key, p in zip(WEIGHT_KEYS, self.parameters(), strict=True)
        }

    def hidden_activity(self, x: torch.Tensor) -> torch.Tensor:
        """Activities of the hidden units, (N, h)."""
        return activation_of(self.activation).function(self.hidden(x))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Net input to the output unit, (N, 1)."""
        return self.output(self.hidden_activity(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output activity y = sigmoid(net input), (N, 1)."""
        return torch.sigmoid(self.logits(x))


def batched_forward(
    weights: Mapping[str, torch.Tensor], activation: str = "sigmoid"
) -> torch.Tensor:
    """Outputs (S, 64) of S networks given as batched weights (S, ...), on the 64 cases in order."""
    check_weights(weights, batched=True)
    return forward(weights, hidden=activation)[1]
