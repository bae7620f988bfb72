"""Mutation operators and the aridity filter, on real source text: every mutant parses and keeps every line."""

from __future__ import annotations

import ast
import textwrap

from evolve.mutation.operators import apply_mutation, mutations_of

SOURCE = textwrap.dedent(
    '''
    """Module docstring: never mutated."""
    import logging

    log = logging.getLogger(__name__)
    __all__ = ["clamp"]


    def clamp(x: int, low: int = 0, high: int = 10) -> int:
        """Docstring 1 < 2."""
        if x < low:
            log.debug("low %s", 3)
            return low
        if x > high and not x == 99:
            raise ValueError("too high: " + str(5))
        total = x + 1
        helper(total)
        print("noise", 7)
        return x if x >= 0 else -1


    class Box:
        limit = 3

        @staticmethod
        def size(
            y,
        ):
            while y > Box.limit:
                y -= 1
            return (y in
                    (1, 2))
    '''
).lstrip()


def by_line(source: str = SOURCE) -> dict[int, list[tuple[str, str, str]]]:
    found: dict[int, list[tuple[str, str, str]]] = {}
    for m in mutations_of(source):
        found.setdefault(m.line, []).append((m.operator, m.before, m.after))
    return found


def test_operators_cover_the_issue_set():
    lines = by_line()
    assert lines[10] == [("comparison", "<", "<="), ("condition", "x < low", "not (x < low)")]
    assert lines[12] == [("return", "return low", "return None")]
    assert ("boolean", "and", "or") in lines[13] and ("comparison", "==", "!=") in lines[13]
    assert lines[15] == [("constant", "1", "2")]
    assert lines[16] == [("call", "helper(total)", "(removed)")]
    assert ("comparison", ">", ">=") in lines[28] and lines[29] == [("constant", "1", "2")]
    assert ("comparison", "in", "not in") in lines[30] and ("constant", "2", "3") in lines[31]


def test_arid_code_gets_no_mutant():
    lines = by_line()
    # docstrings, logging, __all__, annotations and default values, a raise, print
    for arid in (1, 4, 5, 8, 9, 11, 14, 17):
        assert arid not in lines, (arid, lines.get(arid))


def test_every_mutant_parses_and_keeps_line_numbers_and_function():
    tree = ast.parse(SOURCE)
    functions = {(n.name, n.lineno) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert mutations_of(SOURCE)
    for m in mutations_of(SOURCE):
        mutated = apply_mutation(SOURCE, m.start, m.end, m.replacement)
        assert mutated != SOURCE
        assert mutated.count("\n") == SOURCE.count("\n")
        mutated_tree = ast.parse(mutated)
        assert {(n.name, n.lineno) for n in ast.walk(mutated_tree) if isinstance(n, ast.FunctionDef)} == functions
    size = next(m for m in mutations_of(SOURCE) if m.line == 28)
    assert size.function == ("size", 24)  # the decorator's line, as the code object records it
    assert next(m for m in mutations_of(SOURCE) if m.line == 22).function is None  # class level
    multi_line = next(m for m in mutations_of(SOURCE) if m.line == 30 and m.operator == "return")
    assert multi_line.replacement == "(None\n)"


def test_only_the_asked_lines_and_unicode_columns():
    source = 'def f(s):\n    return "é" if s < 2 else "ü"\n'
    found = mutations_of(source, {2})
    comparison = next(m for m in found if m.operator == "comparison")
    assert apply_mutation(source, comparison.start, comparison.end, comparison.replacement).splitlines()[1] == (
        '    return "é" if (s <= 2) else "ü"'
    )
    assert mutations_of(source, {1}) == [] and mutations_of("def broken(:\n") == []
