"""The many-seed 1986 study (1,000 seeds x 5,000 sweeps, stopping checked every sweep).

Baseline A: the straightforward per-seed loop (SymmetryNet + torch.optim.SGD(momentum=0.9) on the
summed squared error), timed on a few seeds and scaled per seed-sweep.
Baseline B: a plain batched version with torch.bmm over (seeds, 64, 6) inputs and autograd,
stopping checked every sweep by masking finished seeds (which keep costing compute).
Ours: labutils.instructor.rhw1986.train_many (the paper's rule; one GEMM for all seeds' hidden
layer, hand-written backward in preallocated buffers, finished seeds dropped).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from benchmarks.harness import Row, median_time
from labutils.instructor.rhw1986 import SymmetryNet, initial_weights, train_many
from labutils.symmetry_task import cases, summed_error

SEEDS, SWEEPS = 1000, 5000


def baseline_bmm(n_seeds: int, sweeps: int) -> None:
    """Baseline B: all seeds batched with torch.bmm and autograd; finished seeds are masked."""
    x, d = cases(dtype=torch.float32)
    d = d[:, None]
    xs = x.expand(n_seeds, 64, 6)
    gen = torch.Generator().manual_seed(0)
    w1 = nn.Parameter(torch.empty(n_seeds, 6, 2).uniform_(-0.3, 0.3, generator=gen))
    b1 = nn.Parameter(torch.empty(n_seeds, 1, 2).uniform_(-0.3, 0.3, generator=gen))
    w2 = nn.Parameter(torch.empty(n_seeds, 2, 1).uniform_(-0.3, 0.3, generator=gen))
    b2 = nn.Parameter(torch.empty(n_seeds, 1, 1).uniform_(-0.3, 0.3, generator=gen))
    params = [w1, b1, w2, b2]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    active = torch.ones(n_seeds, 1, 1)
    for _ in range(sweeps):
        optimizer.zero_grad()
        y = torch.sigmoid(torch.bmm(torch.sigmoid(torch.bmm(xs, w1) + b1), w2) + b2)
        (0.5 * ((y - d) ** 2) * active).sum().backward()
        optimizer.step()
        solved = ((y - d).abs() < 0.5).all(dim=1, keepdim=True)
        active = active * (~solved).float()
        if not bool(active.any()):
            break


def fused_sweep(w1, w2, v1, v2, x1, d, lr: float, momentum: float) -> torch.Tensor:
    """One sweep of the paper's rule for S sigmoid 6-2-1 nets, written for torch.compile.

    w1 (7, 2S): hidden weights and biases of every net side by side; w2 (3, S): the two output
    weights and the output bias; v1, v2: momentum buffers. Returns the errors y - d (64, S).
    """
    s = w2.shape[1]
    h = torch.sigmoid(x1 @ w1).view(64, 2, s)
    y = torch.sigmoid(h[:, 0] * w2[0] + h[:, 1] * w2[1] + w2[2])
    err = y - d
    delta = err * y * (1 - y)
    g2 = torch.stack([(h[:, 0] * delta).sum(0), (h[:, 1] * delta).sum(0), delta.sum(0)])
    hidden_delta = delta[:, None, :] * w2[:2][None] * h * (1 - h)
    g1 = x1.T @ hidden_delta.reshape(64, 2 * s)
    v1.mul_(momentum).add_(g1)
    w1.sub_(lr * v1)
    v2.mul_(momentum).add_(g2)
    w2.sub_(lr * v2)
    return err


def compile_probe(n_seeds: int = SEEDS, sweeps: int = 2000) -> dict:
    """Eager vs torch.compile on fused_sweep (fixed seed count, no stopping): per seed-sweep
    times and the compile time, to judge whether compiling pays off inside a notebook."""
    x, d = cases(dtype=torch.float32)
    d = d[:, None]
    x1 = torch.cat([x, torch.ones(64, 1)], dim=1)
    out = {}
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, fn in (("eager", fused_sweep), ("compiled", torch.compile(fused_sweep))):
            gen = torch.Generator().manual_seed(0)
            w1 = torch.empty(7, 2 * n_seeds).uniform_(-0.3, 0.3, generator=gen)
            w2 = torch.empty(3, n_seeds).uniform_(-0.3, 0.3, generator=gen)
            v1, v2 = torch.zeros_like(w1), torch.zeros_like(w2)
            start = time.perf_counter()
            fn(w1, w2, v1, v2, x1, d, 0.1, 0.9)
            out[f"{name}_first_call_s"] = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(sweeps):
                fn(w1, w2, v1, v2, x1, d, 0.1, 0.9)
            out[f"{name}_us"] = (time.perf_counter() - start) / (n_seeds * sweeps) * 1e6
    except Exception as err:  # no C++ compiler, unsupported platform...
        out["compile_error"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
    finally:
        torch.set_num_threads(previous)
    return out


def run(repeats: int = 5) -> tuple[list[Row], dict]:
    """Rows for the study workload, and the study's own results (for the notes)."""
    torch.manual_seed(0)
    a_seeds, a_sweeps = 4, 300  # baseline A runs these without stopping early (timing only)
    a_s, _ = median_time(lambda: _per_seed_no_stop(a_seeds, a_sweeps), repeats=repeats)
    a_per = a_s / (a_seeds * a_sweeps)
    b_sweeps = 200
    b_s, _ = median_time(lambda: _bmm_no_stop(SEEDS, b_sweeps), repeats=repeats, warmup=1)
    b_per = b_s / (SEEDS * b_sweeps)

    study: dict = {}

    def ours() -> None:
        study["result"] = train_many(SEEDS, max_sweeps=SWEEPS, seed=0)

    ours_s, _ = median_time(ours, repeats=repeats, warmup=1)
    result = study["result"]
    executed = sum(s if s is not None else SWEEPS for s in result.sweeps)
    ours_per_executed = ours_s / executed
    ours_per_nominal = ours_s / (SEEDS * SWEEPS)
    rows = [
        Row("1986 study, per seed-sweep (ours: per seed-sweep executed)",
            "A: per-seed nn.Module + optim.SGD loop", a_per, ours_per_executed, repeats,
            unit="us", target=">= 500x"),
        Row("1986 study, per seed-sweep (ours: whole study / (1000 x 5000))",
            "B: plain batched torch.bmm + autograd", b_per, ours_per_nominal, repeats,
            unit="us", target=">= 5x"),
        Row("1986 study, 1,000 seeds x 5,000 sweeps, whole wall time",
            "A scaled to the seed-sweeps ours executed", a_per * executed, ours_s, repeats,
            target="(orientation)"),
    ]
    info = {"compile": compile_probe(), "executed_seed_sweeps": executed,
            "success_rate": result.success_rate,
            "median_sweeps": result.median_sweeps, "ours_s": ours_s,
            "a_per_us": a_per * 1e6, "b_per_us": b_per * 1e6}
    return rows, info


def _per_seed_no_stop(n_seeds: int, sweeps: int) -> None:
    """Baseline A without early stopping, so every timed sweep does the full work."""
    x, d = cases(dtype=torch.float32)
    d = d[:, None]
    for index in range(n_seeds):
        net = SymmetryNet(dtype=torch.float32)
        net.load_state_dict({k: v.float() for k, v in initial_weights(0, index).items()})
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        for _ in range(sweeps):
            optimizer.zero_grad()
            y = net(x)
            summed_error(y, d).backward()
            optimizer.step()
            _ = bool(((y - d).abs() < 0.5).all())  # the stopping check's cost, every sweep


def _bmm_no_stop(n_seeds: int, sweeps: int) -> None:
    """Baseline B for a fixed number of sweeps (no seed finishes in the first 200 sweeps)."""
    baseline_bmm(n_seeds, sweeps)
