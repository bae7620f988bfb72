"""Research's mutation sample: ranking by complexity, recent change and public API; mutants shared by rank."""

from __future__ import annotations

import textwrap

from evolve.findings import FileMetrics, FunctionMetrics
from evolve.mutation.generation import MutationLimits
from evolve.mutation.sampling import (
    RankedFunction,
    file_change_counts,
    is_public_api,
    module_exports,
    rank_functions,
    sample_mutants,
)
from evolve.suites.test_contexts import TestContexts


def metrics(path: str, *functions: tuple[str, int, int, int, bool]) -> FileMetrics:
    return FileMetrics(
        path=path,
        loc=10,
        sloc=10,
        comments=0,
        maintainability=80.0,
        functions=tuple(
            FunctionMetrics(name, line, end, cc, False, public) for name, line, end, cc, public in functions
        ),
        docstrings_covered=0,
        docstrings_total=0,
    )


def test_exports_are_read_from_a_literal_dunder_all_only():
    assert module_exports("__all__ = ['a', 'b']\n") == frozenset({"a", "b"})
    assert module_exports("__all__: list[str] = ('a',)\n") == frozenset({"a"})
    assert module_exports("__all__ = names()\n") is None
    assert module_exports("x = 1\n") is None
    assert module_exports("def (:\n") is None


def test_public_api_needs_a_public_name_module_and_export():
    assert is_public_api("pkg/api.py", "parse", True, None)
    assert not is_public_api("pkg/api.py", "_parse", False, None)
    assert not is_public_api("pkg/_impl.py", "parse", True, None)
    assert not is_public_api("pkg/_vendor/x.py", "parse", True, None)
    assert is_public_api("pkg/__init__.py", "parse", True, frozenset({"parse"}))
    assert not is_public_api("pkg/api.py", "helper", True, frozenset({"parse"}))
    assert is_public_api("pkg/api.py", "Parser.run", True, frozenset({"Parser"}))


def test_git_log_names_count_commits_per_path():
    log = "\npkg/a.py\npkg/b.py\n\npkg/a.py\n\n"
    assert file_change_counts(log) == {"pkg/a.py": 2, "pkg/b.py": 1}


def test_ranking_weighs_complexity_recent_change_and_public_api():
    files = [
        metrics("pkg/old.py", ("complex_private", 1, 9, 6, False), ("simple_public", 11, 12, 1, True)),
        metrics("pkg/hot.py", ("changed", 1, 3, 1, False)),
    ]
    ranked = rank_functions(files, {"pkg/old.py": "", "pkg/hot.py": ""}, {"pkg/hot.py": 9})
    # complex_private: 6; changed: 1 + 2 x min(9, 5) = 11; simple_public: 1 + 3 = 4
    assert [f.qualname for f in ranked] == ["changed", "complex_private", "simple_public"]
    assert ranked[0].weight == 11.0 and ranked[2].public


SOURCE = textwrap.dedent(
    """\
    def first(x):
        if x > 1:
            return x + 1
        return 0


    def second(y):
        return y == 2


    def untested(z):
        return z < 3
    """
)


def test_the_sample_takes_covered_functions_in_rank_order_with_a_share_each():
    contexts = TestContexts(
        tests=("t.py::test_a", "t.py::test_b"),
        durations=(0.1, 0.1),
        lines={"m.py": {2: (0,), 3: (0,), 4: (0,), 8: (1,)}},
    )
    ranked = (
        RankedFunction("m.py", "untested", 11, 12, 9, 0, True),  # heaviest, but no test runs it
        RankedFunction("m.py", "second", 7, 8, 5, 0, True),
        RankedFunction("m.py", "first", 1, 4, 2, 0, True),
    )
    sample = sample_mutants(ranked, {"m.py": SOURCE}, contexts, functions=5, limits=MutationLimits(1, 4))
    mutants = sample.candidates.mutants
    assert [f.qualname for f in sample.functions] == ["second", "first"]
    assert [m.id for m in mutants] == list(range(len(mutants)))
    assert {sample.function_of[m.id] for m in mutants} == {"second", "first"}
    assert all(m.mutation.line != 12 for m in mutants)
    assert len(mutants) == 4  # the limit: `second` has one line, `first` takes the rest of its share
    assert [m.mutation.line for m in mutants if sample.function_of[m.id] == "second"] == [8]
    assert sorted(m.mutation.line for m in mutants if sample.function_of[m.id] == "first") == [2, 3, 4]
    assert all(m.tests == ("t.py::test_a",) for m in mutants if sample.function_of[m.id] == "first")


def test_a_sample_of_one_function_stops_at_the_ranked_count():
    contexts = TestContexts(tests=("t.py::t",), durations=(0.0,), lines={"m.py": {2: (0,), 3: (0,), 8: (0,)}})
    ranked = rank_functions(
        [metrics("m.py", ("first", 1, 4, 2, True), ("second", 7, 8, 1, True))], {"m.py": SOURCE}, {}
    )
    sample = sample_mutants(ranked, {"m.py": SOURCE}, contexts, functions=1, limits=MutationLimits(1, 40))
    assert [f.qualname for f in sample.functions] == ["first"]
    assert {m.mutation.line for m in sample.candidates.mutants} <= {2, 3, 4}
