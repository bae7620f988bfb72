"""Keep out of the plan what the project's own rules rule out. Pure.

- A path a linter or the formatter excludes is never touched (any finding kind).
- A codemod whose lint codes the project ignores there (globally, per file, or by pylint `disable`; for
  annotation codes also where mypy/pyright exempt the path) is not proposed there.
- A codemod whose lint codes the project's linter already checks there is off: the project's own CI flags it
  and `ruff --fix`/its editor fixes it, so a PR would only duplicate the linter. Naming the codemod as the
  run's focus turns it back on (a maintainer asked for exactly that rewrite).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from evolve.findings import Finding
from evolve.project_rules.model import ProjectRules


@dataclass(frozen=True)
class RuleFiltering:
    """The findings the project's rules allow, and why the others were left out."""

    kept: tuple[Finding, ...]
    dropped: tuple[tuple[Finding, str], ...] = ()  # (finding, reason)

    @property
    def notes(self) -> tuple[str, ...]:
        """One sentence per reason, with how many findings it left out."""
        counts = Counter(reason for _, reason in self.dropped)
        return tuple(f"not proposed ({count}x): {reason}" for reason, count in sorted(counts.items()))


def filter_findings(
    findings: Iterable[Finding],
    rules: ProjectRules,
    lint_codes: Mapping[str, tuple[str, ...]],
    focus: str | None = None,
) -> RuleFiltering:
    """Split findings into those the plan may use and those the project's rules rule out (with the reason)."""
    kept: list[Finding] = []
    dropped: list[tuple[Finding, str]] = []
    for finding in findings:
        excluded = rules.excluded(finding.path)
        if excluded:
            dropped.append((finding, excluded))
            continue
        codes = lint_codes.get(finding.rule, ()) if finding.kind == "codemod" else ()
        if not codes:
            kept.append(finding)
            continue
        verdict = rules.verdict(codes, finding.path)
        if verdict.state == "disabled":
            dropped.append((finding, f"{finding.rule}: {verdict.reason}"))
        elif verdict.state == "enforced" and focus != finding.rule:
            dropped.append((finding, f"{finding.rule}: {verdict.reason}; its own linter covers it"))
        else:
            kept.append(finding)
    return RuleFiltering(tuple(kept), tuple(dropped))
