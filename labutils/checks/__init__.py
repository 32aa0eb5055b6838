"""Self-checks of the 1986 assignment: the cells marked `# CHECK: <name> (do not edit)`.

Each check takes the notebook's namespace (`globals()`), reads the few names the assignment
asks for, and prints `PASS`, `NOTE` or `FAIL` with what to look at. A wrong or missing answer
never raises. The checks judge outcomes, not how the code is written:

- `dataset`: `inputs` (64, 6) and `targets` (64 or 64 x 1), in any row order;
- `network`: `net` (anything holding a 6->2 and a 2->1 linear map: nn.Sequential, named layers,
  raw tensors; found by shape) and `initial_weights` (the same maps saved right after
  initialisation): the activation, and whether the start is one the paper's protocol could
  have drawn (labutils.checks._start: the same judgement the grader applies);
- `training`: `errors` (E before each sweep's weight change) and `sweeps` (weight changes
  made), compared with a replay of the paper's rule from `initial_weights`, which tells the
  classic mistakes apart;
- `solution`: the trained `net`, described by the paper's own reasoning
  (labutils.network_facts): does it solve the task, is each hidden unit mirror anti-symmetric,
  does every asymmetric input give a distinct non-zero sum; the 1:2:4 ratio is information.

The checks know the protocol (labutils.checks._protocol says why that is stated openly rather
than hidden); what they print points at the paper and the evidence, never at its numbers.
The printed lines are feedback for the student. The grader does not read them: it collects
`submission_data(globals())` and judges that data in its own process.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from labutils.checks._read import as_count, as_numbers, as_tensor, find_weights
from labutils.checks._report import RESULTS, CheckResult, Problem, run_check
from labutils.checks._start import start_problem
from labutils.checks._study import study_data
from labutils.checks._training import evaluate_training
from labutils.paper1986 import PAPER_SWEEPS
from labutils.symmetry_task import WEIGHT_KEYS, cases, codes_of, forward

CHECK_READS: dict[str, tuple[str, ...]] = {
    "dataset": ("inputs", "targets"),
    "network": ("net", "initial_weights"),
    "training": ("initial_weights", "errors", "sweeps"),
    "solution": ("net", "sweeps"),
}
"""The notebook names each check needs (a check FAILs, without running, when one is missing)."""

# ----------------------------------------------------------------------------------------------
# The dataset


def evaluate_dataset(inputs, targets) -> CheckResult:
    """Every 6-bit vector exactly once (any order); target 1 exactly for the mirror-symmetric."""
    for label, value in (("inputs", inputs), ("targets", targets)):
        if isinstance(value, torch.Tensor) and not value.is_floating_point():
            raise Problem(f"`{label}` holds {value.dtype} numbers.",
                          "a network computes with floating-point numbers; convert them.")
    x, d = as_tensor(inputs, "inputs"), as_tensor(targets, "targets")
    if tuple(x.shape) != (64, 6):
        raise Problem(f"`inputs` has shape {tuple(x.shape)}, expected (64, 6).",
                      "one row per input vector, one column per input unit.")
    if tuple(d.shape) not in ((64,), (64, 1)):
        raise Problem(f"`targets` has shape {tuple(d.shape)}, expected (64,) or (64, 1).",
                      "one target per row of `inputs`.")
    if not bool(((x == 0) | (x == 1)).all()):
        raise Problem("`inputs` holds values other than 0 and 1.", "each input unit is a bit.")
    distinct = len(set(codes_of(x).tolist()))
    if distinct != 64:
        raise Problem(f"`inputs` has only {distinct} different vectors among its 64 rows.",
                      "how many different vectors of six bits are there? Use each once.")
    d = d.flatten()
    wanted = cases(codes_of(x))[1]
    wrong = int((d != wanted).sum())
    if wrong:
        hint = ("a vector is symmetric when it reads the same from both ends; its target is 1, "
                "every other target 0.")
        if bool((d == 1 - wanted).all()):
            hint = "your targets are the other way round: symmetric vectors get target 1."
        raise Problem(f"{wrong} of the 64 targets are wrong ({int((d == 1).sum())} targets "
                      "are 1).", hint)
    lines = []
    if tuple(as_tensor(targets, "targets").shape) == (64,):
        lines.append("`targets` has shape (64,): if your network's outputs have shape (64, 1), "
                     "subtracting the two broadcasts to a 64 x 64 table; keep the shapes equal.")
    return CheckResult("dataset", "PASS",
                       "64 different input vectors, 8 of them symmetric, every target right.",
                       lines=lines)


def check_dataset(namespace: Mapping) -> None:
    """Self-check of `inputs` and `targets`."""
    run_check("dataset", namespace, CHECK_READS["dataset"], evaluate_dataset)


# ----------------------------------------------------------------------------------------------
# The network right after initialisation


def _callable_outputs(net, dtype: torch.dtype) -> torch.Tensor | None:
    """net(64 inputs) as a float64 vector, or None when `net` is not something to call."""
    if not isinstance(net, nn.Module):
        return None
    x, _ = cases()
    with torch.no_grad():
        y = net(x.to(dtype))
    if not isinstance(y, torch.Tensor) or y.numel() != 64:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise Problem(f"net(inputs) gives {shape}, expected one output per case (64).",
                      "calling the network on the 64 inputs should give the output unit's "
                      "activity for each.")
    return y.detach().to(torch.float64).flatten()


def _computes(y: torch.Tensor | None, tol: float, hidden_fn=torch.sigmoid, output_fn=torch.sigmoid):
    """forward(weights) -> bool: does the network's output `y` come from these weights?"""
    x, _ = cases()

    def computes(weights: dict[str, torch.Tensor]) -> bool:
        if y is None:
            return False
        w = {k: v.to(torch.float64) for k, v in weights.items()}
        return bool((forward(w, x, hidden_fn, output_fn)[1] - y).abs().max() <= tol)

    return computes


def _net_weights(net, strict: bool = True) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """The network's four tensors (found by shape, checked against net(x) when callable).

    `strict`: raise a Problem when calling the network does not compute the paper's forward
    pass from these weights (otherwise return the likeliest weights anyway).
    """
    first = find_weights(net, "net")
    dtype = first["hidden.weight"].dtype
    try:
        y = _callable_outputs(net, dtype)
    except Exception:
        if strict:
            raise
        y = None
    tol = 1e-9 if dtype == torch.float64 else 1e-5
    if y is None:
        return first, None
    weights = find_weights(net, "net", _computes(y, tol))
    if _computes(y, tol)(weights) or not strict:
        return weights, y
    x, _ = cases()
    w = {k: v.to(torch.float64) for k, v in weights.items()}
    for what, hidden_fn, output_fn in (
        ("your hidden units use tanh", torch.tanh, torch.sigmoid),
        ("your hidden units use ReLU", torch.relu, torch.sigmoid),
        ("your output unit has no logistic function", torch.sigmoid, lambda t: t),
        ("your hidden units have no activation function", lambda t: t, torch.sigmoid),
    ):
        if bool((forward(w, x, hidden_fn, output_fn)[1] - y).abs().max() <= tol):
            raise Problem(f"{what}.", "which activation function does the paper use, for the "
                          "hidden units and for the output unit?")
    raise Problem("calling `net` does not compute the paper's network from its weights.",
                  "re-read eq. 1 and 2 (how a unit's output comes from its inputs), for the "
                  "hidden units and for the output unit, and compare each layer of your forward "
                  "pass with them.")


def evaluate_network(net, initial_weights) -> CheckResult:
    """A 6-2-1 network of logistic units; `initial_weights` drawn as the paper draws them."""
    w_net, y = _net_weights(net)
    same = find_weights(
        initial_weights, "initial_weights",
        lambda c: all(torch.equal(c[k].double(), w_net[k].double()) for k in WEIGHT_KEYS))
    problem = start_problem(same)
    if problem is not None:
        raise problem
    lines = []
    dtype = w_net["hidden.weight"].dtype
    if dtype != torch.float64:
        lines.append(f"your network computes in {dtype}; float64 makes comparisons with the "
                     "paper's rule exact to many digits.")
    if y is None:
        lines.append("`net` is not a module to call, so its activation is checked by the "
                     "training check (which replays the paper's logistic units).")
    if not all(torch.equal(same[k].double(), w_net[k].double()) for k in WEIGHT_KEYS):
        lines.append("`net` no longer has the initial weights (fine if it is already trained).")
    return CheckResult("network", "PASS",
                       "a 6-2-1 network of the paper's units; its 17 initial weights and biases "
                       "are a start the paper's protocol could have drawn.", lines=lines)


def check_network(namespace: Mapping) -> None:
    """Self-check of `net` and `initial_weights`, right after initialisation."""
    run_check("network", namespace, CHECK_READS["network"], evaluate_network)


# ----------------------------------------------------------------------------------------------
# The learning rule, judged by the errors it produced


def check_training(namespace: Mapping) -> None:
    """Self-check of the learning rule, from `initial_weights`, `errors` and `sweeps`."""

    def evaluate(initial_weights, errors, sweeps) -> CheckResult:
        net = namespace.get("net")
        if isinstance(net, nn.Module):
            try:
                _net_weights(net)
            except Problem:
                raise Problem("not judged yet: calling `net` does not compute the paper's "
                              "network, so the errors it produced cannot match the paper's rule.",
                              "fix what the network check says first, then run the network, "
                              "training and this check again.") from None
        return evaluate_training(initial_weights, errors, sweeps, net, namespace.get("inputs"))

    run_check("training", namespace, CHECK_READS["training"], evaluate)


# ----------------------------------------------------------------------------------------------
# The trained network


def evaluate_solution(net, sweeps) -> CheckResult:
    """The trained network described by the paper's reasoning (labutils.network_facts)."""
    from labutils.network_facts import network_facts

    n = as_count(sweeps, "sweeps")
    try:
        w, _ = _net_weights(net)
    except Problem as problem:
        if not isinstance(net, nn.Module) or "net(inputs)" in problem.message:
            raise
        raise Problem("not judged yet: calling `net` does not compute the paper's network.",
                      "fix what the network check says first.") from None
    facts = network_facts({k: v.to(torch.float64) for k, v in w.items()})
    lines = facts.lines() + [f"sweeps: {n} (the paper's network: {PAPER_SWEEPS})"]
    if not facts.solves:
        return CheckResult(
            "solution", "NOTE", f"after {n} sweeps your network does not solve the task.",
            "if the training check passed, this is an outcome, not a bug: some starting "
            "weights take far longer or get stuck. Keep your seed, describe what happened "
            "(look at the error curve), and let Part 5 tell you how often it happens.", lines)
    if facts.paper_reason:
        how = "for the paper's reason: each hidden unit is mirror anti-symmetric and every " \
              "asymmetric input gives it a non-zero sum"
    else:
        how = "in its own way (see which of the paper's facts hold below; compare in your report)"
    return CheckResult("solution", "PASS", f"your network solves the task, {how}.", lines=lines)


def check_solution(namespace: Mapping) -> None:
    """Self-check of the trained `net` (and the reported `sweeps`)."""
    run_check("solution", namespace, CHECK_READS["solution"], evaluate_solution)


# ----------------------------------------------------------------------------------------------
# For the grader


def submission_data(namespace: Mapping) -> dict[str, torch.Tensor]:
    """The notebook's contract names as plain float64 tensors with flat keys (see plan):
    "inputs" (64, 6), "targets" (64,), "initial/<key>" and "final/<key>" for the four weight
    tensors, "errors" (n,), "sweeps" () int64. A missing or unreadable name is left out; this
    function never raises (the grader validates and judges the data in its own process)."""
    out: dict[str, torch.Tensor] = {}

    def attempt(read) -> None:
        try:
            read()
        except Exception:  # noqa: BLE001 - unreadable names are left out, by contract
            pass

    def read_data() -> None:
        x = as_tensor(namespace["inputs"], "inputs")
        if tuple(x.shape) == (64, 6):
            out["inputs"] = x.clone()

    def read_targets() -> None:
        d = as_tensor(namespace["targets"], "targets")
        if tuple(d.shape) in ((64,), (64, 1)):
            out["targets"] = d.flatten().clone()

    def read_weights(name: str, prefix: str) -> None:
        obj = namespace[name]
        w = _net_weights(obj, strict=False)[0] if prefix == "final" else find_weights(obj, name)
        for key in WEIGHT_KEYS:
            out[f"{prefix}/{key}"] = w[key].detach().to(torch.float64).clone()

    def read_errors() -> None:
        out["errors"] = as_numbers(namespace["errors"], "errors").clone()

    def read_sweeps() -> None:
        out["sweeps"] = torch.tensor(as_count(namespace["sweeps"], "sweeps"), dtype=torch.int64)

    for read in (read_data, read_targets, lambda: read_weights("net", "final"),
                 lambda: read_weights("initial_weights", "initial"), read_errors, read_sweeps):
        attempt(read)
    for prefix in ("initial", "final"):  # all four or none
        if not all(f"{prefix}/{k}" in out for k in WEIGHT_KEYS):
            for k in WEIGHT_KEYS:
                out.pop(f"{prefix}/{k}", None)
    out.update(study_data(namespace))  # Part 5's runs and statistics (labutils.checks._study)
    return out


__all__ = [
    "CHECK_READS",
    "RESULTS",
    "CheckResult",
    "check_dataset",
    "check_network",
    "check_solution",
    "check_training",
    "evaluate_dataset",
    "evaluate_network",
    "evaluate_solution",
    "evaluate_training",
    "start_problem",
    "submission_data",
]
