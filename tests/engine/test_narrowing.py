"""Narrowing a failed attempt: drop blamed files, bisect when nothing is blamed, never widen."""

from evolve.edits import FileEdit
from evolve.engine.narrowing import narrow_edits
from evolve.results import Failed, Passed


def edit(path: str) -> FileEdit:
    return FileEdit(path=path, before="a\n", after="b\n", source="codemods")


EDITS = (edit("a.py"), edit("b.py"), edit("c.py"), edit("d.py"))


def test_blamed_files_are_dropped():
    results = (Passed("syntax", "ok"), Failed("tests", "2 tests fail", blame=("b.py", "tests/test_b.py")))
    narrowed = narrow_edits(EDITS, results)
    assert [e.path for e in narrowed.kept] == ["a.py", "c.py", "d.py"]
    assert narrowed.dropped == ("b.py",)
    assert "tests" in narrowed.note and "b.py" in narrowed.note


def test_unblamed_failure_bisects():
    narrowed = narrow_edits(EDITS, (Failed("coverage", "coverage dropped"),))
    assert [e.path for e in narrowed.kept] == ["a.py", "b.py"]
    assert narrowed.dropped == ("c.py", "d.py")
    assert "bisecting" in narrowed.note


def test_blame_outside_the_edits_counts_as_unblamed():
    narrowed = narrow_edits(EDITS[:2], (Failed("tests", "fails", blame=("tests/test_x.py",)),))
    assert [e.path for e in narrowed.kept] == ["a.py"]


def test_a_single_failing_edit_leaves_nothing():
    narrowed = narrow_edits(EDITS[:1], (Failed("tests", "fails"),))
    assert narrowed.kept == () and narrowed.dropped == ("a.py",)


def test_narrowing_only_removes():
    for results in [(Failed("x", "y", blame=("a.py",)),), (Failed("x", "y"),)]:
        narrowed = narrow_edits(EDITS, results)
        assert set(e.path for e in narrowed.kept) < set(e.path for e in EDITS)
