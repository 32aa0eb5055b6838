"""The course's data: the regression set of lesson 03 and MNIST (online or from an offline mirror).

MNIST is always loaded by `torchvision.datasets.MNIST(download=True)`. When the environment
variable LABUTILS_DATA_MIRROR names a folder laid out like `data/` (MNIST/raw/*), missing raw
files are first extracted from it, so torchvision finds them and downloads nothing.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

from labutils.paths import MIRROR_ENV, data_dir

# ---------------------------------------------------------------- regression data (lesson 03)

REGRESSION_SEED = 0
REGRESSION_FILES = ("X_reg.pt", "y_reg.pt")


def make_regression_data(
    n: int = 1000, p: int = 100, seed: int = REGRESSION_SEED
) -> tuple[torch.Tensor, torch.Tensor]:
    """X ~ U(0,1) of shape (n, p), M ~ U(0,1) of shape (p, 1), y = X M + N(0,1) noise; seeded.

    The same bits on every CPU: a float32 `X @ M` is not (its summation order depends on the
    CPU's vector width), so X M is computed exactly in integers and rounded once to float32.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, p, generator=gen)
    m = torch.rand(p, 1, generator=gen)
    noise = torch.randn(n, 1, generator=gen)
    y = (exact_product(x, m) + noise.double()).float()
    return x, y


_RAND_BITS = 24
"""torch.rand draws float32 multiples of 2**-24 in [0, 1): 24-bit integers, scaled."""


def exact_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b in float64, exact but for one final rounding, for multiples of 2**-24 in [0, 1).

    Each entry is an integer sum of products of 24-bit integers (exact in int64 while the inner
    dimension is below 2**15), so the result does not depend on the order of summation.
    """
    scale = 2.0**_RAND_BITS
    a_int, b_int = (t.double() * scale for t in (a, b))
    for t, name in ((a_int, "a"), (b_int, "b")):
        if not (torch.equal(t, t.round()) and t.min() >= 0 and t.max() < scale):
            raise ValueError(f"exact_product: {name} must hold multiples of 2**-24 in [0, 1), "
                             "as torch.rand draws them.")
    if a.shape[-1] >= 2**15:
        raise ValueError(f"exact_product: inner dimension {a.shape[-1]} could overflow int64.")
    return (a_int.long() @ b_int.long()).double() / scale**2


def save_regression_data(folder: Path | None = None) -> list[Path]:
    """Write X_reg.pt and y_reg.pt (from make_regression_data) into `folder` (default: data/)."""
    folder = Path(folder) if folder is not None else data_dir(create=True)
    x, y = make_regression_data()
    paths = [folder / name for name in REGRESSION_FILES]
    for tensor, path in zip((x, y), paths, strict=True):
        torch.save(tensor.clone(), path)
    return paths


def _load_tensor(path: Path) -> torch.Tensor:
    try:
        value = torch.load(path, weights_only=True)
    except Exception as err:  # pickle, zip and torch errors all mean "not a tensor file"
        raise ValueError(
            f"{path} is not a PyTorch tensor file ({type(err).__name__}: {err}). "
            "Restore it with `git checkout data/` or rebuild it with `python -m labutils data`."
        ) from err
    if not isinstance(value, torch.Tensor):
        raise ValueError(
            f"{path} holds a {type(value).__name__}, not a tensor. Restore it with "
            "`git checkout data/` or rebuild it with `python -m labutils data`."
        )
    return value


def load_regression_data(folder: Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Load (X, y) from X_reg.pt / y_reg.pt; without the files (e.g. on Colab) regenerate them."""
    try:
        folder = Path(folder) if folder is not None else data_dir()
    except FileNotFoundError:
        return make_regression_data()
    paths = [folder / name for name in REGRESSION_FILES]
    if not any(path.exists() for path in paths):
        return make_regression_data()
    x, y = (_load_tensor(path) for path in paths)
    if x.ndim != 2 or y.shape != (x.shape[0], 1):
        raise ValueError(
            f"Regression data of unexpected shapes: X {tuple(x.shape)}, y {tuple(y.shape)} "
            "(expected (N, P) and (N, 1)). Rebuild them with `python -m labutils data`."
        )
    return x, y


# ---------------------------------------------------------------- MNIST

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
"""Pixel mean and std of the 60,000 official training images (after scaling to [0, 1])."""

MNIST_RAW_FILES = {
    "train-images-idx3-ubyte": (2051, 28 * 28),
    "train-labels-idx1-ubyte": (2049, 1),
    "t10k-images-idx3-ubyte": (2051, 28 * 28),
    "t10k-labels-idx1-ubyte": (2049, 1),
}
"""Raw file name -> (IDX magic number, bytes per item), as torchvision expects them."""


class MnistUnavailableError(RuntimeError):
    """MNIST could neither be found, copied from the mirror, nor downloaded."""


class MnistFileError(RuntimeError):
    """A raw MNIST file is truncated or corrupt."""


@dataclass(frozen=True)
class MnistSource:
    """Where the raw MNIST files came from: 'cache', 'mirror' or 'download'."""

    kind: str
    raw_folder: Path
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}{f' ({self.detail})' if self.detail else ''}"


def check_idx_file(path: Path) -> int:
    """Check that a raw IDX file is complete; return its item count or raise MnistFileError."""
    magic_expected, item_bytes = MNIST_RAW_FILES[path.name]
    header = 16 if magic_expected == 2051 else 8
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(header)
    if len(head) < header:
        raise MnistFileError(f"{path} is truncated ({size} bytes, no complete header). {_FIX}")
    magic, count = struct.unpack(">II", head[:8])
    if magic != magic_expected:
        raise MnistFileError(f"{path} is not an MNIST IDX file (magic {magic}). {_FIX}")
    expected = header + count * item_bytes
    if size != expected:
        raise MnistFileError(
            f"{path} is truncated or corrupt: {size} bytes, expected {expected} for {count} "
            f"items. {_FIX}"
        )
    return count


_FIX = "Delete it and load again to fetch a fresh copy (from the mirror or the internet)."


def _extract_from_mirror(name: str, mirror_raw: Path, target: Path) -> None:
    """Copy `name` (or gunzip `name`.gz) from the mirror into `target`, atomically."""
    plain, packed = mirror_raw / name, mirror_raw / f"{name}.gz"
    if not plain.is_file() and not packed.is_file():
        raise MnistUnavailableError(
            f"The offline mirror {mirror_raw} has neither {name} nor {name}.gz. "
            f"Point {MIRROR_ENV} at a folder holding MNIST/raw/ with the four MNIST files."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp_path = Path(tmp.name)
        try:
            if plain.is_file():
                with plain.open("rb") as src:
                    shutil.copyfileobj(src, tmp)
            else:
                with gzip.open(packed, "rb") as src:
                    shutil.copyfileobj(src, tmp)
        except (EOFError, OSError, zlib.error) as err:
            tmp.close()
            tmp_path.unlink(missing_ok=True)
            source = plain if plain.is_file() else packed
            raise MnistFileError(
                f"{source} in the offline mirror is truncated or corrupt ({err}). "
                "Replace it with an intact copy."
            ) from err
    try:
        tmp_path.chmod(0o644)
        tmp_path.replace(target)
        check_idx_file(target)
    except MnistFileError:
        target.unlink(missing_ok=True)
        raise


def prepare_mnist(root: Path | None = None) -> MnistSource:
    """Make sure ROOT/MNIST/raw holds the four uncompressed MNIST files; say where they came from.

    Order: files already there ('cache'); else the offline mirror named by LABUTILS_DATA_MIRROR
    ('mirror'); else torchvision's own download ('download'). Raises MnistUnavailableError with
    the fix when none works, MnistFileError naming a truncated or corrupt file.
    """
    from torchvision.datasets import MNIST

    root = Path(root) if root is not None else data_dir(create=True)
    raw = root / "MNIST" / "raw"
    missing = [name for name in MNIST_RAW_FILES if not (raw / name).is_file()]
    if not missing:
        for name in MNIST_RAW_FILES:
            check_idx_file(raw / name)
        return MnistSource("cache", raw)

    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        mirror_raw = Path(mirror).expanduser() / "MNIST" / "raw"
        if not mirror_raw.is_dir():
            raise MnistUnavailableError(
                f"{MIRROR_ENV}={mirror} has no MNIST/raw folder. Point it at a folder laid out "
                "like data/ (MNIST/raw/train-images-idx3-ubyte.gz and the three other files)."
            )
        for name in missing:
            _extract_from_mirror(name, mirror_raw, raw / name)
        for name in MNIST_RAW_FILES:
            check_idx_file(raw / name)
        return MnistSource("mirror", raw, f"{len(missing)} file(s) from {mirror_raw}")

    try:
        MNIST(root, train=True, download=True)
    except Exception as err:  # torchvision raises RuntimeError/URLError when offline
        raise MnistUnavailableError(
            f"MNIST is not in {raw} and could not be downloaded ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}). Either connect to the internet, "
            f"or set {MIRROR_ENV} to a folder holding MNIST/raw/ with the files "
            f"{', '.join(f'{n}(.gz)' for n in MNIST_RAW_FILES)}, or copy those four files "
            f"(uncompressed) into {raw}."
        ) from err
    return MnistSource("download", raw)


def mnist_root() -> Path:
    """The folder to give `torchvision.datasets.MNIST` as `root` (created when missing).

    `data/` in the course repository, /content/data on Colab (see labutils.paths.data_dir).
    When LABUTILS_DATA_MIRROR names an offline mirror (machines without internet, such as the
    course's CI), missing raw files are first copied from it, so torchvision's
    `download=True` finds them and downloads nothing; otherwise torchvision downloads as usual.
    """
    root = data_dir(create=True)
    if os.environ.get(MIRROR_ENV):
        prepare_mnist(root)
    return root


def mnist_datasets(transform=None, root: Path | None = None):
    """(train, test, source): torchvision MNIST datasets (download=True) after prepare_mnist."""
    from torchvision.datasets import MNIST

    root = Path(root) if root is not None else data_dir(create=True)
    source = prepare_mnist(root)
    train = MNIST(root, train=True, download=True, transform=transform)
    test = MNIST(root, train=False, download=True, transform=transform)
    return train, test, source


def mnist_transform():
    """ToTensor() then Normalize with the MNIST mean and std: the lessons' standard transform."""
    from torchvision import transforms

    return transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))]
    )


def normalized_images(
    dataset, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole MNIST split as tensors, normalized once: images (N, 1, 28, 28), labels (N,).

    Gives exactly what `mnist_transform()` gives image by image, without the per-item cost.
    """
    images = dataset.data.to(device=device, dtype=torch.float32).div_(255.0)
    images = images.sub_(MNIST_MEAN).div_(MNIST_STD).unsqueeze(1)
    return images, dataset.targets.to(device)
