"""Is a declared start one the paper's protocol could have drawn? One judgement, used by the
network self-check (to tell the student) and by the grader (to give training and network points
only for such a start).

A start fits when every value is finite and within the protocol's bound, the 17 values are
spread out as independent draws are (distinct, both signs, not all small, biases not zero), it
is not PyTorch's default initialisation, it does not already solve the task, and it is not a
known network (the paper's Figure 1 weights, or a scaled copy of them). The messages point at
the paper and at the evidence, never at the protocol's numbers.
"""

from __future__ import annotations

import torch

from labutils.checks._protocol import protocol
from labutils.checks._report import Problem
from labutils.paper1986 import paper_weights
from labutils.symmetry_task import WEIGHT_KEYS, cases, forward

_TORCH_DEFAULT = {"hidden.weight": 6 ** -0.5, "hidden.bias": 6 ** -0.5,
                  "output.weight": 2 ** -0.5, "output.bias": 2 ** -0.5}
"""nn.Linear's own initialisation: uniform in +-1/sqrt(fan-in) (6 inputs, then 2)."""

_KNOWN_COSINE = 0.98
"""A start this aligned with Figure 1's weights (any scale, either hidden unit first) is a
copy of them, not a draw (17 independent draws reach it with a negligible probability)."""

_READ = "re-read how the paper draws the starting weights and biases (the caption of Figure 1)"


def _flat(w: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([w[k].detach().to(torch.float64).flatten() for k in WEIGHT_KEYS])


def _is_known_network(w: dict[str, torch.Tensor]) -> bool:
    """Figure 1's weights, or a scaled copy (with the two hidden units in either order)."""
    paper = paper_weights(torch.float64)
    swapped = {"hidden.weight": paper["hidden.weight"].flip(0),
               "hidden.bias": paper["hidden.bias"].flip(0),
               "output.weight": paper["output.weight"].flip(1), "output.bias": paper["output.bias"]}
    mine = _flat(w)
    if float(mine.norm()) == 0.0:
        return False
    return any(float(torch.nn.functional.cosine_similarity(mine, _flat(p), dim=0)) >= _KNOWN_COSINE
               for p in (paper, swapped))


def start_problem(w: dict[str, torch.Tensor]) -> Problem | None:
    """What is wrong with these starting weights (four tensors keyed by WEIGHT_KEYS), or None."""
    values = _flat(w)
    if not bool(torch.isfinite(values).all()):
        return Problem("an initial value is not a finite number.", _READ + ".")
    largest = {k: float(w[k].detach().to(torch.float64).abs().max()) for k in WEIGHT_KEYS}
    worst = max(largest, key=largest.get)
    biggest = largest[worst]
    if _is_known_network(w):
        return Problem("the initial weights are the paper's Figure 1 weights (or a scaled copy): "
                       "a network that has already learned, not a random start.", _READ + ".")
    x, d = cases()
    if bool(((forward({k: v.to(torch.float64) for k, v in w.items()}, x)[1] - d).abs()
             < 0.5).all()):
        return Problem("the initial weights already solve the task: there is nothing left to "
                       "learn.", _READ + ".")
    bound = protocol("start")
    if biggest > bound + 1e-6:
        if bool((values >= 0).all()):
            return Problem(f"all 17 initial values are >= 0, up to {biggest:.3g}.",
                           _READ + ": which signs can a starting weight have?")
        if all(largest[k] <= _TORCH_DEFAULT[k] + 1e-9 for k in WEIGHT_KEYS):
            return Problem(
                f"the initial weights look like PyTorch's own initialisation ({worst} up to "
                f"{biggest:.2f}; nn.Linear draws from +-1/sqrt(inputs): +-0.41, then +-0.71).",
                "the paper draws every weight and bias its own way (the caption of Figure 1); "
                "overwrite the initial values, biases included, and save them afterwards.")
        return Problem(f"an initial value ({worst}) is {biggest:.3g} in size: larger than the "
                       "paper's starting weights can be.", _READ + ".")
    if bool((values >= 0).all()) or bool((values <= 0).all()):
        return Problem("all 17 initial values have the same sign.",
                       _READ + ": which signs can a starting weight have?")
    if bool((w["hidden.bias"] == 0).all()) and bool((w["output.bias"] == 0).all()):
        return Problem("the biases start at exactly 0.",
                       "the paper treats a bias as a weight from a unit that is always on: "
                       + _READ + ".")
    if len(set(values.tolist())) < values.numel() or biggest < bound / 2:
        return Problem(f"the 17 initial values are not spread out as independent draws are "
                       f"({len(set(values.tolist()))} distinct, largest {biggest:.3f}).",
                       "draw each weight and bias independently, as the paper does (the caption "
                       "of Figure 1); equal starting weights make the two hidden units learn "
                       "the same thing.")
    return None
