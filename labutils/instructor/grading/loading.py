"""Loading: the file the grader's collection cell wrote, as checked plain tensors.

That file is student data. It is opened as a zip archive with Python's zipfile, each entry read
with its inflated size bounded (MAX_INFLATED_BYTES over all entries, whatever the archive
declares), copied into a fresh uncompressed archive, and only that copy is given to
`torch.load(weights_only=True)` (objects refused). Each entry of the loaded dict is then
checked in its own try: a plain strided CPU tensor of the dtype and shape the assignment
declares for it (`plugin.Entry`), finite.
Nothing here raises for bad data; every refusal is a line in `problems`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import torch

from labutils.instructor.grading.plugin import Entry, entry_for

MAX_INFLATED_BYTES = 16 * 2**20
"""Bytes of the archive's entries once inflated, all together (what torch.save writes for the
collected data is well under 2 MB)."""
MAX_ENTRIES = 256
"""Files in the archive (torch.save writes one per tensor, plus six)."""
MAX_KEYS = 64
"""Entries of the loaded dict (the collection cell hands over 14)."""
MAX_PROBLEMS = 12
"""Problems listed one by one; the rest are counted."""
_ZIP_MAGIC = b"PK\x03\x04"


class DataRejected(ValueError):
    """The collection file is refused before torch reads it (the reason is the message)."""


def repacked(raw: bytes) -> bytes:
    """`raw` as a new uncompressed zip archive of the same entries, each read with a bound on
    its inflated size. Raises DataRejected with the reason."""
    if raw[:4] != _ZIP_MAGIC:
        raise DataRejected("not the zip archive torch.save writes")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES:
                raise DataRejected(f"{len(entries)} files in the archive (at most {MAX_ENTRIES})")
            names = [entry.filename for entry in entries]
            if len(set(names)) != len(names):
                raise DataRejected("the archive names a file twice")
            copy = io.BytesIO()
            with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as target:
                left = MAX_INFLATED_BYTES
                for entry in entries:
                    content = _read_bounded(archive, entry, left)
                    left -= len(content)
                    target.writestr(entry.filename, content)
    except DataRejected:
        raise
    except Exception as err:  # zipfile raises many types for a broken or unusual archive
        raise DataRejected(f"not a readable zip archive ({type(err).__name__})") from None
    return copy.getvalue()


def _read_bounded(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, left: int) -> bytes:
    too_big = DataRejected(
        f"{entry.filename[:60]!r} inflates to over {left} bytes (the archive may hold at most "
        f"{MAX_INFLATED_BYTES} bytes once inflated)")
    if entry.file_size > left:
        raise too_big
    with archive.open(entry) as handle:  # reads at most the declared size, checks the CRC
        content = handle.read(left + 1)
    if len(content) > left:
        raise too_big
    return content


def load_data(
    raw: bytes | None, why_missing: str = "", *, spec: Mapping[str, Entry]
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The collection file as a dict of tensors checked against `spec` (the assignment's
    entries), and what was rejected (never raises)."""
    if raw is None:
        return {}, [why_missing or "no data"]
    try:
        archive = repacked(raw)
    except DataRejected as err:
        return {}, [f"data rejected before torch.load(weights_only=True): {err}"]
    try:
        loaded = torch.load(io.BytesIO(archive), weights_only=True, map_location="cpu")
    except Exception as err:  # weights_only refuses anything but plain data
        return {}, [f"data rejected by torch.load(weights_only=True): {type(err).__name__}"]
    if not isinstance(loaded, dict):
        return {}, [f"data is a {type(loaded).__name__}, not a dict"]
    if len(loaded) > MAX_KEYS:
        return {}, [f"data has {len(loaded)} entries (at most {MAX_KEYS})"]
    data, problems = {}, []
    for key, value in loaded.items():
        try:
            problem = check_entry(key, value, spec)
            if not problem:
                data[key] = value.detach().resolve_conj().resolve_neg().clone().contiguous()
        except Exception as err:  # one strange value costs its own entry, not the whole file
            problem = f"{_name(key)}: rejected ({type(err).__name__})"
        if problem:
            problems.append(problem)
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"(+{len(problems) - MAX_PROBLEMS} more)"]
    return data, problems


def check_entry(key: object, value: object, spec: Mapping[str, Entry]) -> str:
    """Why the entry `key: value` is refused ('' when `spec` accepts it)."""
    entry = entry_for(spec, key) if isinstance(key, str) else None
    if entry is None:
        return f"unexpected entry {_name(key)!r} ignored"
    if type(value) not in (torch.Tensor, torch.nn.Parameter):
        return f"{key}: not a plain tensor"
    kind = _unusual_kind(value)
    if kind:
        return f"{key}: not a plain tensor ({kind})"
    problem = entry.problem(key, str(value.dtype).removeprefix("torch."), tuple(value.shape))
    if problem:
        return problem
    if value.dtype.is_floating_point and not bool(torch.isfinite(value).all()):
        return f"{key}: not finite"
    return ""


def _unusual_kind(value: torch.Tensor) -> str:
    """What makes `value` other than a dense tensor in CPU memory ('' if nothing)."""
    if value.is_nested:
        return "nested"
    if value.layout != torch.strided:
        return f"layout {str(value.layout).removeprefix('torch.')}"
    if value.is_quantized:
        return "quantized"
    if value.device.type != "cpu":
        return f"device {value.device.type}"
    return ""


def _name(key: object) -> str:
    return str(key)[:40] if isinstance(key, (str, int, float)) else type(key).__name__
