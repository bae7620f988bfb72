"""The security gate's decisions on constructed scans."""

from __future__ import annotations

from evolve.gate_api import GateContext
from gates.security_gate import SecurityGate, SecuritySettings, judge_security, new_security_findings
from tests.gates.builders import scan_of, security_finding


def test_same_findings_on_other_lines_are_not_new():
    base = scan_of(findings=[security_finding("a.py", line=3)])
    head = scan_of(findings=[security_finding("a.py", line=30)])
    result = judge_security(base, head, ["a.py"])
    assert result.status == "passed"


def test_new_finding_fails_and_blames_its_file():
    base = scan_of(findings=[security_finding("a.py")])
    head = scan_of(findings=[security_finding("a.py"), security_finding("b.py", rule="python.lang.security.exec")])
    result = judge_security(base, head, ["a.py", "b.py"])
    assert result.status == "failed"
    assert result.blame == ("b.py",)
    assert "python.lang.security.exec" in result.summary


def test_findings_compare_as_multisets():
    base = scan_of(findings=[security_finding("a.py", line=1)])
    head = scan_of(findings=[security_finding("a.py", line=1), security_finding("a.py", line=9)])
    assert [f.line for f in new_security_findings(base, head, ["a.py"])] == [9]


def test_removed_findings_pass():
    base = scan_of(findings=[security_finding("a.py")])
    result = judge_security(base, scan_of(), ["a.py"])
    assert result.status == "passed"
    assert result.metrics[0].improved


def test_other_kinds_and_unchanged_files_are_ignored():
    other = security_finding("a.py")
    other = type(other)(**{**other.to_dict(), "kind": "complexity"})
    head = scan_of(findings=[other, security_finding("untouched.py")])
    assert judge_security(scan_of(), head, ["a.py"]).status == "passed"


def test_disabled_gate_skips_without_scanning(tmp_path):
    def no_scan(which):
        raise AssertionError("must not scan")

    context = GateContext(tmp_path, tmp_path, ("a.py",), config=None, scan=no_scan)  # type: ignore[arg-type]
    assert SecurityGate(SecuritySettings(enabled=False)).evaluate(context).status == "skipped"
