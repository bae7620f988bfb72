"""Test counts as the runner reports them: real pytest and unittest runs of suites holding every kind of outcome."""

from __future__ import annotations

import re

from evolve.configuration.model import EvolveConfig
from evolve.suites.reports import read_junit, with_runner_counts
from evolve.suites.runner_counts import RunnerCounts, describe_counts, parse_counts, run_counts
from evolve.suites.runs import run_test_suite
from tests.gates.builders import write_files

EVERY_OUTCOME = {
    "pkg/__init__.py": "",
    "tests/test_outcomes.py": """
        import unittest

        import pytest


        @pytest.fixture
        def broken():
            raise RuntimeError("fixture fails")


        def test_passes():
            assert True


        def test_passes_too():
            assert 1 + 1 == 2


        def test_fails():
            assert 1 == 2


        def test_errors(broken):
            pass


        @pytest.mark.skip(reason="not here")
        def test_skipped():
            pass


        @pytest.mark.xfail(reason="known bug")
        def test_xfails():
            assert False


        @pytest.mark.xfail(reason="fixed already")
        def test_xpasses():
            assert True


        def test_with_subtests(subtests):
            for n in range(3):
                with subtests.test(n=n):
                    assert n >= 0


        class Cases(unittest.TestCase):
            def test_sub(self):
                for n in range(2):
                    with self.subTest(n=n):
                        self.assertGreaterEqual(n, 0)
    """,
}
# pytest's summary line: `1 failed, 4 passed, 1 skipped, 1 xfailed, 1 xpassed, 5 subtests passed, 1 error in 0.05s`
_SUMMARY = re.compile(r"^=*\s*(?P<parts>(?:\d+ [a-z ]+(?:, )?)+) in [\d.]+s", re.M)


def _summary_counts(output: str) -> dict[str, int]:
    line = _SUMMARY.findall(output)[-1]
    counts = {}
    for part in line.split(", "):
        number, word = part.split(" ", 1)
        counts[word.strip()] = int(number)
    return counts


def test_counts_are_pytests_own_summary(tmp_path):
    write_files(tmp_path, EVERY_OUTCOME)
    run = run_test_suite(tmp_path, EvolveConfig(), with_coverage=True)
    said = _summary_counts(run.output_tail)  # what pytest printed, read from its own output
    assert run.passed == said["passed"] == 4  # 2 plain, the subtests' test and the TestCase: never the subtests
    assert run.failed == said["failed"] == 1
    assert run.errors == said["error"] == 1
    assert run.skipped == said["skipped"] == 1  # the xfailed test is not a skip
    assert run.xfailed == said["xfailed"] == 1
    assert run.xpassed == said["xpassed"] == 1  # nor is the xpassed one a pass
    assert run.subtests_passed == said["subtests passed"] == 5
    text = describe_counts(run_counts(run))
    assert text == "1 failed, 4 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error; subtests: 5 passed"


def test_junit_alone_keeps_xfailed_apart_from_skipped(tmp_path):
    xml = """<testsuites><testsuite tests="3" failures="0" errors="0" skipped="2">
      <testcase classname="tests.test_a" name="test_ok"/>
      <testcase classname="tests.test_a" name="test_skip"><skipped type="pytest.skip" message="no"/></testcase>
      <testcase classname="tests.test_a" name="test_xf"><skipped type="pytest.xfail" message="bug"/></testcase>
    </testsuite></testsuites>"""
    write_files(tmp_path, {"tests/test_a.py": "def test_ok():\n    pass\n"})
    report = read_junit(xml, tmp_path)
    assert report is not None
    assert (report.passed, report.skipped, report.xfailed) == (1, 1, 1)
    assert report.passed_tests == {"tests/test_a.py": ("test_ok",)}


def test_the_plugins_file_is_read_as_bounded_counts_only():
    assert parse_counts(b'{"passed": 3, "subtests passed": 2, "warnings": 9}') == RunnerCounts(
        passed=3, subtests_passed=2
    )
    for hostile in (b"[]", b"not json", b'{"passed": -1}', b'{"passed": "3"}', b'{"passed": 1e99}', None):
        assert parse_counts(hostile) is None
    report = with_runner_counts(None, RunnerCounts(passed=2, xfailed=1))
    assert report is not None and (report.passed, report.xfailed, report.tests) == (2, 1, 3)


def test_unittest_reports_expected_failures_and_unexpected_successes_apart(tmp_path):
    write_files(
        tmp_path,
        {
            "tests/__init__.py": "",
            "tests/test_u.py": """
                import unittest


                class T(unittest.TestCase):
                    def test_ok(self):
                        pass

                    @unittest.expectedFailure
                    def test_xf(self):
                        self.fail()

                    @unittest.expectedFailure
                    def test_xp(self):
                        pass

                    @unittest.skip("no")
                    def test_skip(self):
                        pass
            """,
        },
    )
    config = EvolveConfig.model_validate({"gates": {"tests": {"command": "python -m unittest discover -s tests"}}})
    run = run_test_suite(tmp_path, config, with_coverage=False)
    assert (run.passed, run.skipped, run.xfailed, run.xpassed) == (1, 1, 1, 1), run.output_tail
    assert "expected failures=1" in run.output_tail and "unexpected successes=1" in run.output_tail
