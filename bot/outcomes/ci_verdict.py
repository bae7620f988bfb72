"""What the repository's own CI says about an Evolve PR, and what to do about it. Pure: values in, a verdict out.

- some check still running, or none reported yet: **wait**;
- every check green: **green** (merge where the configuration allows it, see `automerge_refusal`);
- a check red that is green (or absent) on the base commit and on the default branch: the change caused it, so
  **retry** with the failure as evidence, unless the three attempts (gates and CI together) are spent: **stop**;
- a check red on the base too: not the change's fault, **stop** and say so.

Evolve's own `evolve/…` check runs are never the repository's CI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.db.pull_lifecycle import ATTEMPT_LIMIT
from bot.github.ci_reads import Annotation, CiResult, JobLog
from evolve.configuration.model import AutomergeConfig
from evolve.results import Failed
from evolve.untrusted_text import cap_text, redacted

OWN_CHECK_PREFIX = "evolve/"
RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
EVIDENCE_CHARS = 12_000  # the failing logs the next attempt (and the model) gets, redacted, tail kept


@dataclass(frozen=True)
class Waiting:
    """Some checks have not finished."""

    pending: tuple[str, ...]


@dataclass(frozen=True)
class Green:
    """Every check of the repository's CI passed (`checks` names them, at least one)."""

    checks: tuple[str, ...]


@dataclass(frozen=True)
class Retry:
    """Checks failed that pass without the change: redo it with their evidence (attempt `attempt` of three)."""

    failing: tuple[CiResult, ...]
    attempt: int


@dataclass(frozen=True)
class Stop:
    """Stop working on the PR: `label` goes on it and `reason` in a comment."""

    reason: str
    label: str
    failing: tuple[CiResult, ...] = ()


Verdict = Waiting | Green | Retry | Stop


def repository_checks(results: Iterable[CiResult], own_app: str) -> list[CiResult]:
    """The repository's own CI: every result except Evolve's own check runs (by app or by `evolve/` name)."""
    return [
        r
        for r in results
        if not r.name.startswith(OWN_CHECK_PREFIX) and not (r.kind == "check_run" and own_app and r.app == own_app)
    ]


def _state_of(results: Sequence[CiResult], name: str) -> str | None:
    return next((r.state for r in results if r.name == name), None)


def judge_ci(
    head: Sequence[CiResult], base: Sequence[CiResult], default: Sequence[CiResult], attempts_used: int
) -> Verdict:
    """The verdict on the PR's head from its results, those of the base commit and of the default branch's head.

    All three lists hold the repository's checks only (see `repository_checks`).
    """
    pending = tuple(sorted(r.name for r in head if r.state == "pending"))
    if pending or not head:  # no check at all yet (just pushed): nothing is green before CI has said so
        return Waiting(pending)
    failing = tuple(r for r in head if r.state == "failure")
    if not failing:
        return Green(tuple(sorted(r.name for r in head)))
    red_on_base = [r.name for r in failing if (_state_of(base, r.name) or _state_of(default, r.name)) == "failure"]
    if red_on_base:
        names = ", ".join(sorted(red_on_base))
        return Stop(
            f"{names} failed on the base commit too, so the change did not cause it; "
            "Evolve does not retry a failure that is not its own.",
            "evolve:ci-red-on-base",
            failing,
        )
    if attempts_used >= ATTEMPT_LIMIT:
        names = ", ".join(sorted(r.name for r in failing))
        return Stop(
            f"{names} still failed after {attempts_used} attempts (the gates' and CI's together); "
            "Evolve stops here and leaves the PR to you.",
            "evolve:stopped",
            failing,
        )
    return Retry(failing, attempts_used + 1)


def flaky(failing: Sequence[CiResult], history: Mapping[str, Sequence[str]]) -> Stop | None:
    """A failing check that also passed on the same commit (a re-run) is flaky, not the change's: stop."""
    names = sorted(r.name for r in failing if "success" in history.get(r.name, ()))
    if not names:
        return None
    return Stop(
        f"{', '.join(names)} both passed and failed on this same commit (re-runs), so the failure is flaky, "
        "not the change's; Evolve does not retry it.",
        "evolve:ci-flaky",
        tuple(failing),
    )


_PATH = re.compile(r"[\w./-]+\.py\b")


def blamed_paths(changed: Iterable[str], annotations: Iterable[Annotation], logs: Iterable[JobLog]) -> tuple[str, ...]:
    """The changed files the CI points at: annotated files, and changed files (or their test modules) the logs name."""
    changed = set(changed)
    named = {a.path for a in annotations}
    for log in logs:
        named.update(match.group(0).lstrip("./") for match in _PATH.finditer(log.text))
    blamed = {path for path in changed if path in named}
    for path in changed:  # a failing test module names its subject: tests/test_core.py blames core.py
        parts = path.removesuffix(".py").split("/")
        stem = parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]  # pkg/__init__.py: pkg
        if any(name.rsplit("/", 1)[-1] == f"test_{stem}.py" for name in named):
            blamed.add(path)
    return tuple(sorted(blamed))


def ci_evidence(
    failing: Sequence[CiResult], annotations: Sequence[Annotation], logs: Sequence[JobLog], changed: Iterable[str]
) -> Failed:
    """The failure as a `ci` gate result: the checks, their annotations and the ends of their logs (redacted,
    capped, the tail kept), and the changed files they blame."""
    lines = [f"- {r.name} ({r.app or 'status'}): {r.summary}".rstrip(": ") for r in failing]
    lines += [f"{a.path}:{a.line}: {a.message}" for a in annotations[:50]]
    for log in logs:
        lines.append(f"--- log of {log.workflow} / {log.job} (end) ---")
        lines.append(cap_text(log.text, EVIDENCE_CHARS // max(1, len(logs)), keep="tail"))
    details = cap_text(redacted("\n".join(lines)), EVIDENCE_CHARS, keep="tail")
    names = ", ".join(sorted(r.name for r in failing))
    return Failed(
        "ci", f"the repository's CI failed: {names}", blame=blamed_paths(changed, annotations, logs), details=details
    )


def automerge_refusal(
    config: AutomergeConfig,
    *,
    risk: str | None,
    approved: bool,
    required: Sequence[str],
    green: Sequence[str],
    only_ours: bool,
) -> str | None:
    """Why a green PR is not merged by Evolve (None: merge it): automerge off, risk above `max_risk`, no approval
    when one is required, a required check missing or not green, or commits that are not Evolve's."""
    if not config.enabled:
        return "automerge is off (`automerge.enabled` in .github/evolve.yml); left for review"
    if RISK_ORDER.get(risk or "high", 2) > RISK_ORDER[config.max_risk]:
        return f"its risk ({risk or 'unknown'}) is above automerge.max_risk ({config.max_risk}); left for review"
    if config.require_review and not approved:
        return "automerge needs an approving review (automerge.require_review); left for review"
    missing = sorted(set(required) - set(green))
    if missing:
        return f"required checks have not passed: {', '.join(missing)}"
    if not only_ours:
        return "the branch holds commits that are not Evolve's; left for review"
    return None
