"""Code size (the style rule of docs/contributing.md): no Python file over 400 lines, no function
over 80 lines, in labutils/, tests/, benchmarks/ and site/*.py; each offender is named."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
# Offenders waiting for a change under way elsewhere (issue 18): each entry says which. An entry
# that is no longer an offender fails the test too, so the list only shrinks.
WAITING: dict[str, str] = {}


def python_files(root: Path = REPO) -> list[Path]:
    """The checked files: every .py below labutils/, tests/ and benchmarks/, and site/*.py."""
    found = [path for folder in ("labutils", "tests", "benchmarks")
             for path in (root / folder).rglob("*.py")]
    return sorted(found + list((root / "site").glob("*.py")))


def size_offenders(path: Path, root: Path = REPO) -> list[str]:
    """One line per breach in `path`: the file's length, or a function's (decorators excluded)."""
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(root).as_posix()
    found = []
    lines = len(text.splitlines())
    if lines > MAX_FILE_LINES:
        found.append(f"{name}: {lines} lines (at most {MAX_FILE_LINES})")
    for node in ast.walk(ast.parse(text, filename=name)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name}: {length} lines "
                             f"(at most {MAX_FUNCTION_LINES})")
    return found


def test_size_offenders_are_found(tmp_path):
    (tmp_path / "site").mkdir()
    long_function = "def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES
    (tmp_path / "site" / "long.py").write_text(long_function)
    (tmp_path / "site" / "short.py").write_text("def g():\n    return 1\n")
    (tmp_path / "labutils").mkdir()
    (tmp_path / "labutils" / "big.py").write_text("x = 1\n" * (MAX_FILE_LINES + 1))
    files = python_files(tmp_path)
    assert [p.name for p in files] == ["big.py", "long.py", "short.py"]
    assert size_offenders(files[0], tmp_path) == [f"labutils/big.py: {MAX_FILE_LINES + 1} lines "
                                                 f"(at most {MAX_FILE_LINES})"]
    assert size_offenders(files[1], tmp_path) == [
        f"site/long.py:1 f: {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})"]
    assert size_offenders(files[2], tmp_path) == []


def test_no_file_or_function_is_too_long():
    found = {path.relative_to(REPO).as_posix(): size_offenders(path) for path in python_files()}
    offenders = [line for name, lines in found.items() if name not in WAITING for line in lines]
    assert not offenders, "Too long (split by concern):\n" + "\n".join(offenders)
    fixed = [name for name in WAITING if not found.get(name)]
    assert not fixed, f"No longer too long (or gone): remove from WAITING: {fixed}"
