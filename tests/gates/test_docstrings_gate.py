"""The docstrings gate's decisions on constructed scans."""

from __future__ import annotations

from gates.docstrings_gate import DocstringsGate, DocstringsSettings, docstring_coverage, judge_docstrings
from tests.gates.builders import file_metrics, scan_of


def test_coverage_is_pooled_over_changed_files():
    scan = scan_of(
        file_metrics("a.py", docs=(1, 4)), file_metrics("b.py", docs=(3, 4)), file_metrics("c.py", docs=(0, 9))
    )
    assert docstring_coverage(scan, ["a.py", "b.py"]) == 50.0


def test_more_docstrings_pass():
    base = scan_of(file_metrics("a.py", docs=(1, 4)))
    head = scan_of(file_metrics("a.py", docs=(3, 4)))
    result = judge_docstrings(base, head, ["a.py"], floor=None)
    assert result.status == "passed"
    assert (result.metrics[0].base, result.metrics[0].head) == (25.0, 75.0)


def test_new_undocumented_function_fails_and_blames_file():
    base = scan_of(file_metrics("a.py", docs=(2, 2)), file_metrics("b.py", docs=(1, 1)))
    head = scan_of(file_metrics("a.py", docs=(2, 3)), file_metrics("b.py", docs=(1, 1)))
    result = judge_docstrings(base, head, ["a.py", "b.py"], floor=None)
    assert result.status == "failed"
    assert result.blame == ("a.py",)


def test_floor_is_kept_by_files_above_it():
    base = scan_of(file_metrics("a.py", docs=(8, 10)), file_metrics("b.py", docs=(0, 10)))
    head = scan_of(file_metrics("a.py", docs=(7, 10)), file_metrics("b.py", docs=(2, 10)))
    result = judge_docstrings(base, head, ["a.py", "b.py"], floor=80)
    assert result.status == "failed"
    assert result.blame == ("a.py",)
    assert "floor" in result.details


def test_files_below_floor_that_do_not_drop_pass():
    base = scan_of(file_metrics("a.py", docs=(1, 10)))
    head = scan_of(file_metrics("a.py", docs=(2, 10)))
    assert DocstringsGate(DocstringsSettings(floor=80)).judge(base, head, ["a.py"]).status == "passed"


def test_no_documentable_items_passes():
    base, head = scan_of(file_metrics("a.py")), scan_of(file_metrics("a.py"))
    assert judge_docstrings(base, head, ["a.py"], floor=50).status == "passed"
