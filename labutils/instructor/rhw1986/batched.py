"""Thousands of networks at once: train_many, the sweep loop around the batched engine.

The engine (engine.py) holds all S networks as one parameter matrix; this module draws or
checks their initial weights, runs the sweeps, records the networks as they stop, and returns
a StudyResult.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from labutils.instructor.rhw1986.analysis import classify_failures
from labutils.instructor.rhw1986.engine import BatchedEngine
from labutils.instructor.rhw1986.model import initial_weights as draw_initial
from labutils.instructor.rhw1986.options import check_choice, check_count, check_options
from labutils.instructor.rhw1986.study import StudyResult, stack_weights
from labutils.network_facts import as_weights, check_weights
from labutils.progress import progress
from labutils.symmetry_task import ACTIVATIONS, N_CASES

Weights = dict[str, torch.Tensor]


def flush_denormal_is_on() -> bool:
    """Whether torch currently flushes subnormal floats to zero (torch has no getter: a
    subnormal number times one comes out as 0 exactly when flushing is on)."""
    return bool((torch.tensor([1e-310], dtype=torch.float64) * 1.0)[0] == 0)


@dataclass
class _Record:
    """What the sweep loop keeps of every network, indexed by its seed index."""

    final_theta: torch.Tensor
    final_errors: torch.Tensor
    tail_errors: torch.Tensor
    sweeps: torch.Tensor
    history: torch.Tensor
    history_sweeps: list[int]
    tail_sweep: int


def _run_sweeps(
    engine: BatchedEngine,
    max_sweeps: int,
    tolerance: float,
    per_pattern: bool,
    history_every: int,
    bar=None,
) -> _Record:
    """The sweep loop of train_many: check, record the networks that stop, update the rest."""
    n_seeds = engine.n_active
    active = torch.arange(n_seeds)
    tail_sweep = (4 * max_sweeps) // 5
    history_sweeps = list(range(0, max_sweeps + 1, history_every))
    nan = torch.full((n_seeds,), math.nan, dtype=torch.float64)
    record = _Record(
        final_theta=torch.empty_like(engine.theta),
        final_errors=nan.clone(),
        tail_errors=nan.clone(),
        sweeps=torch.full((n_seeds,), -1, dtype=torch.long),
        history=torch.full((len(history_sweeps), n_seeds), math.nan, dtype=torch.float64),
        history_sweeps=history_sweeps,
        tail_sweep=tail_sweep,
    )
    for t in range(max_sweeps + 1):
        act, err = engine.forward()
        met = engine.met(err, tolerance)
        last = t == max_sweeps
        stop = torch.ones_like(met) if last else met
        any_stop = last or bool(met.any())
        if any_stop or t % history_every == 0 or t == tail_sweep:
            error = 0.5 * (err * err).sum(0).double()
            if t % history_every == 0:
                record.history[t // history_every, active] = error
            if t == tail_sweep:
                record.tail_errors[active] = error
        if any_stop:
            ids = active[stop]
            record.final_theta[:, ids] = engine.theta[:, stop]
            record.final_errors[ids] = error[stop]
            record.sweeps[active[met]] = t
            if last or bool(stop.all()):
                break
        # Networks that just stopped are saved above; they take this last step with the others
        # (cheaper than rebuilding the activations) and are dropped right after it.
        if per_pattern:
            for case in range(N_CASES):
                engine.pattern_backward(case)
                engine.step(t)
        else:
            engine.backward(act, err)
            engine.step(t)
        if any_stop:
            active = active[~stop]
            engine.compact(~stop)
        if bar is not None:
            bar.update(1)
    return record


def _initial(
    n_seeds: int,
    seed: int,
    hidden: int,
    init_range: float,
    given: Mapping[str, torch.Tensor] | None,
) -> Weights:
    """The batched initial weights: `given` (checked to hold n_seeds networks), or drawn."""
    if given is not None:
        count = torch.as_tensor(given["hidden.weight"]).shape[0]
        if count != n_seeds:
            raise ValueError(f"initial_weights hold {count} networks, but n_seeds is {n_seeds}")
        return as_weights(given, batched=True)
    check_count("hidden", hidden, 1)
    return stack_weights(
        [draw_initial(seed, i, hidden, init_range, torch.float64) for i in range(n_seeds)]
    )


@contextmanager
def _fast_cpu(num_threads: int | None) -> Iterator[None]:
    """Flush subnormal floats and use `num_threads` intra-op threads, restored afterwards.

    Saturated units produce subnormal floats, which x86 CPUs process ~100x slower; flushing
    them to zero changes nothing visible and keeps every sweep fast. Both settings are
    process-wide, so they are put back as they were.
    """
    flushing = flush_denormal_is_on()
    threads = torch.get_num_threads()
    torch.set_flush_denormal(True)
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_flush_denormal(flushing)
        torch.set_num_threads(threads)


def train_many(
    n_seeds: int,
    max_sweeps: int = 5000,
    criterion: str | None = "half",
    seed: int = 0,
    activation: str = "sigmoid",
    optimizer: str = "sgd",
    loss: str = "sse",
    hidden: int = 2,
    init_range: float = 0.3,
    scheduler: str | Callable[[int], float] | None = None,
    per_pattern: bool = False,
    dtype: torch.dtype = torch.float32,
    lr: float = 0.1,
    momentum: float = 0.9,
    initial_weights: Mapping[str, torch.Tensor] | None = None,
    history_every: int | None = None,
    show_progress: bool = False,
    num_threads: int | None = 1,
    momentum_form: str = "paper",
) -> StudyResult:
    """Train `n_seeds` independent networks at once, each stopping at the criterion or the cap.

    Network i starts from initial_weights(seed, i, hidden, init_range) of
    labutils.instructor.rhw1986 (or from `initial_weights`, batched (n_seeds, ...)), and follows
    the trajectory train_single gives it (same rule, same sweep counting), up to float rounding.

    `momentum_form` picks how "sgd" applies momentum under a schedule (see MOMENTUM_FORMS;
    "paper" is the paper's equation). The layout and tricks: labutils/instructor/rhw1986/engine.py.

    `num_threads` sets torch's intra-op threads while training (None: leave as is). The default,
    1, is fastest on a shared or small machine: each operation is short, and threads waiting for
    a busy core can make a sweep ten times slower. The thread count and the flush-denormal
    setting are restored afterwards.
    """
    check_count("n_seeds", n_seeds, 1)
    tolerance, factor = check_options(
        max_sweeps, criterion, optimizer, momentum_form, loss, lr, momentum, scheduler
    )
    check_choice("activation", activation, tuple(ACTIVATIONS))
    if initial_weights is not None:
        hidden = check_weights(initial_weights, batched=True)
    initial = _initial(n_seeds, seed, hidden, init_range, initial_weights)
    history_every = history_every or max(1, max_sweeps // 100)

    start = time.perf_counter()
    with _fast_cpu(num_threads):
        engine = BatchedEngine({k: v.to(dtype) for k, v in initial.items()}, activation,
                               optimizer, loss, lr, momentum, momentum_form, factor, dtype)
        bar = progress(total=max_sweeps, desc="sweeps", unit="sweep") if show_progress else None
        record = _run_sweeps(engine, max_sweeps, tolerance, per_pattern, history_every, bar)
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start

    config = {
        "n_seeds": n_seeds,
        "max_sweeps": max_sweeps,
        "criterion": criterion,
        "seed": seed,
        "activation": activation,
        "optimizer": optimizer,
        "loss": loss,
        "hidden": hidden,
        "init_range": init_range,
        "scheduler": scheduler if isinstance(scheduler, str) or scheduler is None else "custom",
        "per_pattern": per_pattern,
        "dtype": str(dtype).replace("torch.", ""),
        "lr": lr,
        "momentum": momentum,
        "momentum_form": momentum_form,
    }
    given = initial if initial_weights is not None else None
    return _study_result(engine, record, config, seconds, given)


def _study_result(
    engine: BatchedEngine,
    record: _Record,
    config: dict,
    seconds: float,
    initial: Weights | None,
) -> StudyResult:
    """The StudyResult of a finished run: final weights, sweep counts, failure labels."""
    weights = engine.unpack(record.final_theta)
    sweeps = [int(s) if s >= 0 else None for s in record.sweeps.tolist()]
    labels = classify_failures(
        {k: v.double() for k, v in weights.items()},
        sweeps,
        record.final_errors,
        record.tail_errors,
        activation=config["activation"],
    )
    return StudyResult(
        config=config,
        sweeps=sweeps,
        final_errors=record.final_errors,
        weights=weights,
        labels=labels,
        history=record.history,
        history_sweeps=record.history_sweeps,
        tail_errors=record.tail_errors,
        tail_sweep=record.tail_sweep,
        seconds=seconds,
        initial=initial,
    )
