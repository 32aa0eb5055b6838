"""Facts about a trained 6-h-1 logistic network for the mirror-symmetry task, judged by the
paper's own reasoning (Rumelhart, Hinton & Williams 1986, experiment 1).

The paper explains its solution like this: each hidden unit gives the two inputs of a mirror
pair weights of equal size and opposite sign, so every symmetric input adds nothing to its net
input; and the sizes differ (1:2:4 in Figure 1) so that no asymmetric input can add up to
nothing either. `network_facts` measures exactly that, per hidden unit, after undoing hidden
units that are the *complement* of the paper's (same function, all signs flipped):

- solves: every one of the 64 outputs within 0.5 of its target AND the summed squared error
  below that of the best constant answer (3.5; the stated error bound);
- antisymmetric: |w + mirror(w)| / |w| <= 0.1 for the unit's six input weights;
- nonzero_sums: every asymmetric input gives a weighted sum (bias left out) of absolute value
  >= MARGIN, and every symmetric one gives at most SYMMETRIC_TOL;
- the ratio of the three mirror-pair magnitudes is *measured* and reported, not judged.

A unit whose input weights are all (about) zero is "degenerate": it takes no part in the
answer and gets no ratio. Weights are mappings with the keys "hidden.weight" (h, 6),
"hidden.bias" (h,), "output.weight" (1, h), "output.bias" (1,), as nn.Linear layers named
`hidden` and `output` store them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

WEIGHT_KEYS = ("hidden.weight", "hidden.bias", "output.weight", "output.bias")
"""The four weight tensors of a 6-h-1 network, in the order of its parameters."""

N_INPUTS = 6
"""Input bits of the task."""

MARGIN = 0.5
"""Smallest |weighted sum| (net input without the bias, in the units of the weights) that an
asymmetric input must give a hidden unit for `nonzero_sums`. Half a unit of net input moves a
logistic unit near its bias by a visible amount (about 0.1 in activity for the paper's -1.1)."""

SYMMETRIC_TOL = 0.1
"""Largest |weighted sum| a symmetric input may give a hidden unit for `nonzero_sums` ("~0")."""

ANTISYMMETRY_TOL = 0.1
"""Largest |w + mirror(w)| / |w| of a hidden unit's input weights that counts as anti-symmetric."""

TWIN_TOL = -0.9
"""Largest cosine between two hidden units' input weights that counts as sign-flipped twins."""

DEGENERATE_TOL = 1e-6
"""A hidden unit whose input weights are all at most this in size is degenerate (unused)."""

Weights = dict[str, torch.Tensor]


# ----------------------------------------------------------------------------------------------
# Reading weights


def weight_shapes(hidden: int) -> dict[str, tuple[int, ...]]:
    """The shape of each weight tensor of a 6-h-1 network with `hidden` hidden units."""
    return {
        "hidden.weight": (hidden, N_INPUTS),
        "hidden.bias": (hidden,),
        "output.weight": (1, hidden),
        "output.bias": (1,),
    }


def check_weights(weights: Mapping[str, torch.Tensor], batched: bool = False) -> int:
    """Check the keys and shapes of a weight mapping and return its number of hidden units.

    `batched` weights hold S networks with one more leading dimension: (S, h, 6), (S, h),
    (S, 1, h), (S, 1). Raises ValueError naming the offending key, the expected and the actual
    shape.
    """
    if not isinstance(weights, Mapping):
        raise ValueError(
            f"weights must be a mapping with keys {', '.join(WEIGHT_KEYS)} "
            f"(e.g. a state_dict), got {type(weights).__name__}"
        )
    missing = [key for key in WEIGHT_KEYS if key not in weights]
    if missing:
        raise ValueError(
            f"weights lack {', '.join(missing)}; expected the keys {', '.join(WEIGHT_KEYS)}"
        )
    lead = 1 if batched else 0
    first = tuple(torch.as_tensor(weights["hidden.weight"]).shape)
    if len(first) != lead + 2 or first[-1] != N_INPUTS or first[lead] < 1:
        want = "(S, h, 6)" if batched else "(h, 6)"
        raise ValueError(f"hidden.weight: expected shape {want} with h >= 1, got {first}")
    hidden = first[lead]
    for key, shape in weight_shapes(hidden).items():
        got = tuple(torch.as_tensor(weights[key]).shape)
        if got != first[:lead] + shape:
            raise ValueError(f"{key}: expected shape {first[:lead] + shape}, got {got}")
    return hidden


def as_weights(
    weights: Mapping[str, torch.Tensor], batched: bool = False, dtype: torch.dtype = torch.float64
) -> Weights:
    """A checked, detached copy of `weights` as a plain dict of `dtype` tensors."""
    check_weights(weights, batched)
    return {key: torch.as_tensor(weights[key]).detach().to(dtype).clone() for key in WEIGHT_KEYS}


# ----------------------------------------------------------------------------------------------
# What a network computes


def _cases() -> tuple[torch.Tensor, torch.Tensor]:
    """The 64 inputs (bits of 0..63, most significant first) and a bool mask of the symmetric."""
    bits = (torch.arange(64)[:, None] >> torch.arange(N_INPUTS - 1, -1, -1)) & 1
    return bits.to(torch.float64), (bits == bits.flip(1)).all(1)


def network_outputs(
    weights: Mapping[str, torch.Tensor], activation: str = "sigmoid"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden activities (..., 64, h) and output activities (..., 64) on the 64 cases in order.

    Works for one network's weights or batched weights (leading dimension S); the output unit
    is logistic, the hidden units `activation` ("sigmoid", "tanh" or "relu").
    """
    functions = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    if activation not in functions:
        raise ValueError(
            f"unknown activation {activation!r}; valid ones are: {', '.join(functions)}"
        )
    w1 = torch.as_tensor(weights["hidden.weight"])
    x = _cases()[0].to(w1.dtype)
    hidden = functions[activation](
        torch.einsum("ci,...hi->...ch", x, w1)
        + torch.as_tensor(weights["hidden.bias"])[..., None, :]
    )
    w2 = torch.as_tensor(weights["output.weight"])[..., 0, :]
    net_input = torch.einsum("...ch,...h->...c", hidden, w2) + torch.as_tensor(
        weights["output.bias"]
    )
    return hidden, torch.sigmoid(net_input)


def complement_normalised(weights: Mapping[str, torch.Tensor]) -> tuple[Weights, torch.Tensor]:
    """The same network with every hidden unit that has a positive outgoing weight replaced by
    its complement, and a bool tensor (..., h) of the units replaced.

    A logistic unit's complement has input weights and bias negated; since
    sigmoid(-z) = 1 - sigmoid(z), negating its outgoing weight v and adding v to the output
    bias gives identical outputs. Afterwards every hidden unit, like both of Figure 1, has a
    negative outgoing weight: it is on when the input is *not* symmetric.
    """
    batched = torch.as_tensor(weights["hidden.weight"]).dim() == 3
    w = as_weights(weights, batched)
    v = w["output.weight"][..., 0, :]
    flip = v > 0
    sign = 1.0 - 2.0 * flip.to(v.dtype)
    return {
        "hidden.weight": w["hidden.weight"] * sign[..., None],
        "hidden.bias": w["hidden.bias"] * sign,
        "output.weight": w["output.weight"] * sign[..., None, :],
        "output.bias": w["output.bias"] + (v * flip).sum(-1, keepdim=True),
    }, flip


# ----------------------------------------------------------------------------------------------
# The facts


@dataclass(frozen=True)
class NetworkFacts:
    """What network_facts found about one network; `.lines()` says it in words.

    Per hidden unit (tuples of length h): complemented, degenerate, antisymmetric,
    antisymmetry_error, nonzero_sums, smallest_asymmetric_sum, largest_symmetric_sum, ratios
    (the three mirror-pair magnitudes sorted and divided by the smallest; None when undefined)
    and pair_magnitudes (outer, middle, inner pair). The stated bounds are kept with the facts.
    """

    solves: bool
    within_half: bool
    max_miss: float
    error: float
    error_bound: float
    complemented: tuple[bool, ...]
    degenerate: tuple[bool, ...]
    antisymmetric: tuple[bool, ...]
    antisymmetry_error: tuple[float, ...]
    nonzero_sums: tuple[bool, ...]
    smallest_asymmetric_sum: tuple[float, ...]
    largest_symmetric_sum: tuple[float, ...]
    ratios: tuple[tuple[float, float, float] | None, ...]
    pair_magnitudes: tuple[tuple[float, float, float], ...]
    twin_correlation: float | None
    paper_signs: bool
    margin: float = MARGIN
    symmetric_tol: float = SYMMETRIC_TOL
    antisymmetry_tol: float = ANTISYMMETRY_TOL

    @property
    def used_units(self) -> list[int]:
        """Indices of the hidden units that are not degenerate."""
        return [j for j, dead in enumerate(self.degenerate) if not dead]

    @property
    def mirror_antisymmetric(self) -> bool:
        """Every used hidden unit is mirror anti-symmetric (and at least one is used)."""
        used = self.used_units
        return bool(used) and all(self.antisymmetric[j] for j in used)

    @property
    def paper_reason(self) -> bool:
        """Every used hidden unit is anti-symmetric and separates every asymmetric input from
        the symmetric ones by at least the margin: the paper's explanation holds."""
        used = self.used_units
        return bool(used) and all(self.antisymmetric[j] and self.nonzero_sums[j] for j in used)

    @property
    def twins(self) -> bool | None:
        """Two hidden units are the same pattern with opposite signs (None with one unit)."""
        return None if self.twin_correlation is None else self.twin_correlation <= TWIN_TOL

    def ratio_text(self, unit: int) -> str:
        """Hidden unit `unit`'s ratio as text, e.g. '1:2.0:3.9' ('undefined' if None)."""
        ratio = self.ratios[unit]
        return "undefined" if ratio is None else ":".join(f"{r:.1f}" for r in ratio)

    def lines(self) -> list[str]:
        """The facts as short sentences, one per line."""
        mark = {True: "yes", False: "no "}
        out = [
            f"[{mark[self.solves]}] solves the task: every output within 0.5 of its target "
            f"({'yes' if self.within_half else 'no'}, largest miss {self.max_miss:.3f}) and "
            f"E = {self.error:.3f} {'below' if self.error < self.error_bound else 'not below'} "
            f"{self.error_bound:.2f} (the error of the best constant answer)",
            f"[{mark[self.mirror_antisymmetric]}] mirror anti-symmetric: every used hidden "
            "unit gives the two inputs of each mirror pair opposite weights "
            f"(|w + mirror(w)|/|w| <= {self.antisymmetry_tol:g})",
            f"[{mark[self.paper_reason]}] the paper's reason: in every used hidden unit each "
            f"asymmetric input gives |sum| >= {self.margin:g} and each symmetric one "
            f"<= {self.symmetric_tol:g}",
        ]
        for j in range(len(self.degenerate)):
            flipped = " (complemented before judging)" if self.complemented[j] else ""
            if self.degenerate[j]:
                out.append(f"  hidden unit {j + 1}{flipped}: degenerate (all input weights ~0)")
                continue
            out.append(
                f"  hidden unit {j + 1}{flipped}: anti-symmetry error "
                f"{self.antisymmetry_error[j]:.3f}, smallest asymmetric |sum| "
                f"{self.smallest_asymmetric_sum[j]:.2f}, largest symmetric |sum| "
                f"{self.largest_symmetric_sum[j]:.2f}, pair ratio {self.ratio_text(j)} "
                "(paper: 1:2:4)"
            )
        if self.twin_correlation is not None:
            out.append(
                f"  sign-flipped twin units: {'yes' if self.twins else 'no'} "
                f"(cosine {self.twin_correlation:.2f})"
            )
        out.append(
            "  signs as in Figure 1 (hidden biases < 0, outgoing weights < 0, output bias > 0): "
            f"{'yes' if self.paper_signs else 'no'}"
        )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _measure(
    w: Weights,
    margin: float,
    symmetric_tol: float,
    antisymmetry_tol: float,
    error_bound: float | None,
) -> list[NetworkFacts]:
    """The facts of S networks given as batched float64 weights (S, ...)."""
    normal, flipped = complement_normalised(w)
    x, symmetric = _cases()
    _, y = network_outputs(normal)
    targets = symmetric.to(torch.float64)
    miss = (y - targets).abs()
    max_miss = miss.amax(-1)
    error = 0.5 * (miss**2).sum(-1)
    constant = 0.5 * float(((targets - targets.mean()) ** 2).sum())
    bound = constant if error_bound is None else error_bound
    w1 = normal["hidden.weight"]  # (S, h, 6)
    size = w1.abs().amax(-1)
    degenerate = size <= DEGENERATE_TOL
    norm = w1.norm(dim=-1)
    anti_error = (w1 + w1.flip(-1)).norm(dim=-1) / norm.where(~degenerate, torch.ones_like(norm))
    anti_error = anti_error.masked_fill(degenerate, math.nan)
    sums = torch.einsum("ci,shi->shc", x, w1).abs()
    smallest = sums[..., ~symmetric].amin(-1)
    largest = sums[..., symmetric].amax(-1)
    antisymmetric = (anti_error <= antisymmetry_tol) & ~degenerate
    nonzero = (smallest >= margin) & (largest <= symmetric_tol) & ~degenerate
    pairs = (w1[..., :3].abs() + w1[..., 3:].flip(-1).abs()) / 2  # outer, middle, inner
    ordered = pairs.sort(-1).values
    defined = (ordered[..., 0] > DEGENERATE_TOL) & torch.isfinite(ordered).all(-1)
    ratios = ordered / ordered[..., :1].where(defined[..., None], torch.ones_like(ordered[..., :1]))
    h = w1.shape[1]
    if h >= 2:
        unit = w1 / norm.clamp_min(1e-300)[..., None]
        cos = unit @ unit.transpose(-1, -2) + 3 * torch.eye(h, dtype=w1.dtype)
        twin = cos.flatten(-2).amin(-1).tolist()
    else:
        twin = [None] * w1.shape[0]
    signs = (
        (normal["hidden.bias"] < 0).all(-1)
        & (normal["output.weight"][:, 0] < 0).all(-1)
        & (normal["output.bias"][:, 0] > 0)
    )
    lists = [
        t.tolist()
        for t in (flipped, degenerate, antisymmetric, anti_error, nonzero, smallest, largest)
    ]
    ratio_list, defined_list, pair_list = ratios.tolist(), defined.tolist(), pairs.tolist()
    facts = []
    for s in range(w1.shape[0]):
        within = float(max_miss[s]) < 0.5
        facts.append(
            NetworkFacts(
                solves=within and float(error[s]) < bound,
                within_half=within,
                max_miss=float(max_miss[s]),
                error=float(error[s]),
                error_bound=bound,
                complemented=tuple(lists[0][s]),
                degenerate=tuple(lists[1][s]),
                antisymmetric=tuple(lists[2][s]),
                antisymmetry_error=tuple(lists[3][s]),
                nonzero_sums=tuple(lists[4][s]),
                smallest_asymmetric_sum=tuple(lists[5][s]),
                largest_symmetric_sum=tuple(lists[6][s]),
                ratios=tuple(
                    tuple(r) if ok and not dead else None
                    for r, ok, dead in zip(ratio_list[s], defined_list[s], lists[1][s], strict=True)
                ),
                pair_magnitudes=tuple(tuple(p) for p in pair_list[s]),
                twin_correlation=twin[s],
                paper_signs=bool(signs[s]),
                margin=margin,
                symmetric_tol=symmetric_tol,
                antisymmetry_tol=antisymmetry_tol,
            )
        )
    return facts


def network_facts(
    weights: Mapping[str, torch.Tensor],
    margin: float = MARGIN,
    symmetric_tol: float = SYMMETRIC_TOL,
    antisymmetry_tol: float = ANTISYMMETRY_TOL,
    error_bound: float | None = None,
) -> NetworkFacts:
    """The facts about one trained logistic 6-h-1 network (see the module docstring).

    `error_bound` is the summed squared error a network must stay below to "solve" the task;
    None uses the error of the best constant answer (3.5 for the 64 cases).
    """
    w = {key: value[None] for key, value in as_weights(weights).items()}
    return _measure(w, margin, symmetric_tol, antisymmetry_tol, error_bound)[0]


def many_network_facts(
    weights: Mapping[str, torch.Tensor],
    margin: float = MARGIN,
    symmetric_tol: float = SYMMETRIC_TOL,
    antisymmetry_tol: float = ANTISYMMETRY_TOL,
    error_bound: float | None = None,
) -> list[NetworkFacts]:
    """network_facts for each of S networks given as batched weights (S, h, 6), (S, h), ..."""
    w = as_weights(weights, batched=True)
    return _measure(w, margin, symmetric_tol, antisymmetry_tol, error_bound)


__all__ = [
    "ANTISYMMETRY_TOL",
    "DEGENERATE_TOL",
    "MARGIN",
    "SYMMETRIC_TOL",
    "TWIN_TOL",
    "WEIGHT_KEYS",
    "NetworkFacts",
    "as_weights",
    "check_weights",
    "complement_normalised",
    "many_network_facts",
    "network_facts",
    "network_outputs",
    "weight_shapes",
]
