"""The MNIST assignment: an MLP under a parameter budget that beats a test accuracy.

The one model of this task, used by the student notebook, its self-checks and the grader:
`build_mlp(layer_sizes)` (Flatten, then Linear layers with ReLU between them), its parameter
count and weight shapes (computed without building anything), the budget and the target (the
assignment's statement, public), the data (lesson 04's MNIST, normalized once, in memory) and
the test accuracy. The checks print `PASS name: ...` or `FAIL name: ...` with where to look;
the grader does not read them: it collects `submission_data(globals())` and judges that data in
its own process (labutils/instructor/assignments/mnist_budget/judge.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from labutils.checks._report import CheckResult, Problem, run_check

PIXELS = 28 * 28
"""Inputs of the first layer: one per pixel of a flattened MNIST image."""
CLASSES = 10
"""Outputs of the last layer: one score per digit."""
PARAMETER_BUDGET = 25_000
"""At most this many parameters (weights and biases of all layers together)."""
TARGET_ACCURACY = 0.965
"""The accuracy on the 10,000 MNIST test images to reach (or beat)."""

CHECK_READS: dict[str, tuple[str, ...]] = {
    "layers": ("layer_sizes",),
    "budget": ("layer_sizes",),
    "accuracy": ("model", "layer_sizes"),
}
"""The notebook names each check reads (a check FAILs, without running, when one is missing)."""
COLLECTED = ("layer_sizes", "model")
"""The notebook names `submission_data` hands to the grader."""


def layer_list(layer_sizes: object) -> list[int]:
    """`layer_sizes` as a list of ints; ValueError naming the fix if it is not a list of whole
    numbers >= 1 with at least two entries."""
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, Sequence):
        raise ValueError(f"layer_sizes must be a list of whole numbers such as [{PIXELS}, 32, "
                         f"{CLASSES}], not a {type(layer_sizes).__name__}.")
    if any(isinstance(n, bool) or not isinstance(n, int) for n in layer_sizes):
        raise ValueError("layer_sizes must hold whole numbers (int), one per layer of units.")
    if len(layer_sizes) < 2:
        raise ValueError("layer_sizes needs at least two entries: the inputs and the outputs.")
    if min(layer_sizes) < 1:
        raise ValueError("every entry of layer_sizes must be at least 1 (units in that layer).")
    return [int(n) for n in layer_sizes]


def state_shapes(layer_sizes: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """The state_dict keys and shapes of build_mlp(layer_sizes), computed without building it."""
    sizes = layer_list(layer_sizes)
    shapes: dict[str, tuple[int, ...]] = {}
    for k, (inputs, outputs) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes[f"{2 * k + 1}.weight"] = (outputs, inputs)  # index 0 is the Flatten layer
        shapes[f"{2 * k + 1}.bias"] = (outputs,)
    return shapes


def parameter_count(layer_sizes: Sequence[int]) -> int:
    """Weights and biases of build_mlp(layer_sizes), counted without building it."""
    return sum(math.prod(shape) for shape in state_shapes(layer_sizes).values())


def build_mlp(layer_sizes: Sequence[int]) -> nn.Sequential:
    """Flatten, then nn.Linear(a, b) for each pair of consecutive sizes, ReLU between them (none
    after the last layer: it gives raw class scores, as in lesson 04)."""
    sizes = layer_list(layer_sizes)
    layers: list[nn.Module] = [nn.Flatten()]
    for inputs, outputs in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(inputs, outputs), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


# ---------------------------------------------------------------- data and accuracy


def mnist_tensors(train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """One MNIST split in memory, normalized as in lesson 04: images (N, 1, 28, 28), labels (N,).

    Loaded with torchvision from `labutils.data.mnist_root()` (the offline mirror when one is
    set, else a download on first use)."""
    from torchvision.datasets import MNIST

    from labutils.data import mnist_root, normalized_images

    return normalized_images(MNIST(mnist_root(), train=train, download=True))


@functools.cache
def _test_set() -> tuple[torch.Tensor, torch.Tensor]:
    return mnist_tensors(train=False)


def test_accuracy(model: nn.Module, test_set: tuple[torch.Tensor, torch.Tensor] | None = None,
                  batch_size: int = 1000) -> float:
    """Fraction of the 10,000 MNIST test images (or `test_set`) whose highest score is the
    label; the model is evaluated on the CPU in float32 and left in evaluation mode."""
    images, labels = test_set if test_set is not None else _test_set()
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            scores = model(images[start:start + batch_size])
            correct += int((scores.argmax(dim=1) == labels[start:start + batch_size]).sum())
    return correct / len(labels)


test_accuracy.__test__ = False  # not a test, whatever pytest thinks of its name


# ---------------------------------------------------------------- self-checks


def evaluate_layers(layer_sizes) -> CheckResult:
    """`layer_sizes`: whole numbers, from the pixels to the classes, at least one hidden layer."""
    try:
        sizes = layer_list(layer_sizes)
    except ValueError as err:
        raise Problem(str(err),
                      "declare it as a Python list, e.g. layer_sizes = [a, b, c].") from None
    if sizes[0] != PIXELS:
        raise Problem(f"the first entry of layer_sizes is {sizes[0]}, but the network reads "
                      "every pixel of a flattened image.", "how many pixels has one image?")
    if sizes[-1] != CLASSES:
        raise Problem(f"the last entry of layer_sizes is {sizes[-1]}, but the network gives "
                      "one score per class.", "how many digits are there?")
    if len(sizes) < 3:
        raise Problem("layer_sizes has no hidden layer: that is a linear model, not an MLP.",
                      "add at least one hidden layer between the inputs and the outputs.")
    return CheckResult("layers", "PASS", f"{len(sizes) - 2} hidden layer(s) between the "
                       f"{PIXELS} pixels and the {CLASSES} classes.")


def evaluate_budget(layer_sizes) -> CheckResult:
    """At most PARAMETER_BUDGET weights and biases."""
    try:
        count = parameter_count(layer_sizes)
    except ValueError as err:
        raise Problem(str(err), "fix what the layers check says first.") from None
    if count > PARAMETER_BUDGET:
        raise Problem(f"{count:,} parameters, {count - PARAMETER_BUDGET:,} over the budget of "
                      f"{PARAMETER_BUDGET:,}.", "each nn.Linear(a, b) holds a x b weights and b "
                      "biases: find which layer holds most of them.")
    return CheckResult("budget", "PASS",
                       f"{count:,} parameters, within the budget of {PARAMETER_BUDGET:,}.")


def rebuilt(model, layer_sizes) -> nn.Sequential:
    """build_mlp(layer_sizes) with the weights of `model` (an nn.Module or a state dict),
    loaded with strict keys and shapes, as the grader rebuilds it; Problem when they do not fit."""
    state = model.state_dict() if isinstance(model, nn.Module) else model
    if not isinstance(state, Mapping):
        raise Problem(f"`model` is a {type(model).__name__}, not a network.",
                      "build it with model = build_mlp(layer_sizes) and train that model.")
    try:
        net = build_mlp(layer_sizes)
    except ValueError as err:
        raise Problem(str(err), "fix what the layers check says first.") from None
    mismatch = _first_mismatch(state, state_shapes(layer_sizes))
    if mismatch:
        raise Problem("the weights of `model` do not fit build_mlp(layer_sizes).",
                      "build `model` with build_mlp(layer_sizes) and do not change layer_sizes "
                      "or the model's layers afterwards; the grader rebuilds the network from "
                      "layer_sizes alone.", [mismatch])
    with torch.no_grad():
        net.load_state_dict({key: torch.as_tensor(value) for key, value in state.items()})
    if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        raise Problem("some weights of `model` are not finite (NaN or inf).",
                      "training diverged: look at the loss of your first steps and lower the "
                      "learning rate.")
    return net


def _first_mismatch(state: Mapping, shapes: dict[str, tuple[int, ...]]) -> str:
    """What first differs between a state dict and the keys and shapes wanted ('' if nothing)."""
    for key, shape in shapes.items():
        if key not in state:
            return f"the model has no {key!r}; build_mlp(layer_sizes) has one of shape {shape}"
        found = tuple(getattr(state[key], "shape", ()))
        if found != shape:
            return f"the model's {key!r} has shape {found}, build_mlp(layer_sizes) gives {shape}"
    extra = [str(key) for key in state if key not in shapes]
    return f"the model has entries build_mlp(layer_sizes) lacks: {extra[:3]}" if extra else ""


def evaluate_accuracy(model, layer_sizes) -> CheckResult:
    """The rebuilt model's accuracy on the 10,000 test images, against TARGET_ACCURACY."""
    accuracy = test_accuracy(rebuilt(model, layer_sizes))
    found = f"test accuracy {accuracy:.2%} (rebuilt from layer_sizes and the model's weights)"
    if accuracy < TARGET_ACCURACY:
        raise Problem(f"{found}, below the target of {TARGET_ACCURACY:.1%}.",
                      "look at your training: the learning rate, the number of epochs, and how "
                      "the budget is spent across the layers.")
    return CheckResult("accuracy", "PASS", f"{found}, target {TARGET_ACCURACY:.1%}.")


def check_layers(namespace: Mapping) -> None:
    """Self-check of `layer_sizes`."""
    run_check("layers", namespace, CHECK_READS["layers"], evaluate_layers)


def check_budget(namespace: Mapping) -> None:
    """Self-check of the parameter count of `layer_sizes`."""
    run_check("budget", namespace, CHECK_READS["budget"], evaluate_budget)


def check_accuracy(namespace: Mapping) -> None:
    """Self-check of the trained `model`: rebuilt from `layer_sizes`, on the test images."""
    run_check("accuracy", namespace, CHECK_READS["accuracy"], evaluate_accuracy)


# ---------------------------------------------------------------- for the grader


def submission_data(namespace: Mapping) -> dict[str, torch.Tensor]:
    """The notebook's `layer_sizes` ("layer_sizes", int64) and the weights of its `model`
    ("model/<key>", float32), plain, detached, on the CPU. A missing or unreadable name is left
    out; this never raises (the grader validates and judges the data in its own process)."""
    out: dict[str, torch.Tensor] = {}
    try:
        out["layer_sizes"] = torch.tensor(layer_list(namespace["layer_sizes"]), dtype=torch.int64)
    except Exception:  # noqa: BLE001 - unreadable names are left out, by contract
        pass
    try:
        model = namespace["model"]
        state = model.state_dict() if isinstance(model, nn.Module) else dict(model)
        weights = {f"model/{key}": value.detach().to("cpu", torch.float32).clone()
                   for key, value in state.items()}
        out.update(weights)
    except Exception:  # noqa: BLE001
        pass
    return out
