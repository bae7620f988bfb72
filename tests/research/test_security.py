"""semgrep with the shipped rules: planted problems are found, a missing semgrep is a note."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import yaml

from evolve.research import scan_repository, security
from evolve.research.security import RULES_FILE

PLANTED = textwrap.dedent('''\
    import subprocess


    def run(x):
        """Run x."""
        subprocess.call(x, shell=True)
        return eval(x)


    def safe():
        """Literal eval is fine."""
        return eval("1 + 1")
    ''')


def test_rules_file_is_valid_and_ids_are_unique():
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids)) >= 15
    assert all("." not in rule_id for rule_id in ids)
    assert all(rule["languages"] == ["python"] and rule["message"] for rule in rules)


def test_semgrep_finds_planted_shell_true_and_eval(make_repo, tmp_path):
    repo = make_repo({"app/run.py": PLANTED})
    result = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert not [note for note in result.notes if "semgrep" in note]
    security = [f for f in result.findings if f.kind == "security"]
    found = {(f.rule, f.line, f.symbol) for f in security}
    assert ("subprocess-shell-true", 6, "run") in found
    assert ("eval-of-non-literal", 7, "run") in found
    assert not any(f.symbol == "safe" for f in security)
    assert result.totals.security_findings == len(security)
    assert all(f.severity == "high" for f in security)


def test_semgrep_runs_once_for_all_files(make_repo, tmp_path, monkeypatch):
    repo = make_repo({f"m{i}.py": PLANTED for i in range(3)})
    started = []
    original = security.SemgrepRun.__init__

    def spy(self, root, paths, timeout=600.0):
        started.append(list(paths))
        original(self, root, paths, timeout)

    monkeypatch.setattr(security.SemgrepRun, "__init__", spy)
    result = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert started == [["m0.py", "m1.py", "m2.py"]]
    assert sum(1 for f in result.findings if f.rule == "subprocess-shell-true") == 3
    # Cached per file: a re-scan does not start semgrep at all, and keeps the findings.
    again = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert len(started) == 1
    assert [f.id for f in again.findings] == [f.id for f in result.findings]


def test_missing_semgrep_is_a_note_not_a_crash(make_repo, tmp_path, monkeypatch):
    monkeypatch.setattr(security, "semgrep_executable", lambda: None)
    repo = make_repo({"app/run.py": PLANTED})
    result = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert result.files and not [f for f in result.findings if f.kind == "security"]
    assert any("semgrep is not installed" in note for note in result.notes)
    # Nothing was cached for semgrep, so installing it later finds the problems.
    monkeypatch.undo()
    later = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert any(f.rule == "subprocess-shell-true" for f in later.findings)


def test_failing_semgrep_is_a_note(make_repo, tmp_path, monkeypatch):
    broken = tmp_path / "semgrep"
    broken.write_text("#!/bin/sh\necho boom >&2\nexit 2\n")
    broken.chmod(0o755)
    monkeypatch.setattr(security, "semgrep_executable", lambda: str(broken))
    repo = make_repo({"app/run.py": PLANTED})
    result = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert any("semgrep failed" in note and "boom" in note for note in result.notes)


def test_with_semgrep_false_skips_security(make_repo, tmp_path):
    repo = make_repo({"app/run.py": PLANTED})
    result = scan_repository(repo, with_semgrep=False, cache_dir=tmp_path / "cache")
    assert not [f for f in result.findings if f.kind == "security"] and not [n for n in result.notes if "semgrep" in n]


def test_the_installed_semgrep_is_started_as_its_native_binary():
    beside = Path(sys.executable).parent / "semgrep"
    core = security.native_semgrep(str(beside))
    assert core is not None and Path(core).name == "semgrep-core"
    assert security.native_semgrep("/opt/elsewhere/semgrep") is None  # another semgrep: run as it is
