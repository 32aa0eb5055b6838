"""Reading what a student defined, whatever its structure: the 6->2 and 2->1 linear maps of a
network found by their shapes (nn.Sequential, named layers, raw tensors in a dict, list or
object), a list of numbers, a whole number.

Every reader raises `Problem` with a message the student can act on, never anything else.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping

import torch
from torch import nn

from labutils.checks._report import Problem
from labutils.symmetry_task import weight_shapes

_SHAPES = weight_shapes(2)
_MAX_DEPTH = 3
_NOT_CONTAINERS = (type, types.FunctionType, types.MethodType, types.ModuleType)
_BIAS_NAME = re.compile(r"(bias|(^|[._\d])b\d*$|^b)", re.IGNORECASE)
_WEIGHT_NAME = re.compile(r"(weight|(^|[._\d])w\d*$|^w)", re.IGNORECASE)


def as_tensor(value, what: str) -> torch.Tensor:
    """`value` (tensor, array, list of numbers) as a detached float64 tensor."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
    else:
        try:
            tensor = torch.as_tensor(value)
        except Exception:
            raise Problem(f"`{what}` is a {type(value).__name__}, not a tensor of numbers.",
                          "keep it as a torch tensor (or a list of numbers).") from None
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise Problem(f"`{what}` holds {tensor.dtype} values.", "it should hold real numbers.")
    return tensor.to(torch.float64)


def as_numbers(value, what: str) -> torch.Tensor:
    """A sequence of numbers (list of floats or 0-d tensors, 1-D tensor) as a float64 vector."""
    if isinstance(value, torch.Tensor):
        return as_tensor(value, what).flatten()
    try:
        items = list(value)
    except TypeError:
        raise Problem(f"`{what}` is a {type(value).__name__}, not a list of numbers.",
                      "append one number per sweep to a list.") from None
    numbers = []
    for i, item in enumerate(items):
        try:
            numbers.append(float(item.detach() if isinstance(item, torch.Tensor) else item))
        except (TypeError, ValueError, RuntimeError):
            raise Problem(f"`{what}[{i}]` is a {type(item).__name__}, not a number.",
                          "store one plain number per sweep.") from None
    return torch.tensor(numbers, dtype=torch.float64)


def as_count(value, what: str) -> int:
    """A whole number >= 0 (int, or an integral 0-d tensor/array)."""
    if isinstance(value, bool):
        raise Problem(f"`{what}` is {value}, not a number.", f"`{what}` counts sweeps.")
    try:
        number = value.item() if hasattr(value, "item") else value
    except Exception:
        number = value
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if not isinstance(number, int) or number < 0:
        raise Problem(f"`{what}` is {value!r}, not a whole number >= 0.",
                      f"`{what}` counts the weight changes (sweeps) your run made.")
    return number


def _named_tensors(obj, prefix: str = "", depth: int = 0) -> list[tuple[str, torch.Tensor]]:
    """Every tensor reachable from `obj` (parameters first for modules), with a dotted name."""
    if isinstance(obj, torch.Tensor):
        return [(prefix, obj)]
    if depth > _MAX_DEPTH or isinstance(obj, (str, bytes, int, float, bool, type(None))):
        return []
    if isinstance(obj, nn.Module):
        found = [(prefix + name, p) for name, p in obj.named_parameters()]
        if found:
            return found
        items = [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]
    elif isinstance(obj, Mapping):
        items = [(str(k), v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(obj)]
    elif hasattr(obj, "__dict__") and not isinstance(obj, _NOT_CONTAINERS):
        items = [(k, v) for k, v in getattr(obj, "__dict__", {}).items() if not k.startswith("_")]
    else:
        return []
    out = []
    for key, value in items:
        out += _named_tensors(value, f"{prefix}{key}.", depth + 1)
    return [(name.rstrip("."), tensor) for name, tensor in out]


def _canonical(role: str, tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` reshaped (transposed where needed) to the nn.Linear layout of `role`."""
    if role == "hidden.weight" and tuple(tensor.shape) == (6, 2):
        tensor = tensor.T
    if role == "output.weight" and tensor.dim() == 2 and tuple(tensor.shape) == (2, 1):
        tensor = tensor.T
    return tensor.detach().reshape(_SHAPES[role])


def _role_order(pair: list[tuple[str, torch.Tensor]]) -> list[tuple[str, str]]:
    """Possible (hidden.bias, output.weight) name assignments of the two 2-element tensors,
    the likeliest first: by name, then matrix-shaped = weight, then order of appearance."""
    (a, ta), (b, tb) = pair
    last = lambda name: name.rsplit(".", 1)[-1]  # noqa: E731
    a_bias, b_bias = bool(_BIAS_NAME.search(last(a))), bool(_BIAS_NAME.search(last(b)))
    if b_bias and not a_bias and _WEIGHT_NAME.search(last(a)):
        return [(b, a), (a, b)]
    if a_bias and not b_bias:
        return [(a, b), (b, a)]
    if ta.dim() == 2 and tb.dim() == 1:
        return [(b, a), (a, b)]
    return [(a, b), (b, a)]


def find_weights(
    obj, what: str, forward: Callable[[dict[str, torch.Tensor]], bool] | None = None
) -> dict[str, torch.Tensor]:
    """The four tensors of a 6-2-1 network held by `obj`, found by shape, in nn.Linear layout.

    Returned tensors keep their dtype and are detached (not copied). When the two 2-element
    tensors (hidden bias, output weights) cannot be told apart by name, shape or order,
    `forward(weights) -> bool` (does the object compute this?) decides.
    """
    named = _named_tensors(obj)
    if not named:
        raise Problem(
            f"`{what}` holds no tensors (it is a {type(obj).__name__}).",
            "it should be (or hold) the network's weights: a module, or tensors in a dict, "
            "list or object.")
    preferred = [(n, t) for n, t in named if t.requires_grad]
    roles = _assign(preferred) if preferred else None
    if roles is None:
        roles = _assign(named)
    if roles is None:
        shapes = ", ".join(f"{n or what} {tuple(t.shape)}" for n, t in named[:8])
        raise Problem(
            f"`{what}` does not hold a 6 -> 2 -> 1 network: no 6->2 and 2->1 linear maps with "
            f"biases among its tensors ({shapes}).",
            "the checks find the two layers by their shapes: weights 2x6 (or 6x2) and 1x2 "
            "(or 2x1), biases of 2 and 1 numbers.")
    hidden_w, pair, output_b = roles
    options = _role_order(pair)
    by_name = dict(pair)
    candidates = [
        {"hidden.weight": _canonical("hidden.weight", hidden_w),
         "hidden.bias": _canonical("hidden.bias", by_name[bias]),
         "output.weight": _canonical("output.weight", by_name[weight]),
         "output.bias": _canonical("output.bias", output_b)}
        for bias, weight in options
    ]
    if forward is not None:
        for weights in candidates:
            if forward(weights):
                return weights
    return candidates[0]


def _assign(named: list[tuple[str, torch.Tensor]]):
    """(hidden weight, the two 2-element tensors, output bias) or None if shapes do not fit."""
    hidden = [t for _, t in named if tuple(t.shape) in ((2, 6), (6, 2))]
    pair = [(n, t) for n, t in named if t.numel() == 2 and t.dim() <= 2]
    bias = [t for _, t in named if t.numel() == 1 and t.dim() <= 2]
    if not hidden or len(pair) < 2 or not bias:
        return None
    return hidden[0], pair[:2], bias[0]


def tensors_of(obj) -> list[torch.Tensor]:
    """Every tensor `obj` holds (for telling whether two objects share memory)."""
    return [t for _, t in _named_tensors(obj)]
