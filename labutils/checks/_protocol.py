"""What the self-checks know of experiment 1's protocol, in this one place.

A check that replays the paper's rule and catches a learning rate or momentum off by 1% must
hold them to three digits, and any encoding of them would be undone by running the same code.
So the checks do not hide the protocol: the assignment says openly that they know it, and that
their source is the wrong place to read it (Part 1 asks where in the paper each value is).
What they avoid is giving it away by accident: no public name of the student package holds a
protocol value, and no line a check prints states one (the release leak test checks both).
"""

from __future__ import annotations

_PROTOCOL = {"start": 0.3, "step": 0.1, "carry": 0.9}


def protocol(part: str) -> float:
    """One number of the protocol: "start" (the bound of the starting weights), "step" (the
    learning rate) or "carry" (the momentum)."""
    return _PROTOCOL[part]
