"""Hunks of an edit and whether base's test run executes them (pure: text and line sets in)."""

import ast

from evolve.proof.hunks import apply_hunks, function_headers, hunk_execution, split_hunks, statement_spans

BEFORE = "import os\nimport sys\n\n\ndef f(x):\n    if x:\n        return 1\n    else:\n        return 2\n"
AFTER = "import sys\n\n\ndef f(x):\n    if x:\n        return 1\n    return 2\n"


def test_split_hunks_gives_base_and_head_ranges_and_apply_hunks_rebuilds_any_subset():
    hunks = split_hunks(BEFORE, AFTER)
    assert [(h.base_start, h.base_end) for h in hunks] == [(1, 1), (8, 9)]
    assert apply_hunks(BEFORE, hunks) == AFTER
    assert apply_hunks(BEFORE, []) == BEFORE
    only_else = apply_hunks(BEFORE, [hunks[1]])
    assert only_else.startswith("import os\n") and "else" not in only_else


def _execution(before, after, covered, executable):
    spans = statement_spans(ast.parse(before))
    lines = len(before.splitlines())
    return [hunk_execution(h, spans, lines, covered, executable) for h in split_hunks(before, after)]


def test_executed_lines_mark_their_hunk_executed_and_missing_ones_not():
    executable = [1, 2, 5, 6, 7, 9]
    assert _execution(BEFORE, AFTER, [1, 2, 5, 6, 7], executable) == ["executed", "not-executed"]
    assert _execution(BEFORE, AFTER, [1, 2, 5, 6, 9], executable) == ["executed", "executed"]


def test_unmeasured_file_is_not_measured_rather_than_guessed():
    assert _execution(BEFORE, AFTER, None, None) == ["not-measured", "not-measured"]


def test_a_pure_addition_is_judged_by_the_statement_it_goes_into():
    before = "def f(x):\n    y = x\n    return y\n"
    after = "def f(x):\n    y = x\n    log(y)\n    return y\n"
    (hunk,) = split_hunks(before, after)
    assert hunk.base_end < hunk.base_start  # nothing replaced
    assert _execution(before, after, [1], [1, 2, 3]) == ["executed"]  # the def line ran; the function is the statement
    assert _execution(before, after, [], [1, 2, 3]) == ["not-executed"]


def test_lines_coverage_does_not_count_are_judged_by_the_enclosing_statement():
    before = "from m import (\n    a,\n    b,\n)\nprint(a)\n"
    after = "from m import (\n    a,\n)\nprint(a)\n"
    assert _execution(before, after, [1, 5], [1, 5]) == ["executed"]
    assert _execution(before, after, [], [1, 5]) == ["not-executed"]


def test_a_signature_change_counts_as_executed_only_when_the_function_is_called():
    before = "def f(items=[]):\n    items.append(1)\n    return items\n"
    after = "def f(items=None):\n    items.append(1)\n    return items\n"
    tree = ast.parse(before)
    (hunk,) = split_hunks(before, after)
    args = (statement_spans(tree), 3)
    headers = function_headers(tree)
    # The def line ran at import, the body never: the tests never called f.
    assert hunk_execution(hunk, *args, [1], [1, 2, 3], headers) == "not-executed"
    assert hunk_execution(hunk, *args, [1, 2, 3], [1, 2, 3], headers) == "executed"
