"""Reading JUnit XML and unittest output into failures, and finding the files tracebacks point at."""

from __future__ import annotations

from evolve.suites.reports import blamed_files, frame_paths, read_junit, read_unittest_output
from tests.gates.builders import write_files

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="0.1">
<testcase classname="tests.test_mod" name="test_ok" time="0.001"/>
<testcase classname="tests.test_mod" name="test_skip" time="0.001"><skipped message="later"/></testcase>
<testcase classname="tests.test_mod.TestK" name="test_k[1]" time="0.001"><failure message="assert 2 == 3">def test_k(self):
&gt;       assert f(0) == 3
tests/test_mod.py:11:
_ _ _
pkg/mod.py:4: in f
    raise ValueError
E   ValueError
/usr/lib/python3/site-packages/x.py:1: in g
pkg/mod.py:4: ValueError</failure></testcase>
<testcase classname="" name="tests.test_broken" time="0.000"><error message="collection failure">tests/test_broken.py:1: in &lt;module&gt;
    import nope
E   ModuleNotFoundError: No module named 'nope'</error></testcase>
<testcase classname="tests.test_mod" name="test_ok2" time="0.001"/>
</testsuite></testsuites>"""


def make_repo(tmp_path):
    """Files the traceback names, so they resolve as repository paths."""
    write_files(tmp_path, {"pkg/mod.py": "x = 1\n", "tests/test_mod.py": "", "tests/test_broken.py": ""})
    return tmp_path


def test_read_junit_counts_and_ids(tmp_path):
    report = read_junit(JUNIT, make_repo(tmp_path))
    assert (report.tests, report.failed, report.errors, report.skipped, report.passed) == (5, 1, 1, 1, 2)
    assert [f.test_id for f in report.failures] == ["tests/test_mod.py::TestK::test_k[1]", "tests/test_broken.py"]
    assert [f.path for f in report.failures] == ["tests/test_mod.py", "tests/test_broken.py"]
    assert "ValueError" in report.failures[0].text


def test_blamed_files_are_repository_files_from_frames(tmp_path):
    root = make_repo(tmp_path)
    report = read_junit(JUNIT, root)
    assert blamed_files(report.failures, root) == ("pkg/mod.py", "tests/test_broken.py", "tests/test_mod.py")


def test_absolute_frames_inside_root_are_relativised(tmp_path):
    root = make_repo(tmp_path)
    text = f'  File "{root}/pkg/mod.py", line 1, in f\n  File "/usr/lib/python3.11/json/__init__.py", line 2\n'
    assert frame_paths(text, root) == ["pkg/mod.py"]


def test_unreadable_junit_is_none(tmp_path):
    assert read_junit("<testsuite", tmp_path) is None


UNITTEST = """F.s
======================================================================
FAIL: test_x (tests.test_u.T.test_x)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/repo/tests/test_u.py", line 5, in test_x
    self.assertEqual(1, 2)
AssertionError: 1 != 2

======================================================================
ERROR: test_y (tests.test_u.T)
----------------------------------------------------------------------
Traceback (most recent call last):
ZeroDivisionError: division by zero

----------------------------------------------------------------------
Ran 4 tests in 0.001s

FAILED (failures=1, errors=1, skipped=1)
"""


def test_read_unittest_output():
    report = read_unittest_output(UNITTEST)
    assert (report.tests, report.failed, report.errors, report.skipped, report.passed) == (4, 1, 1, 1, 1)
    assert [f.test_id for f in report.failures] == ["tests.test_u.T.test_x", "tests.test_u.T.test_y"]
    assert "AssertionError: 1 != 2" in report.failures[0].text


def test_unittest_output_without_summary_is_none():
    assert read_unittest_output("ImportError: boom") is None
