"""labutils.paths: the data folder is found from any working directory, or a clear error."""

from pathlib import Path

import pytest

from labutils import paths

REPO = Path(__file__).resolve().parents[1]


def test_env_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path))
    assert paths.data_dir() == tmp_path


def test_repo_data_found_from_notebooks_folder(monkeypatch):
    monkeypatch.delenv(paths.DATA_ENV, raising=False)
    monkeypatch.chdir(REPO / "notebooks")
    assert paths.data_dir() == REPO / "data"
    assert paths.repo_root() == REPO


def test_missing_data_folder_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="LABUTILS_DATA"):
        paths.data_dir()


def test_create_makes_the_folder(tmp_path, monkeypatch):
    target = tmp_path / "new"
    monkeypatch.setenv(paths.DATA_ENV, str(target))
    assert paths.data_dir(create=True) == target and target.is_dir()
