"""report_thresholds: each range check passes on the report's stored outputs and fails on a
doctored copy of them."""

import pytest
from report_thresholds import CHECKS, REPORT
from stored_outputs import stored_texts as stored


def stored_texts() -> list[str]:
    return stored(REPORT)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_passes_on_the_stored_report(check):
    check(stored_texts())


DOCTORED = [
    ("657 of 1000 solved", "857 of 1000 solved"),
    ("mirror anti-symmetric hidden units                       99.8%  100.0%",
     "mirror anti-symmetric hidden units                       99.8%   98.0%"),
    ("   0.1    0.8    99.7%", "   0.1    0.8    90.7%"),
    ("warmup, torch's SGD form     200     99%", "warmup, torch's SGD form     200     59%"),
    ("eps 0.01  (eps/(1-alpha) = 0.1): 21 of 200", "eps 0.01  (eps/(1-alpha) = 0.1): 121 of 200"),
]


@pytest.mark.parametrize(("check", "edit"), list(zip(CHECKS, DOCTORED, strict=True)),
                         ids=lambda x: getattr(x, "__name__", ""))
def test_fails_on_a_doctored_report(check, edit):
    texts = stored_texts()
    assert any(edit[0] in text for text in texts), f"the report no longer prints {edit[0]!r}"
    with pytest.raises(AssertionError):
        check([text.replace(*edit) for text in texts])


def test_fails_when_a_line_is_missing():
    with pytest.raises(AssertionError, match="printed no"):
        CHECKS[0](["nothing here"])
