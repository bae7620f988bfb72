"""Findings drawn from file metrics, and the one priority formula every finding uses.

priority = severity weight x (0.5 + 0.5 x impact) x confidence, in [0, 1], rounded to 4 places.

* severity weight: `SEVERITY_WEIGHT` in evolve.findings (info 0.1, low 0.3, medium 0.6, high 0.9);
* impact in [0, 1]: how far past its threshold the thing is (e.g. complexity 20 against 10 is 1.0);
* confidence in [0, 1]: how sure research is that the finding is real and worth acting on (a radon
  number is exact, a maintainability index is a noisy composite, a semgrep pattern may misfire).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from evolve.configuration.model import EvolveConfig
from evolve.findings import SEVERITY_WEIGHT, Finding, stable_finding_id
from evolve.research.analysis import FileAnalysis

LONG_FUNCTION_LINES = 80  # a function longer than this is a `size` finding


def priority(severity: str, impact: float, confidence: float) -> float:
    """The documented priority formula (see the module docstring)."""
    impact = min(max(impact, 0.0), 1.0)
    confidence = min(max(confidence, 0.0), 1.0)
    return round(SEVERITY_WEIGHT.get(severity, 0.1) * (0.5 + 0.5 * impact) * confidence, 4)


def complexity_severity(complexity: int) -> str:
    """Severity by radon's rank: A/B (1-10) info, C (11-20) low, D (21-30) medium, E/F (31+) high."""
    if complexity > 30:
        return "high"
    if complexity > 20:
        return "medium"
    if complexity > 10:
        return "low"
    return "info"


def maintainability_severity(index: float) -> str:
    """Severity by radon's MI rank: C (<=9) high, B (10-19) medium, anything else under the floor low."""
    if index <= 9:
        return "high"
    if index <= 19:
        return "medium"
    return "low"


def size_severity(length: int) -> str:
    """Severity of a long function by its line count."""
    if length > 4 * LONG_FUNCTION_LINES:
        return "high"
    if length > 2 * LONG_FUNCTION_LINES:
        return "medium"
    return "low"


def disambiguate(keys: Iterable[tuple[str, ...]]) -> list[str]:
    """For each key, "" the first time it is seen and "1", "2"... after: keeps ids unique without line numbers."""
    seen: Counter[tuple[str, ...]] = Counter()
    out = []
    for key in keys:
        out.append("" if seen[key] == 0 else str(seen[key]))
        seen[key] += 1
    return out


def make_finding(
    kind: str,
    rule: str,
    path: str,
    line: int,
    end_line: int,
    symbol: str | None,
    severity: str,
    impact: float,
    confidence: float,
    message: str,
    discriminator: str = "",
    **data: object,
) -> Finding:
    """Build a finding with its stable id and its priority from the formula."""
    return Finding(
        id=stable_finding_id(kind, rule, path, symbol, discriminator),
        kind=kind,
        rule=rule,
        path=path,
        line=line,
        end_line=end_line,
        symbol=symbol,
        severity=severity,
        priority=priority(severity, impact, confidence),
        message=message,
        data={"impact": round(impact, 4), "confidence": confidence, **data},
    )


def file_findings(analysis: FileAnalysis, config: EvolveConfig) -> list[Finding]:
    """Complexity, maintainability, docstring and size findings of one file (cacheable with it)."""
    metrics = analysis.metrics
    path = metrics.path
    findings: list[Finding] = []
    threshold = config.gates.complexity.threshold
    functions = metrics.functions
    discriminators = disambiguate((f.qualname,) for f in functions)
    for func, disc in zip(functions, discriminators):
        if func.complexity > threshold:
            findings.append(
                make_finding(
                    "complexity",
                    "cyclomatic-complexity",
                    path,
                    func.line,
                    func.end_line,
                    func.qualname,
                    complexity_severity(func.complexity),
                    (func.complexity - threshold) / threshold,
                    0.8,
                    f"{func.qualname} has cyclomatic complexity {func.complexity} (threshold {threshold})",
                    disc,
                    complexity=func.complexity,
                    threshold=threshold,
                )
            )
        length = func.end_line - func.line + 1
        if length > LONG_FUNCTION_LINES:
            findings.append(
                make_finding(
                    "size",
                    "long-function",
                    path,
                    func.line,
                    func.end_line,
                    func.qualname,
                    size_severity(length),
                    (length - LONG_FUNCTION_LINES) / (3 * LONG_FUNCTION_LINES),
                    0.6,
                    f"{func.qualname} is {length} lines long (over {LONG_FUNCTION_LINES})",
                    disc,
                    lines=length,
                )
            )
    floor = config.gates.maintainability.floor
    if metrics.sloc and metrics.maintainability < floor:
        findings.append(
            make_finding(
                "maintainability",
                "maintainability-index",
                path,
                1,
                max(metrics.loc, 1),
                None,
                maintainability_severity(metrics.maintainability),
                (floor - metrics.maintainability) / max(floor, 1.0),
                0.6,
                f"maintainability index {metrics.maintainability:.1f} is below the floor {floor:g}",
                maintainability=metrics.maintainability,
                floor=floor,
            )
        )
    definitions = analysis.definitions
    discriminators = disambiguate((d.qualname,) for d in definitions)
    for definition, disc in zip(definitions, discriminators):
        name = definition.qualname.rsplit(".", 1)[-1]
        if definition.has_docstring or not definition.is_public or name.startswith("__"):
            continue
        top_level = "." not in definition.qualname
        length = definition.end_line - definition.line + 1
        findings.append(
            make_finding(
                "docstring",
                "missing-docstring",
                path,
                definition.line,
                definition.end_line,
                definition.qualname,
                "low" if top_level else "info",
                min(length / 50, 1.0),
                0.9,
                f"public {definition.kind} {definition.qualname} has no docstring",
                disc,
                definition=definition.kind,
            )
        )
    return findings


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Priority descending, then path, line and id, so the order is deterministic."""
    return tuple(sorted(findings, key=lambda f: (-f.priority, f.path, f.line, f.id)))
