"""Mutants run for real: per-test contexts recorded on a real suite, mutants in the sandbox, verdicts classified."""

from __future__ import annotations

import textwrap
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.mutation.generation import choose_mutants
from evolve.mutation.results import survivor_sentence
from evolve.mutation.runner import RunSettings, module_name, run_mutants
from evolve.suites.runs import run_test_suite
from evolve.suites.test_contexts import TestContexts
from tests.gates.builders import write_files

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/calc.py": """
        import functools

        LIMIT = 10


        def clamp(x, low=0, high=LIMIT):
            if x < low:
                return low
            if x > high:
                return high
            return x


        @functools.lru_cache(maxsize=None)
        def is_big(x):
            return x >= 100


        class Box:
            def size(self, n):
                total = 0
                while n > 0:
                    total += n
                    n -= 1
                return total


        def never_tested(x):
            return x + 1
    """,
    "tests/test_calc.py": """
        from pkg.calc import LIMIT, Box, clamp, is_big


        def test_clamp():
            assert clamp(-5) == 0
            assert clamp(50) == 10


        def test_big():
            assert is_big(1000)


        def test_box():
            assert Box().size(3) == 6


        def test_limit():
            assert LIMIT == 10
    """,
}


def contexts_of(root: Path, tests: int = 4) -> TestContexts:
    run = run_test_suite(root, EvolveConfig(), with_coverage=True, with_contexts=True)
    assert run.ok and run.passed == tests, run.output_tail
    contexts = TestContexts.from_dict(run.test_contexts)
    assert contexts is not None
    return contexts


def test_contexts_name_the_tests_that_run_each_line(tmp_path):
    write_files(tmp_path, PACKAGE)
    contexts = contexts_of(tmp_path)
    assert contexts.tests_of("pkg/calc.py", 7) == ("tests/test_calc.py::test_clamp",)
    assert contexts.tests_of("pkg/calc.py", 16) == ("tests/test_calc.py::test_big",)
    assert contexts.tests_of("pkg/calc.py", 29) == ()  # never_tested's body
    assert contexts.tests_of("pkg/calc.py", 3) == ()  # import time belongs to no test
    assert all(seconds >= 0 for seconds in contexts.durations) and len(contexts.durations) == len(contexts.tests)


def test_mutants_are_killed_or_survive_by_their_covering_tests(tmp_path):
    write_files(tmp_path, PACKAGE)
    contexts = contexts_of(tmp_path)
    source = (tmp_path / "pkg/calc.py").read_text()
    changed = {"pkg/calc.py": list(range(1, 31))}
    chosen = choose_mutants({"pkg/calc.py": source}, changed, contexts)
    run = run_mutants(tmp_path, chosen.mutants, EvolveConfig(), settings=RunSettings(budget_seconds=300))
    assert run.clean_ok, run.problem
    verdicts = {(r.mutant.mutation.line, r.mutant.mutation.operator): r.verdict for r in run.results}
    assert verdicts[(7, "comparison")] == "survived"  # clamp(0) is never asked
    assert verdicts[(7, "condition")] == "killed"
    assert verdicts[(10, "return")] == "killed" and (11, "return") not in verdicts  # no test reaches line 11
    assert verdicts[(16, "comparison")] == "survived" and verdicts[(16, "return")] == "killed"  # lru_cache'd
    assert verdicts[(22, "comparison")] == "survived"  # `n >= 0` adds 0 once more: an equivalent mutant
    assert verdicts[(22, "condition")] == "killed" and verdicts[(21, "constant")] == "killed"  # a method
    assert not any(r.mutant.mutation.line == 29 for r in run.results)  # no test runs it
    modes = {r.mode for r in run.results}
    assert modes == {"swap"}
    assert run.score is not None and 0 < run.score < 100
    survivor = next(m for m in run.survivors if m.mutation.line == 7)
    assert survivor_sentence(survivor) == "no test distinguishes `<` from `<=` at `pkg/calc.py:7`"


def test_module_level_mutants_run_in_a_fresh_interpreter_and_hangs_time_out(tmp_path):
    files = dict(PACKAGE)
    files["pkg/lazy.py"] = """
        FACTOR = 3


        def countdown(n):
            while n != 0:
                n -= 1
            return n
    """
    files["tests/test_lazy.py"] = """
        def test_lazy():
            from pkg import lazy  # imported inside the test: its module-level lines run in the test's context

            assert lazy.FACTOR * 2 == 6
            assert lazy.countdown(3) == 0
    """
    write_files(tmp_path, files)
    contexts = contexts_of(tmp_path, tests=5)
    source = (tmp_path / "pkg/lazy.py").read_text()
    chosen = choose_mutants({"pkg/lazy.py": source}, {"pkg/lazy.py": [1, 5, 6]}, contexts)
    assert {m.mutation.line for m in chosen.mutants} == {1, 5, 6}
    run = run_mutants(tmp_path, chosen.mutants, EvolveConfig(), settings=RunSettings(budget_seconds=300))
    results = {(r.mutant.mutation.line, r.mutant.mutation.operator): r for r in run.results}
    assert results[(1, "constant")].verdict == "killed" and results[(1, "constant")].mode == "fresh"
    assert results[(5, "comparison")].verdict == "killed"  # `n == 0`: the loop never runs
    assert results[(6, "constant")].verdict == "timeout"  # `n -= 2` from 3 never reaches 0
    assert run.score == 100.0


def test_covering_tests_that_fail_alone_give_no_verdict(tmp_path):
    files = dict(PACKAGE)
    files["tests/test_calc.py"] = (
        textwrap.dedent(files["tests/test_calc.py"])
        + "\n\ndef test_flaky():\n    import os\n\n    assert os.environ.get('NOPE')\n"
    )
    write_files(tmp_path, files)
    source = (tmp_path / "pkg/calc.py").read_text()
    tests = ("tests/test_calc.py::test_flaky", "tests/test_calc.py::test_clamp")
    contexts = TestContexts(tests, (0, 0), {"pkg/calc.py": {7: (0, 1)}})
    chosen = choose_mutants({"pkg/calc.py": source}, {"pkg/calc.py": [7]}, contexts)
    run = run_mutants(tmp_path, chosen.mutants, EvolveConfig(), settings=RunSettings(budget_seconds=60))
    assert not run.clean_ok and "do not pass" in run.problem
    assert {r.verdict for r in run.results} == {"not-run"} and run.score is None


def test_module_names():
    root = Path("/nonexistent")
    assert module_name("pkg/calc.py", root) == "pkg.calc"
    assert module_name("pkg/__init__.py", root) == "pkg"
    assert module_name("scripts/run-me.py", root) is None
