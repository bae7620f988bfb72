"""Documenting code is never a maintainability regression, even though radon counts one-line docstrings as code."""

from evolve.findings import FileMetrics, RepoMetrics, ScanResult
from gates.maintainability_gate import differs_only_in_docstrings, differs_only_in_imports, judge_maintainability


def scan(mi: float, sloc: int = 1) -> ScanResult:
    totals = RepoMetrics(1, sloc, sloc, 0, 0, 0, mi, 0, 0, 0)
    return ScanResult("r", (FileMetrics("a.py", sloc, sloc, 0, mi, (), 0, 0),), (), (), totals)


def test_docstring_only_changes_are_recognised():
    before = "def f(x):\n    return x + 1\n\nclass C:\n    pass\n"
    after = 'def f(x):\n    """Add one."""\n    return x + 1\n\nclass C:\n    """A C."""\n'
    assert differs_only_in_docstrings(before, after)
    assert not differs_only_in_docstrings(before, after.replace("x + 1", "x + 2"))
    assert not differs_only_in_docstrings(before, "def broken(:\n")


def test_documentation_only_files_are_not_blamed_but_code_changes_are():
    assert judge_maintainability(scan(60.0), scan(58.0, 9), ["a.py"], 65, frozenset({"a.py"})).status == "passed"
    failed = judge_maintainability(scan(60.0), scan(58.0, 9), ["a.py"], 65)
    assert failed.status == "failed" and failed.blame == ("a.py",)


def test_an_import_moved_to_a_compatible_fallback_is_not_a_regression():
    # sortedcontainers 1.5.10: `from collections import KeysView, ...` fails on 3.10+; the fix that every declared
    # Python accepts adds three lines of imports and no logic, yet radon's index drops by more than half a point.
    before = "from collections import Mapping\n\n\nclass D(Mapping):\n    pass\n"
    after = (
        "try:\n    from collections.abc import Mapping\nexcept ImportError:  # Python 2\n"
        "    from collections import Mapping\n\n\nclass D(Mapping):\n    pass\n"
    )
    assert differs_only_in_imports(before, after)
    alias = "import collections\ntry:\n    import collections.abc as abc\nexcept ImportError:\n    abc = collections\n"
    assert differs_only_in_imports("import collections\n", alias)
    assert not differs_only_in_imports(before, after.replace("pass", "x = 1"))
    passed = judge_maintainability(scan(60.0), scan(58.0, 4), ["a.py"], 65, imports_only=frozenset({"a.py"}))
    assert passed.status == "passed" and "only imports changed" in passed.summary
