"""Reading submissions: links refused, private staged copies, and markers that a borrowed cell
id cannot earn (checked on the real assignment's release)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from test_grading import RELEASE

from labutils.instructor.grading.reading import (
    InputFile,
    SubmissionError,
    prepare,
    read_inputs,
    read_submission,
)

ASSIGNMENT = Path(__file__).resolve().parents[2] / "notebooks" / "05_assignment.ipynb"


def test_a_link_to_the_solution_is_refused(tmp_path):
    solution = tmp_path / "instructor" / "05_assignment_solution.ipynb"
    solution.parent.mkdir()
    solution.write_text('{"nbformat": 4, "cells": ["the model solution"]}')
    (tmp_path / "alice.ipynb").symlink_to(solution)
    [read] = read_inputs([tmp_path / "alice.ipynb"])
    assert read.data is None and read.sha256 == ""
    assert read.problem.startswith("symbolic link refused (submit the notebook file itself)")


def test_a_link_to_a_system_file_is_refused(tmp_path):
    (tmp_path / "bob.ipynb").symlink_to("/usr/bin/env")
    [read] = read_inputs([tmp_path / "bob.ipynb"], stage_to=tmp_path)
    assert read.data is None and read.staged is None and "symbolic link" in read.problem


def test_only_plain_files_are_read(tmp_path):
    os.mkfifo(tmp_path / "fifo.ipynb")  # opening it for reading would block the batch
    (tmp_path / "folder.ipynb").mkdir()
    reads = read_inputs([tmp_path / "fifo.ipynb", tmp_path / "folder.ipynb",
                         tmp_path / "missing.ipynb"])
    assert [r.problem.split(":")[0] for r in reads] == [
        "not a plain file", "not a plain file", "file not found"]


def test_submissions_are_staged_as_private_copies(tmp_path):
    stage = tmp_path / "stage"
    stage.mkdir(mode=0o700)
    original = tmp_path / "subs" / "carol" / "05_assignment.ipynb"
    original.parent.mkdir(parents=True)
    original.write_bytes(b'{"nbformat": 4}')
    [read] = read_inputs([original], stage_to=stage)
    assert read.staged == stage / "0000.ipynb" and read.staged.read_bytes() == b'{"nbformat": 4}'
    assert stat.S_IMODE(read.staged.stat().st_mode) == 0o600
    original.write_bytes(b"changed after reading")
    assert read.staged.read_bytes() == read.data == b'{"nbformat": 4}'
    assert read.path == original  # the row still names the student's file


def test_a_cell_without_text_source_is_unreadable():
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": 5, "metadata": {}, "outputs": [],
         "execution_count": None, "id": "a"}]}
    with pytest.raises(SubmissionError, match="cell 1 has no text source"):
        read_submission(InputFile(Path("x.ipynb"), json.dumps(nb).encode()))


# -- markers: the release's ignore-output cells, found by id only in their own section --------


def release_and_copy():
    release = nbformat.read(ASSIGNMENT, as_version=4)
    return release, nbformat.from_dict(json.loads(json.dumps(release)))


def ignore_cells(release) -> list[int]:
    tags = ("nbval-ignore-output", "volatile-output")
    return [i for i, c in enumerate(release.cells)
            if c.cell_type == "code" and set(c.metadata.get("tags", [])) & set(tags)]


def answer_printing(sweeps: int, cell_id: str):
    cell = new_code_cell(f"print('learned in', {sweeps // 3} * 3, 'sweeps')",
                         outputs=[new_output("stream", name="stdout",
                                             text=f"learned in {sweeps} sweeps\n")])
    cell["id"] = cell_id
    return cell


def test_a_borrowed_id_earns_no_ignore_marker():
    release, nb = release_and_copy()
    timing = ignore_cells(release)[0]  # Part 5's first cell: its output is never compared
    part4 = max(i for i in range(timing) if release.cells[i].source.startswith("# YOUR CODE"))
    borrowed = release.cells[timing].get("id")
    nb.cells[timing]["id"] = "renamed"
    nb.cells[part4] = answer_printing(1425, borrowed)  # Part 4's answer, output edited 485->1425
    prepared = prepare(nb, release)
    assert part4 not in prepared.ignored
    assert timing in prepared.ignored  # the placeholder left there: ignored by its source


def test_a_copied_ignore_cell_earns_nothing_outside_its_section():
    release, nb = release_and_copy()
    setup = 1  # the Colab setup cell, ignored by its first line wherever it stands
    timing = ignore_cells(release)[0]
    nb.cells.insert(timing - 2, nbformat.from_dict(json.loads(json.dumps(nb.cells[setup]))))
    nb.cells[timing - 2]["id"] = "copied"
    prepared = prepare(nb, release)
    assert setup in prepared.ignored and timing - 2 not in prepared.ignored


def test_the_answer_in_its_own_ignore_cell_keeps_the_marker():
    release, nb = release_and_copy()
    for index in ignore_cells(release):
        nb.cells[index] = answer_printing(485, release.cells[index].get("id"))
    assert set(ignore_cells(release)) <= set(prepare(nb, release).ignored)


def test_a_duplicated_id_earns_no_marker():
    release, nb = release_and_copy()
    timing = ignore_cells(release)[0]
    nb.cells[timing] = answer_printing(485, release.cells[timing].get("id"))
    nb.cells.insert(timing + 1, answer_printing(1425, release.cells[timing].get("id")))
    ignored = prepare(nb, release).ignored
    assert timing not in ignored and timing + 1 not in ignored


# -- markers, on the tiny release of test_grading.py -------------------------------------------


def test_markers_count_only_where_the_release_cell_has_them():
    release = nbformat.from_dict(json.loads(json.dumps(RELEASE)))
    release.cells.insert(1, new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(1)"))
    release.cells.insert(2, new_code_cell("print(2)", metadata={"tags": ["skip-execution"]}))
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    nb.cells.append(new_code_cell("# NBVAL_SKIP\nraise ValueError()",
                                  metadata={"tags": ["skip-execution"]}))
    prepared = prepare(nb, release)
    assert 1 in prepared.ignored and prepared.skipped == [2]  # (and the Colab setup cell)
    assert prepared.not_honoured == [f"cell {len(nb.cells)}"]
    assert "raise ValueError" in prepared.nb.cells[len(nb.cells) - 1].source  # it runs
    assert all("tags" not in cell.metadata for cell in prepared.nb.cells)


def test_an_answer_in_a_release_cell_marked_ignore_keeps_only_that_marker_by_cell_id():
    release = nbformat.from_dict(json.loads(json.dumps(RELEASE)))
    placeholder = new_code_cell("# YOUR CODE HERE\nraise NotImplementedError()",
                                metadata={"tags": ["nbval-ignore-output", "skip-execution"]})
    release.cells.insert(1, placeholder)
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    nb.cells[1].source = "print(f'took {time.time() - start:.0f} s')"  # the student's answer
    nb.cells.insert(2, new_code_cell("print(3)", metadata={"tags": ["nbval-ignore-output"]}))
    prepared = prepare(nb, release)
    assert 1 in prepared.ignored and 1 not in prepared.skipped  # ignored, never skipped
    assert 2 not in prepared.ignored and prepared.not_honoured == ["cell 3"]  # another id
    assert "took" in prepared.nb.cells[1].source  # the student's code runs
