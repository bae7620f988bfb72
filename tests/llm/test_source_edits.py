"""LibCST application of the model's edits: only the named node changes, every other byte stays."""

from __future__ import annotations

import pytest

from evolve.llm.source_edits import EditRejected, format_docstring, replace_function, set_docstring
from tests.llm.conftest import dedent

MODULE = dedent('''
    #!/usr/bin/env python
    """Module doc."""
    import functools  # used below


    @functools.lru_cache(maxsize=None)
    def cached(n: int) -> int:  # keep me
        # explain
        return n * 2


    class Outer:
        \'\'\'Outer doc.\'\'\'

        class Inner:
            async def fetch(self, url, *, retries=3):
                if retries:
                    return url
                return None

        def one_liner(self): return 1

        def documented(self):
            """Old text."""
            return 2
''')


def test_replace_function_keeps_the_rest_byte_for_byte():
    new = "async def fetch(self, url, *, retries=3):\n    return url if retries else None\n"
    after, helpers = replace_function(MODULE, "m.py", "Outer.Inner.fetch", new)
    before_lines, after_lines = MODULE.splitlines(), after.splitlines()
    start = before_lines.index("        async def fetch(self, url, *, retries=3):")
    assert after_lines[: start + 1] == before_lines[: start + 1]
    assert after_lines[start + 1] == "            return url if retries else None"
    assert after_lines[start + 2 :] == before_lines[start + 4 :]
    assert helpers == []


def test_replace_function_accepts_indented_source_and_places_private_helpers_after_it():
    new = "    def one_liner(self):\n        return _one()\n\n    def _one():\n        return 1\n"
    after, helpers = replace_function(MODULE, "m.py", "Outer.one_liner", new)
    assert helpers == ["_one"]
    assert (
        "    def one_liner(self):\n        return _one()\n\n    def _one():\n        return 1\n\n    def documented"
        in after
    )


@pytest.mark.parametrize(
    "new_source, reason",
    [
        ("def cached(n: int) -> str:\n    return str(n)\n", "signature"),
        ("def cached(n: int) -> int:\n    return n\n", "signature"),  # decorator dropped
        ("@functools.lru_cache(maxsize=None)\ndef cached(n: int) -> int:\n    return n\nx = 1\n", "only the function"),
        ("@functools.lru_cache(maxsize=None)\ndef cached(n: int) -> int:\n    return (n\n", "does not parse"),
        ("def other(n):\n    return n\n", "only the function"),
    ],
)
def test_replace_function_rejections(new_source, reason):
    with pytest.raises(EditRejected, match=reason):
        replace_function(MODULE, "m.py", "cached", new_source)


def test_helpers_may_not_shadow_existing_names():
    new = "def one_liner(self):\n    return self.documented()\n\ndef _x():\n    pass\n"
    replace_function(MODULE, "m.py", "Outer.one_liner", new)
    with pytest.raises(EditRejected, match="already exist"):
        replace_function(MODULE + "\n    def _x(self):\n        pass\n", "m.py", "Outer.one_liner", new)


def test_missing_and_ambiguous_symbols_are_named():
    with pytest.raises(EditRejected, match="no function 'Outer.missing'.*Outer.Inner.fetch"):
        replace_function(MODULE, "m.py", "Outer.missing", "def missing():\n    pass\n")
    twice = "def f():\n    return 1\n\n\ndef f():\n    return 2\n"
    with pytest.raises(EditRejected, match="defined 2 times"):
        replace_function(twice, "m.py", "f", "def f():\n    return 3\n")
    with pytest.raises(EditRejected, match="not a dotted Python name"):
        replace_function(MODULE, "m.py", "Outer..x", "def x():\n    pass\n")


def test_set_docstring_inserts_at_the_right_indentation_and_keeps_comments():
    after = set_docstring(MODULE, "m.py", "cached", "Double n.\n\nResults are cached forever.")
    assert after == MODULE.replace(
        "def cached(n: int) -> int:  # keep me\n",
        'def cached(n: int) -> int:  # keep me\n    """Double n.\n\n    Results are cached forever.\n    """\n',
    )


def test_set_docstring_replaces_an_existing_docstring_and_expands_one_liners():
    after = set_docstring(MODULE, "m.py", "Outer.documented", "New text that says more.")
    assert '            """New text that says more."""\n' not in after
    assert '        """New text that says more."""\n        return 2' in after and "Old text." not in after
    after = set_docstring(MODULE, "m.py", "Outer.one_liner", "Always return the number one.")
    assert '    def one_liner(self):\n        """Always return the number one."""\n        return 1\n' in after
    after = set_docstring(MODULE, "m.py", "Outer.Inner", "Hold the async fetcher.")
    assert '    class Inner:\n        """Hold the async fetcher."""\n        async def fetch' in after


def test_module_docstring_is_set_after_the_shebang():
    after = set_docstring(MODULE, "m.py", None, "A module of examples.")
    assert after.startswith('#!/usr/bin/env python\n"""A module of examples."""\nimport functools')
    bare = set_docstring("import os\n", "m.py", None, "Operating system helpers for the tests.")
    assert bare == '"""Operating system helpers for the tests."""\nimport os\n'


def test_format_docstring_escapes_backslashes_and_trailing_quotes():
    assert format_docstring('Match \\d+ in "text"', "    ") == '"""Match \\\\d+ in "text\\""""'
    assert (
        format_docstring("  Summary.\n\n      Indented detail.\n", "    ")
        == '"""Summary.\n\n    Indented detail.\n    """'
    )


def test_tabs_and_odd_indentation_are_respected():
    source = "class A:\n\tdef f(self):\n\t\treturn 1\n"
    after = set_docstring(source, "m.py", "A.f", "Return one, as an integer constant.\n\nNo side effects.")
    assert (
        after
        == 'class A:\n\tdef f(self):\n\t\t"""Return one, as an integer constant.\n\n\t\tNo side effects.\n\t\t"""\n\t\treturn 1\n'
    )
