"""The tests gate: pure decisions on constructed runs, and real suites run in the sandbox."""

from __future__ import annotations

from evolve.config_loading.loading import parse_config
from evolve.configuration.model import EvolveConfig
from evolve.gate_api import GateContext
from evolve.gating.running import build_context
from evolve.suites.runs import TestRun, run_test_suite
from gates.tests_gate import TestsGate, failure_sections, judge_tests
from tests.gates.builders import make_run

FAILING = make_run(
    returncode=1,
    passed=1,
    failed=2,
    failing_tests=("tests/test_a.py::test_old", "tests/test_b.py::test_new"),
    failure_details="____ tests/test_a.py::test_old ____\ntests/test_a.py:3: AssertionError\n\n"
    "____ tests/test_b.py::test_new ____\npkg/b.py:7: in f\ntests/test_b.py:4: ValueError",
)


def test_passing_suite_passes():
    result = judge_tests(make_run(passed=5, skipped=1), None, ["pkg/a.py"])
    assert result.status == "passed"
    assert "5" in result.summary


def test_failures_without_base_fail_and_blame_changed_files():
    result = judge_tests(FAILING, None, ["pkg/b.py", "README.md"])
    assert result.status == "failed"
    assert result.blame == ("pkg/b.py",)


def test_failures_also_in_base_are_not_blamed_on_the_change():
    base = make_run(returncode=1, failing_tests=("tests/test_a.py::test_old",))
    result = judge_tests(FAILING, base, ["pkg/b.py", "tests/test_a.py"])
    assert result.status == "failed"
    assert "tests/test_b.py::test_new" in result.summary
    assert "test_old" not in result.details
    assert result.blame == ("pkg/b.py",)  # test_a.py changed, but only test_old points at it


def test_only_preexisting_failures_pass():
    base = make_run(returncode=1, failing_tests=FAILING.failing_tests)
    assert judge_tests(FAILING, base, ["pkg/b.py"]).status == "passed"


def test_timeout_is_errored_and_no_tests_is_skipped():
    assert judge_tests(make_run(timed_out=True, returncode=-9), None, []).status == "errored"
    assert judge_tests(make_run(no_tests=True, returncode=5, passed=0), None, []).status == "skipped"


def test_blame_is_empty_when_it_cannot_tell():
    run = make_run(returncode=4, failing_tests=("<test run exited with code 4>",), failure_details="usage error")
    result = judge_tests(run, make_run(), ["pkg/a.py"])
    assert result.status == "failed" and result.blame == ()


# webob 1.7.4 on Python 3.11: base's suite cannot start (`collections.MutableMapping` in webob/headers.py); once the
# change fixes that, a test module's own `Thread.isAlive` (removed in 3.9) fails: it was there on base, hidden.
BASE_CANNOT_START = make_run(
    returncode=2,
    passed=0,
    errors=21,
    failing_tests=("tests/test_request.py",),
    output_tail="E   ImportError: cannot import name 'MutableMapping' from 'collections'\n!!! Interrupted: 21 errors",
)
REVEALED = make_run(
    returncode=1,
    passed=1106,
    failed=2,
    failing_tests=("tests/test_in_wsgiref.py::test_interrupted_request", "tests/test_b.py::test_new"),
    failure_details="____ tests/test_in_wsgiref.py::test_interrupted_request ____\n"
    "tests/test_in_wsgiref.py:154: in test_interrupted_request\n    if worker.isAlive():\n"
    "E   AttributeError: 'Thread' object has no attribute 'isAlive'\n\n"
    "____ tests/test_b.py::test_new ____\npkg/b.py:7: in f\ntests/test_b.py:4: ValueError",
)


def test_a_removed_name_revealed_once_base_starts_is_not_the_changes(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_in_wsgiref.py").write_text("def test_interrupted_request():\n    pass\n")
    result = judge_tests(REVEALED, BASE_CANNOT_START, ["webob/headers.py", "pkg/b.py"], str(tmp_path))
    assert result.status == "failed" and "test_interrupted_request" not in result.summary
    assert "tests/test_b.py::test_new" in result.summary
    only_revealed = make_run(
        returncode=1,
        passed=1107,
        failed=1,
        failing_tests=REVEALED.failing_tests[:1],
        failure_details=REVEALED.failure_details,
    )
    passed = judge_tests(only_revealed, BASE_CANNOT_START, ["webob/headers.py"], str(tmp_path))
    assert passed.status == "passed" and "Thread.isAlive was removed in Python 3.9" in passed.summary
    # The change touched the file that uses the removed name: blamed, as any new failure.
    touched = judge_tests(only_revealed, BASE_CANNOT_START, ["tests/test_in_wsgiref.py"], str(tmp_path))
    assert touched.status == "failed"
    # Base's suite started and this test passed there: a new failure, whatever it says.
    started = make_run(returncode=0, passed=1108)
    assert judge_tests(only_revealed, started, ["webob/headers.py"], str(tmp_path)).status == "failed"
    # Base's suite started, but this test's module failed to import there (pytest went on past the collection
    # error): the test never ran on base either.
    partly = make_run(returncode=1, passed=11, errors=21, failing_tests=("tests/test_in_wsgiref.py",))
    assert judge_tests(only_revealed, partly, ["webob/headers.py"], str(tmp_path)).status == "passed"


def test_failure_sections_split_by_test():
    assert set(failure_sections(FAILING)) == set(FAILING.failing_tests)


def test_missing_runner_is_errored(tmp_path):
    context = GateContext(tmp_path, tmp_path, (), config=None)  # type: ignore[arg-type]
    assert TestsGate().evaluate(context).status == "errored"


LIB = {"pkg/__init__.py": "", "pkg/calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"}
TESTS = {
    "tests/test_calc.py": "from pkg.calc import add, sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_sub():\n    assert sub(3, 1) == 2\n",
}


def test_real_passing_suite(make_trees):
    trees = make_trees({**LIB, **TESTS}, {"pkg/calc.py": LIB["pkg/calc.py"] + "\n\ndef mul(a, b):\n    return a * b\n"})
    result = TestsGate().evaluate(build_context(trees.base, trees.head, trees.changed_files, _config()))
    assert result.status == "passed", result.details
    assert result.metrics[0].head == 2


def test_real_failing_suite_blames_the_changed_source(make_trees):
    trees = make_trees({**LIB, **TESTS}, {"pkg/calc.py": LIB["pkg/calc.py"].replace("a + b", "a + b + undefined")})
    result = TestsGate().evaluate(build_context(trees.base, trees.head, trees.changed_files, _config()))
    assert result.status == "failed"
    assert "tests/test_calc.py::test_add" in result.summary
    assert result.blame == ("pkg/calc.py",)  # the traceback passes through the changed file
    assert "NameError" in result.details


def test_real_wrong_value_cannot_be_blamed_on_a_file(make_trees):
    trees = make_trees({**LIB, **TESTS}, {"pkg/calc.py": LIB["pkg/calc.py"].replace("a + b", "a + b + 1")})
    result = TestsGate().evaluate(build_context(trees.base, trees.head, trees.changed_files, _config()))
    assert result.status == "failed"
    assert result.blame == ()  # only the unchanged test file is in the traceback
    assert "assert 4 == 3" in result.details


def test_real_suite_with_preexisting_failure_fails_only_on_new_ones(make_trees):
    broken = {"tests/test_old.py": "def test_always_broken():\n    assert False, 'known bug'\n"}
    trees = make_trees(
        {**LIB, **TESTS, **broken},
        {"pkg/calc.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return b - a\n"},
    )
    context = build_context(trees.base, trees.head, trees.changed_files, _config())
    result = TestsGate().evaluate(context)
    assert result.status == "failed"
    assert "test_sub" in result.summary and "test_always_broken" not in result.summary
    assert context.run_tests("base").failing_tests == ("tests/test_old.py::test_always_broken",)


def test_real_suite_keeping_a_preexisting_failure_passes(make_trees):
    broken = {"tests/test_old.py": "def test_always_broken():\n    assert False, 'known bug'\n"}
    trees = make_trees(
        {**LIB, **TESTS, **broken}, {"pkg/calc.py": LIB["pkg/calc.py"] + "\n\ndef neg(a):\n    return -a\n"}
    )
    result = TestsGate().evaluate(build_context(trees.base, trees.head, trees.changed_files, _config()))
    assert result.status == "passed"
    assert "fail on base too" in result.summary


def test_real_timeout_is_errored(make_trees):
    trees = make_trees(
        {"tests/test_slow.py": "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"}, {"README.md": "touch\n"}
    )
    context = trees.context(
        run_tests=lambda which: run_test_suite(trees.head, _config(), with_coverage=False, timeout=2)
    )
    result = TestsGate().evaluate(context)
    assert result.status == "errored"
    assert "timed out" in result.summary


def _config() -> EvolveConfig:
    """Only the tests gate enabled, so runs are not measured with coverage (faster)."""
    return parse_config({"gates": {"enabled": ["tests"]}})


def test_a_suite_that_cannot_run_on_either_side_is_errored_not_passed():
    broken = TestRun(
        command=("pytest",),
        returncode=2,
        timed_out=False,
        duration=1.0,
        passed=0,
        failing_tests=("<test run exited with code 2>",),
        failure_details="ImportError: no module named x",
    )
    result = judge_tests(broken, broken, ["pkg/a.py"])
    assert result.status == "errored" and "cannot be proven" in result.summary
