"""The grader's side of a run, without a kernel: the worker's bounded nbclient client (output
caps with display updates, comm and malformed messages) and what a failed worker's log adds
to a grade row. The sandboxed runs are in test_grading*.py and test_sandbox.py."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labutils.instructor.grading.executing import log_tail
from labutils.instructor.grading.worker import (
    MAX_CELL_OUTPUT,
    BoundedStream,
    _client_class,
)


def message(msg_type: str, content: dict, parent: str = "run-1") -> dict:
    return {"msg_type": msg_type, "header": {"msg_type": msg_type, "msg_id": "m"},
            "parent_header": {"msg_id": parent}, "content": content, "metadata": {}}


def display(text: str, display_id: str, update: bool = False) -> dict:
    return message("update_display_data" if update else "display_data",
                   {"data": {"text/plain": text}, "metadata": {},
                    "transient": {"display_id": display_id}})


@pytest.fixture
def client():
    nb = new_notebook(cells=[new_code_cell("a"), new_code_cell("b")])
    for cell in nb.cells:
        cell.metadata["execution"] = {}  # as nbclient sets it before running a cell
    made = _client_class()(nb, km=None)
    made.setup_caps()
    made.clear_before_next_output = False  # as nbclient sets it before running a cell
    return made


def test_display_updates_count_against_the_cell_cap(client):
    cell = client.nb.cells[0]
    client.process_message(display("small", "d"), cell, 0)
    client.process_message(display("y" * (MAX_CELL_OUTPUT + 1), "d", update=True), cell, 0)
    assert cell.outputs[0]["data"]["text/plain"] == "small" and client.cut == {0}
    later = client.nb.cells[1]  # an update from a later cell still counts for the owner
    client.process_message(display("z" * (MAX_CELL_OUTPUT // 2), "d", update=True), later, 1)
    client.process_message(display("w" * (MAX_CELL_OUTPUT // 2), "d", update=True), later, 1)
    assert cell.outputs[0]["data"]["text/plain"] == "z" * (MAX_CELL_OUTPUT // 2)
    assert client.cut == {0, 1}


def test_a_display_with_a_known_id_updates_within_the_caps(client):
    cell = client.nb.cells[0]
    client.process_message(display("first", "d"), cell, 0)
    client.process_message(display("x" * (MAX_CELL_OUTPUT - 100), "d"), cell, 0)
    assert [o["data"]["text/plain"] for o in cell.outputs] == ["first"]
    assert client.cut == {0}


@pytest.mark.parametrize("msg", [
    message("comm_open", {"comm_id": "c", "target_name": "jupyter.widget",
                          "data": {"state": "no dict", "buffer_paths": 5}}),
    message("comm_msg", {"comm_id": "c", "data": {"state": [1, 2]}}),
    message("comm_open", {"comm_id": "o", "target_name": "jupyter.widget.output"}),
    message("display_data", {"data": None, "transient": {"display_id": 7}}),
    message("stream", {"name": "stdout"}),
    message("execute_result", {"data": "x", "execution_count": "n"}),
    message("no_such_type", {}),
])
def test_no_kernel_message_stops_the_worker(client, msg):
    assert client.process_message(msg, client.nb.cells[0], 0) is None


def test_the_end_of_a_cell_still_ends_it(client):
    from nbclient.exceptions import CellExecutionComplete

    with pytest.raises(CellExecutionComplete):
        client.process_message(message("status", {"execution_state": "idle"}),
                               client.nb.cells[0], 0)


def test_a_failed_workers_log_is_bounded_and_escaped(tmp_path):
    log = tmp_path / "worker.log"
    log.write_bytes(b"x" * 5_000_000 + "\nTraceback\n| =cmd | <b>bold</b> \u202e\x1b[31m\r\n"
                    .encode() + b"\xff" * 10 + b"y" * 1000)
    tail = log_tail(log)
    assert len(tail) <= 300 and tail.startswith("Traceback / ")
    assert all(" " <= c <= "~" for c in tail)
    for forbidden in "|<>\x1b\r\n\u202e`*_[]":
        assert forbidden not in tail
    assert log_tail(tmp_path / "missing.log") == "no log"


def test_the_workers_own_log_is_bounded():
    written = []

    class Sink:
        def write(self, text):
            written.append(text)

        def flush(self):
            pass

    stream = BoundedStream(Sink(), 10)
    for _ in range(5):
        assert stream.write("abcdef") == 6
    assert "".join(written) == "abcdefabcd"


def test_nbformat_outputs_of_the_capped_client_stay_valid(client):
    client.process_message(display("ok", "d"), client.nb.cells[0], 0)
    nbformat.validate(client.nb)
