"""Turn findings into one PR-sized, single-theme plan, ranked by value x learned acceptance. Pure.

A finding's priority carries its value (security and bug patterns first, cosmetic rewrites last: see
evolve/research/codemod_findings.py); learned acceptance scales it; ties go to public, shallow modules first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from evolve.configuration.model import LimitsConfig
from evolve.configuration.path_kinds import DEFAULT_KINDS, is_test_path, path_in_scope
from evolve.findings import Finding
from evolve.plan.tasks import Plan, Task
from evolve.wording import plural, tests_text

# LLM themes and the finding kinds they act on. They exist only when the LLM stage is on.
LLM_THEMES: dict[str, str] = {
    "docstrings": "docstring",
    "complexity": "complexity",
    "tests": "coverage",
    "security-fixes": "security",
}
LLM_TASK_KIND = {"docstrings": "docstring", "complexity": "complexity", "tests": "tests", "security-fixes": "security"}
# Surviving mutants (research's sample, when the tests theme is possible) take the `tests` theme over from coverage
# findings: a test that kills a mutant is proven to check something; one test per mutant.
MUTANT_FINDING = "mutant"
MUTANT_TITLE = "Add tests that catch surviving mutants"
THEME_TITLES = {
    "cleanup": "Remove dead code and redundant branches",
    "correctness": "Fix bug patterns",
    "modernize": "Modernize syntax",
    "typing": "Fix and complete type annotations",
    "security": "Safer library calls",
    "deprecations": "Replace APIs deprecated on supported Pythons",
    "docstrings": "Document public functions and classes",
    "complexity": "Reduce complexity of the most complex functions",
    "tests": "Add characterization tests for uncovered code",
    "security-fixes": "Fix security findings",
}
# Estimated changed lines per task, before a codemod or the model has run.
LLM_LINES = {"docstring": 6, "complexity": 30, "tests": 40, "mutant": 20, "security": 6}
NEUTRAL_ACCEPTANCE = 0.5
# A theme is worth its best task plus a little for each further one: one fixed defect outranks ten
# cosmetic rewrites, and between themes of equal value the larger wins.
FURTHER_TASK_WEIGHT = 0.1
# A PR stays in one value class: tasks worth less than this share of the theme's best task wait for a PR
# of their own (a security fix does not arrive padded with cosmetic rewrites).
VALUE_CLASS_RATIO = 0.34
# Below this (after learned acceptance) a task is a cosmetic rewrite: a default run does not open a PR made
# only of those; a focus on the theme or codemod, or a history of merging them, does.
COSMETIC_CEILING = 0.09
# A task that rewrites the line a failing test's traceback ends in (a removed standard-library name) turns red
# tests green: it outranks every other task, whatever learning says.
RED_SCORE = 2.0


@dataclass(frozen=True)
class PlanningInput:
    """Everything the planner needs, as plain values."""

    findings: tuple[Finding, ...]
    limits: LimitsConfig = LimitsConfig()
    codemod_themes: Mapping[str, str] = field(default_factory=dict)  # codemod id -> theme
    enabled_codemods: frozenset[str] | None = None  # None: every codemod in codemod_themes
    acceptance: Mapping[str, float] = field(default_factory=dict)  # codemod id or "llm:<theme>" -> rate
    blocked: frozenset[str] = frozenset()
    llm_themes: frozenset[str] = frozenset()  # LLM themes allowed in this run
    focus: str | None = None
    skip_themes: frozenset[str] = frozenset()
    include_kinds: tuple[str, ...] = DEFAULT_KINDS  # the configured scope (evolve/configuration/path_kinds.py)
    codemod_kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # codemod id -> its also_in_kinds
    # (codemod id, file) -> the tests failing on base that a rewrite of that file fixes (research's diagnosis):
    # that recipe is in scope even in test modules, because the tests are broken (the same removed names there
    # fail next, once the first import is fixed).
    red: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # The recipes that rewrite standard-library names a Python removed (research's table). When one of them fixes
    # failing tests, the others' findings are the next lines to break on the same Python (a suite stops at the
    # first failure it meets: webob's `collections.MutableMapping` hides its tests' `Thread.isAlive`), so they
    # join the plan like the red recipe's other files.
    removal_recipes: frozenset[str] = frozenset()


def red_recipes(plan_input: PlanningInput) -> frozenset[str]:
    """The recipes whose findings a plan that turns red tests green takes everywhere, test modules included."""
    red = {recipe for recipe, _ in plan_input.red}
    if red & plan_input.removal_recipes:
        red |= plan_input.removal_recipes
    return frozenset(red)


def acceptance_key(task: Task, theme: str) -> str:
    """The key learning uses for a task: the codemod id, or `llm:<theme>`."""
    return task.codemod if task.kind == "codemod" and task.codemod else f"llm:{theme}"


def candidate_tasks(plan_input: PlanningInput) -> dict[str, list[Task]]:
    """Group findings into tasks per theme: one task per (codemod, file), one per symbol for LLM work."""
    enabled = plan_input.enabled_codemods
    by_codemod_file: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    themes: dict[str, list[Task]] = defaultdict(list)
    codemod_lines: dict[str, set[tuple[str, int]]] = defaultdict(set)
    red = red_recipes(plan_input)
    for finding in plan_input.findings:
        if finding.kind != "codemod":
            continue
        codemod = finding.rule
        kinds = plan_input.include_kinds + tuple(plan_input.codemod_kinds.get(codemod, ()))
        if codemod not in red and not path_in_scope(finding.path, kinds):  # its removed names break the tests
            continue
        if codemod not in plan_input.codemod_themes or codemod in plan_input.blocked:
            continue
        if enabled is not None and codemod not in enabled:
            continue
        by_codemod_file[(codemod, finding.path)].append(finding)
        codemod_lines[finding.path].add((finding.path, finding.line))
    for (codemod, path), found in sorted(by_codemod_file.items()):
        theme = plan_input.codemod_themes[codemod]
        themes[theme].append(
            Task(
                kind="codemod",
                path=path,
                codemod=codemod,
                finding_ids=tuple(sorted(f.id for f in found)),
                priority=max(f.priority for f in found),
                estimated_lines=2 * len(found),
            )
        )
    for theme in sorted(plan_input.llm_themes):
        kind = LLM_THEMES.get(theme)
        if kind is None:
            continue
        if theme == "tests" and any(f.kind == MUTANT_FINDING for f in plan_input.findings):
            kind = MUTANT_FINDING
        for finding in plan_input.findings:
            if finding.kind != kind or not path_in_scope(finding.path, plan_input.include_kinds):
                continue
            if theme != "tests" and is_test_path(finding.path):
                continue  # docstrings or refactors of test code itself are not worth a PR
            if kind == "security" and (finding.path, finding.line) in codemod_lines.get(finding.path, set()):
                continue  # a deterministic codemod handles this one
            task_kind = MUTANT_FINDING if kind == MUTANT_FINDING else LLM_TASK_KIND[theme]
            themes[theme].append(
                Task(
                    kind=task_kind,  # type: ignore[arg-type]
                    path=finding.path,
                    symbol=finding.symbol,
                    finding_ids=(finding.id,),
                    priority=finding.priority,
                    estimated_lines=LLM_LINES[task_kind],
                )
            )
    return themes


def file_importance(path: str) -> tuple[int, int]:
    """How much a reviewer cares about a file, for ties: public modules before private ones, shallow before deep.

    Returned as a sort key (smaller first): (private?, depth). `pkg/__init__.py` and `pkg/api.py` are public;
    `pkg/_internal/x.py` and `pkg/_compat.py` are private.
    """
    parts = PurePosixPath(path).parts
    private = any(part.startswith("_") and not (part.startswith("__") and part.endswith("__.py")) for part in parts)
    return (int(private), len(parts))


def theme_score(priorities: Sequence[float]) -> float:
    """A theme's worth from its chosen tasks' priorities: the best one, plus FURTHER_TASK_WEIGHT of the rest."""
    ranked = sorted(priorities, reverse=True)
    return ranked[0] + FURTHER_TASK_WEIGHT * sum(ranked[1:]) if ranked else 0.0


def _matches_focus(focus: str, theme: str, task: Task) -> bool:
    return focus == theme or focus == task.codemod


def _fit_limits(tasks: Iterable[Task], limits: LimitsConfig) -> tuple[list[Task], int]:
    chosen: list[Task] = []
    files: set[str] = set()
    lines = 0
    dropped = 0
    for task in tasks:
        new_files = files | {task.path}
        if len(new_files) > limits.max_files or lines + task.estimated_lines > limits.max_changed_lines:
            dropped += 1
            continue
        chosen.append(task)
        files = new_files
        lines += task.estimated_lines
    return chosen, dropped


def known_focuses(plan_input: PlanningInput) -> list[str]:
    """Every theme and codemod id a focus may name."""
    themes = set(plan_input.codemod_themes.values()) | set(plan_input.llm_themes)
    return sorted(themes | set(plan_input.codemod_themes))


def _weight(task: Task, theme: str, plan_input: PlanningInput) -> float:
    """A task's score: RED_SCORE when it fixes failing tests, else its priority scaled by learned acceptance."""
    if task.codemod and (task.codemod, task.path) in plan_input.red:
        return RED_SCORE
    if task.codemod and task.codemod in red_recipes(plan_input):
        # The same removed name elsewhere: the next line to break once the first is fixed (a suite that cannot
        # start stops at the first import that fails).
        return RED_SCORE / 2
    if task.codemod and any(
        path == task.path and plan_input.codemod_themes.get(codemod) == theme for codemod, path in plan_input.red
    ):
        # Another removal of the same kind in the failing file (`collections.MutableMapping` below the
        # `inspect.getargspec` the traceback stopped at): the tests stay red until it is fixed too.
        return RED_SCORE / 2
    return (
        task.priority * plan_input.acceptance.get(acceptance_key(task, theme), NEUTRAL_ACCEPTANCE) / NEUTRAL_ACCEPTANCE
    )


def red_tests_fixed(tasks: Iterable[Task], red: Mapping[tuple[str, str], tuple[str, ...]]) -> tuple[str, ...]:
    """The failing tests (`3.13: tests/test_a.py::test_b`) that the tasks' rewrites fix, each once."""
    found: dict[str, None] = {}
    for task in tasks:
        for test in red.get((task.codemod or "", task.path), ()):
            found[test] = None
    return tuple(found)


def unplanned_red(plan_input: PlanningInput, planned: Iterable[Task]) -> tuple[str, ...]:
    """A note per (codemod, file) whose rewrite would fix failing tests but is not in the plan, and why."""
    done = {(t.codemod, t.path) for t in planned}
    found = {(f.rule, f.path) for f in plan_input.findings if f.kind == "codemod"}
    enabled = plan_input.enabled_codemods
    notes = []
    for (codemod, path), tests in sorted(plan_input.red.items()):
        if (codemod, path) in done:
            continue
        if codemod not in plan_input.codemod_themes:
            why = f"the recipe {codemod} is not installed"
        elif codemod in plan_input.blocked:
            why = f"{codemod} is blocked here (its PRs were closed unmerged)"
        elif enabled is not None and codemod not in enabled:
            why = f"{codemod} is disabled by the configuration"
        elif (codemod, path) not in found:
            why = f"{codemod} found nothing it can rewrite in {path}"
        elif plan_input.focus:
            why = f"the focus {plan_input.focus!r} leaves {codemod} out"
        else:
            why = "the size limits leave it for a later PR"
        notes.append(f"{plural(len(tests), 'failing test')} not fixed by this plan ({codemod} on {path}): {why}")
    return tuple(notes)


def _title(theme: str, tasks: Sequence[Task]) -> str:
    if theme == "tests" and any(task.kind == MUTANT_FINDING for task in tasks):
        return MUTANT_TITLE
    return THEME_TITLES.get(theme, theme.replace("-", " ").capitalize())


def make_plan(plan_input: PlanningInput) -> Plan:
    """Choose the best theme and its tasks within the size limits; a theme that turns red tests green first."""
    plan = _choose(plan_input)
    notes = unplanned_red(plan_input, plan.tasks)
    fixed = red_tests_fixed(plan.tasks, plan_input.red)
    if not notes and not fixed:
        return plan
    if fixed and plan.tasks:
        pythons = sorted({test.split(":", 1)[0] for test in fixed})
        tests = {test.split(": ", 1)[-1] for test in fixed}  # one test failing on two Pythons counts once
        plan = replace(plan, title=f"Fix {tests_text(tests)} failing on Python {', '.join(pythons)}")
    return replace(plan, notes=plan.notes + notes, red_tests=fixed)


def llm_theme_off(theme: str) -> str:
    """Why a focus on an LLM theme finds nothing when the LLM stage is off, and what turns it on."""
    setting = LLM_TASK_KIND[theme] if theme != "security-fixes" else "security"
    setting = {"docstring": "docstrings"}.get(setting, setting)
    return (
        f"the {theme!r} theme is written by the LLM stage, which is not on for this run: it needs the operator's "
        f"ANTHROPIC_API_KEY, `llm.enabled: true`, {setting!r} in `llm.tasks`, and a run that asks for it "
        "(`evolve run --llm`)"
    )


def _choose(plan_input: PlanningInput) -> Plan:
    focus = plan_input.focus
    if focus and focus in LLM_THEMES and focus not in known_focuses(plan_input):
        return Plan(theme=focus, title="", tasks=(), score=0.0, notes=(llm_theme_off(focus),))
    if focus and focus not in known_focuses(plan_input):
        hint = ", ".join(known_focuses(plan_input))
        return Plan(theme=focus, title="", tasks=(), score=0.0, notes=(f"unknown focus {focus!r}; known: {hint}",))
    scored: list[tuple[float, str, list[Task], int]] = []
    for theme, tasks in candidate_tasks(plan_input).items():
        if theme in plan_input.skip_themes and not focus:
            continue
        if focus:
            tasks = [t for t in tasks if _matches_focus(focus, theme, t)]
        if not tasks:
            continue
        weighted = [(_weight(t, theme, plan_input), t) for t in tasks]
        weighted.sort(
            key=lambda pair: (
                -pair[0],
                file_importance(pair[1].path),
                pair[1].path,
                pair[1].codemod or "",
                pair[1].symbol or "",
            )
        )
        best = weighted[0][0]
        ranked = [
            Task(**{**t.__dict__, "priority": min(1.0, score)})
            for score, t in weighted
            if score >= VALUE_CLASS_RATIO * best
        ]
        chosen, dropped = _fit_limits(ranked, plan_input.limits)
        if chosen:
            # A theme whose tasks fix failing tests ranks above every other (its score says by how much).
            red_bonus = RED_SCORE if any((t.codemod, t.path) in plan_input.red for t in chosen) else 0.0
            scored.append((red_bonus + theme_score([t.priority for t in chosen]), theme, chosen, dropped))
    if not scored:
        note = "no findings match the focus" if focus else "no actionable findings"
        return Plan(theme=focus or "", title="", tasks=(), score=0.0, notes=(note,))
    scored.sort(key=lambda item: (-item[0], item[1]))
    score, theme, chosen, dropped = scored[0]
    if not focus and max(t.priority for t in chosen) < COSMETIC_CEILING:
        named = ", ".join(sorted({t.codemod or theme for _, _, tasks, _ in scored for t in tasks}))
        note = (
            f"only cosmetic rewrites found ({named}); a default run leaves them alone: "
            "ask for one with --focus (or `focus:` in the configuration)"
        )
        return Plan(
            theme="", title="", tasks=(), score=0.0, alternatives=tuple((t, s) for s, t, _, _ in scored), notes=(note,)
        )
    return Plan(
        theme=theme,
        title=_title(theme, chosen),
        tasks=tuple(chosen),
        score=score,
        alternatives=tuple((t, s) for s, t, _, _ in scored[1:]),
        dropped=dropped,
    )
