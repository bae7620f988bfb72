"""Security gate: head has no semgrep finding that base does not have (compared by rule, file and symbol)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from evolve.findings import Finding, ScanResult
from evolve.gate_api import Measurement
from evolve.results import Failed, GateResult, Metric, Passed, Skipped
from evolve.wording import plural
from gates.changed_code import listing
from gates.scan_gate import ScanGate

FindingKey = tuple[str, str, str]


def security_findings(scan: ScanResult, paths: Sequence[str] | None) -> list[Finding]:
    """The security findings of `scan` in `paths` (all paths when None)."""
    wanted = None if paths is None else set(paths)
    return [f for f in scan.findings if f.kind == "security" and (wanted is None or f.path in wanted)]


def finding_key(finding: Finding) -> FindingKey:
    """What identifies a finding across a change: rule, file and symbol — never the line, which shifts."""
    return (finding.rule, finding.path, finding.symbol or "")


def new_security_findings(base: ScanResult, head: ScanResult, paths: Sequence[str] | None) -> list[Finding]:
    """Head's findings beyond base's, comparing multisets of keys (two identical findings need two in base)."""
    remaining = Counter(finding_key(f) for f in security_findings(base, paths))
    new = []
    for finding in sorted(security_findings(head, paths), key=lambda f: (f.path, f.line, f.rule)):
        key = finding_key(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(finding)
    return new


def judge_security(base: ScanResult, head: ScanResult, paths: Sequence[str]) -> GateResult:
    """Fail when head introduces a security finding; blame the files holding them."""
    before, after = security_findings(base, paths), security_findings(head, paths)
    metrics = (Metric("security findings", float(len(before)), float(len(after)), "lower"),)
    new = new_security_findings(base, head, paths)
    if new:
        return Failed(
            gate="security",
            summary=f"{plural(len(new), 'new security finding')}: {listing([f'{f.rule} in {f.path}' for f in new])}.",
            metrics=metrics,
            blame=tuple(sorted({f.path for f in new})),
            details="\n".join(f"{f.path}:{f.line}: {f.rule} ({f.severity}) {f.message}" for f in new),
        )
    resolved = resolved_security_findings(base, head, paths)
    gone = Counter(f.rule for f in resolved)
    summary = f"No new security findings ({len(before)} -> {len(after)} in the changed files)."
    if gone:
        summary += (
            " Resolved: " + ", ".join(f"{rule} ×{n}" if n > 1 else rule for rule, n in sorted(gone.items())) + "."
        )
    return Passed(gate="security", metrics=metrics, summary=summary)


def resolved_security_findings(base: ScanResult, head: ScanResult, paths: Sequence[str] | None) -> list[Finding]:
    """Base's findings head no longer has (the rules a reviewer should see named when the count goes down)."""
    return new_security_findings(head, base, paths)


class SecuritySettings(BaseModel):
    """No new semgrep findings versus base."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True


class SecurityGate(ScanGate[SecuritySettings]):
    """No new semgrep findings in head versus base."""

    name = "security"
    description = "The change introduces no new security findings (semgrep)."

    Settings = SecuritySettings

    def measures(self) -> frozenset[Measurement]:
        """The semgrep scan, unless this gate is turned off."""
        return frozenset({"semgrep"}) if self.settings.enabled else frozenset()

    def skipped(self) -> GateResult | None:
        """Skip without scanning when disabled in the configuration."""
        if not self.settings.enabled:
            return Skipped(gate=self.name, summary="The security gate is disabled in the configuration.")
        return None

    def judge(self, base: ScanResult, head: ScanResult, paths: Sequence[str]) -> GateResult:
        """Compare security findings of the changed files."""
        return judge_security(base, head, paths)
