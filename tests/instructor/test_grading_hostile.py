"""Hostile submissions, built here, graded in one sandboxed batch.

Each case is what a suspicious instructor would try: forging the verdict, reading the solution,
escaping, stalling or poisoning the grader. An attack cell raises `RuntimeError("LEAK ...")`
when the attack works, so a case passes when its row is right, no LEAK error appears, and
nothing outside the sandbox changed (submission and decoy folders hashed before and after, no
process of a sandbox user left, no grader temp folder left, no file the attacks aimed at).
Most notebooks are trivial (no torch) to keep the batch cheap; six carry a training run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils.instructor.grading import Limits, grade_all, write_csv
from labutils.instructor.grading.reporting import POINTS
from labutils.instructor.grading.samples import training_submission
from labutils.instructor.grading.sandbox import (
    instructor_repository,
    sandbox_problem,
    student_package,
)

NO_BWRAP = sandbox_problem()
JOBS = 2
LIMITS = Limits(memory_bytes=4 * 2**30, cpu_seconds=90, processes=96, file_bytes=64 * 2**20)
CELL_TIMEOUT, TOTAL_TIMEOUT = 30, 120
REPO = instructor_repository()
SECRET = "labutils-test-secret-value"

CHECK = """# CHECK: answer (do not edit)
ok = globals().get("answer") == 42
print(("PASS" if ok else "FAIL") + " answer: the answer is " + ("42." if ok else "not 42."))"""
VOLATILE = "# NBVAL_IGNORE_OUTPUT\nimport time\nprint(time.time())"

RELEASE = new_notebook(cells=[
    new_markdown_cell("# Hostile-suite release"),
    new_code_cell(VOLATILE),
    new_code_cell("# YOUR CODE HERE\nraise NotImplementedError()"),
    new_code_cell(CHECK),
    new_markdown_cell("### Report\n_YOUR ANSWER HERE: replace this line with your text._"),
])

TRAIN = training_submission(200)

PAPER_NET = TRAIN.split("opt =")[0] + """from labutils.paper1986 import paper_weights
with torch.no_grad():
    for layer, name in ((net[0], "hidden"), (net[2], "output")):
        layer.weight.copy_(paper_weights()[name + ".weight"])
        layer.bias.copy_(paper_weights()[name + ".bias"])
errors = [5.0 - 4.0 * t / 1425 for t in range(1425)]  # typed by hand
sweeps = 1425
"""


def stdout(text: str):
    return new_output("stream", name="stdout", text=text)


def submission(*cells, answer: int = 42, stored: dict[int, str] | None = None,
               tags: dict[int, list[str]] | None = None) -> nbformat.NotebookNode:
    """The release filled in (answer cell, outputs as saved), `cells` inserted after the
    answer cell; `stored`/`tags` give inserted cells (by position) stored output / tags."""
    nb = nbformat.from_dict(json.loads(json.dumps(RELEASE)))
    nb.cells[1].outputs = [stdout("1764000000.0\n")]
    nb.cells[2].source = f"answer = {answer}"
    ok = answer == 42
    nb.cells[3].outputs = [stdout(f"{'PASS' if ok else 'FAIL'} answer: the answer is "
                                  f"{'42.' if ok else 'not 42.'}\n")]
    nb.cells[4].source = "I wrote this report myself."
    extra = [new_code_cell(source) for source in cells]
    for position, text in (stored or {}).items():
        extra[position].outputs = [stdout(text)]
        extra[position].execution_count = 1
    for position, names in (tags or {}).items():
        extra[position].metadata["tags"] = names
    nb.cells[3:3] = extra
    return nb


def leak_if(condition: str, what: str) -> str:
    return f"if {condition}:\n    raise RuntimeError('LEAK: ' + {what!r})\n"


def build_cases(subs: Path, decoy: Path, host_port: int, pytest_pid: int):
    """name -> notebook. `subs`: the submissions folder; `decoy`: a host folder to attack."""
    classmate = subs / "correct_training.ipynb"
    return {
        "rewrite_classmate.ipynb": submission(
            f"import pathlib\np = pathlib.Path({str(classmate)!r})\nwrote = False\n"
            "try:\n    p.write_text('{}')\n    wrote = True\nexcept OSError:\n    pass\n"
            + leak_if("wrote", "rewrote a classmate")),
        "correct_training.ipynb": submission(TRAIN),
        "wrong_rule_mean.ipynb": submission(training_submission(200, "mean")),
        "paper_weights_typed_sweeps.ipynb": submission(PAPER_NET),
        "patched_checks.ipynb": submission(
            training_submission(3)
            + "import labutils.checks as checks\n"
            "from labutils.paper1986 import paper_weights\n"
            "def forged(namespace):\n"
            "    data = {'errors': torch.linspace(5, 0.1, 1425, dtype=torch.float64),\n"
            "            'sweeps': torch.tensor(1425)}\n"
            "    for key, value in paper_weights().items():\n"
            "        data['final/' + key] = value\n"
            "        data['initial/' + key] = value * 0.01\n"
            "    return data\n"
            "checks.submission_data = forged\n"
            "checks._run = lambda *a, **k: print('PASS answer: forged')\n"
            "print('PASS answer: the answer is 42.')", answer=41),
        "input_transformer.ipynb": submission(
            "ip = get_ipython()\n"
            "ip.input_transformers_post.append(\n"
            "    lambda lines: ['print(\"PASS answer: the answer is 42.\")\\n'])", answer=41),
        "forged_pickle.ipynb": submission(
            "import os, pickle, torch\n"
            "class Evil:\n"
            "    def __reduce__(self):\n"
            f"        return (os.system, ('touch {decoy}/pwned-by-pickle',))\n"
            "def evil_save(obj, path):\n"
            "    with open(path, 'wb') as f:\n"
            "        pickle.dump({'sweeps': Evil()}, f)\n"
            "torch.save = evil_save\n"
            "sweeps = 1425"),
        "forged_shapes.ipynb": submission(
            "import torch, labutils.checks as checks\n"
            "checks.submission_data = lambda ns: {\n"
            "    'inputs': torch.zeros(3, dtype=torch.float64),\n"
            "    'sweeps': torch.tensor(1.5),\n"
            "    'final/hidden.weight': torch.zeros(2, 6),\n"
            "    'errors': torch.tensor([float('nan')], dtype=torch.float64),\n"
            "    'evil': torch.zeros(1)}\n"
            "sweeps = 1425"),
        "reads_instructor_files.ipynb": submission(
            "import os, pathlib, labutils\n"
            "found = []\n"
            "try:\n    import labutils.instructor\n    found.append('labutils.instructor')\n"
            "except ImportError:\n    pass\n"
            f"repo = pathlib.Path({str(REPO)!r})\n"
            "for p in [repo / 'notebooks/instructor/05_assignment_solution.ipynb',\n"
            "          pathlib.Path(labutils.__file__).parents[1] / 'notebooks',\n"
            "          repo / 'labutils/instructor', repo / 'tests', repo / '.git',\n"
            f"          pathlib.Path({os.path.expanduser('~')!r}) / '.bash_history',\n"
            f"          pathlib.Path({str(subs)!r}) / 'correct_training.ipynb']:\n"
            "    if p.exists():\n        found.append(str(p))\n"
            "if 'instructor' in labutils.__file__ or str(repo) in labutils.__file__:\n"
            "    found.append(labutils.__file__)\n"
            + leak_if("found", "instructor files visible")),
        "proc_snooping.ipynb": submission(
            "import os\n"
            "cmdlines = []\n"
            "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
            "    try:\n"
            "        cmdlines.append(open(f'/proc/{pid}/cmdline', 'rb').read())\n"
            "    except OSError:\n"
            "        pass\n"
            "seen = b' '.join(cmdlines)\n"
            + leak_if("b'pytest' in seen or b'grading' in seen", "grader visible in /proc")
            + leak_if(f"os.path.exists('/proc/{pytest_pid}/cwd/tests')", "grader's cwd")
            + leak_if(f"{SECRET!r} in str(os.environ)", "grader's environment")),
        "writes_everywhere.ipynb": submission(
            "import os, sys\nwrote = []\n"
            f"targets = [{str(subs / 'injected.ipynb')!r}, {str(decoy / 'x')!r},\n"
            f"           {str(REPO.parent / 'pwned')!r}, sys.prefix + '/pwned',\n"
            "           '/etc/pwned', '/usr/pwned', '/dev/shm/pwned', '/var/tmp/pwned',\n"
            "           '/run/pwned', os.path.expanduser('~') + '/../pwned']\n"
            "for t in targets:\n"
            "    try:\n        open(t, 'w').write('x')\n        wrote.append(t)\n"
            "    except OSError:\n        pass\n"
            "open('/tmp/mine.txt', 'w').write('the box is writable')\n"
            + leak_if("[t for t in wrote if not t.startswith('/tmp')]", "wrote outside")),
        "deletes_itself.ipynb": submission(
            "import os, shutil\ngone = []\n"
            f"for p in [{str(subs / 'deletes_itself.ipynb')!r}, {str(decoy / 'decoy.txt')!r}]:\n"
            "    try:\n        os.remove(p)\n        gone.append(p)\n    except OSError:\n"
            "        pass\n"
            f"shutil.rmtree({str(subs)!r}, ignore_errors=True)\n"
            + leak_if("gone", "deleted files")),
        "detached_setsid.ipynb": submission(
            "import subprocess, sys, os, time\n"
            "late = " + repr(str(decoy / "late")) + "\n"
            "code = ('import time, os\\nfor i in range(600):\\n    time.sleep(0.5)\\n'\n"
            "        '    try:\\n        open(%r, \"w\").write(\"late\")\\n'\n"
            "        '    except OSError:\\n        pass\\n' % late)\n"
            "subprocess.Popen([sys.executable, '-c', code], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "if os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n    os._exit(0)\n"
            "print('detached')"),
        "kills_everything.ipynb": submission(
            "import os, signal\nkilled = []\n"
            f"for pid in (1, {pytest_pid}, os.getppid()):\n"
            "    try:\n        os.kill(pid, signal.SIGKILL)\n        killed.append(pid)\n"
            "    except OSError:\n        pass\n"
            + leak_if("[p for p in killed if p != os.getppid()]", "signalled outside")
            + "try:  # every other process it may signal (none: its sandbox holds only itself)\n"
            "    os.kill(-1, signal.SIGKILL)\n"
            "except ProcessLookupError:\n    pass\n"
            "os.kill(os.getpid(), signal.SIGKILL)"),
        "pipe_holding.ipynb": submission(
            "import os, subprocess, sys, time\n"
            "subprocess.Popen(['sleep', '600'], stdout=sys.__stdout__, stderr=sys.__stderr__,\n"
            "                 start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n    os._exit(0)\n"
            "print('children hold every inherited descriptor')"),
        "fork_bomb.ipynb": submission(
            "import os, time\nchildren = 0\n"
            "try:\n"
            "    for i in range(5000):\n"
            "        if os.fork() == 0:\n            time.sleep(600)\n            os._exit(0)\n"
            "        children += 1\n"
            "except OSError as err:\n    print('stopped by the process limit:', err.errno)\n"
            + leak_if("children >= 5000", "no process limit")),
        "memory_hog.ipynb": submission("hog = bytearray(6 * 2**30)  # less than the machine has"),
        "huge_output.ipynb": submission(
            "import sys\nfor i in range(20000):\n    sys.stdout.write('x' * 1000 + '\\n')"),
        "forged_markers.ipynb": submission(
            "# NBVAL_IGNORE_OUTPUT\nprint('real output')",
            "raise ValueError('broken code')",
            "# Colab setup (do not edit)\nprint('not a setup cell')",
            VOLATILE,
            stored={0: "invented output\n", 1: "all good\n", 2: "set up\n", 3: "0.0\n"},
            tags={1: ["skip-execution", "nbval-skip", "raises-exception",
                      "nbval-ignore-output"]}),
        "csv_injection.ipynb": submission(
            "raise ValueError('=HYPERLINK(\"http://evil\")\\n@SUM(1)\\r\\n+1')"),
        "network.ipynb": submission(
            "import socket\nopened = []\n"
            f"for address in [('1.1.1.1', 53), ('127.0.0.1', {host_port})]:\n"
            "    try:\n"
            "        socket.create_connection(address, timeout=2).close()\n"
            "        opened.append(address)\n"
            "    except OSError:\n        pass\n"
            "u = socket.socket(socket.AF_UNIX)\n"
            f"try:\n    u.connect({str(decoy / 'host.sock')!r})\n    opened.append('unix')\n"
            "except OSError:\n    pass\n"
            + leak_if("opened", "network reachable")),
        "many_cells.ipynb": submission(*[f"x{i} = {i}" for i in range(3000)]),
    }


def folder_state(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def sandbox_processes(uids: set[int]) -> list[str]:
    """Processes running as the batch's sandbox user ids (there must be none after grading)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        uid = int(text.split("Uid:")[1].split()[0])
        if uid in uids:
            found.append(status.parent.name)
    return found


@pytest.fixture(scope="module")
def hostile(monkeypatch_module, tmp_path_factory):
    if NO_BWRAP:
        pytest.skip(NO_BWRAP)
    student_package()  # built (and cached) before the grader's temp folder is redirected
    grader_temp = tmp_path_factory.mktemp("grader-temp")  # where the grader's folders go
    monkeypatch_module.setattr(tempfile, "tempdir", str(grader_temp))
    subs = Path(tempfile.mkdtemp(prefix="labutils-hostile-subs-", dir="/var/tmp"))
    decoy = Path(tempfile.mkdtemp(prefix="labutils-hostile-decoy-", dir="/var/tmp"))
    (decoy / "decoy.txt").write_text("the instructor's file")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(decoy / "host.sock"))
    os.chmod(decoy / "host.sock", 0o777)
    unix.listen()
    monkeypatch_module.setenv("LABUTILS_TEST_SECRET", SECRET)
    try:
        cases = build_cases(subs, decoy, server.getsockname()[1], os.getpid())
        for name, nb in cases.items():
            nbformat.write(nb, subs / name)
        before = {"subs": folder_state(subs), "decoy": folder_state(decoy)}
        printed = io.StringIO()
        start = time.perf_counter()
        grades = grade_all([subs / name for name in cases], RELEASE, CELL_TIMEOUT,
                           TOTAL_TIMEOUT, echo=lambda text: print(text, file=printed),
                           jobs=JOBS, limits=LIMITS)
        seconds = time.perf_counter() - start
        uids = {g.uid for g in grades if g.uid is not None}
        left = sandbox_processes(uids)
        time.sleep(1.5)  # a detached writer that survived would write by now
        yield {
            "grades": {g.submission.name: g for g in grades}, "order": list(cases),
            "printed": printed.getvalue(), "seconds": seconds, "subs": subs, "decoy": decoy,
            "before": before,
            "after": {"subs": folder_state(subs), "decoy": folder_state(decoy)},
            "processes_left": left, "temp_left": sorted(p.name for p in grader_temp.iterdir()),
        }
    finally:
        server.close()
        unix.close()
        shutil.rmtree(subs, ignore_errors=True)
        shutil.rmtree(decoy, ignore_errors=True)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


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
    assert g.replay == "matches" and g.sweeps == "200"
    assert g.points["replay"] == POINTS["replay"] and g.points["data"] == POINTS["data"]
    assert g.facts["solves"] == "no"  # 200 sweeps do not solve it, and nobody says otherwise


def test_a_different_rule_does_not_replay(hostile):
    g = hostile["grades"]["wrong_rule_mean.ipynb"]
    assert g.replay.startswith("differs: error at sweep 0 ")  # it recorded the mean
    assert g.points["replay"] == 0 and g.points["data"] == POINTS["data"]


def test_paper_weights_with_typed_sweeps_show_up_as_such(hostile):
    g = hostile["grades"]["paper_weights_typed_sweeps.ipynb"]
    assert "final weights are the paper's Figure 1 weights" in g.findings
    assert g.replay.startswith("differs") and g.sweeps == "1425"
    assert g.facts["solves"] == "yes"  # the paper's weights do solve it...
    assert g.points["solves"] == 0 and g.points["replay"] == 0  # ...but earn nothing here


def test_patched_check_functions_forge_feedback_but_not_points(hostile):
    g = hostile["grades"]["patched_checks.ipynb"]
    assert g.feedback == {"answer": "FAIL"}  # the restored check cell still says FAIL
    assert "final weights are the paper's Figure 1 weights" in g.findings
    assert g.replay.startswith("differs") and g.total <= POINTS["runs"] + POINTS["reproduced"]


def test_input_transformer_rewrites_later_cells_but_not_the_grade(hostile):
    g = hostile["grades"]["input_transformer.ipynb"]
    assert g.feedback == {"answer": "PASS"}  # the forged print, as feedback only
    assert g.replay.startswith("not done") and "no data" in " ".join(g.data_problems)
    assert g.points["replay"] == 0 and g.total <= POINTS["runs"] + POINTS["reproduced"]


def test_forged_pickle_is_refused_and_never_executed(hostile):
    g = hostile["grades"]["forged_pickle.ipynb"]
    assert any("weights_only" in p for p in g.data_problems), g.data_problems
    assert not (hostile["decoy"] / "pwned-by-pickle").exists()
    assert g.replay.startswith("not done")


def test_forged_shapes_and_types_are_each_rejected(hostile):
    g = hostile["grades"]["forged_shapes.ipynb"]
    problems = " | ".join(g.data_problems)
    for expected in ("inputs: shape (3,)", "sweeps: dtype torch.float32",
                     "final/hidden.weight: dtype torch.float32", "errors: not finite",
                     "unexpected entry 'evil'"):
        assert expected in problems
    assert g.replay.startswith("not done") and g.total <= 2


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
    assert hostile["grades"]["correct_training.ipynb"].replay == "matches"


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
    assert g.seconds < TOTAL_TIMEOUT
    assert hostile["processes_left"] == []


def test_memory_hog_hits_the_limit(hostile):
    g = hostile["grades"]["memory_hog.ipynb"]
    assert [e.split(":")[0] for _, e in g.errors] == ["MemoryError"]


def test_huge_output_is_cut_and_noted(hostile):
    g = hostile["grades"]["huge_output.ipynb"]
    assert g.truncated == ["cell 4"] and g.status == "graded"


def test_markers_and_tags_count_only_where_the_release_has_them(hostile):
    g = hostile["grades"]["forged_markers.ipynb"]
    assert g.not_honoured == ["cell 4", "cell 5", "cell 6"]
    assert [label for label, _ in g.differ] == ["cell 4", "cell 5", "cell 6"]
    assert ("cell 5", "ValueError: broken code") in g.errors  # skip-execution ignored
    assert g.ignored == ["cell 2", "cell 7"]  # the release's own volatile cell, twice
    assert g.points["reproduced"] == 0


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
        assert line.startswith(("== ", "  ")), line
