"""The training loop and the evaluation helpers that the lessons teach, packaged for reuse.

`fit` is the loop of lesson 03 (epochs > batches > forward, loss, zero_grad, backward, step);
`accuracy` and `mean_loss` evaluate with `model.eval()` and `torch.no_grad()` as lesson 04
explains. Mini-batches from tensors already in memory: `labutils.batches.TensorBatches`.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from labutils.progress import progress

# Losses that compare outputs and targets element by element: they silently broadcast
# (N, 1) against (N,) into (N, N), so `fit` insists on equal shapes for them.
_ELEMENTWISE_LOSSES = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss,
                       nn.BCEWithLogitsLoss)


# ---------------------------------------------------------------- what fit records


@dataclass
class History:
    """What `fit` records, epoch by epoch.

    batch_losses: the loss of every batch, in training order.
    epoch_losses: each epoch's mean loss over its examples (batches weighted by their size).
    learning_rates: the learning rate (first parameter group) used in each epoch.
    metrics: name -> one value per epoch, from `fit(metrics=...)`.
    seconds: wall time of the training steps, without the time spent in `metrics`.
    """

    batch_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    batches_per_epoch: list[int] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.epoch_losses)

    def __repr__(self) -> str:
        last = f"{self.epoch_losses[-1]:.4g}" if self.epoch_losses else "n/a"
        names = f", metrics {sorted(self.metrics)}" if self.metrics else ""
        return (
            f"History({self.epochs} epochs, {len(self.batch_losses)} batches, "
            f"last epoch loss {last}{names})"
        )


# ---------------------------------------------------------------- clear errors


def describe_input(model: nn.Module) -> str:
    """What the model's first layer expects, in words (used by the shape-mismatch errors)."""
    for name, module in model.named_modules():
        label = f"{name} = {module!r}" if name else repr(module)
        if isinstance(module, nn.Linear):
            return f"its first layer {label} expects {module.in_features} features per example"
        if isinstance(module, nn.modules.conv._ConvNd):
            return f"its first layer {label} expects {module.in_channels} input channels"
    return "its expected input size is not known (no Linear or Conv layer found)"


def _per_example(shape: torch.Size) -> str:
    values = math.prod(shape[1:]) if len(shape) > 1 else 1
    return f"{values} value{'s' if values != 1 else ''} per example"


def _forward(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    try:
        return model(inputs)
    except RuntimeError as err:
        raise ValueError(
            f"The model could not take a batch of inputs of shape {tuple(inputs.shape)} "
            f"({_per_example(inputs.shape)}, dtype {inputs.dtype}): {describe_input(model)}. "
            "Make the model's input size match the data (or reshape the data). "
            f"PyTorch said: {str(err).splitlines()[0]}"
        ) from err


def _loss(loss_fn: Callable, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    name = type(loss_fn).__name__
    if isinstance(loss_fn, _ELEMENTWISE_LOSSES) and outputs.shape != targets.shape:
        raise ValueError(
            f"{name} compares element by element, but the model's outputs have shape "
            f"{tuple(outputs.shape)} and the targets {tuple(targets.shape)}; it would broadcast "
            "them silently. Give the targets the outputs' shape (e.g. y.view(-1, 1)) or change "
            "the model's output size."
        )
    try:
        return loss_fn(outputs, targets)
    except (RuntimeError, ValueError, IndexError) as err:
        hint = ""
        if isinstance(loss_fn, nn.CrossEntropyLoss):
            hint = " CrossEntropyLoss wants raw scores (N, C) and class indices (N,) in 0..C-1."
        raise ValueError(
            f"{name} could not compare the model's outputs of shape {tuple(outputs.shape)} "
            f"({outputs.dtype}) with the targets of shape {tuple(targets.shape)} "
            f"({targets.dtype}).{hint} PyTorch said: {str(err).splitlines()[0]}"
        ) from err


def _split(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        kind = f"a {type(batch).__name__}"
        if isinstance(batch, (tuple, list)):
            kind += f" of {len(batch)} items"
        raise ValueError(
            f"Each batch must be a pair (inputs, targets); the loader gave {kind}. "
            "Use e.g. TensorDataset(X, y) or TensorBatches(X, y, batch_size=...)."
        )
    return batch[0], batch[1]


def _model_device(model: nn.Module) -> torch.device | None:
    for parameter in model.parameters():
        return parameter.device
    return None


def _check_not_empty(loader: Iterable, what: str) -> None:
    try:
        size = len(loader)  # type: ignore[arg-type]
    except TypeError:  # no length (a generator, an IterableDataset): found out while iterating
        return
    if size == 0:
        raise ValueError(f"{what}: the loader has no batches (is the dataset empty?).")


def _check_optimizer(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}; "
            "e.g. torch.optim.SGD(model.parameters(), lr=1e-2)."
        )
    in_model = {id(p) for p in model.parameters()}
    in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if in_model and not in_model & in_optimizer:
        raise ValueError(
            "The optimizer updates none of the model's parameters (was it built for another "
            "model, or was the model created again afterwards?). Build it from this model: "
            "torch.optim.SGD(model.parameters(), lr=...)."
        )


def _check_scheduler(scheduler: Any, optimizer: torch.optim.Optimizer, step: str) -> None:
    if step not in ("epoch", "batch"):
        raise ValueError(f"scheduler_step must be 'epoch' or 'batch', got {step!r}.")
    if scheduler is None:
        return
    bound = getattr(scheduler, "optimizer", None)
    if bound is None:
        raise TypeError(
            f"scheduler must be a torch.optim.lr_scheduler scheduler, got "
            f"{type(scheduler).__name__}."
        )
    if bound is not optimizer:
        raise ValueError(
            f"The scheduler {type(scheduler).__name__} is bound to a different optimizer than "
            "the one given to fit, so it would change a learning rate that training never "
            "uses. Build it from the same optimizer: Scheduler(optimizer, ...)."
        )


def _check_epochs(epochs: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1 (passes over the data), got {epochs!r}.")


# ---------------------------------------------------------------- the training loop


def fit(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    epochs: int,
    scheduler: Any = None,
    device: torch.device | str | None = None,
    *,
    scheduler_step: str = "epoch",
    metrics: Mapping[str, Callable[[nn.Module], float]] | None = None,
    progress_bar: bool = True,
) -> History:
    """Train `model` for `epochs` passes over `loader` and return the History.

    Each batch: move it to the device, zero_grad, forward, loss, backward, step. The scheduler
    (if any) steps once per epoch, or once per batch with scheduler_step="batch";
    ReduceLROnPlateau gets the epoch loss. `metrics` maps names to functions of the model
    (e.g. test accuracy), evaluated after each epoch. `device`: where to train (the model is
    moved there); by default, wherever the model's parameters already are.
    """
    _check_epochs(epochs)
    _check_optimizer(model, optimizer)
    _check_scheduler(scheduler, optimizer, scheduler_step)
    _check_not_empty(loader, "fit")
    if device is not None:
        model.to(device)
    target = torch.device(device) if device is not None else _model_device(model)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if plateau and scheduler_step == "batch":
        raise ValueError("ReduceLROnPlateau steps on the epoch loss: use scheduler_step='epoch'.")
    per_batch = scheduler is not None and scheduler_step == "batch"
    history = History(metrics={name: [] for name in metrics or {}})

    quiet = {} if progress_bar else {"disable": True}
    bar = progress(range(epochs), desc="training", unit="epoch", **quiet)
    for _ in bar:
        model.train()
        history.learning_rates.append(float(optimizer.param_groups[0]["lr"]))
        losses: list[torch.Tensor] = []
        sizes: list[int] = []
        start = time.perf_counter()
        for batch in loader:
            inputs, targets = _split(batch)
            if target is not None:
                inputs = inputs.to(target, non_blocking=True)
                targets = targets.to(target, non_blocking=True)
            optimizer.zero_grad()
            loss = _loss(loss_fn, _forward(model, inputs), targets)
            loss.backward()
            optimizer.step()
            if per_batch:
                scheduler.step()
            losses.append(loss.detach())
            sizes.append(len(targets))
        if not losses:
            raise ValueError("fit: the loader yielded no batches (is the dataset empty?).")
        batch_losses = torch.stack(losses).float().cpu()  # one device sync per epoch
        weights = torch.tensor(sizes, dtype=torch.float32)
        epoch_loss = float((batch_losses * weights).sum() / weights.sum())
        if not math.isfinite(epoch_loss):
            warnings.warn(
                f"fit: the loss of epoch {history.epochs + 1} is {epoch_loss}; training has "
                "diverged. Try a smaller learning rate (or check the data for NaN values).",
                RuntimeWarning,
                stacklevel=2,
            )
        if plateau:
            scheduler.step(epoch_loss)
        elif scheduler is not None and not per_batch:
            scheduler.step()
        history.seconds += time.perf_counter() - start
        history.batch_losses.extend(batch_losses.tolist())
        history.epoch_losses.append(epoch_loss)
        history.batches_per_epoch.append(len(losses))
        for name, metric in (metrics or {}).items():
            history.metrics[name].append(float(metric(model)))
        bar.set_postfix(loss=f"{epoch_loss:.4g}")
    return history


# ---------------------------------------------------------------- evaluation


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Inside: model.eval() (dropout off, batch-norm frozen) and torch.no_grad() (no graph).

    On exit every submodule gets back the train/eval mode it had before.
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        for module, mode in modes:
            module.training = mode


def _eval_batches(model: nn.Module, loader: Iterable, device, what: str):
    """Yield (outputs, targets) for every batch, in evaluation mode; error if there are none."""
    _check_not_empty(loader, what)
    target = torch.device(device) if device is not None else _model_device(model)
    seen = False
    with evaluating(model):
        for batch in loader:
            inputs, targets = _split(batch)
            if target is not None:
                inputs, targets = inputs.to(target), targets.to(target)
            seen = True
            yield _forward(model, inputs), targets
    if not seen:
        raise ValueError(f"{what}: the loader yielded no batches (is the dataset empty?).")


def _class_predictions(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if outputs.ndim != 2 or len(outputs) != len(targets):
        raise ValueError(
            f"Expected class scores of shape (N, C) for N targets, but the model gave "
            f"{tuple(outputs.shape)} for targets of shape {tuple(targets.shape)}."
        )
    return outputs.argmax(dim=1)


def accuracy(model: nn.Module, loader: Iterable, device: torch.device | str | None = None) -> float:
    """Fraction of examples whose highest-scoring class is the target class."""
    correct: list[torch.Tensor] = []  # counts stay on the device: one sync at the end
    total = 0
    for outputs, targets in _eval_batches(model, loader, device, "accuracy"):
        correct.append((_class_predictions(outputs, targets) == targets).sum())
        total += len(targets)
    return torch.stack(correct).sum().item() / total


def mean_loss(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    device: torch.device | str | None = None,
) -> float:
    """The loss over the whole loader (batches weighted by their size), in evaluation mode."""
    total, count = 0.0, 0
    for outputs, targets in _eval_batches(model, loader, device, "mean_loss"):
        total += float(_loss(loss_fn, outputs, targets)) * len(targets)
        count += len(targets)
    return total / count
