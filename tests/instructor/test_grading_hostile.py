"""Hostile submissions (hostile_cases.py), graded in one sandboxed batch with the real grader.

A case passes when its row is right, no LEAK error appears, and nothing outside the sandbox
changed: the suite's folder (submissions, decoy, a classmate outside the batch, earlier grades;
where only the isolation protects it) hashed before and after, no process of the batch left
(found by name, by working folder and, as root, by user id), no grader temp folder left, no
file the attacks aimed at. Each submission's whole grading (kernel and grader-side phases) is
timed against the total timeout. Most notebooks are trivial (no torch); six carry a training.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hostile_cases import (
    CELL_TIMEOUT,
    JOBS,
    LIMITS,
    RELEASE,
    REPO,
    SECRET,
    TOTAL_TIMEOUT,
    build_cases,
    hostile_home,
    name_self,
    write_home,
)

from labutils.instructor.grading import batch, grade_all, write_csv
from labutils.instructor.grading.plugin import load_assignment
from labutils.instructor.grading.sandbox import sandbox_problem, student_package

NO_BWRAP = sandbox_problem()
RHW1986 = load_assignment("rhw1986")
"""The hostile cases hand over the 1986 data: they are judged and scored as that assignment."""
POINTS = {line.name: line.points for line in RHW1986.rubric.of_kind("auto")}
GRADER_SLACK = 15
"""Seconds a submission's grading may take past the total timeout (killing, judging)."""


def folder_state(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def survivors(token: str, folder: Path, uids: set[int]) -> list[str]:
    """Processes of the batch still alive: named `token`, working inside `folder` (the
    grader's temp folder, where the boxes are), or (as root) running as a sandbox user id."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            uid = int((entry / "status").read_text().split("Uid:")[1].split()[0])
            cwd = os.readlink(entry / "cwd")
        except (OSError, IndexError, ValueError):
            comm, uid, cwd = "", -1, ""
        if comm == token or uid in uids or cwd.startswith(str(folder)):
            found.append(f"{entry.name} {comm} uid {uid} cwd {cwd}")
    return found


def test_the_survivor_check_finds_a_survivor(tmp_path):
    """The check above can fail, as any user: a process named like the batch's is found."""
    token = "lbh" + secrets.token_hex(4)
    child = subprocess.Popen([sys.executable, "-c", name_self(token) + "import time\n"
                              "time.sleep(60)"], cwd=tmp_path)
    try:
        for _ in range(50):
            if survivors(token, Path("/nonexistent"), set()):
                break
            time.sleep(0.1)
        assert survivors(token, Path("/nonexistent"), set())
        assert survivors("-", tmp_path, set())  # found by its working folder too
    finally:
        child.kill()
        child.wait()


@pytest.fixture(scope="module")
def hostile(monkeypatch_module, tmp_path_factory):
    if NO_BWRAP:
        pytest.skip(NO_BWRAP)
    student_package()  # built (and cached) before the grader's temp folder is redirected
    grader_temp = tmp_path_factory.mktemp("grader-temp")  # where the grader's folders go
    monkeypatch_module.setattr(tempfile, "tempdir", str(grader_temp))
    home = hostile_home()
    token = "lbh" + secrets.token_hex(4)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    cases = build_cases(home, server.getsockname()[1], os.getpid(), token)
    write_home(home, cases)
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(home / "decoy" / "host.sock"))
    os.chmod(home / "decoy" / "host.sock", 0o777)
    unix.listen()
    monkeypatch_module.setenv("LABUTILS_TEST_SECRET", SECRET)
    timed = {}
    real_grade = batch.grade_submission

    def grade_submission(source, *args, **kwargs):  # times every phase, grader side included
        start = time.perf_counter()
        try:
            return real_grade(source, *args, **kwargs)
        finally:
            timed[source.path.name] = time.perf_counter() - start

    monkeypatch_module.setattr(batch, "grade_submission", grade_submission)
    try:
        before = folder_state(home)
        printed = io.StringIO()
        grades = grade_all([home / "subs" / name for name in cases], RELEASE, CELL_TIMEOUT,
                           TOTAL_TIMEOUT, echo=lambda text: print(text, file=printed),
                           jobs=JOBS, limits=LIMITS, assignment=RHW1986, verbose=True)
        uids = {g.uid for g in grades if g.uid is not None}
        left = survivors(token, grader_temp, uids)
        time.sleep(1.5)  # a detached writer that survived would write by now
        yield {
            "grades": {g.submission.name: g for g in grades}, "order": list(cases),
            "printed": printed.getvalue(), "seconds": timed, "home": home,
            "subs": home / "subs", "decoy": home / "decoy", "before": before,
            "after": folder_state(home), "processes_left": left + survivors(token, grader_temp,
                                                                             uids),
            "temp_left": sorted(p.name for p in grader_temp.iterdir()),
        }
    finally:
        server.close()
        unix.close()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def judged(grade, column: str) -> str:
    """A column of the 1986 judgement (replay, sweeps, findings)."""
    return grade.judgement.columns.get(column, "")


def no_leak(grade) -> None:
    leaks = [e for e in grade.errors if "LEAK" in e[1]]
    assert not leaks, leaks


# -- nothing outside changed, whatever the batch did ---------------------------------------


def test_nothing_outside_the_sandbox_changed(hostile):
    assert hostile["after"] == hostile["before"]
    assert hostile["processes_left"] == []
    assert hostile["temp_left"] == []
    decoy = hostile["decoy"]
    for name in ("late", "x", "pwned-by-pickle"):
        assert not (decoy / name).exists()
    assert not (REPO.parent / "pwned").exists() and not Path(sys.prefix, "pwned").exists()
    for name, seconds in hostile["seconds"].items():  # the grader-side phases included
        assert seconds < TOTAL_TIMEOUT + GRADER_SLACK, (name, seconds)
    assert not Path("/etc/pwned").exists() and not Path("/var/tmp/pwned").exists()
    assert not (hostile["subs"] / "injected.ipynb").exists()


def test_every_case_gets_a_row_in_order_and_no_attack_leaked(hostile):
    assert list(hostile["grades"]) == hostile["order"]
    if os.geteuid() == 0:  # one user id per job, none shared with another grading run
        assert len({g.uid for g in hostile["grades"].values() if g.uid}) == JOBS
    assert len(hostile["order"]) >= 20
    for grade in hostile["grades"].values():
        assert grade.sandbox == "bwrap" and len(grade.sha256) == 64
        no_leak(grade)


# -- verdicts a kernel cannot forge ---------------------------------------------------------


def test_correct_training_is_replayed_and_earns_its_points(hostile):
    g = hostile["grades"]["correct_training.ipynb"]
    assert g.runs_clean and not g.differ, g
    assert judged(g, "replay") == "matches" and judged(g, "sweeps") == "200"
    assert g.points["replay"] == POINTS["replay"] and g.points["data"] == POINTS["data"]
    assert g.judgement.info["solves"] == "no"  # 200 sweeps do not solve it; nobody says otherwise


def test_a_different_rule_does_not_replay(hostile):
    g = hostile["grades"]["wrong_rule_mean.ipynb"]
    assert judged(g, "replay").startswith("differs: error at sweep 0 ")  # it recorded the mean
    assert g.points["replay"] == 0 and g.points["data"] == POINTS["data"]


def test_paper_weights_with_typed_sweeps_show_up_as_such(hostile):
    g = hostile["grades"]["paper_weights_typed_sweeps.ipynb"]
    assert "final weights are the paper's Figure 1 weights" in judged(g, "findings")
    assert judged(g, "replay").startswith("differs") and judged(g, "sweeps") == "1425"
    assert g.judgement.info["solves"] == "yes"  # the paper's weights do solve it...
    assert "solves" not in g.points and g.points["replay"] == 0  # ...information only


def test_patched_check_functions_forge_feedback_but_not_points(hostile):
    g = hostile["grades"]["patched_checks.ipynb"]
    assert g.feedback == {"answer": "FAIL"}  # the restored check cell still says FAIL
    assert "final weights are the paper's Figure 1 weights" in judged(g, "findings")
    assert judged(g, "replay").startswith("differs")
    assert g.total <= POINTS["runs"] + POINTS["reproduced"]


def test_input_transformer_rewrites_later_cells_but_not_the_grade(hostile):
    g = hostile["grades"]["input_transformer.ipynb"]
    assert g.feedback == {"answer": "PASS"}  # the forged print, as feedback only
    assert judged(g, "replay").startswith("not done")
    assert "no data" in " ".join(g.judgement.problems)
    assert g.points["replay"] == 0 and g.total <= POINTS["runs"] + POINTS["reproduced"]


def test_forged_pickle_is_refused_and_never_executed(hostile):
    g = hostile["grades"]["forged_pickle.ipynb"]
    assert any("weights_only" in p for p in g.judgement.problems), g.judgement.problems
    assert not (hostile["decoy"] / "pwned-by-pickle").exists()
    assert judged(g, "replay").startswith("not done")


def test_forged_shapes_and_types_are_each_rejected(hostile):
    g = hostile["grades"]["forged_shapes.ipynb"]
    problems = " | ".join(g.judgement.problems)
    for expected in ("inputs: shape (3,)", "sweeps: dtype torch.float32",
                     "final/hidden.weight: dtype torch.float32", "errors: not finite",
                     "unexpected entry 'evil'"):
        assert expected in problems
    assert judged(g, "replay").startswith("not done") and g.total <= 2


# -- isolation -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "rewrite_classmate.ipynb", "reads_instructor_files.ipynb", "proc_snooping.ipynb",
    "writes_everywhere.ipynb", "deletes_itself.ipynb", "network.ipynb",
])
def test_isolation_attacks_fail_inside_a_run_that_otherwise_completes(hostile, name):
    g = hostile["grades"][name]
    no_leak(g)
    assert g.status == "graded" and g.runs_clean, g.errors


def test_classmate_graded_after_the_attack_is_unharmed(hostile):
    order = hostile["order"]
    assert order.index("rewrite_classmate.ipynb") < order.index("correct_training.ipynb")
    assert judged(hostile["grades"]["correct_training.ipynb"], "replay") == "matches"


def test_killing_everything_only_kills_its_own_sandbox(hostile):
    g = hostile["grades"]["kills_everything.ipynb"]
    assert "kernel died" in g.problem and g.status == "graded", (g.problem, g.errors)
    after = hostile["order"][hostile["order"].index("kills_everything.ipynb") + 1]
    assert hostile["grades"][after].status == "graded"


@pytest.mark.parametrize("name", ["detached_setsid.ipynb", "pipe_holding.ipynb",
                                  "fork_bomb.ipynb"])
def test_children_neither_stall_the_grader_nor_survive_it(hostile, name):
    g = hostile["grades"][name]
    assert g.status == "graded" and g.runs_clean, (g.problem, g.errors)
    assert hostile["seconds"][name] < TOTAL_TIMEOUT
    assert hostile["processes_left"] == []


def test_memory_hog_hits_the_limit(hostile):
    g = hostile["grades"]["memory_hog.ipynb"]
    assert [e.split(":")[0] for _, e in g.errors] == ["MemoryError"]


def test_huge_output_is_cut_and_noted(hostile):
    g = hostile["grades"]["huge_output.ipynb"]
    assert g.truncated == ['code cell 3 ("import sys")'] and g.status == "graded"


def test_markers_and_tags_count_only_where_the_release_has_them(hostile):
    g = hostile["grades"]["forged_markers.ipynb"]
    forged = [f'code cell {n} ("{first}")' for n, first in [
        (3, "# NBVAL_IGNORE_OUTPUT"), (4, "raise ValueError('broken ..."),
        (5, "# Colab setup (do not edit)")]]
    assert g.not_honoured == forged and [label for label, _ in g.differ] == forged
    assert (forged[1], "ValueError: broken code") in g.errors  # skip-execution ignored
    assert g.ignored == ['code cell 1 ("# NBVAL_IGNORE_OUTPUT")',  # the release's own volatile
                         'code cell 6 ("# NBVAL_IGNORE_OUTPUT")']  # cell, twice
    assert g.points["reproduced"] == 0


def test_display_updates_count_against_the_output_caps(hostile):
    g = hostile["grades"]["display_updates.ipynb"]
    assert g.status == "graded" and g.runs_clean and not g.problem, (g.problem, g.errors)
    assert g.truncated == ['code cell 3 ("h = display({\'text/plain\'...")',
                           'code cell 4 ("for i in range(2):")']
    assert hostile["seconds"]["display_updates.ipynb"] < TOTAL_TIMEOUT


def test_comm_messages_do_not_stop_the_worker(hostile):
    g = hostile["grades"]["comm_messages.ipynb"]
    assert g.status == "graded" and g.runs_clean and not g.problem, (g.problem, g.errors)
    assert judged(g, "replay").startswith("not done") and g.feedback == {"answer": "PASS"}


def test_three_thousand_cells_are_graded(hostile):
    g = hostile["grades"]["many_cells.ipynb"]
    assert g.status == "graded" and g.runs_clean and g.cells == 3005
    assert 4 in g.unexecuted and len(g.unexecuted) >= 3000


def test_csv_and_table_hold_student_text_safely(hostile, tmp_path):
    grades = list(hostile["grades"].values())
    path = write_csv(grades, tmp_path / "grades.csv")
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert len(rows) == len(grades) + 1
    for row in rows:
        for value in row:
            assert value[:1] not in ("=", "+", "-", "@") and "\n" not in value
            assert "\r" not in value
    injected = hostile["grades"]["csv_injection.ipynb"]
    assert injected.errors and "=HYPERLINK" in injected.errors[0][1]
    for line in hostile["printed"].splitlines():
        assert line.startswith(("== ", "  ", *(f"{n} " for n in hostile["order"]))), line
