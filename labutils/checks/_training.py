"""The training self-check: the recorded errors compared with a replay of the paper's rule from
the saved initial weights, and, when they differ, which classic mistake (or which part of the
rule) the evidence points at. Messages name the equation or the code to re-read and the
evidence, never the protocol's numbers.
"""

from __future__ import annotations

import torch

from labutils.checks import _rule
from labutils.checks._read import as_count, as_numbers, as_tensor, find_weights, tensors_of
from labutils.checks._report import CheckResult, Problem
from labutils.symmetry_task import WEIGHT_KEYS, codes_of

RTOL = {torch.float64: 1e-6, torch.float32: 1e-4}
"""Relative tolerance between a recorded error and the replay's. An honest float32 run stays
within 4e-7 of the float64 replay over the replayed sweeps (50 seeds measured); a learning rate
or momentum off by 1% leaves it by more than 1e-3 (tests/test_checks.py)."""

_PROBE = 2
"""Sweeps replayed first for each classic mistake; the full replay only when these agree."""

_RECORDED_SCALES = ((1.0, ""), (2.0, "twice"), (1 / 32, "1/32 of"), (1 / 64, "1/64 of"))
"""Recorded errors that are the paper's E times a constant (the weight changes may be right)."""


def _shares_memory(a, b) -> bool:
    pointers = {t.untyped_storage().data_ptr() for t in tensors_of(a) if t.numel()}
    return any(t.numel() and t.untyped_storage().data_ptr() in pointers for t in tensors_of(b))


def _first_miss(mine: torch.Tensor, reference: torch.Tensor, rtol: float) -> int | None:
    """Index of the first error that differs from the reference, or None if all agree."""
    n = min(len(mine), len(reference))
    bad = ((mine[:n] - reference[:n]).abs() > rtol * reference[:n].abs() + 1e-12).nonzero()
    return int(bad[0]) if len(bad) else None


def _read_run(initial_weights, errors, sweeps, net):
    """(errors, sweeps, initial weights), or a Problem with what does not fit together."""
    e = as_numbers(errors, "errors")
    n = as_count(sweeps, "sweeps")
    w0 = find_weights(initial_weights, "initial_weights")
    if len(e) == 0:
        raise Problem("`errors` is empty.", "record E once per sweep, before its weight change.")
    if not bool(torch.isfinite(e).all()):
        first = int((~torch.isfinite(e)).nonzero()[0])
        raise Problem(f"`errors[{first}]` is {float(e[first])}: the run blew up.",
                      "a finite rule on this tiny network never gives inf or nan; check your "
                      "weight change (its sign and size).")
    if len(e) != n:
        extra = " (one more: is E after the last change in it too?)" if len(e) == n + 1 else ""
        raise Problem(f"`errors` has {len(e)} entries but `sweeps` is {n}{extra}.",
                      "record one E per sweep, before that sweep's weight change, and let "
                      "`sweeps` count the weight changes; the grader replays exactly that.")
    if net is not None and n > 0:
        if _shares_memory(initial_weights, net):
            raise Problem("`initial_weights` shares memory with `net`: it changed while the "
                          "network trained.",
                          "save a copy of the weights (not a view of them) right after "
                          "initialisation.")
        try:
            final = find_weights(net, "net")
        except Problem:
            final = None
        if final is not None and all(torch.equal(final[k].double(), w0[k].double())
                                     for k in WEIGHT_KEYS):
            raise Problem("`initial_weights` equals the trained `net`.",
                          "save the weights right after initialisation, before training.")
    return e, n, w0


def _case_order(inputs) -> torch.Tensor | None:
    """The order of the student's cases (codes), when `inputs` holds the 64 distinct ones."""
    if inputs is None:
        return None
    try:
        x = as_tensor(inputs, "inputs")
    except Problem:
        return None
    if tuple(x.shape) != (64, 6):
        return None
    codes = codes_of(x)
    return codes if len(set(codes.tolist())) == 64 else None


def first_departure(w0: dict[str, torch.Tensor], e: torch.Tensor):
    """(start in float64, the replay's errors, index of the first recorded error that leaves
    the replay or None, the tolerance used) over the first MAX_REPLAY sweeps."""
    float32 = any(w0[k].dtype != torch.float64 for k in WEIGHT_KEYS)
    rtol = RTOL[torch.float32 if float32 else torch.float64]
    w = {key: v.detach().to(torch.float64) for key, v in w0.items()}
    paper, _ = _rule.replay(w, min(len(e), _rule.MAX_REPLAY), _rule.PAPER)
    return w, paper, _first_miss(e[:len(paper)], paper, rtol), rtol


def evaluate_training(initial_weights, errors, sweeps, net=None, inputs=None) -> CheckResult:
    """Replay the paper's rule from `initial_weights`; compare with the recorded `errors`."""
    e, n, w0 = _read_run(initial_weights, errors, sweeps, net)
    w, paper, miss, rtol = first_departure(w0, e)
    k = len(paper)
    if miss is None:
        return CheckResult(
            "training", "PASS",
            f"your first {k} errors match a replay of the paper's rule from your initial "
            "weights.",
            lines=[f"E before the first sweep: {float(paper[0]):.4f}; your run made {n} weight "
                   "changes."])
    raise _diagnose(e[:k], w, paper, miss, rtol, _case_order(inputs))


def _matches(rule: _rule.Rule, w, e: torch.Tensor, rtol: float, order) -> bool:
    """Whether `rule` from `w` gives the errors `e` (at the start of, or during, each sweep)."""
    probe = min(len(e), _PROBE)
    early = _rule.replay(w, probe, rule, order)
    if not any(_first_miss(e[:probe], s, rtol) is None for s in early):
        return False
    return any(_first_miss(e, s, rtol) is None for s in _rule.replay(w, len(e), rule, order))


def _evidence(e: torch.Tensor, paper: torch.Tensor, t: int) -> str:
    return f"your error at sweep {t} is {float(e[t]):.6g}, the replay's {float(paper[t]):.6g}"


def _diagnose(e, w, paper, miss, rtol, order) -> Problem:
    """Which classic mistake produced these errors (or where they leave the paper's rule)."""
    tried = False
    for scale, how in _RECORDED_SCALES:
        if abs(float(e[0]) / scale - float(paper[0])) > rtol * float(paper[0]) + 1e-12:
            continue
        scaled, tried = e / scale, scale == 1.0
        if _matches(_rule.PAPER, w, scaled, rtol, order):
            return Problem(f"your weight changes follow the paper's rule, but the errors you "
                           f"record are {how} the paper's E ({_evidence(e, paper, 0)}).",
                           "re-read the paper's definition of E (eq. 3) and compare what you "
                           "record with it, term by term.")
        for rule in _rule.MISTAKES:
            if _matches(rule, w, scaled, rtol, order):
                also = "" if scale in (1.0, rule.gradient_scale) else (
                    f" Also, the errors you record are {how} the paper's E.")
                return Problem(f"your errors match the paper's rule with this mistake: "
                               f"{rule.name} ({_evidence(e, paper, min(miss, len(e) - 1))}).",
                               rule.hint + also)
        break
    after, _ = _rule.replay(w, min(len(e), _PROBE) + 1, _rule.PAPER)
    if (len(e) > 1 and _first_miss(e, after[1:], rtol) is None
            and _first_miss(e, _rule.replay(w, len(e) + 1, _rule.PAPER)[0][1:], rtol) is None):
        return Problem("your errors are one sweep late: errors[t] is E after the t-th weight "
                       "change.", "record E before each weight change, starting from the "
                       "initial weights.")
    for rule in _rule.MISTAKES:  # mistakes that also change the error recorded first
        if (rule.per_case or rule.broadcast) and not tried and _matches(rule, w, e, rtol, order):
            return Problem(f"your errors match the paper's rule with this mistake: {rule.name}.",
                           rule.hint)
    return _departure(e, paper, miss)


def _departure(e, paper, miss) -> Problem:
    """No classic mistake fits: say where the run leaves the paper's rule and what to re-read."""
    if miss == 0:
        return Problem(
            f"errors[0] is not the paper's E of `initial_weights`: {_evidence(e, paper, 0)} "
            f"({float(e[0]) / float(paper[0]):.3g} times the replay's).",
            "errors[0] must be the paper's E (eq. 3) of the saved initial weights, recorded "
            "before the first weight change; did training start from exactly the weights you "
            "saved?")
    if miss == 1:
        return Problem(
            f"errors[0] is right, but your first weight change differs from the paper's rule: "
            f"{_evidence(e, paper, 1)}.",
            "compare your first weight change with eq. 8 and 9: the learning rate, and the "
            "gradient of your E over the cases of one sweep.")
    return Problem(
        f"your first weight change matches the paper's rule, later ones do not: from sweep "
        f"{miss} on, {_evidence(e, paper, miss)}.",
        "the first change has nothing to carry over yet, later ones do: look first at the "
        "momentum term of eq. 9 in your code (its value, and what it carries over); a"
        " learning rate slightly off also shows first here.")
