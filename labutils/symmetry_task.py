"""The mirror-symmetry task of Rumelhart, Hinton & Williams (1986, experiment 1), written once:
the 64 cases, the weight keys and shapes of a 6-h-1 network, its forward pass for any hidden
activation, the paper's error E (eq. 3) and one sweep of the paper's rule (eq. 8-9).

Plain tensors in any dtype (each function computes in the dtype of the weights it is given);
the rule's step size and momentum are arguments, never constants of this module. Weights are
mappings with the keys of WEIGHT_KEYS, as nn.Linear layers named `hidden` and `output` store
them; the forward pass also takes batched weights with one more leading dimension (S, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

N_INPUTS = 6
"""Input bits of the task."""

N_CASES = 2**N_INPUTS
"""Training cases: every 6-bit vector once."""

WEIGHT_KEYS = ("hidden.weight", "hidden.bias", "output.weight", "output.bias")
"""The four weight tensors of a 6-h-1 network, in the order of its parameters."""

Weights = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Activation:
    """A hidden-unit nonlinearity and its derivative written as a function of its output."""

    function: Callable[[torch.Tensor], torch.Tensor]
    slope: Callable[[torch.Tensor], torch.Tensor]


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(torch.sigmoid, lambda a: a * (1 - a)),
    "tanh": Activation(torch.tanh, lambda a: 1 - a * a),
    "relu": Activation(torch.relu, lambda a: (a > 0).to(a.dtype)),
}
"""Hidden-unit nonlinearities on offer; the paper's units are logistic ("sigmoid")."""


def activation(name: str) -> Activation:
    """The activation called `name`; ValueError listing the valid names otherwise."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; valid ones are: {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]


def weight_shapes(hidden: int) -> dict[str, tuple[int, ...]]:
    """The shape of each weight tensor of a 6-h-1 network with `hidden` hidden units."""
    return {
        "hidden.weight": (hidden, N_INPUTS),
        "hidden.bias": (hidden,),
        "output.weight": (1, hidden),
        "output.bias": (1,),
    }


# ----------------------------------------------------------------------------------------------
# The cases


def is_symmetric(bits: torch.Tensor) -> torch.Tensor:
    """True where a (..., 6) tensor of 0/1 reads the same from both ends."""
    return (bits == bits.flip(-1)).all(dim=-1)


def cases(
    order: torch.Tensor | None = None, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """The 64 inputs (64, 6) and targets (64,), 1 for the 8 mirror-symmetric vectors.

    Row i holds the bits of i, most significant first (row 5 is 0 0 0 1 0 1), or of
    `order[i]` when a tensor of codes is given (see codes_of).
    """
    codes = torch.arange(N_CASES) if order is None else order
    bits = (codes[:, None] >> torch.arange(N_INPUTS - 1, -1, -1)) & 1
    return bits.to(dtype), is_symmetric(bits).to(dtype)


def codes_of(inputs: torch.Tensor) -> torch.Tensor:
    """The number each 6-bit row of `inputs` spells (first column most significant)."""
    return (inputs.round().long() * (2 ** torch.arange(N_INPUTS - 1, -1, -1))).sum(1)


def case_label(index: int) -> str:
    """Case `index` written as its six bits, e.g. '001100'."""
    if not 0 <= index < N_CASES:
        raise ValueError(f"case index must be in 0..{N_CASES - 1}, got {index}")
    return format(index, f"0{N_INPUTS}b")


# ----------------------------------------------------------------------------------------------
# The network and the paper's rule


def forward(
    weights: Mapping[str, torch.Tensor],
    inputs: torch.Tensor | None = None,
    hidden: str | Callable[[torch.Tensor], torch.Tensor] = "sigmoid",
    output: Callable[[torch.Tensor], torch.Tensor] = torch.sigmoid,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden activities (..., n, h) and output activities (..., n) of a 6-h-1 network.

    `inputs` (n, 6) default to the 64 cases in order and are cast to the weights' dtype;
    `hidden` is a name of ACTIVATIONS or a function, `output` the output unit's function.
    """
    w1 = torch.as_tensor(weights["hidden.weight"])
    x = cases(dtype=w1.dtype)[0] if inputs is None else inputs.to(w1.dtype)
    fn = activation(hidden).function if isinstance(hidden, str) else hidden
    h = fn(torch.einsum("ci,...hi->...ch", x, w1)
           + torch.as_tensor(weights["hidden.bias"])[..., None, :])
    w2 = torch.as_tensor(weights["output.weight"])[..., 0, :]
    net = torch.einsum("...ch,...h->...c", h, w2) + torch.as_tensor(weights["output.bias"])
    return h, output(net)


def summed_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The paper's E = 1/2 sum of (y - d)^2 over the cases (a sum, not a mean).

    `outputs` has the shape of `targets`, or leading batch dimensions more (one E each).
    """
    n = targets.dim()
    if outputs.shape[outputs.dim() - n:] != targets.shape or outputs.dim() < n:
        raise ValueError(
            f"outputs and targets must have the same shape, got {tuple(outputs.shape)} "
            f"and {tuple(targets.shape)}"
        )
    return 0.5 * ((outputs - targets) ** 2).sum(dim=tuple(range(-n, 0)))


def gradient(
    weights: Mapping[str, torch.Tensor],
    inputs: torch.Tensor | None = None,
    targets: torch.Tensor | None = None,
    hidden: str = "sigmoid",
) -> tuple[torch.Tensor, Weights]:
    """(E, dE/dw) summed over the cases given (default: all 64), by the chain rule (eq. 4-7).

    The output unit is logistic: its delta is (y - d) y (1 - y); a hidden unit's is the output
    delta times its outgoing weight times the slope of its activation; a weight's gradient is
    the sum over cases of (delta of the unit it feeds) x (activity it carries).
    """
    w = {key: torch.as_tensor(weights[key]) for key in WEIGHT_KEYS}
    dtype = w["hidden.weight"].dtype
    x, d = cases(dtype=dtype)
    x = x if inputs is None else inputs.to(dtype)
    d = d if targets is None else targets.to(dtype).reshape(-1)
    h, y = forward(w, x, hidden)
    delta_out = (y - d) * y * (1 - y)
    delta_hidden = delta_out[:, None] * w["output.weight"][0] * activation(hidden).slope(h)
    return summed_error(y, d), {
        "hidden.weight": delta_hidden.T @ x,
        "hidden.bias": delta_hidden.sum(0),
        "output.weight": (delta_out @ h)[None],
        "output.bias": delta_out.sum(0, keepdim=True),
    }


def sweep(
    weights: Mapping[str, torch.Tensor],
    velocity: Mapping[str, torch.Tensor] | None,
    eps: float,
    alpha: float,
    hidden: str = "sigmoid",
) -> tuple[Weights, Weights]:
    """One weight change of the paper's rule over all 64 cases: (new weights, new velocity).

    dw(t) = -eps dE/dw + alpha dw(t-1) (eq. 9), with `velocity` = dw(t-1) (None: zeros, the
    first sweep); pass eps(t) to follow a schedule. Computes in the weights' dtype.
    """
    _, grads = gradient(weights, hidden=hidden)
    new_weights, new_velocity = {}, {}
    for key in WEIGHT_KEYS:
        w = torch.as_tensor(weights[key])
        previous = torch.zeros_like(w) if velocity is None else torch.as_tensor(velocity[key])
        new_velocity[key] = -eps * grads[key] + alpha * previous
        new_weights[key] = w + new_velocity[key]
    return new_weights, new_velocity


__all__ = [
    "ACTIVATIONS",
    "N_CASES",
    "N_INPUTS",
    "WEIGHT_KEYS",
    "Activation",
    "Weights",
    "activation",
    "case_label",
    "cases",
    "codes_of",
    "forward",
    "gradient",
    "is_symmetric",
    "summed_error",
    "sweep",
    "weight_shapes",
]
