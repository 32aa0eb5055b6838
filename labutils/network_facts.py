"""Facts about a trained 6-h-1 logistic network for the mirror-symmetry task, judged by the
paper's own reasoning (Rumelhart, Hinton & Williams 1986, experiment 1).

The paper explains its solution like this: each hidden unit gives the two inputs of a mirror
pair weights of equal size and opposite sign, so every symmetric input adds nothing to its net
input; and the sizes differ (1:2:4 in Figure 1) so that no asymmetric input can add up to
nothing either. `network_facts` measures exactly that, per *used* hidden unit, after undoing
used units that are the *complement* of the paper's (same function, all signs flipped):

- solves (on the weights as given): every one of the 64 outputs within 0.5 of its target AND
  the summed squared error below that of the best constant answer (3.5; the stated bound);
- used: replacing the unit's activity by its mean over the 64 cases moves some output by more
  than USED_TOL; a unit that fails this takes no part in the answer and is not judged;
- antisymmetric: in EACH of the three mirror pairs (a, b), |a + b| <= ANTISYMMETRY_TOL * max(|a|,
  |b|) (a pair of two zeros counts as opposite);
- nonzero_sums: with s = the unit's largest |input weight|, every asymmetric input gives a
  weighted sum (bias left out) of absolute value >= MARGIN * s, and every symmetric one at most
  SYMMETRIC_TOL * s (relative, so a network and the same network scaled are judged alike);
- the ratio of the three mirror-pair magnitudes is *measured* and reported, not judged.

Weights are mappings with the keys "hidden.weight" (h, 6), "hidden.bias" (h,), "output.weight"
(1, h), "output.bias" (1,), as nn.Linear layers named `hidden` and `output` store them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from labutils.network_weights import as_weights, check_weights
from labutils.symmetry_task import Weights, cases, forward, summed_error

MARGIN = 0.1
"""Smallest |weighted sum| (net input without the bias) that an asymmetric input must give a
used hidden unit for `nonzero_sums`, as a fraction of the unit's largest |input weight|. No
three pair magnitudes do better than 0.25 (1:2:4 and 2:3:4 reach it; 1:2:3 gives 0), so 0.1
asks for 40% of the best possible code; at the scale of a run that has just learned the task
(largest weight about 5) it is the absolute 0.5 this module used before."""

SYMMETRIC_TOL = 0.02
"""Largest |weighted sum| a symmetric input may give a used hidden unit for `nonzero_sums`
("~0"), as a fraction of its largest |input weight|: a fifth of MARGIN, so the symmetric and the
asymmetric sums stay five times apart (the absolute 0.1 of before at a largest weight of 5)."""

ANTISYMMETRY_TOL = 0.1
"""Largest |a + b| / max(|a|, |b|) of each mirror pair (a, b) that counts as opposite weights."""

USED_TOL = 0.01
"""A hidden unit is used when replacing its activity by its mean over the 64 cases moves some
output by more than this: a fiftieth of the 0.5 that decides whether a case is right."""

TWIN_TOL = -0.9
"""Largest cosine between two hidden units' input weights that counts as sign-flipped twins."""

DEGENERATE_TOL = 1e-6
"""Pair magnitudes at most this are zero: the ratio of a unit with such a pair is undefined."""

# ----------------------------------------------------------------------------------------------
# What a network computes


def _complemented(w: Weights, flip: torch.Tensor) -> Weights:
    """The network `w` with the hidden units marked in the bool tensor `flip` (..., h)
    replaced by their complements (same outputs)."""
    v = w["output.weight"][..., 0, :]
    sign = 1.0 - 2.0 * flip.to(v.dtype)
    return {
        "hidden.weight": w["hidden.weight"] * sign[..., None],
        "hidden.bias": w["hidden.bias"] * sign,
        "output.weight": w["output.weight"] * sign[..., None, :],
        "output.bias": w["output.bias"] + (v * flip).sum(-1, keepdim=True),
    }


def complement_normalised(weights: Mapping[str, torch.Tensor]) -> tuple[Weights, torch.Tensor]:
    """The same network with every hidden unit that has a positive outgoing weight replaced by
    its complement, and a bool tensor (..., h) of the units replaced.

    A logistic unit's complement has input weights and bias negated; since
    sigmoid(-z) = 1 - sigmoid(z), negating its outgoing weight v and adding v to the output
    bias gives identical outputs (in exact arithmetic: with huge v the new bias loses digits).
    Afterwards every hidden unit, like both of Figure 1, has a negative outgoing weight: it is
    on when the input is *not* symmetric.
    """
    w = as_weights(weights, torch.as_tensor(weights["hidden.weight"]).dim() == 3)
    flip = w["output.weight"][..., 0, :] > 0
    return _complemented(w, flip), flip


# ----------------------------------------------------------------------------------------------
# The facts


@dataclass(frozen=True)
class NetworkFacts:
    """What network_facts found about one network; `.lines()` says it in words.

    Per hidden unit (tuples of length h): used, output_effect, complemented, scale (largest
    |input weight|), antisymmetric, antisymmetry_error (the worst of pair_antisymmetry_error,
    outer, middle, inner pair), nonzero_sums, smallest_asymmetric_sum, largest_symmetric_sum
    (absolute), ratios (the three mirror-pair magnitudes sorted and divided by the smallest; None
    when undefined or unused) and pair_magnitudes. The bounds used are kept with the facts.
    """

    solves: bool
    within_half: bool
    max_miss: float
    error: float
    error_bound: float
    used: tuple[bool, ...]
    output_effect: tuple[float, ...]
    complemented: tuple[bool, ...]
    scale: tuple[float, ...]
    antisymmetric: tuple[bool, ...]
    antisymmetry_error: tuple[float, ...]
    pair_antisymmetry_error: tuple[tuple[float, float, float], ...]
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
    used_tol: float = USED_TOL

    @property
    def degenerate(self) -> tuple[bool, ...]:
        """Per hidden unit: not used (the name of earlier versions, kept as an alias)."""
        return tuple(not u for u in self.used)

    @property
    def used_units(self) -> list[int]:
        """Indices of the used hidden units."""
        return [j for j, u in enumerate(self.used) if u]

    @property
    def mirror_antisymmetric(self) -> bool:
        """Every used hidden unit is anti-symmetric in every mirror pair (and one is used)."""
        used = self.used_units
        return bool(used) and all(self.antisymmetric[j] for j in used)

    @property
    def paper_reason(self) -> bool:
        """Every used hidden unit is anti-symmetric and separates every asymmetric input from
        the symmetric ones by the margins: the paper's explanation holds."""
        used = self.used_units
        return bool(used) and all(self.antisymmetric[j] and self.nonzero_sums[j] for j in used)

    @property
    def twins(self) -> bool | None:
        """Two used hidden units are the same pattern with opposite signs (None with < 2)."""
        return None if self.twin_correlation is None else self.twin_correlation <= TWIN_TOL

    def ratio_text(self, unit: int) -> str:
        """Hidden unit `unit`'s ratio as text, e.g. '1:2.0:3.9' ('undefined' if None)."""
        ratio = self.ratios[unit]
        return "undefined" if ratio is None else ":".join(f"{r:.1f}" for r in ratio)

    def _unit_line(self, j: int) -> str:
        name = f"  hidden unit {j + 1}"
        if not self.used[j]:
            return (f"{name}: not used (its mean activity instead of its activity moves no "
                    f"output by more than {self.used_tol:g}: {self.output_effect[j]:.3f})")
        s = self.scale[j]
        flipped = " (complemented before judging)" if self.complemented[j] else ""
        return (
            f"{name}{flipped}: largest |weight| s = {s:.3g}, worst pair "
            f"|a + b|/max(|a|,|b|) {self.antisymmetry_error[j]:.3f}, smallest asymmetric |sum| "
            f"{self.smallest_asymmetric_sum[j]:.2f} = {self.smallest_asymmetric_sum[j] / s:.3f} s, "
            f"largest symmetric |sum| {self.largest_symmetric_sum[j]:.2f} = "
            f"{self.largest_symmetric_sum[j] / s:.3f} s, pair ratio {self.ratio_text(j)} "
            "(paper: 1:2:4)"
        )

    def lines(self) -> list[str]:
        """The facts as short sentences, one per line."""
        mark = {True: "yes", False: "no "}
        out = [
            f"[{mark[self.solves]}] solves the task: every output within 0.5 of its target "
            f"({'yes' if self.within_half else 'no'}, largest miss {self.max_miss:.3f}) and "
            f"E = {self.error:.3f} {'below' if self.error < self.error_bound else 'not below'} "
            f"{self.error_bound:.2f} (the error of the best constant answer)",
            f"[{mark[self.mirror_antisymmetric]}] mirror anti-symmetric: every used hidden "
            "unit gives the two inputs of each mirror pair (a, b) opposite weights "
            f"(|a + b| <= {self.antisymmetry_tol:g} max(|a|, |b|) in all three pairs)",
            f"[{mark[self.paper_reason]}] the paper's reason: in every used hidden unit each "
            f"asymmetric input gives |sum| >= {self.margin:g} s and each symmetric one "
            f"<= {self.symmetric_tol:g} s (s: the unit's largest |input weight|)",
        ]
        out += [self._unit_line(j) for j in range(len(self.used))]
        if self.twin_correlation is not None:
            out.append(
                f"  sign-flipped twin units: {'yes' if self.twins else 'no'} "
                f"(cosine {self.twin_correlation:.2f})"
            )
        out.append(
            "  signs as in Figure 1 (used units: hidden biases < 0, outgoing weights < 0; output "
            f"bias > 0): {'yes' if self.paper_signs else 'no'}"
        )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _answers(w: Weights) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Outputs (S, 64) of S networks on their weights as given, and each hidden unit's effect
    (S, h): the largest output change when its activity is replaced by its mean (NaN: unknown)."""
    hidden, _ = forward(w)
    v = w["output.weight"][:, 0, :]
    net = torch.einsum("sch,sh->sc", hidden, v) + w["output.bias"]
    y = torch.sigmoid(net)
    delta = (hidden.mean(-2, keepdim=True) - hidden) * v[:, None, :]
    effect = (torch.sigmoid(net[..., None] + delta) - y[..., None]).abs().amax(-2)
    return y, hidden, effect


def _pair_errors(w1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """|a + b| / max(|a|, |b|) for each mirror pair (a, b) of each unit (S, h, 3: outer,
    middle, inner; 0 for a pair of zeros) and the pair magnitudes (|a| + |b|) / 2."""
    a, b = w1[..., :3], w1[..., 3:].flip(-1)
    big = torch.maximum(a.abs(), b.abs())
    ratio = (a + b).abs() / big.where(big > 0, torch.ones_like(big))
    return ratio.where(big != 0, torch.zeros_like(big)), (a.abs() + b.abs()) / 2


def _twins(w1: torch.Tensor, used: torch.Tensor) -> list[float | None]:
    """Per network, the smallest cosine between two used units' input weights (None: < 2)."""
    unit = w1 / w1.norm(dim=-1).clamp_min(1e-300)[..., None]
    both = used[..., :, None] & used[..., None, :] & ~torch.eye(w1.shape[1], dtype=torch.bool)
    cos = (unit @ unit.transpose(-1, -2)).masked_fill(~both, math.inf).flatten(-2).amin(-1)
    return [None if c == math.inf else c for c in cos.tolist()]


def _measure(w: Weights, bounds: dict[str, float], error_bound: float | None) -> list[NetworkFacts]:
    """The facts of S networks given as batched float64 weights (S, ...)."""
    x, targets = cases()
    symmetric = targets == 1
    y, _, effect = _answers(w)
    max_miss, error = (y - targets).abs().amax(-1), summed_error(y, targets)
    if error_bound is None:
        error_bound = float(summed_error(targets.mean().expand(targets.shape), targets))
    used = ~(effect <= bounds["used_tol"])  # an effect that is NaN counts as used
    flipped = (w["output.weight"][:, 0] > 0) & used
    normal = _complemented(w, flipped)
    w1 = normal["hidden.weight"]  # (S, h, 6)
    scale = w1.abs().amax(-1)
    pair_error, pairs = _pair_errors(w1)
    anti_error = pair_error.amax(-1)
    sums = torch.einsum("ci,shi->shc", x, w1).abs()
    smallest, largest = sums[..., ~symmetric].amin(-1), sums[..., symmetric].amax(-1)
    antisymmetric = (anti_error <= bounds["antisymmetry_tol"]) & used
    nonzero = (
        (smallest >= bounds["margin"] * scale)
        & (largest <= bounds["symmetric_tol"] * scale)
        & (scale > 0)
        & used
    )
    ordered = pairs.sort(-1).values
    defined = (ordered[..., 0] > DEGENERATE_TOL) & torch.isfinite(ordered).all(-1) & used
    ratios = ordered / ordered[..., :1].where(defined[..., None], torch.ones_like(ordered[..., :1]))
    signs = (
        ((normal["hidden.bias"] < 0) | ~used).all(-1)
        & ((normal["output.weight"][:, 0] < 0) | ~used).all(-1)
        & (normal["output.bias"][:, 0] > 0)
        & used.any(-1)
    )
    per_unit = dict(
        used=used, output_effect=effect, complemented=flipped, scale=scale,
        antisymmetric=antisymmetric, antisymmetry_error=anti_error,
        pair_antisymmetry_error=pair_error, nonzero_sums=nonzero,
        smallest_asymmetric_sum=smallest, largest_symmetric_sum=largest, pair_magnitudes=pairs,
    )
    lists = {name: t.tolist() for name, t in per_unit.items()}
    ratio_list, defined_list, twin = ratios.tolist(), defined.tolist(), _twins(w1, used)
    facts = []
    for s in range(w1.shape[0]):
        unit = {name: tuple(_tuple(v) for v in value[s]) for name, value in lists.items()}
        facts.append(NetworkFacts(
            solves=float(max_miss[s]) < 0.5 and float(error[s]) < error_bound,
            within_half=float(max_miss[s]) < 0.5,
            max_miss=float(max_miss[s]),
            error=float(error[s]),
            error_bound=error_bound,
            ratios=tuple(
                tuple(r) if ok else None
                for r, ok in zip(ratio_list[s], defined_list[s], strict=True)
            ),
            twin_correlation=twin[s],
            paper_signs=bool(signs[s]),
            **unit,
            **bounds,
        ))
    return facts


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def network_facts(
    weights: Mapping[str, torch.Tensor],
    margin: float = MARGIN,
    symmetric_tol: float = SYMMETRIC_TOL,
    antisymmetry_tol: float = ANTISYMMETRY_TOL,
    error_bound: float | None = None,
    used_tol: float = USED_TOL,
) -> NetworkFacts:
    """The facts about one trained logistic 6-h-1 network (see the module docstring).

    `margin` and `symmetric_tol` are fractions of each unit's largest |input weight|;
    `error_bound` is the summed squared error a network must stay below to "solve" the task
    (None: the error of the best constant answer, 3.5 for the 64 cases).
    """
    return many_network_facts(
        {key: value[None] for key, value in as_weights(weights).items()},
        margin, symmetric_tol, antisymmetry_tol, error_bound, used_tol,
    )[0]


def many_network_facts(
    weights: Mapping[str, torch.Tensor],
    margin: float = MARGIN,
    symmetric_tol: float = SYMMETRIC_TOL,
    antisymmetry_tol: float = ANTISYMMETRY_TOL,
    error_bound: float | None = None,
    used_tol: float = USED_TOL,
) -> list[NetworkFacts]:
    """network_facts for each of S networks given as batched weights (S, h, 6), (S, h), ..."""
    bounds = dict(margin=margin, symmetric_tol=symmetric_tol,
                  antisymmetry_tol=antisymmetry_tol, used_tol=used_tol)
    return _measure(as_weights(weights, batched=True), bounds, error_bound)


__all__ = [
    "ANTISYMMETRY_TOL",
    "DEGENERATE_TOL",
    "MARGIN",
    "SYMMETRIC_TOL",
    "TWIN_TOL",
    "USED_TOL",
    "NetworkFacts",
    "as_weights",
    "check_weights",
    "complement_normalised",
    "many_network_facts",
    "network_facts",
]
