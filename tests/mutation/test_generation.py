"""Choosing a change's mutants: covered lines only, one per operator, caps per line and per change."""

from __future__ import annotations

from evolve.mutation.diff_lines import touched_base_lines
from evolve.mutation.generation import MutationLimits, choose_mutants
from evolve.suites.test_contexts import TestContexts, contexts_from_coverage

SOURCE = "def f(x, y):\n    if x < 1 and y > 2:\n        return x\n    return y\n"


def contexts(lines: dict[int, tuple[int, ...]]) -> TestContexts:
    return TestContexts(("t.py::a", "t.py::b"), (0.1, 0.2), {"m.py": lines})


def test_only_lines_some_test_runs_get_mutants_with_their_tests():
    chosen = choose_mutants({"m.py": SOURCE}, {"m.py": [2, 3, 4]}, contexts({2: (0, 1), 3: (1,)}))
    assert {m.mutation.line for m in chosen.mutants} == {2, 3}
    assert chosen.uncovered_lines == 1  # line 4 has a return to mutate but no test
    line3 = next(m for m in chosen.mutants if m.mutation.line == 3)
    assert line3.tests == ("t.py::b",) and line3.location == "m.py:3"
    assert [m.id for m in chosen.mutants] == list(range(len(chosen.mutants)))


def test_caps_per_line_and_per_change():
    ran = contexts({2: (0,), 3: (0,), 4: (0,)})
    chosen = choose_mutants({"m.py": SOURCE}, {"m.py": [2, 3, 4]}, ran, MutationLimits(per_line=2))
    on_line_2 = [m.mutation.operator for m in chosen.mutants if m.mutation.line == 2]
    assert on_line_2 == ["comparison", "boolean"] and chosen.capped > 0
    few = choose_mutants({"m.py": SOURCE}, {"m.py": [2, 3, 4]}, ran, MutationLimits(per_line=2, limit=3))
    assert sorted(m.mutation.line for m in few.mutants) == [2, 3, 4]  # every line's first before any second
    only = choose_mutants({"m.py": SOURCE}, {"m.py": [2]}, ran, MutationLimits(operators=("constant",)))
    assert {m.mutation.operator for m in only.mutants} == {"constant"}


def test_contexts_from_coverage_json_and_back():
    files = {
        "/work/repo/m.py": {"contexts": {"2": ["", "t.py::a|run", "t.py::b"], "3": [""], "x": ["t.py::a"]}},
        "/work/repo/other.py": {"contexts": {"1": ["t.py::b"]}},
    }
    read = contexts_from_coverage(files, {"/work/repo/m.py": "m.py"}, {"t.py::a": 0.5})
    assert read.tests == ("t.py::a", "t.py::b") and read.durations == (0.5, 0.0)
    assert read.tests_of("m.py", 2) == ("t.py::a", "t.py::b") and read.tests_of("m.py", 3) == ()
    assert TestContexts.from_dict(read.to_dict()) == read
    assert TestContexts.from_dict(None) is None and TestContexts.from_dict({"tests": "x"}) is None
    assert read.duration_of(["t.py::a", "t.py::b", "gone"]) == 0.5


def test_touched_base_lines():
    before = "a\nb\nc\nd\n"
    assert touched_base_lines(before, "a\nB\nc\nd\n") == (2,)
    assert touched_base_lines(before, "a\nc\nd\n") == (2,)
    assert touched_base_lines(before, "a\nb\nnew\nc\nd\n") == ()
