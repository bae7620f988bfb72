"""Builders for gate tests: constructed scan results and test runs, and base/head trees made with real git."""

from __future__ import annotations

import re
import subprocess
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from evolve.config import EvolveConfig
from evolve.findings import FileMetrics, Finding, FunctionMetrics, RepoMetrics, ScanResult
from evolve.gate_api import GateContext
from evolve.suites.runs import TestRun

GIT = [
    "git",
    "-c",
    "user.name=Evolve Tests",
    "-c",
    "user.email=tests@example.invalid",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgsign=false",
]


def file_metrics(
    path: str,
    *,
    mi: float = 80.0,
    functions: Iterable[tuple[str, int]] = (),
    docs: tuple[int, int] = (0, 0),
    sloc: int = 10,
) -> FileMetrics:
    """FileMetrics of `path` with (qualname, complexity) functions, MI, (covered, total) docstrings and SLOC."""
    funcs = tuple(
        FunctionMetrics(name, 10 * i + 1, 10 * i + 5, cc, False, True) for i, (name, cc) in enumerate(functions)
    )
    return FileMetrics(path, sloc, sloc, 0, mi, funcs, docs[0], docs[1])


def security_finding(
    path: str, rule: str = "python.lang.security.eval", symbol: str | None = "f", line: int = 1
) -> Finding:
    """A semgrep-like security finding."""
    return Finding(f"{rule}{path}{line}", "security", rule, path, line, line, symbol, "high", 0.9, "dangerous")


def scan_of(*files: FileMetrics, findings: Iterable[Finding] = ()) -> ScanResult:
    """A ScanResult holding `files` and `findings`; totals are placeholders (gates never read them)."""
    totals = RepoMetrics(len(files), 0, 0, 0, 0.0, 0, 0.0, 0.0, 0, 0)
    return ScanResult("/repo", tuple(files), tuple(findings), (), totals)


def make_run(**overrides) -> TestRun:
    """A TestRun of a passing suite, with fields overridden."""
    values = dict(command=("pytest",), returncode=0, timed_out=False, duration=1.0, passed=3)
    values.update(overrides)
    return TestRun(**values)


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`, returning stdout; fail the test on error."""
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def write_files(root: Path, files: Mapping[str, str | None]) -> None:
    """Write dedented files under `root`; None deletes a file."""
    for path, text in files.items():
        target = root / path
        if text is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@dataclass
class Trees:
    """A base checkout and a head worktree of one git repository, and what changed between them."""

    base: Path
    head: Path
    changed_files: tuple[str, ...]
    changed_lines: dict[str, tuple[int, ...]]

    def context(self, config: EvolveConfig | None = None, **kwargs) -> GateContext:
        """A plain GateContext over these trees."""
        return GateContext(
            self.base,
            self.head,
            self.changed_files,
            config or EvolveConfig(),
            changed_lines=self.changed_lines,
            **kwargs,
        )


def changed_lines_of(diff: str) -> dict[str, tuple[int, ...]]:
    """Parse `git diff -U0` into path -> added/changed line numbers in head."""
    result: dict[str, list[int]] = {}
    path = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = None if line.endswith("/dev/null") else line[6:]
        hunk = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
        if hunk and path:
            start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
            result.setdefault(path, []).extend(range(start, start + count))
    return {p: tuple(lines) for p, lines in result.items()}


def build_trees(tmp_path: Path, base_files: Mapping[str, str], changes: Mapping[str, str | None]) -> Trees:
    """Build base (a commit) and head (a worktree with `changes` committed on top) with real git."""
    base = tmp_path / "base"
    base.mkdir()
    git(base, "init", "-q")
    write_files(base, base_files)
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "base")
    head = tmp_path / "head"
    git(base, "worktree", "add", "-q", "-b", "evolve/test", str(head))
    write_files(head, changes)
    git(head, "add", "-A")
    git(head, "commit", "-q", "-m", "change", "--allow-empty")
    changed = tuple(git(head, "diff", "--name-only", "main", "HEAD").split())
    lines = changed_lines_of(git(head, "diff", "-U0", "main", "HEAD"))
    return Trees(base, head, changed, lines)
