"""A fix for a removed standard-library name brings the other removal recipes into test modules."""

from __future__ import annotations

from pathlib import Path

from evolve.research.removed_names import removal_recipes, with_removal_family
from evolve.research.scan import scan_repository

# webob 1.7.4, cut down: the library's `collections.MutableMapping` stops every test module from importing on 3.10+;
# once fixed, a test module's `Thread.isAlive` (removed in 3.9) is the next failure.
FILES = {
    "webob/__init__.py": "",
    "webob/headers.py": "from collections import MutableMapping\n\n\nclass Headers(MutableMapping):\n    pass\n",
    "tests/test_in_wsgiref.py": "def serve(worker):\n    if worker.isAlive():\n        return 1\n",
}


def _scan(root: Path, broken: frozenset[tuple[str, str]]) -> set[tuple[str, str]]:
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    result = scan_repository(root, with_semgrep=False, use_cache=False, broken=broken)
    return {(f.rule, f.path) for f in result.findings if f.kind == "codemod"}


def test_a_red_removal_fix_keeps_the_other_removal_recipes_findings_in_tests(tmp_path: Path):
    red = _scan(tmp_path, frozenset({("collections-abc", "webob/headers.py")}))
    assert ("removed-stdlib-names", "tests/test_in_wsgiref.py") in red
    assert ("collections-abc", "webob/headers.py") in red


def test_without_a_red_fix_tests_stay_out_of_scope(tmp_path: Path):
    assert ("removed-stdlib-names", "tests/test_in_wsgiref.py") not in _scan(tmp_path, frozenset())


def test_the_family_is_the_recipes_of_the_removals_table():
    family = removal_recipes()
    assert {"collections-abc", "removed-stdlib-names", "unittest-aliases"} <= family
    assert with_removal_family(frozenset({"collections-abc"})) == family
    assert with_removal_family(frozenset({"bare-except"})) == frozenset({"bare-except"})


def test_a_test_whose_module_did_not_load_on_base_did_not_pass_there():
    from evolve.research.base_suites import turned_red

    before = {"tests/test_in_wsgiref.py", "tests/test_a.py::test_old"}
    after = {"tests/test_in_wsgiref.py::test_request_reading", "tests/test_a.py::test_new", "tests/test_a.py::test_old"}
    assert turned_red(before, after) == ["tests/test_a.py::test_new"]


def test_unittest_modules_that_failed_to_import_are_recognised():
    from evolve.research.base_suites import turned_red

    # dnspython 1.15.0 on 3.13: tests/test_namedict.py failed to import on base (collections.MutableMapping).
    before = {"unittest.loader._FailedTest.tests.test_namedict", "tests.test_bugs.BugsTestCase.test_a"}
    after = {"tests.test_namedict.NameTestCase.testDepth", "tests.test_other.T.test_b"}
    assert turned_red(before, after) == ["tests.test_other.T.test_b"]


def test_known_failures_count_for_tests_whose_module_did_not_load_on_base():
    from evolve.engine.attempts import with_known_failing
    from evolve.suites.runs import TestRun

    # tabulate 0.8.2 on 3.11: pytest goes on past test_output.py's import error; its tests fail on 3.8's base too.
    run = TestRun(("pytest",), 1, False, 1.0, failed=7, errors=5, failing_tests=("test/test_output.py", "test/t::a"))
    known = frozenset({"test/test_output.py::test_index", "test/test_api.py::test_x"})
    merged = with_known_failing(run, known)
    assert "test/test_output.py::test_index" in merged.failing_tests
    assert "test/test_api.py::test_x" not in merged.failing_tests  # its module loaded: it ran on this Python
