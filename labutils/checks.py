"""Self-checks of the 1986 assignment: the cells marked `# CHECK: <name> (do not edit)`.

Each check takes the notebook's namespace (`globals()`), looks up the names the assignment asks
for, and prints one friendly line, `PASS name: ...` or `FAIL name: ...` with a hint. A wrong or
missing answer never raises: the student reads what to fix, not a traceback. The `evaluate_*`
functions do the work on plain values (for tests); the `check_*` functions are what cells call.

Contract with the notebook (what the student defines):
- `inputs` (64, 6) and `targets` (64, 1): the dataset, any row order;
- `net`: an nn.Module with two nn.Linear layers (6 -> 2 -> 1), logistic units;
- `make_optimizer(net)` and `train_sweep(net, optimizer, inputs, targets) -> E`: one weight
  change on the whole sweep of 64 cases, returning E before the change;
- `sweeps`: sweeps the trained `net` took to solve the task (None if it did not).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from labutils.instructor.rhw1986 import (
    WEIGHT_KEYS,
    analyse_solution,
    is_symmetric,
    reference_sweep,
    summed_squared_error,
    symmetry_dataset,
)

CHECK_READS: dict[str, tuple[str, ...]] = {
    "dataset": ("inputs", "targets"),
    "network": ("net",),
    "sweep": ("net", "make_optimizer", "train_sweep"),
    "solution": ("net", "sweeps"),
}
"""The notebook names each check reads (the release test uses it to know what must fail)."""

INIT_RANGE = 0.3
EPS, ALPHA = 0.1, 0.9


@dataclass
class CheckResult:
    """The outcome of one check: what the student sees, and details the grader may read."""

    name: str
    passed: bool
    message: str
    hint: str = ""
    lines: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def text(self) -> str:
        """The printed form: the PASS/FAIL line, extra lines, then the hint."""
        mark = "✅ PASS" if self.passed else "❌ FAIL"
        out = [f"{mark} {self.name}: {self.message}"]
        out += [f"    {line}" for line in self.lines]
        if self.hint:
            out.append(f"    Hint: {self.hint}")
        return "\n".join(out)


RESULTS: dict[str, CheckResult] = {}
"""The latest result of each check in this kernel (the grader's summary reads it)."""


def report(result: CheckResult) -> CheckResult:
    """Print a result and remember it as the latest of its check."""
    RESULTS[result.name] = result
    print(result.text())
    return result


class _Problem(Exception):
    """A wrong answer found by a check: message and hint for the student."""

    def __init__(self, message: str, hint: str = "", lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.lines = message, hint, lines or []


def _run(name: str, namespace: Mapping, evaluate: Callable[..., CheckResult]) -> None:
    """Look up the names check `name` reads, evaluate, print; turn any exception into a FAIL."""
    missing = [n for n in CHECK_READS[name] if n not in namespace]
    if missing:
        names = ", ".join(f"`{n}`" for n in missing)
        result = CheckResult(
            name, False, f"{names} not defined yet.",
            "fill in and run the cells above this check (in order) first; they must define "
            + ", ".join(f"`{n}`" for n in CHECK_READS[name]) + ".",
        )
    else:
        try:
            result = evaluate(*(namespace[n] for n in CHECK_READS[name]))
        except _Problem as problem:
            result = CheckResult(name, False, problem.message, problem.hint, problem.lines)
        except NotImplementedError:
            result = CheckResult(
                name, False, "your code above is not filled in yet (NotImplementedError).",
                "replace each `# YOUR CODE HERE` + `raise NotImplementedError()` with your code.",
            )
        except Exception as err:  # the student's code raised inside the check
            result = CheckResult(
                name, False, f"the check could not run: {type(err).__name__}: {err}",
                "run your code in a cell of its own first and fix the error it shows.",
            )
    report(result)


# ---------------------------------------------------------------------------------------------
# The dataset


def evaluate_dataset(inputs, targets) -> CheckResult:
    """64 distinct 0/1 input vectors of 6 bits; target 1 exactly for the 8 symmetric ones."""
    for label, value, shape in (("inputs", inputs, (64, 6)), ("targets", targets, (64, 1))):
        if not isinstance(value, torch.Tensor):
            raise _Problem(f"`{label}` is a {type(value).__name__}, not a tensor.",
                           "make it with torch.tensor(...) (dtype torch.float64).")
        if tuple(value.shape) != shape:
            hint = f"`{label}` must have shape {shape}."
            if label == "targets" and tuple(value.shape) == (64,):
                hint += (" With shape (64,), `outputs - targets` broadcasts to (64, 64) and "
                         "the error is silently wrong; use targets[:, None].")
            raise _Problem(f"`{label}` has shape {tuple(value.shape)}.", hint)
        if not value.is_floating_point():
            raise _Problem(f"`{label}` holds {value.dtype} numbers.",
                           "nn.Linear needs floats: convert with .double() (float64).")
    if not bool(((inputs == 0) | (inputs == 1)).all()):
        raise _Problem("`inputs` holds values other than 0 and 1.", "each input unit is a bit.")
    codes = (inputs.long() * (2 ** torch.arange(5, -1, -1))).sum(1)
    distinct = len(set(codes.tolist()))
    if distinct != 64:
        raise _Problem(f"`inputs` has only {distinct} distinct vectors among its 64 rows.",
                       "the training set is every 6-bit vector exactly once (2**6 = 64).")
    wanted = is_symmetric(inputs).to(targets.dtype)[:, None]
    wrong = int((targets != wanted).sum())
    if wrong:
        n_ones = int((targets == 1).sum())
        hint = ("a vector is symmetric when bit k equals bit 5 - k for every k "
                "(it reads the same from both ends); its target is 1, all others 0.")
        if bool((targets == 1 - wanted).all()):
            hint = "your targets are inverted: symmetric vectors get 1, the others 0."
        raise _Problem(f"{wrong} of 64 targets are wrong ({n_ones} targets are 1, expected 8).",
                       hint)
    note = "" if inputs.dtype == torch.float64 else f" (dtype {inputs.dtype}; float64 advised)"
    return CheckResult("dataset", True,
                       f"64 distinct input vectors, 8 symmetric, every target right{note}.")


def check_dataset(namespace: Mapping) -> None:
    """Self-check of `inputs` and `targets`; prints PASS or FAIL with a hint."""
    _run("dataset", namespace, evaluate_dataset)


# ---------------------------------------------------------------------------------------------
# The network


def linear_layers(net: nn.Module) -> tuple[nn.Linear, nn.Linear]:
    """The hidden and output nn.Linear layers of a student's 6-2-1 network."""
    if not isinstance(net, nn.Module):
        raise _Problem(f"`net` is a {type(net).__name__}, not an nn.Module.",
                       "define a class that subclasses nn.Module and create `net` from it.")
    hidden, output = getattr(net, "hidden", None), getattr(net, "output", None)
    if isinstance(hidden, nn.Linear) and isinstance(output, nn.Linear):
        return hidden, output
    layers = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if len(layers) != 2:
        raise _Problem(f"`net` has {len(layers)} nn.Linear layers, expected 2.",
                       "build it from nn.Linear(6, 2) (hidden) and nn.Linear(2, 1) (output).")
    return layers[0], layers[1]


def weights_of(net: nn.Module) -> dict[str, torch.Tensor]:
    """A detached float64 copy of a student's network weights, keyed like labutils.instructor.rhw1986."""
    hidden, output = linear_layers(net)
    tensors = (hidden.weight, hidden.bias, output.weight, output.bias)
    if any(t is None for t in tensors):
        raise _Problem("a layer of `net` has no bias.",
                       "every hidden and output unit has a bias: nn.Linear(..., bias=True).")
    return {k: t.detach().double().clone() for k, t in zip(WEIGHT_KEYS, tensors, strict=True)}


def _forward(weights: Mapping[str, torch.Tensor], x: torch.Tensor, hidden_fn, output_fn):
    h = hidden_fn(x @ weights["hidden.weight"].T + weights["hidden.bias"])
    return output_fn(h @ weights["output.weight"].T + weights["output.bias"])


def _identity(t: torch.Tensor) -> torch.Tensor:
    return t


def evaluate_network(net) -> CheckResult:
    """6-2-1 with biases, logistic hidden and output units, weights and biases in [-0.3, 0.3]."""
    hidden, output = linear_layers(net)
    shapes = (tuple(hidden.weight.shape), tuple(output.weight.shape))
    if shapes != ((2, 6), (1, 2)):
        raise _Problem(
            f"the layers map {shapes[0][1]} -> {shapes[0][0]} -> {shapes[1][0]} units "
            f"(weights {shapes[0]} and {shapes[1]}), not 6 -> 2 -> 1.",
            "the paper's network is nn.Linear(6, 2) then nn.Linear(2, 1).")
    w = weights_of(net)
    dtype = hidden.weight.dtype
    x, _ = symmetry_dataset(dtype)
    with torch.no_grad():
        y = net(x)
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (64, 1):
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise _Problem(f"net(inputs) gives {shape}, expected a (64, 1) tensor.",
                       "forward() should return the output unit's activity for each case.")
    y = y.detach().double()
    tol = 1e-9 if dtype == torch.float64 else 1e-5
    candidates = {
        "logistic": (torch.sigmoid, torch.sigmoid, ""),
        "tanh": (torch.tanh, torch.sigmoid, "your hidden units use tanh"),
        "relu": (torch.relu, torch.sigmoid, "your hidden units use ReLU"),
        "no output sigmoid": (torch.sigmoid, _identity, "your output unit has no sigmoid"),
        "linear hidden": (_identity, torch.sigmoid, "your hidden units have no nonlinearity"),
    }
    found = next((k for k, (f, g, _) in candidates.items()
                  if (_forward(w, x.double(), f, g) - y).abs().max() <= tol), None)
    if found != "logistic":
        what = candidates[found][2] if found else "net(x) is not the paper's forward pass"
        raise _Problem(f"{what}.",
                       "the paper's units are logistic: y = sigmoid(output(sigmoid(hidden(x)))).")
    values = torch.cat([t.flatten() for t in w.values()])
    largest = float(values.abs().max())
    if largest > INIT_RANGE + 1e-12:
        raise _Problem(
            f"a weight or bias is {largest:.3f} in size, outside [-0.3, 0.3].",
            "initialise every weight AND bias with nn.init.uniform_(p, -0.3, 0.3). If `net` is "
            "already trained, re-create it (re-run its cell) before this check.")
    if largest < INIT_RANGE / 2 or len(set(values.tolist())) < values.numel():
        raise _Problem(
            f"the 17 initial values are not spread over [-0.3, 0.3] (largest {largest:.3f}).",
            "draw each weight and bias independently, uniform in [-0.3, 0.3]: equal starting "
            "weights would make both hidden units learn the same thing.")
    note = "" if dtype == torch.float64 else f" (dtype {dtype}; float64 advised)"
    return CheckResult("network", True,
                       f"6-2-1 logistic units, 17 weights and biases in [-0.3, 0.3]{note}.")


def check_network(namespace: Mapping) -> None:
    """Self-check of `net` right after it is created; prints PASS or FAIL with a hint."""
    _run("network", namespace, evaluate_network)


# ---------------------------------------------------------------------------------------------
# One sweep of the learning rule


def _flat(weights: Mapping[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([weights[k].flatten().double() for k in WEIGHT_KEYS])


def _gradient(weights: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """dE/dw of the paper's summed error (from the reference rule with eps 1, no momentum)."""
    moved, _ = reference_sweep(weights, None, eps=1.0, alpha=0.0)
    return _flat(weights) - _flat(moved)


def _scale_hint(scale: float) -> str:
    for factor, hint in (
        (1 / 64, "your step is 1/64 of the paper's: E is the SUM over the 64 cases, not the mean."),
        (1 / 32, "your step is 1/32 of the paper's: nn.MSELoss() averages and has no 1/2; use "
                 "E = 0.5 * ((y - d) ** 2).sum()."),
        (2.0, "your step is twice the paper's: E = 1/2 * sum (y - d)^2 has a factor 1/2."),
        (-1.0, "your step goes uphill: subtract the gradient (w <- w - eps * dE/dw)."),
        (10.0, "your step is 10 times the paper's: the learning rate eps is 0.1."),
        (0.1, "your step is 1/10 of the paper's: the learning rate eps is 0.1."),
    ):
        if math.isclose(scale, factor, rel_tol=0.02):
            return hint
    return (f"your step is {scale:.3g} times the paper's: check eps = 0.1 and "
            "E = 1/2 * sum over the 64 cases of (y - d)^2.")


def evaluate_sweep(net, make_optimizer, train_sweep) -> CheckResult:
    """Two sweeps of the student's rule on a copy of `net` against labutils' hand-derived rule."""
    trial = copy.deepcopy(net)
    dtype = linear_layers(trial)[0].weight.dtype
    x, d = symmetry_dataset(dtype)
    w0 = weights_of(trial)
    optimizer = make_optimizer(trial)
    errors = []
    steps = []
    for _ in range(2):
        before = weights_of(trial)
        value = train_sweep(trial, optimizer, x.clone(), d.clone())
        try:
            errors.append(float(value))
        except (TypeError, ValueError):
            raise _Problem(f"`train_sweep` returned {type(value).__name__}, not a number.",
                           "return E for the sweep, e.g. `return loss.item()`.") from None
        steps.append(_flat(weights_of(trial)) - _flat(before))
    r1, v1 = reference_sweep(w0, None, EPS, ALPHA)
    r2, _ = reference_sweep(r1, v1, EPS, ALPHA)
    ref1 = _flat(r1) - _flat(w0)
    ref2 = _flat(r2) - _flat(r1)
    tol = 1e-7 if dtype == torch.float64 else 1e-4

    def off(step: torch.Tensor, ref: torch.Tensor) -> float:
        return float((step - ref).abs().max() / ref.abs().max().clamp_min(1e-12))

    e0 = float(summed_squared_error(_forward(w0, x.double(), torch.sigmoid, torch.sigmoid),
                                    d.double()))
    if float(steps[0].abs().max()) == 0.0:
        raise _Problem("`train_sweep` did not change the weights of the network.",
                       "after loss.backward(), call optimizer.step() (and optimizer.zero_grad() "
                       "before the backward pass).")
    if off(steps[0], ref1) > tol:
        scale = float(steps[0] @ ref1 / (ref1 @ ref1))
        if off(steps[0], scale * ref1) <= 1e-3:
            raise _Problem("the first weight change points the right way but has the wrong size.",
                           _scale_hint(scale))
        raise _Problem(
            "the first weight change is not -eps * dE/dw of the full sweep.",
            "compute E over all 64 cases at once, call backward() once, then step once per "
            "sweep (not per case); plain SGD with momentum, not Adam.")
    if off(steps[1], ref2) > tol:
        no_momentum = -EPS * _gradient(r1)
        accumulated = -EPS * (_gradient(r1) + _gradient(w0)) + ALPHA * ref1
        accumulated_alt = no_momentum - EPS * _gradient(w0) + ALPHA * ref1
        if off(steps[1], no_momentum) <= 1e-3:
            hint = "the second change has no momentum: use SGD(lr=0.1, momentum=0.9)."
        elif min(off(steps[1], accumulated), off(steps[1], accumulated_alt)) <= 1e-3:
            hint = ("gradients pile up across sweeps: call optimizer.zero_grad() before each "
                    "backward().")
        else:
            hint = ("the paper's rule is dw(t) = -eps * dE/dw + alpha * dw(t-1) with alpha 0.9; "
                    "torch.optim.SGD(params, lr=0.1, momentum=0.9) is exactly that (no "
                    "dampening, no Nesterov); create the optimizer once, outside train_sweep.")
        raise _Problem("the first weight change is right, the second is not.", hint)
    if not math.isclose(errors[0], e0, rel_tol=1e-6, abs_tol=1e-9):
        hint = "return E = 1/2 * sum of (y - d)^2 over the 64 cases, computed before the step."
        if math.isclose(errors[0], e0 / 32, rel_tol=1e-4):
            hint = "you returned the mean squared error; return the paper's summed E (1/2 sum)."
        elif math.isclose(errors[0], 2 * e0, rel_tol=1e-4):
            hint = "you returned sum (y - d)^2; the paper's E has a factor 1/2."
        raise _Problem(f"the weights change right, but train_sweep returned {errors[0]:.6g} "
                       f"instead of E = {e0:.6g}.", hint)
    return CheckResult("sweep", True,
                       "two sweeps match the paper's rule (eps 0.1, momentum 0.9, summed E).",
                       lines=[f"E before the first sweep: {e0:.4f}"])


def check_sweep(namespace: Mapping) -> None:
    """Self-check of `make_optimizer` and `train_sweep` (on a copy of `net`)."""
    _run("sweep", namespace, evaluate_sweep)


# ---------------------------------------------------------------------------------------------
# The trained network


def evaluate_solution(net, sweeps) -> CheckResult:
    """The trained `net` analysed with labutils.instructor.rhw1986.analyse_solution; `sweeps` reported."""
    report_ = analyse_solution(weights_of(net))
    reported = "none" if sweeps is None else str(sweeps)
    lines = report_.lines()[:-1 - len(report_.reasons)]  # the checks; verdict goes on top
    lines.append(f"sweeps reported: {reported} (the paper's run took 1425)")
    details = {"classifies_all": report_.classifies_all, "matches_paper": report_.passed,
               "sweeps": sweeps}
    if sweeps is not None and not isinstance(sweeps, int):
        raise _Problem(f"`sweeps` is {sweeps!r}; expected a whole number or None.",
                       "set `sweeps` to the number of weight changes your run took, or None.")
    if report_.classifies_all and sweeps is None:
        lines.append("note: the network solves the task, but `sweeps` is None")
    if report_.passed:
        return CheckResult("solution", True, f"your network {report_.verdict}.", lines=lines,
                           details=details)
    if report_.classifies_all:
        hint = ("not a failure of your code: describe in the report how your solution differs "
                "from Figure 1; another seed may find the paper's structure.")
    else:
        hint = ("many seeds never solve it (see the success rate); check your run's error "
                "curve, then try other seeds and report what happened honestly.")
    return CheckResult("solution", False, f"your network {report_.verdict}.", hint,
                       lines + [f"- {reason}" for reason in report_.reasons], details)


def check_solution(namespace: Mapping) -> None:
    """Self-check of the trained `net` and the reported `sweeps`."""
    _run("solution", namespace, evaluate_solution)


# ---------------------------------------------------------------------------------------------
# For the grader


def grading_summary(namespace: Mapping) -> dict:
    """What the grader records after running a submission: the checks and the reported run."""
    solution = RESULTS.get("solution")
    solved = solution.details.get("classifies_all") if solution is not None else None
    if "sweeps" not in namespace:
        sweeps = "not defined"
    else:
        sweeps = namespace["sweeps"]
        if isinstance(sweeps, bool) or not isinstance(sweeps, int | None):
            sweeps = f"not a number: {sweeps!r}"[:40]
    return {"checks": {name: r.passed for name, r in RESULTS.items()}, "sweeps": sweeps,
            "solved": solved}
