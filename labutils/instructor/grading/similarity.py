"""Similarity of the students' solution code, for the instructor to review: never a grade.

Pairwise comparison with copydetect (winnowed fingerprints of the tokenised code: renaming
variables or editing comments does not hide a copy), with the release's own code subtracted as
boilerplate so the template every student starts from does not count as similar.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import nbformat
import numpy as np

from labutils.instructor.assignment import check_name

NOISE = 25
"""Shortest match (in filtered tokens, copydetect's noise threshold) that can count."""
GUARANTEE = 30
"""Matches this long are always found (copydetect's guarantee threshold; window = G - N + 1)."""


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose solution code overlaps, with where it does."""

    a: str
    b: str
    share_a: float
    """Share of a's code (fingerprinted tokens, template excluded) that is also in b's."""
    share_b: float
    code_a: str
    code_b: str
    spans_a: tuple[tuple[int, int], ...]
    """(start, end) character ranges of code_a that match code_b."""
    spans_b: tuple[tuple[int, int], ...]

    @property
    def score(self) -> float:
        """The larger share: a student who copied a part of a longer solution still shows."""
        return max(self.share_a, self.share_b)


def notebook_code(nb: nbformat.NotebookNode) -> str:
    """The code of a notebook's code cells, self-check cells left out, one block per cell."""
    return "\n\n".join(cell.source for cell in nb.cells
                       if cell.cell_type == "code" and check_name(cell) is None)


def _fingerprint(code: str, boilerplate: np.ndarray, window: int):
    from copydetect import CodeFingerprint

    return CodeFingerprint("solution.py", NOISE, window, boilerplate, fp=io.StringIO(code))


def _spans(slices) -> tuple[tuple[int, int], ...]:
    if len(slices) == 0 or np.size(slices) == 0:
        return ()
    return tuple((int(start), int(end)) for start, end in zip(*slices, strict=True))


def similar_pairs(codes: Mapping[str, str], release_code: str = "", top: int = 20,
                  minimum: float = 0.0) -> list[SimilarPair]:
    """The `top` most similar pairs of {student: code} (score above `minimum`), most similar
    first; code that is also in `release_code` (the template) does not count."""
    from copydetect import CodeFingerprint, compare_files

    if top < 0 or not 0 <= minimum <= 1:
        raise ValueError(f"top must be >= 0 and minimum between 0 and 1, got {top}, {minimum}")
    window = GUARANTEE - NOISE + 1
    boilerplate = np.array([], dtype=np.int64)
    if release_code.strip():
        template = CodeFingerprint("release.py", NOISE, 1, fp=io.StringIO(release_code))
        boilerplate = np.unique(np.array(sorted(template.hashes), dtype=np.int64))
    prints = {student: _fingerprint(code, boilerplate, window)
              for student, code in sorted(codes.items())}
    prints = {s: p for s, p in prints.items() if p.token_coverage > 0}
    pairs = []
    for a, b in itertools.combinations(prints, 2):
        _, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        if max(share_a, share_b) > minimum:
            pairs.append(SimilarPair(a, b, float(share_a), float(share_b), codes[a], codes[b],
                                     _spans(slices_a), _spans(slices_b)))
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return pairs[:top]


__all__ = ["SimilarPair", "notebook_code", "similar_pairs"]
