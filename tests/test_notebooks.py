"""Course-wide notebook rules: order, stable metadata, linked images, kernels, seeds."""

import re
from pathlib import Path

import nbformat

from labutils import notebooks

REPO = Path(__file__).resolve().parents[1]
ALL = sorted(p for p in (REPO / "notebooks").rglob("*.ipynb") if not p.name.startswith("."))
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")


def test_course_order_is_numeric_and_skips_student_copies():
    names = [p.name for p in notebooks.course_notebooks(REPO / "notebooks")]
    assert names[0] == "01_autograd.ipynb"
    numbers = [int(n.split("_")[0]) for n in names]
    assert numbers == sorted(numbers)
    for path in notebooks.course_notebooks(REPO / "notebooks"):
        assert not notebooks.is_student_copy(path)


def test_every_linked_image_exists():
    for path in ALL:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for target in IMAGE_LINK.findall(cell.source):
                if target.startswith(("http://", "https://", "attachment:")):
                    continue
                assert (path.parent / target).is_file(), f"{path.name} links missing {target}"


def test_stored_notebooks_carry_no_volatile_metadata():
    for path in ALL:
        nb = nbformat.read(path, as_version=4)
        assert "papermill" not in nb.metadata, path.name
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        for cell in nb.cells:
            assert "execution" not in cell.metadata and "papermill" not in cell.metadata, path.name


def test_clean_notebook_drops_timing_and_volatile_outputs():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(1)", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="1\n")]),
        nbformat.v4.new_code_cell("print(a); print(b)", execution_count=2, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="a\n"),
            nbformat.v4.new_output("stream", name="stdout", text="b\n")]),
        nbformat.v4.new_code_cell("print(time)", execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="0.3 s\n")]),
    ])
    nb.metadata.update(papermill={"duration": 1.0}, language_info={"name": "python",
                                                                   "version": "3.11.7"})
    nb.cells[0].metadata.update(papermill={"start_time": "x"}, execution={"a": 1}, tags=[])
    nb.cells[2].metadata["tags"] = [notebooks.VOLATILE_TAG]
    cleaned = notebooks.clean_notebook(nb)
    assert "papermill" not in cleaned.metadata
    assert cleaned.metadata["language_info"] == {"name": "python"}
    assert cleaned.cells[0].metadata == {} and len(cleaned.cells[0].outputs) == 1
    assert [o.text for o in cleaned.cells[1].outputs] == ["a\nb\n"]
    assert cleaned.cells[2].outputs == [] and cleaned.cells[2].execution_count is None


def test_failed_run_leaves_the_notebook_untouched(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ok')"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    result = notebooks.run_notebook(path, timeout=60)
    assert not result.ok and "ZeroDivisionError" in result.error and "cell 1" in result.error
    assert path.read_bytes() == before
