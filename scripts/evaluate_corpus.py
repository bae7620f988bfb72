#!/usr/bin/env python3
"""Run Evolve over a corpus of repositories and tabulate what it did and whether the result holds.

For each repository given (a git checkout; a directory holding several checkouts is expanded to
its git sub-directories, e.g. the ``--dest`` of ``scripts/sdist_to_git.py``) this script

1. runs ``evolve scan PATH --json`` and counts the findings,
2. runs ``evolve run PATH --json`` (the document is ``RunReport.to_dict()`` of ``evolve/runs.py``),
3. if the run produced a commit, checks it out in a temporary ``git worktree`` (detached, removed
   afterwards) and runs the repository's full test suite there (and, unless ``--no-baseline``, on
   the base commit too, so a failure that was already there is told apart),
4. checks the commit against the report: the files the commit changes must be exactly the files the
   report lists (committed vs reported), and reads the report's proof of behaviour (the share of
   changed lines base's tests execute; hunks kept as tested / equivalent / unverified, or left out)
   and the lint gate (new violations of the project's own linter settings in the changed lines),
5. with ``--diffs DIR``, writes each branch's diff and PR body to DIR for reading hunk by hunk,
6. prints a markdown table: findings, codemods applied, attempts, gate results of the last attempt,
   resolved findings, improved metrics, run status, files committed vs reported, changed lines
   executed, lint, the full suite on base and on the branch, and the wall time of each step.

The test command defaults to ``PYTHON -m pytest -q -p no:cacheprovider`` with ``PYTHONPATH=src``
added for ``src/`` layouts; ``--test-cmd`` replaces it (run through the shell in the worktree).

Nothing is pushed; the branches ``evolve run`` makes stay in each repository. Only local processes
are started. Exit codes:

  0  every repository was evaluated and no branch breaks a suite that passes on its base
  1  some branch fails its full test suite where the base passes, commits other files than its
     report lists, or a step crashed
  2  bad usage (no repository found, evolve not runnable)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2

SUMMARY_RE = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")


@dataclass
class SuiteResult:
    """One full test-suite run."""

    ok: bool
    returncode: int
    counts: dict[str, int]
    seconds: float
    tail: str = ""

    def short(self) -> str:
        """A compact cell like ``ok 519 passed (3.2 s)`` or ``FAIL 3 failed, 516 passed (3.0 s)``."""
        parts = [f"{n} {k}" for k, n in self.counts.items() if n]
        return f"{'ok' if self.ok else 'FAIL'} {', '.join(parts) or f'exit {self.returncode}'} ({self.seconds:.1f} s)"


@dataclass
class RepoEvaluation:
    """Everything measured for one repository."""

    repo: str
    findings: int | None = None
    scan_seconds: float | None = None
    scan_error: str = ""
    status: str = ""
    message: str = ""
    theme: str = ""
    branch: str | None = None
    commit: str | None = None
    base_sha: str | None = None
    codemods: list[str] = field(default_factory=list)
    edits: int = 0
    attempts: int = 0
    gates: dict[str, str] = field(default_factory=dict)  # gate -> status, last attempt
    resolved_findings: int = 0
    new_findings: int = 0
    improved_metrics: list[str] = field(default_factory=list)
    regressed_metrics: list[str] = field(default_factory=list)
    run_seconds: float | None = None
    run_error: str = ""
    base_suite: SuiteResult | None = None
    branch_suite: SuiteResult | None = None
    files_reported: list[str] = field(default_factory=list)
    files_committed: list[str] = field(default_factory=list)
    executed_share: float | None = None
    hunk_verdicts: dict[str, int] = field(default_factory=dict)  # tested/equivalent/unverified/dropped -> count
    lint: str = ""  # the lint gate's status and summary, last attempt
    report_dir: str | None = None

    @property
    def files_match(self) -> bool | None:
        """Whether the commit changes exactly the files the report lists (None without a commit)."""
        return None if not self.commit else sorted(self.files_committed) == sorted(self.files_reported)

    @property
    def regression(self) -> bool:
        """Whether the branch fails a suite that passes on the base (or on its own, without a baseline)."""
        if self.branch_suite is None or self.branch_suite.ok:
            return False
        return self.base_suite is None or self.base_suite.ok


# --------------------------------------------------------------------------- running things


def evolve_command(explicit: str | None) -> list[str]:
    """How to invoke the CLI: --evolve, the console script beside this python, PATH, or ``-m``."""
    if explicit:
        return explicit.split()
    beside = Path(sys.executable).with_name("evolve")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("evolve")
    if found:
        return [found]
    return [sys.executable, "-m", "evolve.cli"]


def run_json(argv: list[str], timeout: float) -> tuple[dict[str, Any] | None, str, float]:
    """Run a command that prints one JSON document; return (document, error text, seconds)."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f}s", time.perf_counter() - started
    except OSError as exc:
        return None, str(exc), time.perf_counter() - started
    seconds = time.perf_counter() - started
    try:
        return json.loads(proc.stdout), "", seconds
    except json.JSONDecodeError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return None, f"exit {proc.returncode}, no JSON: {' | '.join(tail)[:300]}", seconds


def default_test_command(tree: Path, python: str) -> tuple[list[str], dict[str, str]]:
    """``python -m pytest -q`` plus ``PYTHONPATH=src`` for a src/ layout."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if (tree / "src").is_dir():
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree / "src"), env.get("PYTHONPATH", "")) if p)
    return [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env


def run_suite(tree: Path, python: str, test_cmd: str | None, timeout: float) -> SuiteResult:
    """Run the full test suite in `tree` and summarise it."""
    started = time.perf_counter()
    try:
        if test_cmd:
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
            proc = subprocess.run(
                test_cmd, shell=True, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        else:
            argv, env = default_test_command(tree, python)
            proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return SuiteResult(False, -1, {}, time.perf_counter() - started, f"timed out after {timeout:.0f}s")
    seconds = time.perf_counter() - started
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    lines = [text for text in output.strip().splitlines() if text.strip()]
    counts: dict[str, int] = {}
    for line in reversed(lines):
        found = SUMMARY_RE.findall(line)
        if found and (" in " in line or line.startswith("=")):
            for number, kind in found:
                kind = "errors" if kind.startswith("error") else kind
                counts[kind] = counts.get(kind, 0) + int(number)
            break
    return SuiteResult(proc.returncode == 0, proc.returncode, counts, seconds, "\n".join(lines[-5:]))


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in `repo` (a corpus checkout, never the project's own tree)."""
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def suite_at(repo: Path, commit: str, python: str, test_cmd: str | None, timeout: float) -> SuiteResult:
    """Check `commit` out in a temporary detached worktree, run the suite, remove the worktree."""
    holder = Path(tempfile.mkdtemp(prefix="evolve-eval-"))
    tree = holder / repo.name  # keep the repository's name: some suites look at it
    added = git(repo, "worktree", "add", "--detach", "-q", str(tree), commit)
    try:
        if added.returncode != 0:
            return SuiteResult(False, added.returncode, {}, 0.0, f"git worktree add failed: {added.stderr.strip()}")
        return run_suite(tree, python, test_cmd, timeout)
    finally:
        git(repo, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(holder, ignore_errors=True)
        git(repo, "worktree", "prune")


# --------------------------------------------------------------------------- one repository


def apply_report(evaluation: RepoEvaluation, report: dict[str, Any]) -> None:
    """Copy the interesting parts of a ``RunReport.to_dict()`` document into `evaluation`."""
    evaluation.status = str(report.get("status", ""))
    evaluation.message = str(report.get("message", ""))
    evaluation.branch = report.get("branch")
    evaluation.commit = report.get("commit")
    evaluation.base_sha = report.get("base_sha")
    plan = report.get("plan") or {}
    evaluation.theme = str(plan.get("theme", "")) if isinstance(plan, dict) else ""
    evaluation.codemods = [str(c.get("id", c)) if isinstance(c, dict) else str(c) for c in report.get("codemods") or []]
    attempts = report.get("attempts") or []
    evaluation.attempts = len(attempts)
    if attempts:
        last = attempts[-1]
        evaluation.edits = len(last.get("edits") or [])
        evaluation.gates = {str(g.get("gate")): str(g.get("status")) for g in last.get("gates") or []}
        evaluation.files_reported = sorted(str(e.get("path")) for e in last.get("edits") or [])
        proof = last.get("proof") or {}
        evaluation.executed_share = proof.get("executed_share")
        for hunk in proof.get("hunks") or []:
            verdict = str(hunk.get("verdict"))
            evaluation.hunk_verdicts[verdict] = evaluation.hunk_verdicts.get(verdict, 0) + 1
        for gate in last.get("gates") or []:
            if gate.get("gate") == "lint":
                evaluation.lint = f"{gate.get('status')}: {gate.get('summary', '')}"[:200]
    evaluation.report_dir = report.get("report_dir")
    evaluation.resolved_findings = len(report.get("resolved_findings") or [])
    evaluation.new_findings = len(report.get("new_findings") or [])
    for metric in report.get("metrics") or []:
        base, head, better = metric.get("base"), metric.get("head"), metric.get("better", "neutral")
        if base is None or head is None or better == "neutral":
            continue
        delta = head - base
        label = f"{metric.get('name')} {_num(base)}→{_num(head)}"
        if (better == "higher" and delta > 1e-9) or (better == "lower" and delta < -1e-9):
            evaluation.improved_metrics.append(label)
        elif (better == "higher" and delta < -1e-9) or (better == "lower" and delta > 1e-9):
            evaluation.regressed_metrics.append(label)


def _num(value: float) -> str:
    """Format a metric value compactly."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def evaluate(repo: Path, args: argparse.Namespace, evolve: list[str]) -> RepoEvaluation:
    """Scan, run and verify one repository."""
    evaluation = RepoEvaluation(repo=repo.name)
    scan, error, evaluation.scan_seconds = run_json([*evolve, "scan", str(repo), "--json", "-q"], args.timeout)
    if scan is not None:
        totals = scan.get("totals") or {}
        evaluation.findings = totals.get("findings", len(scan.get("findings") or []))
    else:
        evaluation.scan_error = error
    run_argv = [*evolve, "run", str(repo), "--json", "-q", *args.run_arg]
    report, error, evaluation.run_seconds = run_json(run_argv, args.timeout)
    if report is None:
        evaluation.run_error = error
        evaluation.status = "crashed"
    else:
        apply_report(evaluation, report)
    if evaluation.commit:
        base = evaluation.base_sha or f"{evaluation.commit}~1"
        names = git(repo, "diff", "--name-only", "--no-renames", base, evaluation.commit).stdout.split()
        evaluation.files_committed = sorted(names)
        if args.diffs:
            save_branch(repo, evaluation, base, args.diffs, args.label)
    if evaluation.commit and not args.no_suite:
        evaluation.branch_suite = suite_at(repo, evaluation.commit, args.python, args.test_cmd, args.timeout)
        if not args.no_baseline:
            base = evaluation.base_sha or f"{evaluation.commit}~1"
            evaluation.base_suite = suite_at(repo, base, args.python, args.test_cmd, args.timeout)
    return evaluation


def save_branch(repo: Path, evaluation: RepoEvaluation, base: str, into: Path, label: str) -> None:
    """Write the branch's diff and PR body beside each other, for reading every hunk."""
    into.mkdir(parents=True, exist_ok=True)
    stem = f"{repo.name}-{label}" if label else repo.name
    (into / f"{stem}.diff").write_text(git(repo, "diff", base, evaluation.commit or "").stdout, encoding="utf-8")
    if evaluation.report_dir and (Path(evaluation.report_dir) / "report.md").is_file():
        shutil.copyfile(Path(evaluation.report_dir) / "report.md", into / f"{stem}.md")


# --------------------------------------------------------------------------- output


def markdown_table(evaluations: list[RepoEvaluation]) -> str:
    """The per-repository table, plus a notes list for errors and messages."""
    header = [
        "repository",
        "findings",
        "status",
        "theme",
        "codemods applied",
        "edits",
        "attempts",
        "gates (last attempt)",
        "resolved / new findings",
        "files committed / reported",
        "changed lines executed",
        "hunks",
        "lint",
        "suite on base",
        "suite on branch",
        "scan s",
        "run s",
    ]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for e in evaluations:
        gates = ", ".join(f"{g} {s}" for g, s in e.gates.items()) or "-"
        cells = [
            e.repo,
            "-" if e.findings is None else str(e.findings),
            e.status or "-",
            e.theme or "-",
            ", ".join(sorted(set(e.codemods))) or "-",
            str(e.edits),
            str(e.attempts),
            gates,
            f"{e.resolved_findings} / {e.new_findings}",
            "-"
            if e.files_match is None
            else f"{len(e.files_committed)} / {len(e.files_reported)}" + ("" if e.files_match else " MISMATCH"),
            "-" if e.executed_share is None else f"{100 * e.executed_share:.0f}%",
            ", ".join(f"{n} {v}" for v, n in sorted(e.hunk_verdicts.items())) or "-",
            e.lint.split(":")[0] if e.lint else "-",
            e.base_suite.short() if e.base_suite else "-",
            e.branch_suite.short() if e.branch_suite else "-",
            "-" if e.scan_seconds is None else f"{e.scan_seconds:.1f}",
            "-" if e.run_seconds is None else f"{e.run_seconds:.1f}",
        ]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    notes = []
    for e in evaluations:
        for label, text in (("scan", e.scan_error), ("run", e.run_error), ("message", e.message)):
            if text:
                notes.append(f"- {e.repo} {label}: {text}")
        if e.files_match is False:
            notes.append(f"- {e.repo}: committed {e.files_committed} but reported {e.files_reported}")
        if e.lint and not e.lint.startswith(("passed", "skipped")):
            notes.append(f"- {e.repo} lint: {e.lint}")
        if e.regressed_metrics:
            notes.append(f"- {e.repo} regressed metrics: {'; '.join(e.regressed_metrics)}")
        if e.branch_suite and not e.branch_suite.ok:
            notes.append(
                f"- {e.repo} suite on branch `{e.branch}`:\n  ```\n  "
                + e.branch_suite.tail.replace("\n", "\n  ")
                + "\n  ```"
            )
    return "\n".join(rows) + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


def find_repositories(paths: list[Path]) -> list[Path]:
    """Expand the arguments: a git checkout stays, a directory of checkouts becomes its children."""
    found: list[Path] = []
    for path in paths:
        path = path.resolve()
        if (path / ".git").exists():
            found.append(path)
        elif path.is_dir():
            found += sorted(child for child in path.iterdir() if (child / ".git").exists())
    return found


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="evaluate_corpus.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("For each") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "corpus", nargs="+", type=Path, metavar="CORPUS_DIR", help="a git checkout, or a directory of them"
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write the evaluations as JSON to FILE ('-' for stdout after the table)",
    )
    parser.add_argument("--evolve", help="command that runs the CLI (default: the evolve script beside this python)")
    parser.add_argument(
        "--python", default=sys.executable, help="python that runs the repositories' tests (default: this one)"
    )
    parser.add_argument(
        "--test-cmd", help="shell command for the full suite, run in the worktree (default: python -m pytest -q)"
    )
    parser.add_argument(
        "--run-arg",
        action="append",
        default=[],
        help="extra argument for `evolve run` (repeatable), e.g. --run-arg=--focus=not-in",
    )
    parser.add_argument("--no-baseline", action="store_true", help="do not run the suite on the base commit")
    parser.add_argument("--diffs", type=Path, metavar="DIR", help="write each branch's diff and PR body to DIR")
    parser.add_argument("--label", default="", help="suffix for the files --diffs writes (e.g. default, focus)")
    parser.add_argument("--no-suite", action="store_true", help="do not run any test suite (evolve only)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed for each step (default 1800)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code documented in the module docstring."""
    args = build_parser().parse_args(argv)
    repos = find_repositories(args.corpus)
    if not repos:
        print("error: no git repositories among the arguments", file=sys.stderr)
        return EXIT_USAGE
    evolve = evolve_command(args.evolve)
    evaluations = []
    for repo in repos:
        print(f"evaluating {repo} ...", file=sys.stderr, flush=True)
        evaluation = evaluate(repo, args, evolve)
        print(
            f"  {evaluation.status or 'no status'}; suite on branch: {evaluation.branch_suite.short() if evaluation.branch_suite else '-'}",
            file=sys.stderr,
            flush=True,
        )
        evaluations.append(evaluation)
    print(markdown_table(evaluations), end="")
    if args.json:
        document = json.dumps([asdict(e) for e in evaluations], indent=2)
        if str(args.json) == "-":
            print(document)
        else:
            args.json.write_text(document + "\n", encoding="utf-8")
    crashed = any(e.run_error for e in evaluations)
    mismatched = any(e.files_match is False for e in evaluations)
    return EXIT_REGRESSION if crashed or mismatched or any(e.regression for e in evaluations) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
