"""What lessons 03 and 04 must show when they run: checks on the text their cells printed.

tests/test_executed_lessons.py applies them to the outputs of nbval's own run of the lessons in
the same pytest session (tests/conftest.py), so each lesson is executed once. The lessons print
the values; the checks live here:

- lesson 03: `fit` reproduces the written-out loop; each run's extra MSE equals the quadratic
  form of its weight error;
- lesson 04: the loop's 5 epochs on all 60,000 training images reach a test accuracy >= 0.95;
  the fast path (tensors in memory, `fit`) trains exactly like the loop and reaches it too.

tests/test_lesson_thresholds.py feeds them doctored outputs, so each check is seen to fail.
"""

from __future__ import annotations

import re

import pytest

LESSON_03, LESSON_04 = "03_linear_regression.ipynb", "04_mnist_mlp.ipynb"
EPOCH = re.compile(r"^epoch (\d+): mean loss (\d+\.\d+), test accuracy (\d+\.\d+)$", re.M)
LOSSES = re.compile(r"^(our loop|fit),\s+epoch-mean loss of epochs 1 and 2: \[(.*)\]$", re.M)
RUN_ROW = re.compile(r"^(\S.*?)\s+(\d+\.\d{3})\s+(-?\d+\.\d{3})\s+(-?\d+\.\d{3})\s+(\d+\.\d{3})$",
                     re.M)
THRESHOLD, EPOCHS, TRAINING_IMAGES = 0.95, 5, "60,000"
LOSS_TOLERANCE, ACCURACY_TOLERANCE = 5e-4, 0.002  # the printed 4th decimal; 20 test images


def epoch_tables(texts: list[str]) -> list[list[tuple[int, float, float]]]:
    """Each cell's `epoch N: mean loss L, test accuracy A` lines, for the cells that print some."""
    found = [[(int(e), float(loss), float(acc)) for e, loss, acc in EPOCH.findall(text)]
             for text in texts]
    return [table for table in found if table]


def loop_and_fast_path(texts: list[str]):
    tables = epoch_tables(texts)
    assert len(tables) == 2, (f"expected two cells printing 'epoch N: mean loss ..., test "
                              f"accuracy ...' lines (the loop, the fast path), found {len(tables)}")
    for table in tables:
        assert [row[0] for row in table] == list(range(1, EPOCHS + 1)), table
    return tables


def check_loop_reaches_threshold(texts: list[str]) -> None:
    assert any(f"training images: {TRAINING_IMAGES}" in text for text in texts), \
        f"lesson 04 did not print 'training images: {TRAINING_IMAGES}'"
    loop, _ = loop_and_fast_path(texts)
    accuracy = loop[-1][2]
    assert accuracy >= THRESHOLD, f"loop: test accuracy {accuracy:.4f} < {THRESHOLD} after 5 epochs"


def check_fast_path_trains_like_the_loop(texts: list[str]) -> None:
    loop, fast = loop_and_fast_path(texts)
    for (epoch, loss, acc), (_, fast_loss, fast_acc) in zip(loop, fast, strict=True):
        assert abs(loss - fast_loss) <= LOSS_TOLERANCE, (epoch, loss, fast_loss)
        assert abs(acc - fast_acc) <= ACCURACY_TOLERANCE, (epoch, acc, fast_acc)


def check_fast_path_reaches_threshold(texts: list[str]) -> None:
    _, fast = loop_and_fast_path(texts)
    assert fast[-1][2] >= THRESHOLD, f"fast path: test accuracy {fast[-1][2]:.4f} < {THRESHOLD}"


def check_fit_reproduces_the_loop(texts: list[str]) -> None:
    found = dict(LOSSES.findall("".join(texts)))
    assert set(found) == {"our loop", "fit"}, f"lesson 03 printed the losses of {sorted(found)}"
    loop, fitted = ([float(v.strip(" '\"")) for v in found[k].split(",")] for k in
                    ("our loop", "fit"))
    assert len(loop) == len(fitted) == 2, (loop, fitted)
    assert loop == pytest.approx(fitted, abs=1e-4), (loop, fitted)


def check_extra_mse_is_the_quadratic_form(texts: list[str]) -> None:
    rows = RUN_ROW.findall("".join(texts))
    assert len(rows) == 4, f"expected the table of 4 runs (MSE, extra MSE, quadratic form), {rows}"
    for name, _, extra, form, _ in rows:
        assert abs(float(extra) - float(form)) <= 1e-3, (name, extra, form)
