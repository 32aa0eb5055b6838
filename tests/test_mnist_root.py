"""labutils.data.mnist_root: the folder lesson 04 gives torchvision.datasets.MNIST, filled from the
offline mirror (when one is configured) before torchvision looks, so the lesson's own
`MNIST(root, download=True)` cell works offline without mentioning the mirror."""

import pytest
from torchvision.datasets import MNIST

from labutils.data import MNIST_RAW_FILES, MnistUnavailableError, mnist_root
from labutils.paths import DATA_ENV, MIRROR_ENV


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv(DATA_ENV, str(folder))
    return folder


def test_mnist_root_fills_the_data_folder_from_the_mirror(data_folder, tiny_mirror, monkeypatch,
                                                          no_download):
    monkeypatch.setenv(MIRROR_ENV, str(tiny_mirror))
    root = mnist_root()
    assert root == data_folder
    assert sorted(p.name for p in (root / "MNIST" / "raw").iterdir()) == sorted(MNIST_RAW_FILES)
    train = MNIST(root, train=True, download=True)  # what the lesson's cell runs: no download
    test = MNIST(root, train=False, download=True)
    assert len(train) == len(test) == 20


def test_mnist_root_without_a_mirror_leaves_downloading_to_torchvision(data_folder, monkeypatch,
                                                                       no_download):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    root = mnist_root()
    assert root == data_folder and root.is_dir()
    assert not (root / "MNIST").exists()  # nothing fetched here; torchvision downloads itself
    with pytest.raises(RuntimeError, match="Error downloading"):
        MNIST(root, train=True, download=True)


def test_mnist_root_with_a_wrong_mirror_names_the_variable(data_folder, tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MnistUnavailableError, match=MIRROR_ENV):
        mnist_root()
