"""Per-test coverage contexts for a real unittest project (jsonpointer 1.10, its own `tests.py`): the suite runs as
`python -m unittest` would, every test is named as pytest names it, and its mutants run against the tests that run
their lines."""

from __future__ import annotations

import shutil
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.environments.test_commands import detect_test_command
from evolve.mutation.generation import choose_mutants
from evolve.mutation.runner import RunSettings, run_mutants
from evolve.suites.runs import run_test_suite
from evolve.suites.test_contexts import TestContexts

PROJECT = Path(__file__).parents[1] / "fixtures" / "projects" / "jsonpointer-1.10"
TESTS = 18  # as `python -m unittest discover` counts them (tests.py also runs a suite of its own on import)


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "jsonpointer"
    shutil.copytree(PROJECT, root)
    return root


def line_of(root: Path, text: str) -> int:
    lines = (root / "jsonpointer.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_a_unittest_suite_records_which_tests_run_each_line(tmp_path):
    root = copy_project(tmp_path)
    command = detect_test_command(root, None)
    assert command is not None and command.runner == "unittest"
    plain = run_test_suite(root, EvolveConfig(), with_coverage=True)
    run = run_test_suite(root, EvolveConfig(), with_coverage=True, with_contexts=True)
    # The same suite, counted the same way: the runner changes nothing a person or the gates read.
    assert run.ok and (run.passed, run.failed, run.errors) == (plain.passed, plain.failed, plain.errors) == (
        TESTS,
        0,
        0,
    )
    assert run.covered_lines == plain.covered_lines
    assert plain.test_contexts is None
    contexts = TestContexts.from_dict(run.test_contexts)
    assert contexts is not None
    assert "tests.py::SpecificationTests::test_example" in contexts.tests
    assert "tests.py::AltTypesTests::test_alttypes" in contexts.tests
    # `contains` runs under the comparison tests only; the class body ran at import, under no test.
    contains = contexts.tests_of("jsonpointer.py", line_of(root, "return self.parts[:len(ptr.parts)] == ptr.parts"))
    assert set(contains) == {
        "tests.py::ComparisonTests::test_contains",
        "tests.py::ComparisonTests::test_contains_magic",
    }
    assert contexts.tests_of("jsonpointer.py", line_of(root, "class JsonPointer(object):")) == ()
    assert len(contexts.durations) == len(contexts.tests) and all(d >= 0 for d in contexts.durations)


def test_mutants_of_a_unittest_project_run_against_their_covering_tests(tmp_path):
    root = copy_project(tmp_path)
    run = run_test_suite(root, EvolveConfig(), with_coverage=True, with_contexts=True)
    contexts = TestContexts.from_dict(run.test_contexts)
    assert contexts is not None
    source = (root / "jsonpointer.py").read_text()
    first, last = line_of(root, "def contains(self, ptr):"), line_of(root, "return self.parts == other.parts")
    chosen = choose_mutants({"jsonpointer.py": source}, {"jsonpointer.py": range(first, last + 1)}, contexts)
    assert chosen.mutants and all(mutant.tests for mutant in chosen.mutants)
    mutation = run_mutants(root, chosen.mutants, EvolveConfig(), settings=RunSettings(budget_seconds=300))
    assert mutation.clean_ok, mutation.problem
    verdicts = {(r.mutant.mutation.line, r.mutant.mutation.operator): r.verdict for r in mutation.results}
    compared = line_of(root, "return self.parts[:len(ptr.parts)] == ptr.parts")
    assert verdicts[(compared, "comparison")] == "killed"
    assert mutation.count("killed") > 0 and mutation.count("error") == 0 and mutation.count("not-run") == 0
