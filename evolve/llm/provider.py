"""The LLM edit provider: plan tasks in, LibCST-applied edits out. `propose` never raises."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.edits import ProviderOutcome
from evolve.findings import Finding
from evolve.llm.api import BudgetExceeded, LLMUnavailable, MessagesClient
from evolve.llm.conversation import run_conversation
from evolve.llm.docstring_style import detect_repository_style
from evolve.llm.edit_session import EditRules, EditSession
from evolve.llm.paths import edit_path_problem
from evolve.llm.prompts import PromptInputs, TaskBrief, system_prompt, tool_definitions, user_prompt
from evolve.llm.repository import (
    function_complexity,
    is_test_file,
    module_name,
    python_files,
    referenced_by_tests,
    repository_key,
    where_tests_live,
)
from evolve.plan.tasks import Plan, Task
from evolve.runs import AttemptFeedback
from evolve.wording import plural

# Task kind -> the `llm.tasks` setting that enables it.
TASK_SETTINGS = {
    "docstring": "docstrings",
    "complexity": "complexity",
    "tests": "tests",
    "mutant": "tests",
    "security": "security",
}
# Characterization tests come before the refactors they protect.
TASK_ORDER = {"tests": 0, "mutant": 0, "docstring": 1, "security": 2, "complexity": 3}
CATALOG_ONLY = "continuing with the deterministic catalog alone"


class LLMProvider:
    """Proposes edits for the plan's docstring, complexity, tests and security tasks through Claude tool use."""

    name = "llm"

    def __init__(self, config: EvolveConfig, client: MessagesClient, startup_notes: Iterable[str] = ()) -> None:
        self.config = config
        self.client = client
        self.startup_notes = list(startup_notes)
        self.stopped: str | None = None  # once the API or a budget gives up, later attempts do not call again

    def propose(
        self,
        workspace: Path,
        plan: Plan,
        feedback: AttemptFeedback | None = None,
        findings: Iterable[Finding] | None = None,
    ) -> ProviderOutcome:
        """Edits for the plan's LLM tasks; API failures end in an outcome with no edits and a note."""
        before = self.client.usage.snapshot()
        notes_before = len(self.client.notes)
        try:
            edits, notes = self._propose(Path(workspace), plan, feedback, list(findings or ()))
        except Exception as error:
            edits, notes = (), [f"{CATALOG_ONLY}: internal error in the LLM stage ({type(error).__name__}: {error})"]
        notes = self.startup_notes + self.client.notes[notes_before:] + notes
        self.startup_notes = []
        return ProviderOutcome(self.name, edits, tuple(notes), self.client.usage.since(before))

    def usage_summary(self) -> dict[str, Any]:
        """Run totals for the report: tokens, estimated cost, models, requests, fallbacks, budgets."""
        return {
            **self.client.usage.to_dict(),
            "configured_models": list(self.client.models),
            "fallbacks": list(self.client.fallbacks),
            "budget": self.client.budget.to_dict(),
            "stopped": self.stopped,
            "redactions": self.client.redactions,
            "notes": list(self.client.notes),
            "cost_note": "estimated from a built-in price table (evolve.llm.pricing), not billed amounts",
        }

    def _propose(
        self, workspace: Path, plan: Plan, feedback: AttemptFeedback | None, findings: list[Finding]
    ) -> tuple[tuple, list[str]]:
        tasks = sorted(
            (t for t in plan.tasks if TASK_SETTINGS.get(t.kind) in self.config.llm.tasks),
            key=lambda t: (TASK_ORDER[t.kind], t.path, t.symbol or ""),
        )
        if not tasks:
            return (), []
        if self.stopped:
            return (), [f"{CATALOG_ONLY}: {self.stopped}"]
        self.client.repo_key = repository_key(workspace)
        files = python_files(workspace, self.config)
        sources: dict[str, str] = {}
        notes: list[str] = []
        for task in tasks:
            problem = edit_path_problem(workspace, task.path, self.config)
            if problem:
                notes.append(f"skipped the {task.kind} task on {task.path}: {problem}")
            elif task.path not in sources:
                try:
                    sources[task.path] = (workspace / task.path).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    notes.append(f"skipped {task.path}: cannot be read ({error})")
        tasks = [t for t in tasks if t.path in sources]
        if not tasks:
            return (), notes
        findings = findings + _missing_security_findings(workspace, self.config, tasks, findings, notes)
        briefs, rules = self._prepare(workspace, tasks, sources, files, findings)
        session = EditSession(workspace, rules)
        inputs = PromptInputs(
            title=plan.title,
            theme=plan.theme,
            attempt=(feedback.attempt + 1) if feedback else 1,
            tasks=tuple(briefs),
            files=sources,
            style=rules.docstring_style,
            feedback=feedback,
        )
        max_rounds = min(4 + 2 * len(tasks), 16)
        try:
            result = run_conversation(
                self.client, session, system_prompt(), user_prompt(inputs), tool_definitions(), max_rounds
            )
        except LLMUnavailable as error:
            self.stopped = str(error)
            return (), [*notes, f"{CATALOG_ONLY}: {error}"]
        except BudgetExceeded as error:
            self.stopped = f"LLM budget exceeded: {error}"
            kept = session.edits()
            suffix = f"; kept {plural(len(kept), 'edit')} accepted before the stop" if kept else ""
            return kept, [*notes, f"{CATALOG_ONLY}: {self.stopped}{suffix}", *_rejections(session)]
        notes += _rejections(session)
        if not result.finished:
            notes.append(result.stopped)
        if session.summary:
            notes.append(f"model summary: {session.summary}")
        return session.edits(), notes

    def _prepare(
        self, workspace: Path, tasks: list[Task], sources: dict[str, str], files: list[str], findings: list[Finding]
    ) -> tuple[list[TaskBrief], EditRules]:
        uncovered = {(f.path, f.symbol) for f in findings if f.kind == "coverage"}
        messages: dict[tuple[str, str | None], list[str]] = {}
        for finding in findings:
            if finding.kind == "security":
                messages.setdefault((finding.path, finding.symbol), []).append(_describe(finding))
        by_id = {finding.id: finding for finding in findings}
        tests_dir, naming = where_tests_live(files)
        briefs: list[TaskBrief] = []
        baselines: dict[tuple[str, str], int] = {}
        tests_first: set[tuple[str, str]] = set()
        targets: dict[str, set[str] | None] = {}
        for task in tasks:
            symbol = task.symbol
            complexity = None
            first = False
            if task.kind == "complexity" and symbol:
                complexity = function_complexity(sources[task.path], symbol)
                if complexity is not None:
                    baselines[(task.path, symbol)] = complexity
                bare = symbol.split(".")[-1]
                first = (task.path, symbol) in uncovered or not referenced_by_tests(workspace, files, bare)
                if first:
                    tests_first.add((task.path, symbol))
            if task.kind in ("complexity", "security"):
                current = targets.setdefault(task.path, set())
                if symbol is None:
                    targets[task.path] = None
                elif current is not None:
                    current.add(symbol)
            else:
                targets.setdefault(task.path, set())
            texts = [_describe(by_id[i]) for i in task.finding_ids if i in by_id]
            texts = texts or messages.get((task.path, symbol), [])
            briefs.append(
                TaskBrief(
                    task.kind,
                    task.path,
                    module_name(task.path),
                    symbol,
                    complexity,
                    first,
                    tuple(texts),
                    tests_dir=tests_dir,
                    test_naming=naming,
                )
            )
        style = detect_repository_style(workspace, [f for f in files if not is_test_file(f)])
        rules = EditRules(
            config=self.config,
            files=frozenset(sources),
            function_targets={p: (frozenset(s) if s is not None else None) for p, s in targets.items()},
            complexity_baselines=baselines,
            tests_first=frozenset(tests_first),
            docstring_style=style,
            max_changed_lines=self.config.limits.max_changed_lines,
            tests_dir=tests_dir,
        )
        return briefs, rules


def _rejections(session: EditSession) -> list[str]:
    return [f"rejected edit: {reason}" for reason in session.rejected]


def _describe(finding: Finding) -> str:
    if finding.kind == "mutant":
        mutation = finding.data.get("mutation") or {}
        tests = ", ".join(str(t) for t in (finding.data.get("tests") or [])[:5]) or "none recorded"
        return (
            f"{finding.message}. The mutant changes line {finding.line} from `{mutation.get('before', '?')}` to "
            f"`{mutation.get('after', '?')}`; the tests that run this line today all still pass on it ({tests})"
        )
    return f"{finding.rule} at line {finding.line}: {finding.message}"


def _missing_security_findings(
    workspace: Path, config: EvolveConfig, tasks: list[Task], known: list[Finding], notes: list[str]
) -> list[Finding]:
    """Security tasks carry only finding ids; when the caller did not pass the findings, rescan those files."""
    known_ids = {finding.id for finding in known}
    paths = sorted({t.path for t in tasks if t.kind == "security" and set(t.finding_ids) - known_ids})
    if not paths:
        return []
    try:
        from evolve.research import scan_repository

        scan = scan_repository(workspace, config, paths=paths, with_semgrep=True)
    except Exception as error:
        notes.append(f"could not look up the security findings ({type(error).__name__}: {error})")
        return []
    return [finding for finding in scan.findings if finding.kind == "security"]
