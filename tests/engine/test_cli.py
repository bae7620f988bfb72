"""The `evolve` command line as a user runs it: output, JSON, exit codes, clear errors."""

import json
import os
import subprocess
import sys

import pytest

from evolve.cli import EXIT_BAD_INPUT, EXIT_OK, main
from evolve.research.scan_schema import validate_scan_json
from tests.repo_factory import SAMPLE_PACKAGE, make_repo, run_git


@pytest.fixture
def learning_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EVOLVE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_scan_json_validates_against_the_shipped_schema(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["scan", str(repo), "--json", "--quiet"]) == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    validate_scan_json(document)
    assert any(f["rule"] == "none-comparison" for f in document["findings"])


def test_scan_table_lists_findings_and_skipped_files(tmp_path, capsys):
    repo = make_repo(
        tmp_path / "r", {**SAMPLE_PACKAGE, "bad.py": "def broken(:\n", "latin.py": "x = 'caf\xe9'\n".encode("latin-1")}
    )
    assert main(["scan", str(repo), "--quiet", "--no-semgrep"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "none-comparison" in out or "== None" in out
    assert "bad.py" in out and "latin.py" in out


def test_plan_markdown_has_a_mermaid_diagram(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["plan", str(repo), "--markdown", "--quiet", "--focus", "correctness"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "```mermaid" in out and "none-comparison" in out


def test_plan_with_unknown_focus_is_bad_input(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["plan", str(repo), "--quiet", "--focus", "bogus"]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("evolve: error: --focus: unknown theme or codemod 'bogus';")


@pytest.mark.parametrize("command", ["plan", "run"])
def test_a_misspelt_focus_is_one_line_with_a_suggestion_and_nothing_runs(tmp_path, capsys, learning_dir, command):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main([command, str(repo), "--focus", "corectness"]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()  # no config/tree lines, no progress: nothing ran
    assert line.startswith("evolve: error: --focus: unknown theme or codemod 'corectness'; did you mean 'correctness'?")
    assert "Nothing to do" not in line and "none-comparison" in line
    assert not (repo / ".git" / "evolve" / "runs").exists()  # no report written


def test_an_llm_theme_as_focus_without_llm_says_to_add_llm(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["run", str(repo), "--focus", "docstrings"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "evolve: error: --focus docstrings: a theme only the LLM stage works on; add --llm (needs ANTHROPIC_API_KEY)\n"
    )


def test_run_dry_run_prints_the_diff(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["run", str(repo), "--dry-run", "--quiet", "--focus", "correctness"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "+    if value is None:" in out
    assert run_git(repo, "branch", "--list", "evolve/*").strip() == ""


def test_run_json_and_output_directory(tmp_path, capsys, learning_dir):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    out_dir = tmp_path / "reports"
    code = main(["run", str(repo), "--json", "--quiet", "--focus", "not-in", "--output", str(out_dir)])
    document = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and document["status"] == "succeeded"
    assert (out_dir / "report.md").read_text(encoding="utf-8").startswith("## ")
    assert json.loads((out_dir / "report.json").read_text(encoding="utf-8"))["branch"] == document["branch"]
    # the local learning store now knows the codemod was proposed
    assert main(["feedback", str(repo), "merged", "--codemod", "not-in"]) == EXIT_OK
    assert "merged 1" in capsys.readouterr().out


def test_bad_input_exit_codes_and_messages(tmp_path, capsys, learning_dir):
    assert main(["run", str(tmp_path), "--quiet"]) == EXIT_BAD_INPUT
    assert "not inside a git repository" in capsys.readouterr().err
    broken = make_repo(
        tmp_path / "b", {**SAMPLE_PACKAGE, ".github/evolve.yml": "gates:\n  complexity:\n    threshold: -1\n"}
    )
    assert main(["plan", str(broken), "--quiet"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "gates.complexity.threshold" in err and ".github/evolve.yml" in err
    assert main(["feedback", str(broken), "closed", "--codemod", "nope"]) == EXIT_BAD_INPUT
    assert main([]) == EXIT_BAD_INPUT
    with pytest.raises(SystemExit) as error:
        main(["frobnicate"])
    assert error.value.code == 2


def test_codemods_catalog_lists_every_codemod(capsys):
    assert main(["codemods", "--json"]) == EXIT_OK
    catalog = json.loads(capsys.readouterr().out)
    assert len(catalog) >= 10
    assert {"unused-imports", "none-comparison", "none-return"} <= {c["id"] for c in catalog}
    settings = {c["id"]: c["settings"] for c in catalog}
    assert settings["requests-timeout"] == {"timeout_seconds": 30} and settings["not-in"] == {}
    assert main(["codemods"]) == EXIT_OK
    assert "settings: timeout_seconds=30" in capsys.readouterr().out


def test_console_script_runs_as_a_subprocess(tmp_path):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    env = {**os.environ, "EVOLVE_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "run", str(repo), "--focus", "correctness", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "branch: evolve/correctness-" in proc.stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "run", "--help"], capture_output=True, text=True
    ).stdout
    assert "--dry-run" in help_text and "exit codes" in help_text
