"""Changed lines the tests execute: what needs executing is decided once, and every report states one figure.

Pure: source texts and line sets in (the issue's contradictions are the cases).
"""

from __future__ import annotations

from evolve.changed_lines import ChangedLines, executed_sentence, share_text
from evolve.proof.executed_lines import HeadRun, changed_lines, hunk_executions, line_map

MODULE = '''from __future__ import annotations

import os
from typing import List


def pick(x: List[int]) -> int:
    """Pick one."""
    if x:
        return 1
    elif not x:
        return 2
    return 3


class Box:
    size: int

    def grow(self, by=1):
        self.size += by
'''
# What base's tests ran: the imports and definitions (import time), `pick`'s first branch.
RAN = {1, 3, 4, 7, 9, 10, 16, 17, 19}


def _figure(after, executed=RAN, **kwargs):
    return changed_lines("pkg/mod.py", MODULE, after, executed, **kwargs)


def test_what_needs_executing_is_decided_once():
    lines = line_map(MODULE)
    assert lines is not None
    # Imports, the docstring, a bare annotation and blank lines do not need executing.
    assert not {1, 3, 4, 8, 17} & set(lines.anchors)
    assert {3, 4} <= set(lines.imports)
    # A def line runs when its body does: its anchor is the body's first statement (past the docstring).
    assert lines.anchors[7] == 9 and lines.anchors[19] == 20
    assert lines.anchors[16] == 16  # a class line runs when the module is imported


def test_an_annotation_only_change_under_future_annotations_needs_no_executing():
    after = MODULE.replace("x: List[int]) -> int", "x: list[int]) -> int")
    (hunk,) = hunk_executions(MODULE, after, RAN)
    assert (hunk.execution, hunk.executable) == ("no-code", 0)
    figure = _figure(after)
    assert figure.percent is None
    assert "none needs executing" in executed_sentence(figure)
    assert "unverified" not in executed_sentence(figure)


def test_a_docstring_or_a_bare_annotation_needs_no_executing():
    for after in (MODULE.replace("Pick one.", "Pick one of them."), MODULE.replace("size: int", "size: float")):
        assert _figure(after) == ChangedLines(0, 0, True)


def test_an_import_change_needs_no_executing_yet_records_whether_it_ran():
    after = MODULE.replace("import os\n", "")
    (hunk,) = hunk_executions(MODULE, after, RAN)
    assert (hunk.executable, hunk.execution) == (0, "executed")  # the module was imported
    (unrun,) = hunk_executions(MODULE, after, set())
    assert unrun.execution == "not-executed"  # an import nothing runs stays unproven for the proof
    assert _figure(after).executable == 0


def test_elif_to_if_counts_the_removed_and_the_added_line():
    after = MODULE.replace("    elif not x:", "    if not x:")
    assert _figure(after) == ChangedLines(0, 2, True, (("pkg/mod.py", 11, 11),))
    assert _figure(after, RAN | {11}) == ChangedLines(2, 2, True)


def test_a_signature_change_runs_when_the_body_runs():
    after = MODULE.replace("def grow(self, by=1):", "def grow(self, by=2):")
    assert _figure(after).executed == 0  # grow's body never ran
    assert _figure(after, RAN | {20}) == ChangedLines(2, 2, True)


def test_a_line_inside_a_passing_test_counts_as_executed():
    tests = "def helper():\n    return 1\n\n\ndef test_it():\n    assert helper() == 1\n"
    after = tests.replace("assert helper() == 1", "assert helper() == 1, 'one'")
    # Test files are not measured by coverage (None); the test passed on base.
    assert changed_lines("tests/test_a.py", tests, after, None, ("test_it",)) == ChangedLines(2, 2, True)
    unmeasured = changed_lines("tests/test_a.py", tests, after, None, ())
    assert (unmeasured.executable, unmeasured.unmeasured) == (0, 2)
    assert "not measured" in executed_sentence(unmeasured)


def test_added_lines_are_judged_on_heads_run_when_it_measured_them():
    after = MODULE + "\n\ndef extra():\n    return 4\n"
    # Without head's run, a new function has nothing on base to tell whether it runs.
    assert _figure(after).unmeasured == 2
    head = HeadRun(executed=frozenset({23}))  # `def extra` ran at import; its body did not
    assert _figure(after, head=head) == ChangedLines(0, 2, True, (("pkg/mod.py", 21, 21),))
    assert _figure(after, head=HeadRun(executed=frozenset({23, 24}))) == ChangedLines(2, 2, True)


def test_lines_added_inside_an_executed_function_follow_the_code_around_them():
    after = MODULE.replace("    return 3\n", "    y = 3\n    return y\n")
    assert _figure(after).executed == 0  # `return 3` never ran
    assert _figure(after, RAN | {13}) == ChangedLines(3, 3, True)


def test_unmeasured_base_says_so():
    figure = _figure(MODULE.replace("return 3", "return 4"), measured=False, executed=None)
    assert executed_sentence(figure).startswith("Changed lines the tests execute: not measured")


def test_the_figure_is_never_rounded_to_all_or_nothing():
    assert share_text(ChangedLines(199, 200, True)) == "99.5%"
    assert share_text(ChangedLines(1999, 2000, True)) == "99.9%"
    assert share_text(ChangedLines(1, 2000, True)) == "0.1%"
    assert share_text(ChangedLines(18, 19, True)) == "94.7%"
    assert executed_sentence(ChangedLines(1, 1, True)) == (
        "Changed lines the tests execute: **100%** (1 of 1 line that needs executing)."
    )
