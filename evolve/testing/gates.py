"""A harness for gate tests: a base commit and a head worktree made with real git, and a gate run over them with
the same lazily shared measurements (scans, the sandboxed test run) as in a real attempt.

    trees = build_trees(tmp_path, {"pkg/a.py": "x = 1\\n"}, {"pkg/a.py": "x = 2  # TODO\\n"})
    result = run_gate(MyGate(MyGate.Settings(limit=0)), trees)
    assert_gate(result, "failed", blame=["pkg/a.py"])
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.gate_api import Gate, GateContext
from evolve.gating.running import build_context, evaluate_gates
from evolve.results import GateResult

# A git with a fixed identity and none of the user's or the system's configuration in the way.
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
    "-c",
    "core.hooksPath=/dev/null",
]


@dataclass(frozen=True)
class GateTrees:
    """A base checkout and a head worktree of one git repository, and what changed between them."""

    base: Path
    head: Path
    changed_files: tuple[str, ...]
    changed_lines: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def context(self, config: EvolveConfig | None = None, **kwargs: Any) -> GateContext:
        """A plain GateContext over these trees (no measurements unless given)."""
        return GateContext(
            self.base,
            self.head,
            self.changed_files,
            config or EvolveConfig(),
            changed_lines=self.changed_lines,
            **kwargs,
        )


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its output; CalledProcessError on failure."""
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


def changed_lines_of(diff: str) -> dict[str, tuple[int, ...]]:
    """Parse `git diff -U0` into path -> added or changed line numbers in head."""
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


def build_trees(directory: Path, base_files: Mapping[str, str], changes: Mapping[str, str | None]) -> GateTrees:
    """Build base (a commit of `base_files`) and head (a worktree with `changes` committed on top) under `directory`."""
    base = Path(directory) / "base"
    base.mkdir(parents=True)
    git(base, "init", "-q")
    write_files(base, base_files)
    git(base, "add", "-A")
    git(base, "commit", "-q", "-m", "base", "--allow-empty")
    head = Path(directory) / "head"
    git(base, "worktree", "add", "-q", "-b", "evolve/test", str(head))
    write_files(head, changes)
    git(head, "add", "-A")
    git(head, "commit", "-q", "-m", "change", "--allow-empty")
    changed = tuple(git(head, "diff", "--name-only", "main", "HEAD").split())
    return GateTrees(base, head, changed, changed_lines_of(git(head, "diff", "-U0", "main", "HEAD")))


def run_gate(gate: Gate[Any], trees: GateTrees, config: EvolveConfig | None = None) -> GateResult:
    """Evaluate one gate over `trees` as an attempt would: real scans and test runs, computed on demand.

    Never raises: a gate that crashes comes back Errored with the traceback in `details`.
    """
    config = config or EvolveConfig()
    context = build_context(
        trees.base, trees.head, trees.changed_files, config, changed_lines=trees.changed_lines, measures=gate.measures()
    )
    [result] = evaluate_gates([gate], context)
    return result


def assert_gate(
    result: GateResult, status: str, *, summary_contains: str | None = None, blame: Iterable[str] | None = None
) -> None:
    """The result has `status` (passed, failed, skipped, errored), and the summary and blame expected."""
    assert result.status == status, (
        f"{result.gate} {result.status}, expected {status}: {result.summary}\n{result.details}"
    )
    if summary_contains is not None:
        assert summary_contains in result.summary, result.summary
    if blame is not None:
        assert sorted(result.blame) == sorted(blame), result.blame
