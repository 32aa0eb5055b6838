"""Similarity of students' code: a renamed copy is found, the shared template is not."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labutils.instructor.grading.similarity import notebook_code, similar_pairs

TEMPLATE = """import torch
from torch import nn
import matplotlib.pyplot as plt

def make_cases():
    inputs = torch.tensor([[(i >> (5 - b)) & 1 for b in range(6)] for i in range(64)],
                          dtype=torch.float32)
    targets = (inputs == inputs.flip(1)).all(1).float()[:, None]
    return inputs, targets

def plot_errors(errors, title):
    plt.figure(figsize=(5, 3))
    plt.plot(errors)
    plt.xlabel("sweep")
    plt.ylabel("E")
    plt.title(title)
    plt.show()
"""
ALICE = """
net = nn.Sequential(nn.Linear(6, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
for p in net.parameters():
    nn.init.uniform_(p, -0.3, 0.3)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
inputs, targets = make_cases()
errors = []
for sweep in range(5000):
    opt.zero_grad()
    E = 0.5 * ((net(inputs) - targets) ** 2).sum()
    errors.append(E.item())
    E.backward()
    opt.step()
    if ((net(inputs) - targets).abs() < 0.5).all():
        break
"""
BOB = re.sub(r"\bnet\b", "model", ALICE).replace("errors", "history").replace("opt", "sgd")
CAROL = """
W1 = torch.empty(2, 6).uniform_(-0.3, 0.3).requires_grad_()
b1 = torch.empty(2).uniform_(-0.3, 0.3).requires_grad_()
W2 = torch.empty(1, 2).uniform_(-0.3, 0.3).requires_grad_()
b2 = torch.empty(1).uniform_(-0.3, 0.3).requires_grad_()
x, d = make_cases()
velocity = [torch.zeros_like(w) for w in (W1, b1, W2, b2)]
trace = []
while len(trace) < 5000:
    hidden = torch.sigmoid(x @ W1.T + b1)
    y = torch.sigmoid(hidden @ W2.T + b2)
    loss = ((y - d) ** 2).sum() / 2
    trace.append(float(loss))
    grads = torch.autograd.grad(loss, (W1, b1, W2, b2))
    with torch.no_grad():
        for w, g, v in zip((W1, b1, W2, b2), grads, velocity):
            v.mul_(0.9).add_(g, alpha=-0.1)
            w.add_(v)
"""


def test_a_renamed_copy_is_the_most_similar_pair():
    codes = {"alice": TEMPLATE + ALICE, "bob": TEMPLATE + BOB, "carol": TEMPLATE + CAROL}
    pairs = similar_pairs(codes, release_code=TEMPLATE)
    assert (pairs[0].a, pairs[0].b) == ("alice", "bob")
    assert pairs[0].score > 0.8
    assert all(p.score < 0.3 for p in pairs[1:]), [(p.a, p.b, p.score) for p in pairs]
    start, end = max(pairs[0].spans_a, key=lambda s: s[1] - s[0])
    assert "zero_grad" in pairs[0].code_a[start:end]
    assert pairs[0].code_a == codes["alice"] and pairs[0].code_b == codes["bob"]


def test_the_template_alone_is_not_similar():
    codes = {"alice": TEMPLATE + ALICE, "carol": TEMPLATE + CAROL, "dave": TEMPLATE}
    with_template = similar_pairs(codes, release_code=TEMPLATE, minimum=0.3)
    assert with_template == []
    without = similar_pairs(codes, minimum=0.3)
    assert without, "the check must be able to fail: without the template every pair shares it"


def test_top_minimum_and_tiny_code():
    codes = {f"s{i}": TEMPLATE + ALICE for i in range(5)} | {"empty": "", "tiny": "x = 1"}
    pairs = similar_pairs(codes, TEMPLATE, top=3)
    assert len(pairs) == 3 and all(p.score == pytest.approx(1.0) for p in pairs)
    assert [(p.a, p.b) for p in pairs] == [("s0", "s1"), ("s0", "s2"), ("s0", "s3")]
    with pytest.raises(ValueError, match="minimum between 0 and 1"):
        similar_pairs(codes, minimum=2)


def test_notebook_code_leaves_out_check_cells():
    nb = new_notebook(cells=[new_markdown_cell("# T"), new_code_cell("a = 1"),
                             new_code_cell("# CHECK: data (do not edit)\ncheck()"),
                             new_code_cell("b = 2")])
    assert notebook_code(nbformat.from_dict(nb)) == "a = 1\n\nb = 2"
