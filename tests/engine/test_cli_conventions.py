"""Conventions every `evolve` command keeps: exit 2 for a non-git path, `--json`/`--quiet`, a closed pipe is not an
error, `serve --help` shows its defaults, `plan --llm` without a key says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from evolve.cli import EXIT_BAD_INPUT, EXIT_OK, main
from tests.repo_factory import SAMPLE_PACKAGE, make_repo

EVOLVE = [sys.executable, "-m", "evolve.cli"]


@pytest.fixture(autouse=True)
def learning_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EVOLVE_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "{path}"],
        ["plan", "{path}"],
        ["run", "{path}", "--dry-run"],
        ["feedback", "{path}", "merged", "--codemod", "not-in"],
        ["config", "check", "{path}"],
    ],
)
def test_a_path_outside_git_exits_2_for_every_command(tmp_path, capsys, argv):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n", encoding="utf-8")
    assert main([part.format(path=plain) for part in [*argv, "--quiet"]]) == EXIT_BAD_INPUT
    assert "not inside a git repository" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["codemods", "--json"], ["config", "schema"]])
def test_a_reader_that_closes_the_pipe_is_not_an_error(argv):
    # A real pipe whose reading end is closed before evolve writes: what `evolve ... --json | head -0` does.
    process = subprocess.Popen([*EVOLVE, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == EXIT_OK
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_head_reading_part_of_a_long_json_document(tmp_path):
    files = {f"pkg/m{i}.py": "".join(f"def f{j}(x):\n    return x == None\n\n" for j in range(30)) for i in range(40)}
    repo = make_repo(tmp_path / "r", files)
    shell = f"set -o pipefail; {' '.join(EVOLVE)} scan {repo} --json --quiet --no-semgrep | head -c 100"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=300, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("{") and len(result.stdout) == 100
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_codemods_and_feedback_take_json_and_quiet(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["codemods", "--json", "--quiet"]) == EXIT_OK
    assert "not-in" in {codemod["id"] for codemod in json.loads(capsys.readouterr().out)}
    assert main(["feedback", str(repo), "merged", "--codemod", "not-in", "--json"]) == EXIT_OK
    [stats] = json.loads(capsys.readouterr().out)
    assert stats["codemod"] == "not-in" and stats["merged"] == 1
    assert main(["feedback", str(repo), "closed", "--codemod", "not-in", "--quiet"]) == EXIT_OK
    assert capsys.readouterr().out == ""
    assert main(["feedback", str(repo), "closed", "--codemod", "nope", "--quiet"]) == EXIT_BAD_INPUT
    assert (
        "unknown codemod 'nope' in --codemod; known codemods: bare-except, collections-abc, datetime-utcnow, dict-iter-methods"
        in capsys.readouterr().err
    )


def test_serve_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 127.0.0.1)" in out and "(default: 8000)" in out and "(default: all)" in out


def test_plan_with_llm_but_no_key_says_so_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    repo = make_repo(tmp_path / "r", SAMPLE_PACKAGE)
    assert main(["plan", str(repo), "--llm", "--json"]) == EXIT_OK
    captured = capsys.readouterr()
    assert "--llm needs ANTHROPIC_API_KEY" in captured.err
    json.loads(captured.out)  # stdout stays one JSON document


def test_env_prune_takes_json_and_quiet(tmp_path, capsys):
    data = ["--data-dir", str(tmp_path / "envs")]
    assert main(["env", "prune", "--all", "--json", *data]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == {"removed": []}
    assert main(["env", "prune", "--all", "--quiet", *data]) == EXIT_OK
    assert capsys.readouterr().out == ""
    assert main(["env", "prune", "no-such-key", "--quiet", *data]) == EXIT_BAD_INPUT
    assert "no environment 'no-such-key'" in capsys.readouterr().err
