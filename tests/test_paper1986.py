"""Tests of labutils.paper1986: the Figure 1 numbers, read-only."""

from __future__ import annotations

import pytest
import torch

from labutils.paper1986 import PAPER_SWEEPS, PAPER_URL, PAPER_WEIGHTS, paper_weights

# --- the paper's numbers --------------------------------------------------------------------------


def test_paper_weights_cannot_be_changed():
    PAPER_WEIGHTS["output.bias"].mul_(-1)
    PAPER_WEIGHTS["hidden.weight"].zero_()
    assert float(PAPER_WEIGHTS["output.bias"]) == pytest.approx(6.4)
    assert float(PAPER_WEIGHTS["hidden.weight"].abs().max()) == pytest.approx(14.2)
    with pytest.raises(TypeError, match="read-only"):
        PAPER_WEIGHTS["output.bias"] = torch.zeros(1)
    assert list(PAPER_WEIGHTS) == list(paper_weights()) and len(PAPER_WEIGHTS) == 4
    copy = paper_weights(torch.float32)
    copy["output.bias"] += 1
    assert copy["output.bias"].dtype == torch.float32
    assert float(PAPER_WEIGHTS["output.bias"]) == pytest.approx(6.4)
    assert PAPER_SWEEPS == 1425 and PAPER_URL.endswith("323533a0")
