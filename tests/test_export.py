"""labutils.export (`make export`): the hand-in HTML page, and PDF only where LaTeX exists."""

import nbformat
import pytest

from labutils import cli, export


def _notebook(path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# My report\n\nThe network learned."),
        nbformat.v4.new_code_cell("print(6 * 7)", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="42\n")]),
    ])
    nbformat.write(nb, path)
    return path


def test_html_export_holds_text_and_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "missing_pdf_tools", lambda: ["xelatex"])
    path = _notebook(tmp_path / "05_assignment.ipynb")
    result = export.export_notebook(path)
    assert result.written == [tmp_path / "05_assignment.html"]
    html = result.written[0].read_text()
    assert "My report" in html and "42" in html and "print" in html
    assert "xelatex" in result.pdf_skipped and "HTML" in result.pdf_skipped
    assert not (tmp_path / "05_assignment.pdf").exists()


def test_no_pdf_asked_means_no_message(tmp_path):
    result = export.export_notebook(_notebook(tmp_path / "a.ipynb"), pdf=False)
    assert result.pdf_skipped == "" and len(result.written) == 1


def test_command_exports_the_named_notebook(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export, "missing_pdf_tools", lambda: ["pandoc", "xelatex"])
    path = _notebook(tmp_path / "mine.ipynb")
    assert cli.main(["export", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'mine.html'}" in out and "No PDF" in out


def test_missing_or_broken_notebook_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="No notebook at"):
        export.export_notebook(tmp_path / "nothing.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    with pytest.raises(ValueError, match="not a readable notebook"):
        export.export_notebook(broken)
    assert cli.main(["export", str(broken)]) == 2
    assert "not a readable notebook" in capsys.readouterr().err
    assert not (tmp_path / "broken.html").exists()
