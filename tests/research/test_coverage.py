"""Opt-in line coverage through the gates' sandboxed test runner."""

from __future__ import annotations

import textwrap

from evolve.research import scan_repository, validate_scan_json

LIB = textwrap.dedent('''\
    """Lib."""


    def used(x):
        """Used by the tests."""
        if x:
            return 1
        return 0


    def unused(x):
        """Never called."""
        y = x + 1
        z = y * 2
        return z
    ''')
TEST = "from lib import used\n\n\ndef test_used():\n    assert used(1) == 1\n    assert used(0) == 0\n"


def test_coverage_findings_and_totals(make_repo, tmp_path):
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TEST, "conftest.py": ""})
    result = scan_repository(repo, with_coverage=True, with_semgrep=False, cache_dir=tmp_path / "c")
    assert result.totals.line_coverage is not None and 0 < result.totals.line_coverage < 100
    assert result.coverage is not None and "lib.py" in result.coverage
    lines = result.coverage["lib.py"]
    assert {6, 7, 8} <= set(lines["covered"]) and {13, 14, 15} <= set(lines["executable"]) - set(lines["covered"])
    found = [(f.rule, f.symbol, f.severity) for f in result.findings if f.kind == "coverage"]
    assert found == [("low-function-coverage", "unused", "medium")]
    validate_scan_json(result.to_dict())
    # Coverage is never cached: a re-scan measures again.
    again = scan_repository(repo, with_coverage=True, with_semgrep=False, cache_dir=tmp_path / "c")
    assert again.cache_misses == 0 and again.coverage == result.coverage


def test_no_tests_is_a_note(make_repo, tmp_path):
    repo = make_repo({"lib.py": LIB})
    result = scan_repository(repo, with_coverage=True, with_semgrep=False, cache_dir=tmp_path / "c")
    assert result.totals.line_coverage is None and result.coverage is None
    assert any("no tests" in note for note in result.notes)
