"""The report's account of the rules Evolve followed: one line per rule source found. Pure.

The lines are data on the run report (`RunReport.rules`); `render_rules_section` turns them into the PR
body's "The project's rules" section. Values read from the repository's config files (codes, profiles)
are untrusted text: they reach Markdown only through `evolve/untrusted_text.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from evolve.project_rules.model import ProjectRules
from evolve.untrusted_text import untrusted_markdown

SECTION = """### The project's rules

Evolve read this repository's own settings and followed them (what to propose, how to format, what the `lint` and `types` gates check):

{lines}
"""
MAX_LISTED = 6


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown if len(items) <= MAX_LISTED else f"{shown} and {len(items) - MAX_LISTED} more"


def describe_rule_sources(rules: ProjectRules) -> tuple[str, ...]:
    """One plain sentence per rule source: `follows ruff settings from pyproject.toml (line-length 100)`, ..."""
    lines: list[str] = []
    for linter in rules.linters:
        details = [f"line-length {linter.line_length}"] if linter.line_length else []
        if linter.ignore:
            details.append(f"ignores {_listed(linter.ignore)}")
        if linter.per_file_ignores:
            details.append(f"{len(linter.per_file_ignores)} per-file ignore(s)")
        suffix = f" ({'; '.join(details)})" if details else ""
        lines.append(f"follows {linter.tool} settings from {linter.source}{suffix}")
    if not rules.linters:
        lines.append("no linter configured: the lint gate checks ruff's default rules (E4, E7, E9, F)")
    if rules.formatter == "black" and rules.black is not None:
        lines.append(f"formats changed lines with black, line-length {rules.black.line_length} ({rules.black.source})")
    elif rules.formatter == "black":
        lines.append("formats changed lines with black (pre-commit hook, black's defaults)")
    elif rules.formatter == "ruff":
        lines.append("formats changed lines with ruff format (the project's ruff settings)")
    if rules.isort is not None:
        profile = f"profile {rules.isort.profile}" if rules.isort.profile else "default profile"
        lines.append(f"isort {profile} ({rules.isort.source}; Evolve's edits only remove imports)")
    if rules.mypy is not None:
        mode = "strict" if rules.mypy.strict else "its own strictness"
        plugins = f", plugins {_listed(rules.mypy.plugins)}" if rules.mypy.plugins else ""
        lines.append(f"mypy from {rules.mypy.source} ({mode}{plugins}) for the types gate, run in the sandbox")
    if rules.pyright is not None:
        lines.append(f"pyright from {rules.pyright.source}: its excludes are respected; not run (needs Node.js)")
    if rules.pylint is not None and rules.pylint.disabled:
        lines.append(f"pylint disables {len(rules.pylint.disabled)} message(s) ({rules.pylint.source})")
    if rules.pre_commit:
        hooks = sorted({hook.id for hook in rules.pre_commit})
        lines.append(f"pre-commit runs {_listed(hooks)}")
    lines.extend(f"could not read: {problem}" for problem in rules.problems)
    lines.extend(f"refused: {refusal}" for refusal in rules.refused)
    return tuple(lines)


def render_rules_section(lines: Sequence[str]) -> str:
    """The PR body section listing the rule sources, or "" when there is nothing to say."""
    if not lines:
        return ""
    return SECTION.format(lines="\n".join(f"- {untrusted_markdown(line, limit=400)}" for line in lines))
