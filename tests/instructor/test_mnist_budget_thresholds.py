"""mnist_budget_thresholds: each check passes on the model solution's stored outputs and fails on
a doctored copy of them."""

import pytest
from mnist_budget_thresholds import CHECKS, NOTEBOOK
from stored_outputs import stored_texts as stored


def stored_texts() -> list[str]:
    return stored(NOTEBOOK)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_passes_on_the_stored_outputs(check):
    check(stored_texts())


DOCTORED = [
    (r"24,655 parameters (budget", "25,655 parameters (budget"),
    (r"test accuracy 97.", "test accuracy 96.4"),
    (r"PASS budget:", "FAIL budget:"),
]


@pytest.mark.parametrize(("check", "edit"), list(zip(CHECKS, DOCTORED, strict=True)),
                         ids=lambda x: getattr(x, "__name__", ""))
def test_fails_on_doctored_outputs(check, edit):
    texts = stored_texts()
    assert any(edit[0] in text for text in texts), f"the notebook no longer prints {edit[0]!r}"
    with pytest.raises(AssertionError):
        check([text.replace(*edit) for text in texts])


def test_fails_when_the_result_line_is_missing():
    with pytest.raises(AssertionError, match="printed no"):
        CHECKS[0](["nothing here"])
