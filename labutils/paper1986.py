"""Numbers from Rumelhart, Hinton & Williams (1986), "Learning representations by
back-propagating errors", Nature 323, 533-536, for comparing a reproduction of experiment 1
(mirror symmetry) with the paper. Each number says where in the paper it comes from.

Nothing here trains or judges a network: these are the published facts only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch

PAPER_DOI = "10.1038/323533a0"
"""Digital object identifier of the paper."""

PAPER_URL = f"https://www.nature.com/articles/{PAPER_DOI.split('/', 1)[1]}"
"""The paper on nature.com (the publisher's page for PAPER_DOI)."""

PAPER_SWEEPS = 1425
"""Sweeps the network of Figure 1 took to learn the task (source: the caption of Figure 1)."""

PAPER_RATIO = (1.0, 2.0, 4.0)
"""Ratio of the weight magnitudes on each side of the midpoint (source: the paper's text, which
explains that 1:2:4 gives each pattern on one side a unique sum, so only the mirror pattern can
balance it)."""

# Figure 1 of the paper: the weights on the arcs and the biases inside the units. These values
# are READ OFF THE FIGURE (as transcribed in the course issue), so they are approximate:
# - input -> hidden: magnitudes 14.2, 7.2 and 3.6 (Figure 1). The two inputs of a mirror pair
#   carry opposite signs and the second hidden unit is the first with every sign flipped
#   (Figure 1). Which pair carries which magnitude (here outer 14.2, middle 7.2, inner 3.6) is
#   our reading of the drawing; nothing in labutils depends on that order.
# - hidden biases -1.1 (Figure 1, inside both hidden units).
# - hidden -> output weights -8.8 (Figure 1, course transcription). Other transcriptions of
#   the figure read these two arcs as -9.4; we could not check the printed figure or text from
#   this repository, so treat the hidden->output magnitude as uncertain (about 9). Nothing in
#   labutils' checks depends on its exact value, only on its sign.
# - output bias 6.4 (Figure 1, inside the output unit).
_ROW = (14.2, 7.2, 3.6, -3.6, -7.2, -14.2)
_HIDDEN_BIAS = -1.1
_OUTPUT_WEIGHT = -8.8
_OUTPUT_BIAS = 6.4


def paper_weights(dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """A fresh, modifiable copy of the Figure 1 weights, keyed like a 6-2-1 network's state_dict:
    "hidden.weight" (2, 6), "hidden.bias" (2,), "output.weight" (1, 2), "output.bias" (1,)."""
    row = torch.tensor(_ROW, dtype=dtype)
    return {
        "hidden.weight": torch.stack([row, -row]),
        "hidden.bias": torch.full((2,), _HIDDEN_BIAS, dtype=dtype),
        "output.weight": torch.full((1, 2), _OUTPUT_WEIGHT, dtype=dtype),
        "output.bias": torch.tensor([_OUTPUT_BIAS], dtype=dtype),
    }


class _PaperWeights(Mapping):
    """Read-only view of the Figure 1 weights: every lookup returns a new copy, so changing
    what you got (even in place) never changes what the next caller gets."""

    def __getitem__(self, key: str) -> torch.Tensor:
        return paper_weights()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(paper_weights())

    def __len__(self) -> int:
        return 4

    def __setitem__(self, key, value) -> None:
        raise TypeError("PAPER_WEIGHTS is read-only; use paper_weights() for a copy to modify")

    def __repr__(self) -> str:
        return "PAPER_WEIGHTS(" + ", ".join(f"{k}={v.tolist()}" for k, v in self.items()) + ")"


PAPER_WEIGHTS: Mapping[str, torch.Tensor] = _PaperWeights()
"""The Figure 1 weights (float64), read-only: each lookup returns a fresh copy."""

__all__ = [
    "PAPER_DOI",
    "PAPER_RATIO",
    "PAPER_SWEEPS",
    "PAPER_URL",
    "PAPER_WEIGHTS",
    "paper_weights",
]
