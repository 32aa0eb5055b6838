"""The student release: its layout, its Colab settings, and a leak test derived from the source.

The leak test builds the release into a temporary folder and looks there, and in a
`pip install --target` of the release's package, for everything that must stay here: every
line of every solution region and INSTRUCTOR ONLY cell of the instructor sources, every public
name defined by the modules under labutils/instructor/, and every instructor-only file (by path
and by content). Nothing is listed by hand: add a solution line or an instructor function and
the test looks for it.
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from labutils import colab, notebooks
from labutils.instructor import assignment, cli, release

REPO = Path(__file__).resolve().parents[2]
STUDENT_REPO = colab.read_course_repository(REPO / "pyproject.toml", which="student")
TEMPLATES = "labutils/instructor/release_files/"
"""Instructor-only files whose content ships on purpose (the student README, .ci/run)."""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?")


# -- what must stay here, derived from the source ---------------------------------------------

def solution_lines(nb: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """(lines inside solution regions and INSTRUCTOR ONLY cells, every other source line)."""
    secret: list[str] = []
    given: list[str] = []
    for cell in nb.cells:
        lines = cell.source.split("\n")
        if assignment.instructor_only(cell):
            secret += lines[1:]
            continue
        if cell.cell_type == "code":
            begins = (assignment.BEGIN_SOLUTION, assignment.BEGIN_OPTIONAL)
            end = assignment.END_SOLUTION
        else:
            begins, end = (assignment.BEGIN_ANSWER,), assignment.END_ANSWER
        inside = False
        for line in lines:
            marker = line.strip()
            if marker in begins:
                inside = True
            elif marker == end:
                inside = False
            else:
                (secret if inside else given).append(line)
    return [s.strip() for s in secret if s.strip()], [g.strip() for g in given if g.strip()]


_IMPORT = re.compile(r"^(from\s+[\w.]+\s+import\s|import\s)")


def is_trivial(line: str) -> bool:
    """Too short to mean anything on its own (`plt.show()`, `else:`, `ax.legend()`, `)`), or an
    import (of a library or the student package: an import of labutils.instructor is looked
    for separately)."""
    if _IMPORT.match(line) and "instructor" not in line:
        return True
    words = [w for w in _WORD.findall(line) if not keyword.iskeyword(w)]
    return len(words) < 2 or len(line) < 8 or (len(words) < 3 and len(line) < 20)


def lesson_lines() -> set[str]:
    """Source lines of the shipped lessons: code taught there is no answer to the assignment."""
    found = set()
    for path in (REPO / "notebooks").glob("*.ipynb"):
        if notebooks.is_student_copy(path):
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            found.update(line.strip() for line in cell.source.split("\n"))
    return found


def public_names(path: Path) -> set[str]:
    """Names a module defines at top level (functions, classes, constants), minus private ones."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return {n for n in names if not n.startswith("_")}


@dataclass
class Secrets:
    """Everything the student release must not contain, and how much of it was set aside."""

    lines: set[str] = field(default_factory=set)
    lines_total: int = 0
    lines_generic: int = 0
    names: set[str] = field(default_factory=set)
    names_total: int = 0
    names_shared: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def secrets() -> Secrets:
    found = Secrets()
    sources = release.solution_sources(REPO)
    assert sources, "no instructor source notebooks/instructor/*_solution.ipynb"
    taught = lesson_lines()
    for source in sources:
        secret, given = solution_lines(nbformat.read(source, as_version=4))
        found.lines_total += len(secret)
        generic_lines = set(given) | taught
        generic_text = "\n".join(sorted(generic_lines))
        for line in secret:
            if is_trivial(line) or appears(line, generic_text, generic_lines):
                found.lines_generic += 1
            else:
                found.lines.add(line)
    student_names = set()
    for path in (REPO / "labutils").rglob("*.py"):
        rel = path.relative_to(REPO).as_posix()
        names = public_names(path)
        if release.is_instructor_only(rel):
            found.names_total += len(names)
            found.names |= names
        else:
            student_names |= names
    found.names_shared = found.names & student_names  # e.g. main, build_parser: not secrets
    found.names -= student_names
    for rel in release.source_files(REPO):
        if release.is_instructor_only(rel):
            found.files.append(rel)
            data = (REPO / rel).read_bytes()
            if len(data) >= 64 and not rel.startswith(TEMPLATES):
                found.hashes[hashlib.sha256(data).hexdigest()] = rel
    return found


# -- what the student receives ----------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("student") / "course"
    release.build_release(target, REPO)
    return target


@pytest.fixture(scope="module")
def installed(tree, tmp_path_factory) -> Path:
    """The release's package as `pip install --no-deps` puts it in an environment (built from
    a copy: setuptools writes build/ into the folder it builds)."""
    import shutil

    source = tmp_path_factory.mktemp("pip-source") / "course"
    shutil.copytree(tree, source)
    target = tmp_path_factory.mktemp("installed")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, cwd=source)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


LONG_LINE = 40
"""Solution lines at least this long are also found inside longer lines (strings, hints);
shorter ones only as a whole line, so `ax.legend()` is not found in `ax.legend(loc=2)`."""


def appears(line: str, text: str, lines: set[str]) -> bool:
    """Whether a solution line shows in a text (given also as its set of stripped lines)."""
    return line in lines or (len(line) >= LONG_LINE and line in text)


def text_units(folder: Path) -> dict[str, list[str]]:
    """Every text a reader sees, per file: notebook cells (source, outputs) or the file text."""
    units: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            texts = []
            for cell in nb.cells:
                texts.append(cell.source)
                for output in cell.get("outputs", []):
                    texts.append(str(output.get("text", "")))
                    texts += [str(v) for k, v in output.get("data", {}).items()
                              if k.startswith("text/")]
            units[rel] = texts
            continue
        try:
            units[rel] = [path.read_text(encoding="utf-8")]
        except UnicodeDecodeError:
            units[rel] = []  # binary (images, tensors): checked by hash only
    return units


def code_of(folder: Path, rel: str) -> str | None:
    """The Python code of a .py file or of a notebook's code cells (magics left out)."""
    path = folder / rel
    if path.suffix == ".py":
        return path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        cells = [c.source for c in nbformat.read(path, as_version=4).cells
                 if c.cell_type == "code"]
        lines = "\n".join(cells).split("\n")
        return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
    return None


def names_used_not_defined(code: str) -> set[str]:
    """Names the code reads or imports without defining them itself: they must come from
    elsewhere (a library, the student package... or the instructor package)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(_WORD.findall(code))
    used: set[str] = set()
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.ImportFrom):
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
    return used - defined


def _may_name_the_instructor_package(rel: str) -> bool:
    """pyproject.toml excludes it from the package; a student test may check it is absent."""
    return rel == "pyproject.toml" or rel.startswith("tests/")


def leaks(folder: Path, secrets: Secrets) -> list[str]:
    """What of `secrets` appears in `folder`: one line per finding, naming the file.

    Solution lines are looked for in every text (code, prose, outputs); instructor names in
    code, where they are read or imported without being defined there (a student notebook may
    well call its own network class by the name the engine uses); `labutils.instructor`
    anywhere but the pyproject.toml that excludes it and the tests (which may check that it is
    absent; importing it would fail there).
    """
    found = []
    for rel, texts in text_units(folder).items():
        if release.is_instructor_only(rel):
            found.append(f"{rel}: instructor-only path")
        digest = hashlib.sha256((folder / rel).read_bytes()).hexdigest()
        if digest in secrets.hashes:
            found.append(f"{rel}: same content as {secrets.hashes[digest]}")
        for text in texts:
            lines = {line.strip() for line in text.split("\n")}
            found += [f"{rel}: solution line {line!r}" for line in secrets.lines
                      if appears(line, text, lines)]
            if "labutils.instructor" in text and not _may_name_the_instructor_package(rel):
                found.append(f"{rel}: mentions labutils.instructor")
        code = code_of(folder, rel)
        if code is not None:
            found += [f"{rel}: instructor name {name!r}"
                      for name in names_used_not_defined(code) & secrets.names]
    return sorted(set(found))


def test_leak_nothing_of_the_instructor_source_in_the_release(tree, installed, secrets, capsys):
    in_tree = leaks(tree, secrets)
    in_package = leaks(installed, secrets)
    tree_files = sum(1 for p in tree.rglob("*") if p.is_file())
    package_files = sum(1 for p in installed.rglob("*") if p.is_file())
    with capsys.disabled():  # the counts show in every run
        print(
            f"\nleak test: {secrets.lines_total} solution lines "
            f"({len(secrets.lines)} distinct checked, {secrets.lines_generic} generic: taught in "
            f"a lesson, given in the student copy, imports, or too short); "
            f"{secrets.names_total} public "
            f"instructor names ({len(secrets.names)} checked, {len(secrets.names_shared)} also "
            f"defined by the student package: {', '.join(sorted(secrets.names_shared))}); "
            f"{len(secrets.files)} instructor-only files ({len(secrets.hashes)} by content). "
            f"Searched {tree_files} release files and {package_files} installed files: "
            f"{len(in_tree)} + {len(in_package)} found."
        )
    assert not in_tree, "the student release leaks:\n" + "\n".join(in_tree)
    assert not in_package, "the installed student package leaks:\n" + "\n".join(in_package)
    assert secrets.lines and secrets.names and secrets.files  # the test looked for something


def test_installed_package_is_the_student_package(installed):
    assert (installed / "labutils" / "__init__.py").is_file()
    assert (installed / "labutils" / "checks").exists() or (installed / "labutils" /
                                                             "checks.py").exists()
    assert not (installed / "labutils" / "instructor").exists()


def test_leak_search_finds_a_planted_leak(tree, secrets, tmp_path):
    """The search itself works: a solution line, a name and a copied file are each found."""
    import shutil

    planted = tmp_path / "planted"
    shutil.copytree(tree, planted)
    line = sorted(secrets.lines)[0]
    name = sorted(secrets.names)[0]
    (planted / "notes.md").write_text(f"Notes\n{line}\n")
    (planted / "labutils" / "extra.py").write_text(f"value = {name}\n")
    copied = next(rel for rel in secrets.hashes.values() if rel.endswith(".py"))
    shutil.copy(REPO / copied, planted / "tests" / "copied.py")
    found = "\n".join(leaks(planted, secrets))
    assert f"solution line {line!r}" in found
    assert f"instructor name {name!r}" in found
    assert f"same content as {copied}" in found


# -- the checks and the student package state no protocol value ------------------------------

PROTOCOL_WORDS = re.compile(r"once per sweep|each sweep from|1/2|½|alpha times|sum over the 64|"
                            r"uniform(ly)? (in|from|between)|momentum of", re.IGNORECASE)
"""How a printed line could spell the protocol in words (the form of E, when weights change,
the momentum term, the initial range)."""


def protocol_numbers() -> re.Pattern:
    """The protocol's numbers (from the one place the checks keep them) as printed numbers."""
    from labutils.checks._protocol import _PROTOCOL

    forms = {f"{v:g}".lstrip("0") for v in _PROTOCOL.values()}
    return re.compile(r"(?<![\d.])(?<![<>]= )[-+±]?0?(" + "|".join(re.escape(f) for f in forms)
                      + r")(?!\d)")
    # a number after <= or >= is a threshold of labutils.network_facts, not the protocol


WRONG = {
    "mean error": ("E = 0.5 * ((net(inputs) - targets) ** 2).sum()",
                   "E = 0.5 * ((net(inputs) - targets) ** 2).mean()"),
    "no factor 1/2": ("E = 0.5 * (", "E = 1.0 * ("),
    "momentum 0.5": ("momentum=0.9", "momentum=0.5"),
    "momentum 0.891": ("momentum=0.9", "momentum=0.891"),
    "no momentum": ("momentum=0.9", "momentum=0.0"),
    "learning rate 0.099": ("lr=0.1", "lr=0.099"),
    "gradients pile up": ("    opt.zero_grad()\n", ""),
    "init [-0.5, 0.5]": ("-0.3, 0.3", "-0.5, 0.5"),
    "init [0, 1]": ("-0.3, 0.3", "0.0, 1.0"),
    "default init": ("    nn.init.uniform_(p, -0.3, 0.3)", "    pass"),
    "no output activation": ("nn.Linear(2, 1), nn.Sigmoid())", "nn.Linear(2, 1))"),
    "tanh hidden units": ("nn.Sigmoid(), nn.Linear(2, 1)", "nn.Tanh(), nn.Linear(2, 1)"),
    "targets broadcast": (".float()[:, None]", ".float()"),
}
"""Wrong submissions made from the grader's sample one by a single edit each."""


def check_output(source: str) -> str:
    """What the four self-checks print for a submission cell (run here, in a fresh namespace)."""
    import contextlib
    import io

    from labutils import checks

    namespace: dict = {}
    exec(compile(source, "<submission>", "exec"), namespace)  # noqa: S102 - our own sample
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for check in (checks.check_dataset, checks.check_network, checks.check_training,
                      checks.check_solution):
            check(namespace)
    return out.getvalue()


def test_leak_no_check_line_states_a_protocol_value():
    """Run the checks on wrong submissions; no printed line states the protocol in numbers or
    words (a wrong-protocol FAIL says where to look, and the evidence)."""
    from labutils.instructor.grading.samples import training_submission

    base = training_submission(60)
    sources = {"sample": base, **{name: base.replace(old, new) for name, (old, new) in
                                  WRONG.items()}}
    assert all(sources[name] != base for name in WRONG), "a WRONG edit no longer applies"
    numbers, found, fails = protocol_numbers(), [], 0
    for name, source in sources.items():
        text = check_output(source)
        fails += "FAIL" in text
        for line in text.splitlines():
            if numbers.search(line) or PROTOCOL_WORDS.search(line):
                found.append(f"[{name}] {line.strip()}")
    assert not found, "check output states the protocol:\n" + "\n".join(found)
    assert fails >= len(WRONG), "every wrong submission should FAIL a check"


def protocol_constants(folder: Path) -> list[str]:
    """Public module-level names of the student package that hold a protocol number or are
    named like a protocol constant (RANGE, EPS, ALPHA, LR, MOMENTUM...)."""
    from labutils.checks._protocol import _PROTOCOL

    values = set(_PROTOCOL.values())
    named = re.compile(r"(^|_)(INIT|RANGE|EPS|EPSILON|ALPHA|LEARNING|LR|MOMENTUM|STEP|CARRY)"
                       r"(_|$)", re.I)
    thresholds = re.compile(r"(TOL|MARGIN)$")  # network_facts' tolerances, not the protocol
    found = []
    for path in sorted((folder / "labutils").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                       if isinstance(node, ast.AnnAssign) else [])
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            numbers = {n.value for n in ast.walk(getattr(node, "value", None) or ast.Pass())
                       if isinstance(n, ast.Constant) and isinstance(n.value, float)}
            for name in (n for n in names if not n.startswith("_")):
                if named.search(name) or (numbers & values and not thresholds.search(name)):
                    found.append(f"{path.relative_to(folder)}: {name}")
    return found


def test_leak_no_public_name_of_the_student_package_holds_the_protocol(tree, tmp_path):
    assert not protocol_constants(tree), protocol_constants(tree)
    planted = tmp_path / "labutils"
    planted.mkdir()
    (planted / "extra.py").write_text("INIT_RANGE = 0.3\nEPS, ALPHA = 0.1, 0.9\n")
    assert len(protocol_constants(tmp_path)) == 3


# -- layout and contents of the release -------------------------------------------------------

def test_release_layout(tree):
    top = sorted(p.name for p in tree.iterdir())
    assert top == [".ci", ".github", ".gitignore", "Makefile", "README.md", "constraints.txt",
                   "data", "environment.yml", "images", "labutils", "notebooks", "pyproject.toml",
                   "site", "tests"]
    for folder in release.INSTRUCTOR_FOLDERS:
        assert not (tree / folder).exists(), folder
    assert (tree / ".ci" / "run").stat().st_mode & 0o111, ".ci/run must be executable"
    lessons = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")
                     if not notebooks.is_student_copy(p))
    shipped = sorted(p.name for p in (tree / "notebooks").glob("*.ipynb"))
    assert set(lessons) < set(shipped)
    assert not (tree / "tests" / "instructor").exists()
    assert (tree / "tests" / "conftest.py").is_file()
    assert not list(tree.rglob("__pycache__"))


def test_lessons_ship_with_outputs_and_the_assignment_without(tree):
    for path in sorted((tree / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        outputs = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
        if notebooks.is_student_copy(path):
            assert outputs == 0, path.name
            assert not any(assignment.has_solution(c) for c in nb.cells), path.name
        else:
            assert outputs > 0, f"{path.name} ships without its outputs"
    assert [p.name for p in (tree / "notebooks").glob("*.ipynb")
            if notebooks.is_student_copy(p)] == ["05_assignment.ipynb"]


def test_student_tree_runs_and_tests_only_lessons(tree):
    """Without notebooks/instructor/, make run still skips the student copy of the assignment."""
    names = [p.name for p in notebooks.course_notebooks(tree / "notebooks")]
    assert names and "05_assignment.ipynb" not in names
    assert all(n[:2] in {"01", "02", "03", "04"} for n in names)
    assert "--ignore=notebooks/05_assignment.ipynb" in (tree / "Makefile").read_text()


def test_every_notebook_points_at_the_student_repository(tree):
    assert colab.read_course_repository(tree / "pyproject.toml") == STUDENT_REPO
    assert colab.update_badges(tree, check=True, echo=print) == 0
    for path in (tree / "notebooks").glob("*.ipynb"):
        text = path.read_text()
        assert f"github/{STUDENT_REPO.slug}/blob/{STUDENT_REPO.branch}/notebooks/{path.name}" \
            in text
        assert f"git+{STUDENT_REPO.url}@{STUDENT_REPO.branch}" in text
        instructor = colab.read_course_repository(REPO / "pyproject.toml")
        if instructor.url != STUDENT_REPO.url:
            assert f"/{instructor.slug}/" not in text, path.name  # badges, images
            assert f"git+{instructor.url}@" not in text, path.name


def test_images_link_files_the_student_repository_holds(tree):
    """Colab shows a notebook without its repository: images come from the published tree."""
    prefix = f"https://raw.githubusercontent.com/{STUDENT_REPO.slug}/{STUDENT_REPO.branch}/"
    for path in (tree / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for url in re.findall(r"https://raw\.githubusercontent\.com/[^)\s\"'>]+", cell.source):
                assert url.startswith(prefix), f"{path.name}: {url}"
                assert (tree / url.removeprefix(prefix)).is_file(), f"{path.name}: {url}"


def test_student_pyproject_packages_only_the_student_part(tree):
    import tomllib

    ours = tomllib.loads((REPO / "pyproject.toml").read_text())
    theirs = tomllib.loads((tree / "pyproject.toml").read_text())
    assert theirs["project"]["dependencies"] == ours["project"]["dependencies"]
    assert theirs["project"]["optional-dependencies"] == ours["project"]["optional-dependencies"]
    find = theirs["tool"]["setuptools"]["packages"]["find"]
    assert "labutils.instructor" in find["exclude"] and "labutils.instructor.*" in find["exclude"]
    assert "package-data" not in theirs["tool"]["setuptools"]
    assert theirs["tool"]["labutils"] == {"repository": STUDENT_REPO.url,
                                          "branch": STUDENT_REPO.branch}


def test_student_makefile_has_the_student_targets_only(tree):
    text = (tree / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", text, re.M))
    assert {"setup", "run", "test", "lab", "export", "lint"} <= targets
    assert not targets & set(release.INSTRUCTOR_TARGETS)
    phony = next(line for line in text.split("\n") if line.startswith(".PHONY:"))
    assert not set(phony.split()[1:]) & set(release.INSTRUCTOR_TARGETS)


def test_student_readme(tree):
    text = (tree / "README.md").read_text()
    for needed in ("Save a copy in Drive", "setup cell", "make run", "make test", "make lab",
                   "make export", ".ipynb", "HTML", STUDENT_REPO.url):
        assert needed in text, needed
    for path in sorted((tree / "notebooks").glob("*.ipynb")):
        rel = f"notebooks/{path.name}"
        assert STUDENT_REPO.badge_line(rel) in text, f"course map lacks {rel}"
    assert "{{" not in text
    assert "instructor" not in text.lower()


# -- building: refusals, --replace, --with-report, the command line ---------------------------

def test_refuses_a_folder_with_other_content(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(release.ReleaseBuildError, match="not empty"):
        release.build_release(tmp_path, REPO)
    with pytest.raises(release.ReleaseBuildError, match="does not look like"):
        release.build_release(tmp_path, REPO, replace=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_refuses_the_instructor_repository_itself():
    for target in (REPO, REPO / "notebooks", REPO.parent):
        with pytest.raises(release.ReleaseBuildError, match="instructor repository"):
            release.build_release(target, REPO, replace=True)


def test_replace_keeps_git_and_removes_stale_files(tree, tmp_path):
    import shutil

    target = tmp_path / "published"
    shutil.copytree(tree, target)
    (target / ".git").mkdir()
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "notebooks" / "stale.ipynb").write_text("{}")
    release.build_release(target, REPO, replace=True)
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (target / "notebooks" / "stale.ipynb").exists()
    assert (target / "notebooks" / "05_assignment.ipynb").is_file()


def test_command_line_builds_and_reports_errors(tmp_path, capsys):
    assert cli.main(["release", "--to", str(tmp_path / "a")]) == 0
    assert "wrote the student repository" in capsys.readouterr().out
    assert cli.main(["release", "--to", str(tmp_path / "a")]) == 2
    assert "--replace" in capsys.readouterr().err


def test_with_report_adds_the_reference_report_as_html(tmp_path):
    if not list((REPO / "notebooks" / "instructor").glob(release.REPORT_GLOB)):
        pytest.skip("no reference report in notebooks/instructor/")
    built = release.build_release(tmp_path / "after", REPO, with_report=True)
    pages = [name for name in built.files if name.endswith("_report.html")]
    assert pages and all(name.startswith("notebooks/") for name in pages)
    assert not list((tmp_path / "after" / "notebooks").glob("*_report.ipynb"))
    assert pages[0] in (tmp_path / "after" / "README.md").read_text()


# -- forks -------------------------------------------------------------------------------------

def test_release_follows_a_forks_student_setting():
    fork = colab.CourseRepository("https://github.com/some-school/dl-course-2027", "spring")
    text = release.student_pyproject((REPO / "pyproject.toml").read_text(), fork)
    import tomllib

    assert tomllib.loads(text)["tool"]["labutils"] == {"repository": fork.url, "branch": "spring"}
    source = release.solution_sources(REPO)[0]
    nb = assignment.release_notebook(nbformat.read(source, as_version=4),
                                     "notebooks/05_assignment.ipynb", fork)
    assert colab.badge_problems(nb, "notebooks/05_assignment.ipynb", fork) == []


def test_no_test_hard_codes_the_repository_or_branch():
    """Forks change URL and branch: tests read them from pyproject.toml instead."""
    table = [colab.read_course_repository(REPO / "pyproject.toml", which=which)
             for which in colab.SETTINGS]
    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        text = path.read_text()
        for number, line in enumerate(text.split("\n"), start=1):
            hard = [repo.url for repo in table if repo.url in line]
            if re.search(r"blob/(main|master)\b", line) and "fork" not in line:
                hard.append("a hard-coded branch")
            if hard:
                offenders.append(f"{path.relative_to(REPO)}:{number}: {', '.join(hard)}")
    assert not offenders, "\n".join(offenders)


def test_instructor_commands_live_in_the_instructor_cli(capsys):
    from labutils import cli as student_cli

    args = cli.build_parser().parse_args(
        ["grade", "a.ipynb", "b.ipynb", "--out", "g.csv", "--cell-timeout", "5",
         "--total-timeout", "9", "--jobs", "2", "--release", "r.ipynb"])
    assert args.func is cli._grade
    assert [str(p) for p in args.submissions] == ["a.ipynb", "b.ipynb"]
    assert (args.cell_timeout, args.total_timeout, args.jobs) == (5, 9, 2)
    assert str(args.out) == "g.csv" and str(args.release) == "r.ipynb"
    assert cli.build_parser().parse_args(["assignment", "--check"]).check
    for command in ("release", "grade", "assignment"):
        with pytest.raises(SystemExit):
            student_cli.build_parser().parse_args([command, "x"])
    capsys.readouterr()
