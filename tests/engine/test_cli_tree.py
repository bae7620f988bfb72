"""`evolve plan` and `evolve run` work on the same tree — the commit (HEAD unless `--base`) — and say so, naming the
uncommitted Python files they leave out; `evolve plan --working-tree` plans the files on disk. Real git checkouts."""

from __future__ import annotations

import json

import pytest

from evolve.cli import EXIT_OK, main
from evolve.git.uncommitted import Uncommitted, parse_status, uncommitted_python_files
from tests.repo_factory import SAMPLE_PACKAGE, commit_all, make_repo, run_git, write_files

UNTRACKED = {"sample/extra.py": "def is_missing(value):\n    return value == None\n"}


@pytest.fixture
def learning_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EVOLVE_DATA_DIR", str(tmp_path / "data"))


def _planned_files(output: str) -> set[str]:
    return set(json.loads(output)["files"])


def test_plan_and_run_work_on_head_and_name_the_uncommitted_files_they_leave_out(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    head = run_git(repo, "rev-parse", "HEAD").strip()
    write_files(repo, UNTRACKED)
    (repo / "sample/numbers.py").write_text(
        (repo / "sample/numbers.py").read_text(encoding="utf-8") + "# edited\n", encoding="utf-8"
    )

    assert main(["plan", str(repo), "--focus", "correctness"]) == EXIT_OK
    captured = capsys.readouterr()
    assert f"tree: HEAD ({head[:12]}), committed files only" in captured.err
    assert (
        "evolve: note: uncommitted changes left out: 1 modified (sample/numbers.py) and 1 untracked "
        "(sample/extra.py) .py files; `evolve plan --working-tree` plans the files as they are on disk"
    ) in captured.err
    assert "sample/extra.py" not in captured.out and "sample/shapes.py" in captured.out

    assert main(["run", str(repo), "--dry-run", "--focus", "correctness"]) == EXIT_OK
    captured = capsys.readouterr()
    assert f"tree: HEAD ({head[:12]}), committed files only" in captured.err
    assert "commit them to include them (a run changes committed code only)" in captured.err
    assert "+++ b/sample/shapes.py" in captured.out and "extra.py" not in captured.out
    assert "# edited" not in captured.out  # HEAD's numbers.py, not the edited one

    # The plan a run follows is the plan `evolve plan` shows: the same files.
    assert main(["plan", str(repo), "--focus", "correctness", "--json"]) == EXIT_OK
    assert _planned_files(capsys.readouterr().out) == {"sample/numbers.py", "sample/shapes.py"}


def test_plan_working_tree_plans_the_files_on_disk_and_says_so(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    write_files(repo, UNTRACKED)
    assert main(["plan", str(repo), "--focus", "correctness", "--working-tree"]) == EXIT_OK
    captured = capsys.readouterr()
    assert (
        "tree: the working tree, uncommitted changes included: 1 untracked (sample/extra.py) .py file" in captured.err
    )
    assert "sample/extra.py" in captured.out
    assert main(["plan", str(repo), "--focus", "correctness", "--working-tree", "--json"]) == EXIT_OK
    assert "sample/extra.py" in _planned_files(capsys.readouterr().out)


def test_a_clean_checkout_gets_no_note_and_plan_base_plans_an_older_commit(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    first = run_git(repo, "rev-parse", "HEAD").strip()
    write_files(repo, UNTRACKED)
    commit_all(repo, "add extra")
    assert main(["plan", str(repo), "--focus", "correctness"]) == EXIT_OK
    captured = capsys.readouterr()
    assert "note: uncommitted" not in captured.err and "sample/extra.py" in captured.out
    assert main(["plan", str(repo), "--focus", "correctness", "--base", first[:10]]) == EXIT_OK
    captured = capsys.readouterr()
    assert f"tree: {first[:10]} ({first[:12]}), committed files only" in captured.err
    assert "sample/extra.py" not in captured.out


def test_quiet_and_json_print_no_tree_lines(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    write_files(repo, UNTRACKED)
    assert main(["plan", str(repo), "--quiet"]) == EXIT_OK
    assert "tree:" not in capsys.readouterr().err


def test_git_status_is_read_without_touching_the_index(tmp_path):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    write_files(repo, {**UNTRACKED, "notes.txt": "not python\n", "sample/stub.pyi": "x: int\n"})
    (repo / "sample/shapes.py").write_text("# rewritten\n", encoding="utf-8")
    (repo / "sample/numbers.py").unlink()
    index = (repo / ".git/index").read_bytes()
    found = uncommitted_python_files(repo)
    assert found == Uncommitted(
        modified=("sample/numbers.py", "sample/shapes.py"), untracked=("sample/extra.py", "sample/stub.pyi")
    )
    assert (repo / ".git/index").read_bytes() == index


def test_git_status_output_is_read_by_its_codes():
    porcelain = " M a.py\0M  b.py\0?? new.py\0?? data.csv\0D  gone.py\0A  staged.pyi\0 M docs/x.md\0"
    assert parse_status(porcelain) == Uncommitted(
        modified=("a.py", "b.py", "gone.py", "staged.pyi"), untracked=("new.py",)
    )
    assert parse_status("").empty
    many = Uncommitted(modified=("a.py", "b.py", "c.py", "d.py", "e.py"))
    assert many.describe() == "5 modified (a.py, b.py, c.py, and 2 more) .py files"
    assert Uncommitted(untracked=("n.py",)).describe() == "1 untracked (n.py) .py file"
