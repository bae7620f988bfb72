"""The code's own signals: which lines they protect, and the runner leaving those statements alone on real files."""

from __future__ import annotations

from evolve.codemods.registry import select_codemods
from evolve.codemods.runner import apply_codemods
from evolve.codemods.signals import protected_lines, protects, span_is_protected


def test_noqa_protects_only_for_matching_codes_and_bare_noqa_for_all():
    assert protects("# noqa", ("F401",))
    assert protects("# noqa: F401", ("F401",))
    assert protects("# NOQA:E501,F401", ("F401",))
    assert not protects("# noqa: E501", ("F401",))
    assert protects("# noqa: RET", ("RET505",))  # a prefix, as flake8 accepts
    for always in ("# nosec", "# nosec B506", "# type: ignore[arg-type]", "# pragma: no cover", "# fmt: skip"):
        assert protects(always, ())
    for deliberate in ("# deliberate", "# intentionally broad", "# unsafe on purpose", "# keep: re-exported"):
        assert protects(deliberate, ())
    assert not protects("# parse the header", ("F401",))


def test_a_deliberate_comment_above_a_statement_protects_that_statement():
    source = "import os\n# deliberate: installs the import hook\n\nimport hookpkg\nimport sys\n"
    assert protected_lines(source) == frozenset({2, 4})
    assert protected_lines("x = '# noqa'\n") == frozenset()  # inside a string: not a comment
    assert span_is_protected(3, 5, frozenset({5}))
    assert not span_is_protected(1, 40, frozenset({20}))  # a long span (a whole def) speaks by its first line


def test_the_runner_leaves_signalled_statements_and_changes_the_rest(tmp_path):
    (tmp_path / "pkg").mkdir()
    source = (
        "import json\n"
        "import os  # noqa: F401 - kept for callers\n"
        "import statemachine\n"
        "\n"
        "\n"
        "def check(value, default):\n"
        "    if value:\n"
        "        return 1\n"
        "    else:  # pragma: no cover\n"
        "        return default == None\n"
        "\n"
        "\n"
        "def other(value):\n"
        "    return value == None  # noqa: E711\n"
        "\n"
        "\n"
        "def third(value):\n"
        "    return value == None\n"
    )
    (tmp_path / "pkg" / "mod.py").write_text(source, encoding="utf-8")
    codemods = select_codemods(only=["unused-imports", "redundant-else", "none-comparison"])
    result = apply_codemods(tmp_path, ["pkg/mod.py"], codemods, (3, 10))
    [edit] = result.edits
    after = edit.after
    assert "import json\n" not in after  # stdlib, unused, no signal: removed
    assert "import os  # noqa: F401 - kept for callers\n" in after
    assert "import statemachine\n" in after  # may install an import hook: never removed
    # The pragma stays on its `else:`; a statement whose header carries a signal is left alone as a whole.
    assert "    else:  # pragma: no cover\n        return default == None\n" in after
    assert "    return value == None  # noqa: E711\n" in after
    assert after.endswith("def third(value):\n    return value is None\n")
    assert {change.codemod for change in edit.changes} == {"unused-imports", "none-comparison"}
