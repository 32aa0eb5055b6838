"""The hostile submissions of test_grading_hostile.py, built as notebooks, and where they live.

Each case is what a suspicious instructor would try: forging the verdict, reading the solution
or a classmate, escaping, stalling or poisoning the grader. An attack cell raises
`RuntimeError("LEAK ...")` when the attack works. The submissions, the decoy and a classmate's
earlier files live in `hostile_home()`: a folder the sandbox would show if its isolation failed
(not under /tmp, /var/tmp or /run, which a sandbox may replace wholesale). Every process a case
leaves running names itself `token` (PR_SET_NAME), so survivors are found as any user.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils.instructor.assignments.rhw1986.samples import training_submission
from labutils.instructor.grading import Limits
from labutils.instructor.grading.sandbox import instructor_repository

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


def hostile_home() -> Path:
    """A new folder for the suite's files where only the sandbox's isolation protects them:
    the first writable of /srv, /opt, /mnt, $HOME (never a path a sandbox replaces)."""
    for base in (Path("/srv"), Path("/opt"), Path("/mnt"), Path.home()):
        if base.is_dir() and os.access(base, os.W_OK | os.X_OK):
            return Path(tempfile.mkdtemp(prefix="labutils-hostile-", dir=base))
    raise RuntimeError("no writable folder for the hostile suite in /srv, /opt, /mnt or $HOME")


def name_self(token: str) -> str:
    """Source that names the current process `token` (found afterwards whatever its user)."""
    return f"import ctypes\nctypes.CDLL(None).prctl(15, {token.encode()!r}, 0, 0, 0)\n"


def build_cases(home: Path, host_port: int, pytest_pid: int, token: str) -> dict:
    """name -> notebook, in grading order. `home`: hostile_home() with subs/ (the batch),
    decoy/ (a host folder to attack), lms/ (a classmate outside the batch), earlier grades."""
    args = (home, host_port, pytest_pid, token)
    return {**verdict_cases(*args), **isolation_cases(*args), **stalling_cases(*args)}


def verdict_cases(home: Path, host_port: int, pytest_pid: int, token: str) -> dict:
    """Forged verdicts (and a classmate rewritten just before its turn)."""
    subs, decoy = home / "subs", home / "decoy"
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
    }


def isolation_cases(home: Path, host_port: int, pytest_pid: int, token: str) -> dict:
    """Reading, snooping, writing and deleting outside the box."""
    subs, decoy = home / "subs", home / "decoy"
    return {
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
            f"          pathlib.Path({str(subs)!r}) / 'correct_training.ipynb',\n"
            f"          pathlib.Path({str(home / 'lms/bob/submission.ipynb')!r}),\n"
            f"          pathlib.Path({str(home / 'grades-earlier.csv')!r})]:\n"
            "    if p.exists():\n        found.append(str(p))\n"
            "import sys\nvenv = pathlib.Path(sys.prefix)\n"
            "if venv != pathlib.Path(sys.base_prefix) and venv.parent.is_dir():\n"
            "    found += [str(p) for p in venv.parent.iterdir() if p != venv]\n"
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
    }


def stalling_cases(home: Path, host_port: int, pytest_pid: int, token: str) -> dict:
    """Escaping the timeouts, the limits, the caps and the network; poisoning the table."""
    decoy = home / "decoy"
    return {
        "detached_setsid.ipynb": submission(
            "import subprocess, sys, os, time\n"
            "late = " + repr(str(decoy / "late")) + "\n"
            f"code = ({name_self(token)!r} + 'import time, os\\nfor i in range(600):\\n'\n"
            "        '    time.sleep(0.5)\\n'\n"
            "        '    try:\\n        open(%r, \"w\").write(\"late\")\\n'\n"
            "        '    except OSError:\\n        pass\\n' % late)\n"
            "subprocess.Popen([sys.executable, '-c', code], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "if os.fork() == 0:\n    os.setsid()\n" + indent(name_self(token))
            + "    time.sleep(600)\n    os._exit(0)\nprint('detached')"),
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
            f"code = {name_self(token) + 'import time; time.sleep(600)'!r}\n"
            "subprocess.Popen([sys.executable, '-c', code], stdout=sys.__stdout__,\n"
            "                 stderr=sys.__stderr__, start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n" + indent(name_self(token))
            + "    time.sleep(600)\n    os._exit(0)\n"
            "print('children hold every inherited descriptor')"),
        "fork_bomb.ipynb": submission(
            "import os, time\nchildren = 0\n"
            "try:\n"
            "    for i in range(5000):\n"
            "        if os.fork() == 0:\n" + indent(name_self(token), 12)
            + "            time.sleep(600)\n            os._exit(0)\n"
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
        "many_cells.ipynb": submission(*[f"x{i} = {i}" for i in range(3000)]),
        "display_updates.ipynb": submission(
            "h = display({'text/plain': 'small'}, raw=True, display_id=True)\n"
            "h.update({'text/plain': 'y' * 40_000_000}, raw=True)",
            "for i in range(2):\n    h.update({'text/plain': str(i) * 40_000_000}, raw=True)\n"
            "print('updated')"),
        "comm_messages.ipynb": submission(
            "import ipywidgets\nfrom comm import create_comm\n"
            "display(ipywidgets.IntSlider(value=3))\n"
            "c = create_comm(target_name='jupyter.widget', data={'state': 'no dict',\n"
            "                'buffer_paths': 5})\n"
            "c.send({'method': 'update', 'state': [1, 2]})\n"
            "create_comm(target_name='jupyter.widget.output', data=None)\n"
            "print('comms sent')"),
    }


def indent(source: str, spaces: int = 4) -> str:
    return "".join(" " * spaces + line + "\n" for line in source.splitlines())


def write_home(home: Path, cases: dict) -> None:
    """The batch in home/subs, a decoy, a classmate outside the batch, earlier grades: all
    readable and writable by anyone, so that only the sandbox's isolation protects them."""
    for folder in ("subs", "decoy", "lms/bob"):
        (home / folder).mkdir(parents=True)
    (home / "decoy" / "decoy.txt").write_text("the instructor's file")
    (home / "lms/bob/submission.ipynb").write_text("{}")
    (home / "grades-earlier.csv").write_text("submission,total\nbob,10\n")
    for name, nb in cases.items():
        nbformat.write(nb, home / "subs" / name)
    for path in [home, *home.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)


