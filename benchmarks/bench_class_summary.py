"""Class summary benchmark: building the summary page for 200 synthetic students, and the
pairwise similarity (copydetect) of their 200 solutions that feeds its last section.

No baseline: the numbers are wall times (median of repeats), reported as text. The synthetic
class: 200 rows with rubric points and diagnosed mistakes, 50 study runs each, solutions in
three styles with students' own names and constants, and a few renamed copies.

Run alone: `python -m benchmarks.bench_class_summary [--repeats N]`.
"""

from __future__ import annotations

import argparse
import random
import time

from benchmarks.harness import median_time
from labutils.instructor.grading.class_summary import SummaryRow, class_summary
from labutils.instructor.grading.similarity import similar_pairs

RUBRIC = [("runs", 1, "runs top to bottom", "auto"), ("data", 1, "the 64 cases", "auto"),
          ("replay", 3, "the paper's rule from a drawn start", "auto"),
          ("protocol", 2, "Part 1 table", "manual"), ("report", 3, "the report", "manual")]
MISTAKES = ["mean without 1/2", "gradients pile up", "targets broadcast (64,) vs (64, 1)"]
TEMPLATE = """import torch
from torch import nn
inputs = torch.tensor([[(i >> (5 - b)) & 1 for b in range(6)] for i in range(64)]).float()
targets = (inputs == inputs.flip(1)).all(1).float()[:, None]
"""
STYLES = [
    """{net} = nn.Sequential(nn.Linear(6, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
for p in {net}.parameters():
    nn.init.uniform_(p, -0.3, 0.3)
{opt} = torch.optim.SGD({net}.parameters(), lr={lr}, momentum=0.9)
{log} = []
for sweep in range({cap}):
    {opt}.zero_grad()
    E = 0.5 * (({net}(inputs) - targets) ** 2).sum()
    {log}.append(E.item())
    E.backward()
    {opt}.step()
""",
    """class {net}(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(6, 2)
        self.out = nn.Linear(2, 1)
    def forward(self, x):
        return torch.sigmoid(self.out(torch.sigmoid(self.hidden(x))))
model = {net}()
{opt} = torch.optim.SGD(model.parameters(), lr={lr}, momentum=0.9)
{log} = [0.0] * {cap}
for t in range({cap}):
    loss = ((model(inputs) - targets) ** 2).sum() / 2
    {opt}.zero_grad(); loss.backward(); {opt}.step()
    {log}[t] = float(loss)
""",
    """W = [torch.empty(s).uniform_(-0.3, 0.3).requires_grad_()
     for s in [(2, 6), (2,), (1, 2), (1,)]]
{opt} = [torch.zeros_like(w) for w in W]
{log} = []
while len({log}) < {cap}:
    h = torch.sigmoid(inputs @ W[0].T + W[1])
    {net} = torch.sigmoid(h @ W[2].T + W[3])
    E = 0.5 * (({net} - targets) ** 2).sum()
    {log}.append(E.item())
    for w, g, v in zip(W, torch.autograd.grad(E, W), {opt}):
        v.mul_(0.9).sub_({lr} * g)
        w.data.add_(v)
""",
]


def _code(rng: random.Random) -> str:
    names = {"net": rng.choice(["net", "model", "mlp", "symnet", "Net6"]) + str(rng.randint(0, 9)),
             "opt": rng.choice(["opt", "optimizer", "sgd", "vel"]),
             "log": rng.choice(["errors", "history", "E_log", "losses"]),
             "lr": rng.choice([0.1, 0.5, 0.25]), "cap": rng.choice([5000, 4000, 3000])}
    return TEMPLATE + rng.choice(STYLES).format(**names)


def synthetic_class(n: int = 200, seed: int = 0):
    """(rows, study runs, {student: code}) of a class of `n`; every 40th student copies the
    previous one's solution with another name for the network."""
    rng = random.Random(seed)
    rows, runs, codes = [], [], {}
    for i in range(n):
        student = f"s{i:03d}"
        mistakes = [m for m in MISTAKES if rng.random() < 0.1]
        points = {"runs": 1, "data": 1, "replay": 0 if mistakes else 3,
                  "protocol": rng.choice([1, 1.5, 2]), "report": rng.choice([1, 2, 2.5, 3])}
        rows.append(SummaryRow(student, sum(points.values()), points, mistakes,
                               "timed out" if rng.random() < 0.02 else "graded"))
        runs.append([rng.randint(250, 5000) if rng.random() < 0.56 else None
                     for _ in range(50)])
        codes[student] = (codes[f"s{i - 1:03d}"].replace("E.backward", "E .backward")
                          if i % 40 == 39 else _code(rng))
    return rows, runs, codes


def run(repeats: int = 3) -> dict:
    """Seconds to compare 200 solutions and to build the summary page (median of repeats)."""
    rows, runs, codes = synthetic_class(200)
    start = time.perf_counter()
    pairs = similar_pairs(codes, TEMPLATE, top=20)
    similarity_s = time.perf_counter() - start
    page_s, samples = median_time(
        lambda: class_summary(rows, RUBRIC, runs, pairs, paper_sweeps=1425), repeats, warmup=1)
    page = class_summary(rows, RUBRIC, runs, pairs, paper_sweeps=1425)
    return {"rows": len(rows), "page_s": page_s, "samples": samples, "page_kb": len(page) / 1024,
            "similarity_s": similarity_s, "pairs": len(pairs), "repeats": repeats,
            "top_pair": (pairs[0].a, pairs[0].b, pairs[0].score) if pairs else None}


def lines(facts: dict) -> list[str]:
    return [
        f"Class summary page for {facts['rows']} synthetic students (50 study runs each, "
        f"{facts['pairs']} similar pairs): built in {facts['page_s']:.2f} s (median of "
        f"{facts['repeats']}; samples {[round(s, 2) for s in facts['samples']]}), "
        f"{facts['page_kb']:.0f} KB self-contained HTML. Pairwise similarity of their "
        f"{facts['rows']} solutions with copydetect ({facts['rows'] * (facts['rows'] - 1) // 2:,}"
        f" pairs): {facts['similarity_s']:.1f} s."]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_class_summary")
    parser.add_argument("--repeats", type=int, default=3)
    facts = run(parser.parse_args().repeats)
    print("\n".join(lines(facts)))
    print("most similar pair:", facts["top_pair"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
