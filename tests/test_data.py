"""labutils.data: the committed regression data and MNIST from cache, mirror or download."""

import gzip
import pickle
from pathlib import Path

import pytest
import torch
from torchvision.datasets import MNIST

from labutils import data
from labutils.data import MNIST_RAW_FILES, MnistUnavailableError, mnist_root
from labutils.paths import DATA_ENV, MIRROR_ENV

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ regression data

def test_generator_reproduces_committed_files_exactly():
    # Bit for bit on any CPU: X M is computed exactly (exact_product), not by a float32 matmul.
    x, y = data.make_regression_data()
    assert x.shape == (1000, 100) and y.shape == (1000, 1)
    stored_x = torch.load(REPO / "data" / "X_reg.pt", weights_only=True)
    stored_y = torch.load(REPO / "data" / "y_reg.pt", weights_only=True)
    assert torch.equal(x, stored_x) and torch.equal(y, stored_y)


def test_generator_does_not_depend_on_threads():
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = data.make_regression_data()
        torch.set_num_threads(max(2, threads))
        many = data.make_regression_data()
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip(one, many, strict=True))


def test_exact_product_ignores_summation_order():
    gen = torch.Generator().manual_seed(1)
    a, b = torch.rand(50, 300, generator=gen), torch.rand(300, 2, generator=gen)
    order = torch.randperm(300, generator=gen)
    exact = data.exact_product(a, b)
    assert torch.equal(exact, data.exact_product(a[:, order], b[order]))
    assert torch.allclose(exact, a.double() @ b.double(), rtol=1e-12, atol=0)


def test_exact_product_refuses_other_values():
    with pytest.raises(ValueError, match="multiples of 2"):
        data.exact_product(torch.tensor([[0.1]]).double(), torch.tensor([[0.5]]))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        data.exact_product(torch.tensor([[2.0]]), torch.tensor([[0.5]]))


def test_load_regression_data_from_repo():
    x, y = data.load_regression_data(REPO / "data")
    assert torch.equal(x, data.make_regression_data()[0]) and y.shape == (1000, 1)


def test_missing_files_are_regenerated(tmp_path):
    x, _ = data.load_regression_data(tmp_path)
    assert torch.equal(x, data.make_regression_data()[0])


def test_not_a_tensor_file_is_a_clear_error(tmp_path):
    data.save_regression_data(tmp_path)
    (tmp_path / "X_reg.pt").write_text("this is not a tensor file")
    with pytest.raises(ValueError, match=r"X_reg\.pt is not a PyTorch tensor file"):
        data.load_regression_data(tmp_path)


def test_pickled_object_is_refused(tmp_path):
    data.save_regression_data(tmp_path)
    torch.save({"not": "a tensor"}, tmp_path / "X_reg.pt")
    with pytest.raises(ValueError, match="holds a dict, not a tensor"):
        data.load_regression_data(tmp_path)
    # weights_only=True: arbitrary pickles never run
    (tmp_path / "y_reg.pt").write_bytes(pickle.dumps(object(), protocol=2))
    with pytest.raises(ValueError, match="y_reg.pt"):
        data._load_tensor(tmp_path / "y_reg.pt")


# ------------------------------------------------------------------ MNIST

def test_mirror_then_cache(tmp_path, tiny_mirror, monkeypatch, no_download):
    monkeypatch.setenv(MIRROR_ENV, str(tiny_mirror))
    root = tmp_path / "data"
    source = data.prepare_mnist(root)
    assert source.kind == "mirror"
    assert data.prepare_mnist(root).kind == "cache"
    train, test, source = data.mnist_datasets(data.mnist_transform(), root)
    assert source.kind == "cache" and len(train) == 20 and len(test) == 20
    image, label = train[3]
    assert image.shape == (1, 28, 28) and label == 3
    images, labels = data.normalized_images(train)
    assert torch.allclose(images[3], image, atol=1e-6) and labels[3] == 3


def test_offline_without_mirror_names_the_variable(tmp_path, monkeypatch, no_download):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    with pytest.raises(data.MnistUnavailableError, match=MIRROR_ENV) as err:
        data.prepare_mnist(tmp_path)
    assert "train-images-idx3-ubyte" in str(err.value)


def test_mirror_missing_a_file(tmp_path, tiny_mirror, monkeypatch, no_download):
    (tiny_mirror / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv(MIRROR_ENV, str(tiny_mirror))
    with pytest.raises(data.MnistUnavailableError, match="t10k-labels-idx1-ubyte"):
        data.prepare_mnist(tmp_path / "data")


def test_mirror_without_mnist_folder(tmp_path, monkeypatch, no_download):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    with pytest.raises(data.MnistUnavailableError, match="no MNIST/raw folder"):
        data.prepare_mnist(tmp_path / "data")


def test_truncated_gz_names_the_file(tmp_path, tiny_mirror, monkeypatch, no_download):
    packed = tiny_mirror / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    packed.write_bytes(packed.read_bytes()[:200])
    monkeypatch.setenv(MIRROR_ENV, str(tiny_mirror))
    root = tmp_path / "data"
    with pytest.raises(data.MnistFileError, match="train-images-idx3-ubyte.gz"):
        data.prepare_mnist(root)
    assert not (root / "MNIST" / "raw" / "train-images-idx3-ubyte").exists()  # nothing half-written


def test_gz_with_too_few_bytes_names_the_file(tmp_path, tiny_mirror, monkeypatch, no_download):
    packed = tiny_mirror / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz"
    packed.write_bytes(gzip.compress(gzip.decompress(packed.read_bytes())[:-5]))
    monkeypatch.setenv(MIRROR_ENV, str(tiny_mirror))
    with pytest.raises(data.MnistFileError, match="train-labels-idx1-ubyte is truncated"):
        data.prepare_mnist(tmp_path / "data")


def test_truncated_cached_file_is_reported_not_deleted(tmp_path, tiny_mirror, monkeypatch,
                                                       no_download):
    monkeypatch.setenv(MIRROR_ENV, str(tiny_mirror))
    root = tmp_path / "data"
    data.prepare_mnist(root)
    cached = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    cached.write_bytes(cached.read_bytes()[:1000])
    with pytest.raises(data.MnistFileError, match="t10k-images-idx3-ubyte is truncated"):
        data.prepare_mnist(root)
    assert cached.stat().st_size == 1000


# ------------------------------------------------------------------ mnist_root
# The folder lesson 04 gives torchvision.datasets.MNIST, filled from the offline mirror (when one
# is configured) before torchvision looks, so the lesson's own `MNIST(root, download=True)` cell
# works offline without mentioning the mirror.


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
