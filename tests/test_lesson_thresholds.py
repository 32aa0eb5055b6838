"""tests/lesson_thresholds.py: each check passes good outputs and fails doctored ones, also
inside a real nbval session (the mechanism of tests/test_executed_lessons.py end to end)."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from lesson_thresholds import (
    LESSON_04,
    check_extra_mse_is_the_quadratic_form,
    check_fast_path_reaches_threshold,
    check_fast_path_trains_like_the_loop,
    check_fit_reproduces_the_loop,
    check_loop_reaches_threshold,
)

REPO = Path(__file__).resolve().parents[1]
EXECUTED_TESTS = REPO / "tests" / "test_executed_lessons.py"


def _epochs(accuracies, losses=None) -> str:
    losses = losses or [0.5 - 0.05 * k for k in range(len(accuracies))]
    return "".join(f"epoch {k + 1}: mean loss {loss:.4f}, test accuracy {acc:.4f}\n"
                   for k, (loss, acc) in enumerate(zip(losses, accuracies, strict=True)))


GOOD_04 = ["training images: 60,000, test images: 10,000\n", "",
           _epochs([0.93, 0.94, 0.95, 0.955, 0.9588]), "",
           _epochs([0.93, 0.94, 0.95, 0.955, 0.9592])]
GOOD_03 = ["our loop, epoch-mean loss of epochs 1 and 2: ['54.1509', '1.5350']\n"
           "fit,      epoch-mean loss of epochs 1 and 2: ['54.1509', '1.5350']\n",
           "run   MSE extra MSE quadratic form |theta - theta_LS|\n"
           "SGD                                     0.864     0.023          0.023  0.665\n"
           "SGD + momentum                          0.859     0.018          0.018  0.097\n"
           "Adam                                    0.857     0.015          0.015  0.510\n"
           "SGD + momentum, lr 1e-2 x 0.95/epoch    0.842     0.000          0.000  0.162\n"]


def test_checks_pass_on_good_outputs():
    check_loop_reaches_threshold(GOOD_04)
    check_fast_path_trains_like_the_loop(GOOD_04)
    check_fast_path_reaches_threshold(GOOD_04)
    check_fit_reproduces_the_loop(GOOD_03)
    check_extra_mse_is_the_quadratic_form(GOOD_03)


@pytest.mark.parametrize("check, texts", [
    (check_loop_reaches_threshold, [GOOD_04[0], _epochs([0.93, 0.94, 0.94, 0.945, 0.9499]),
                                    GOOD_04[4]]),
    (check_loop_reaches_threshold, GOOD_04[1:]),  # not all 60,000 images
    (check_loop_reaches_threshold, [GOOD_04[0], _epochs([0.9, 0.96]), GOOD_04[4]]),  # 2 epochs
    (check_loop_reaches_threshold, GOOD_04[:3]),  # no fast path printed
    (check_fast_path_trains_like_the_loop,
     GOOD_04[:4] + [_epochs([0.93, 0.94, 0.95, 0.955, 0.9592],
                            [0.5, 0.45, 0.4, 0.35, 0.301])]),
    (check_fast_path_trains_like_the_loop,
     GOOD_04[:4] + [_epochs([0.93, 0.94, 0.95, 0.955, 0.9620])]),
    (check_fast_path_reaches_threshold, GOOD_04[:4] + [_epochs([0.9, 0.92, 0.93, 0.94, 0.9450])]),
    (check_fit_reproduces_the_loop, [GOOD_03[0].replace("'1.5350']\n", "'1.5390']\n", 1)]),
    (check_fit_reproduces_the_loop, [GOOD_03[0].split("\n")[0]]),
    (check_extra_mse_is_the_quadratic_form, [GOOD_03[1].replace("0.018  0.097", "0.021  0.097")]),
    (check_extra_mse_is_the_quadratic_form, [GOOD_03[1].split("Adam")[0]]),
], ids=["accuracy-0.9499", "not-60000", "two-epochs", "no-fast-path", "fast-loss-differs",
        "fast-accuracy-differs", "fast-0.945", "fit-differs", "fit-missing", "form-differs",
        "rows-missing"])
def test_checks_fail_on_doctored_outputs(check, texts):
    with pytest.raises(AssertionError):
        check(texts)


def _printing_notebook(texts: list[str]) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(f"print({text!r}, end='')") for text in texts]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_threshold_fails_in_a_real_nbval_session_with_a_doctored_notebook(tmp_path):
    """The whole mechanism: nbval runs a stand-in lesson 04 (unexecuted cells, so no output is
    compared) whose loop prints 0.9499, and the threshold test in the same session fails."""
    bad = [GOOD_04[0], _epochs([0.93, 0.94, 0.94, 0.945, 0.9499]), GOOD_04[4]]
    nbformat.write(_printing_notebook(bad), tmp_path / LESSON_04)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p",
         "no:cacheprovider", "-q", "-k", "Cell or executed_04", str(tmp_path / LESSON_04),
         str(EXECUTED_TESTS)], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "test accuracy 0.9499 < 0.95" in out and "4 passed" in out and "2 failed" in out, out
    # fast-path checks: one passes (0.9592 >= 0.95), "trains like the loop" fails (0.9499 vs 0.9592)
