"""Shared fixtures: a tiny synthetic MNIST mirror, so data tests never touch the network; and the
outputs that nbval's run of the lessons produced in this pytest session, for the threshold tests.

Threshold tests (marker `executed_lessons`, tests/test_lesson_thresholds.py) read what the
lessons printed when nbval executed them in the SAME session: each lesson runs once per test
run, and cells tagged nbval-ignore-output (accuracies) are judged on this machine's values. They
run after every notebook cell; without --nbval they are deselected and the summary says so;
with --nbval but a lesson not executed, they fail.
"""

from __future__ import annotations

import gzip
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXECUTED = "executed_lessons"


def idx_bytes(name: str, count: int) -> bytes:
    """A valid IDX file body for one of the four MNIST files, with `count` items."""
    if "images" in name:
        pixels = bytes(i % 256 for i in range(count * 784))
        return struct.pack(">IIII", 2051, count, 28, 28) + pixels
    return struct.pack(">II", 2049, count) + bytes(i % 10 for i in range(count))


@pytest.fixture
def tiny_mirror(tmp_path: Path) -> Path:
    """A mirror folder laid out like data/: MNIST/raw/<name>.gz with 20 items each."""
    raw = tmp_path / "mirror" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(name, 20), mtime=0))
    return tmp_path / "mirror"


@pytest.fixture
def no_download(monkeypatch):
    """Make torchvision's download fail as it does offline, without touching the network."""
    from torchvision.datasets import MNIST

    def offline(self):
        if self._check_exists():  # as torchvision does: files present, nothing to fetch
            return
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: Tried (offline in tests)")

    monkeypatch.setattr(MNIST, "download", offline)


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure a test opened, so figures never pile up across tests."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# ---------------------------------------------------------------- outputs of nbval's run


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{EXECUTED}: reads the outputs of the lessons that nbval executed in this "
        "session (run with --nbval and the notebooks, e.g. make nbval)")


def pytest_collection_modifyitems(session, config, items):
    """Threshold tests go after every notebook cell; without --nbval they are deselected."""
    marked = [item for item in items if item.get_closest_marker(EXECUTED)]
    if not marked:
        return
    rest = [item for item in items if not item.get_closest_marker(EXECUTED)]
    if not (config.getoption("nbval", default=False)
            or config.getoption("nbval_lax", default=False)):
        config.hook.pytest_deselected(items=marked)
        config.stash[_NOTE] = (f"{len(marked)} test(s) marked {EXECUTED} deselected: they read "
                               "what nbval's run of the lessons printed; run them with --nbval "
                               "and the notebooks (make nbval, make test).")
        items[:] = rest
        return
    items[:] = rest + marked


_NOTE = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _NOTE in config.stash:
        terminalreporter.write_line(config.stash[_NOTE])


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}\n"
    return output.get("data", {}).get("text/plain", "") + "\n"


@pytest.fixture
def executed_lesson(request) -> Callable[[str], list[str]]:
    """`executed_lesson("04_mnist_mlp.ipynb")`: the text each code cell printed when nbval ran
    it in this session (one string per code cell); fails if the lesson did not run here."""
    from nbval.plugin import IPyNbCell

    def texts(name: str) -> list[str]:
        cells = [item for item in request.session.items
                 if isinstance(item, IPyNbCell) and item.path.name == name]
        if not cells:
            pytest.fail(f"{name} was not executed by nbval in this pytest session, so there is "
                        "nothing to check: run this test together with the notebook "
                        "(make nbval).")
        not_run = [cell.cell_num for cell in cells if cell.test_outputs is None]
        if not_run:
            pytest.fail(f"{name}: code cells {not_run} did not run in this session.")
        return ["".join(_output_text(o) for o in cell.test_outputs) for cell in cells]

    return texts
