"""Loading the collected data: bounded before torch reads it, and each entry checked alone."""

from __future__ import annotations

import io
import struct
import zipfile
from functools import partial

import pytest
import torch

from labutils.instructor.grading import loading
from labutils.instructor.grading.loading import MAX_INFLATED_BYTES, MAX_PROBLEMS
from labutils.instructor.grading.plugin import Entry

SPEC = {"inputs": Entry("float64", (64, 6)), "sweeps": Entry("int64", ()),
        "errors": Entry("float64", (None,), longest=200_000),
        "initial/*": Entry("float64", (2, 6))}
"""What these tests declare as collected (an assignment declares its own)."""
load_data = partial(loading.load_data, spec=SPEC)


def saved(data, **options) -> bytes:
    buffer = io.BytesIO()
    torch.save(data, buffer, **options)
    return buffer.getvalue()


def deflated(raw: bytes) -> bytes:
    """The same archive with every entry deflated (a small file that inflates to `raw`)."""
    source, out = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, source.read(entry))
    return out.getvalue()


pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # nested/sparse: prototype

REFUSED = "data rejected before torch.load(weights_only=True): "
GOOD = {"inputs": torch.zeros(64, 6, dtype=torch.float64), "sweeps": torch.tensor(3)}


@pytest.fixture
def torch_load_calls(monkeypatch):
    calls = []
    real = loading.torch.load

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(loading.torch, "load", spy)
    return calls


def test_plain_data_loads():
    data, problems = load_data(saved(GOOD))
    assert problems == [] and set(data) == set(GOOD)
    assert torch.equal(data["inputs"], GOOD["inputs"]) and int(data["sweeps"]) == 3


def test_an_archive_inflating_over_the_cap_is_refused_before_torch_reads_it(torch_load_calls):
    errors = torch.zeros(MAX_INFLATED_BYTES // 8 + 1, dtype=torch.float64)  # 16 MiB + 8 bytes
    bomb = deflated(saved({**GOOD, "errors": errors}))
    assert len(bomb) < 100_000  # what the grader reads back from the box: small
    data, problems = load_data(bomb)
    assert data == {} and len(problems) == 1, problems
    assert problems[0].startswith(REFUSED + "'archive/data/") and "inflates" in problems[0]
    assert torch_load_calls == []


def test_an_entry_declaring_less_than_it_inflates_to_is_refused(torch_load_calls):
    raw = deflated(saved({**GOOD, "errors": torch.zeros(100_000, dtype=torch.float64)}))
    lying = bytearray(raw)
    central = [i for i in range(len(raw)) if raw.startswith(b"PK\x01\x02", i)]
    assert central
    for start in central:
        struct.pack_into("<I", lying, start + 24, 8)  # every entry "inflates to 8 bytes"
    data, problems = load_data(bytes(lying))
    assert data == {} and problems[0].startswith(REFUSED + "not a readable zip archive")
    assert torch_load_calls == []


def test_deflated_data_within_the_cap_loads():
    data, problems = load_data(deflated(saved(GOOD)))
    assert problems == [] and set(data) == set(GOOD)


def test_the_old_pickle_format_and_garbage_are_refused(torch_load_calls):
    legacy = saved(GOOD, _use_new_zipfile_serialization=False)
    assert load_data(legacy) == ({}, [REFUSED + "not the zip archive torch.save writes"])
    assert load_data(b"PK\x03\x04garbage")[1][0].startswith(REFUSED + "not a readable zip")
    assert torch_load_calls == []


@pytest.mark.parametrize(("value", "kind"), [
    (torch.nested.nested_tensor([torch.zeros(6, dtype=torch.float64)] * 2), "nested"),
    (torch.zeros(2, 6, dtype=torch.float64).to_sparse_csr(), "layout sparse_csr"),
    (torch.zeros(2, 6, dtype=torch.float64).to_sparse(), "layout sparse_coo"),
], ids=["nested", "csr", "coo"])
def test_nested_and_non_strided_tensors_are_refused_and_the_rest_loads(value, kind):
    data, problems = load_data(saved({"initial/hidden.weight": value, **GOOD}))
    assert problems == [f"initial/hidden.weight: not a plain tensor ({kind})"]
    assert set(data) == set(GOOD)


def test_judging_a_nested_tensor_reports_it_instead_of_crashing():
    from labutils.instructor.assignments.rhw1986 import ASSIGNMENT

    nested = torch.nested.nested_tensor([torch.zeros(6, dtype=torch.float64)] * 2)
    data, problems = loading.load_data(saved({"final/hidden.weight": nested, **GOOD}),
                                       spec=ASSIGNMENT.entries)
    judgement = ASSIGNMENT.judge(data, problems)
    assert "final/hidden.weight: not a plain tensor (nested)" in judgement.problems


def test_load_data_refuses_objects_and_bad_entries():
    assert load_data(None, "the collection cell wrote no data") == (
        {}, ["the collection cell wrote no data"])
    assert "weights_only" in load_data(saved({"x": Entry()}))[1][0]
    assert load_data(b"garbage")[1][0].startswith("data rejected")
    data, problems = load_data(saved({"sweeps": torch.tensor(3), "errors": [1.0],
                                      "inputs": torch.zeros(64, 6, dtype=torch.float64),
                                      7: torch.zeros(1)}))
    assert set(data) == {"sweeps", "inputs"}
    assert problems == ["errors: not a plain tensor", "unexpected entry '7' ignored"]


def test_entries_are_checked_against_the_declared_dtype_and_shape():
    data, problems = load_data(saved({
        "sweeps": torch.tensor(3.0), "inputs": torch.zeros(64, 5, dtype=torch.float64),
        "errors": torch.zeros(200_001, dtype=torch.float64),
        "initial/hidden.weight": torch.zeros(2, 6, dtype=torch.float64),
        "initial/other": torch.zeros(2, 6, dtype=torch.float32)}))
    assert set(data) == {"initial/hidden.weight"}  # matched by the pattern 'initial/*'
    assert problems == ["sweeps: dtype torch.float32, expected torch.int64",
                        "inputs: shape (64, 5), expected (64, 6)",
                        "errors: shape (200001,), expected (n,)",
                        "initial/other: dtype torch.float32, expected torch.float64"]


def test_each_entry_is_checked_in_its_own_try(monkeypatch):
    real = loading._unusual_kind

    def strange(value):
        if value.dim() == 0:
            raise RuntimeError("a tensor the checks did not foresee")
        return real(value)

    monkeypatch.setattr(loading, "_unusual_kind", strange)
    data, problems = load_data(saved(GOOD))
    assert set(data) == {"inputs"} and problems == ["sweeps: rejected (RuntimeError)"]


def test_many_entries_and_problems_are_bounded():
    many = {f"x{i}": torch.zeros(1) for i in range(loading.MAX_KEYS + 1)}
    assert load_data(saved(many))[1] == [f"data has {len(many)} entries (at most 64)"]
    some = {f"x{i}": torch.zeros(1) for i in range(40)}
    problems = load_data(saved(some))[1]
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1] == f"(+{40 - MAX_PROBLEMS} more)"
