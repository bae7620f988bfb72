"""The project's formatter styles only the lines Evolve changed (real black and ruff format)."""

from __future__ import annotations

from evolve.edits import FileEdit
from evolve.project_rules.formatting import changed_ranges, format_edit
from evolve.project_rules.model import BlackRules, ProjectRules
from evolve.project_rules.reader import read_project_rules

# A formatter-clean file; the untouched long call stays as it is (only changed lines are formatted).
BEFORE = """\
x = {"a": 1}


def f(a, b):
    return a + b


def g(x):
    if x == None:
        return 1
    return 2
"""
# Code in a style neither formatter would keep.
UNFORMATTED = BEFORE.replace('x = {"a": 1}', "x = {  'a':1 }").replace("def f(a, b):", "def f(a,b):")
# What a codemod might produce: a correct edit in a style the project's formatter would not write.
AFTER = BEFORE.replace("    if x == None:\n", "    if x  is  None :\n")


def test_changed_ranges_cover_replacements_and_insertions_not_deletions():
    assert changed_ranges("a\nb\nc\n", "a\nB\nc\n") == [(2, 2)]
    assert changed_ranges("a\nb\n", "a\nx\ny\nb\n") == [(2, 3)]
    assert changed_ranges("a\nb\nc\n", "a\nc\n") == []
    assert changed_ranges(BEFORE, AFTER) == [(9, 9)]


def test_black_formats_only_the_changed_lines_with_the_projects_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    rules = read_project_rules(tmp_path)  # black gets these settings from Evolve (--config), not from the tree
    assert rules.black == BlackRules(source="pyproject.toml", line_length=100)
    edit, note = format_edit(tmp_path, FileEdit("pkg/m.py", BEFORE, AFTER, "codemods"), rules)
    assert note == ""
    assert edit.after == BEFORE.replace("    if x == None:\n", "    if x is None:\n")


def test_ruff_format_formats_only_the_changed_lines(tmp_path):
    (tmp_path / "ruff.toml").write_text("[format]\nquote-style = 'single'\n")
    rules = read_project_rules(tmp_path)  # ruff gets these settings from Evolve (--config), not from the tree
    assert rules.formatter == "ruff" and rules.ruff_config is not None
    before = BEFORE.replace('{"a": 1}', "{'a': 1}")  # clean under the project's single quotes
    after = before.replace("    if x == None:\n", "    if x  is  None :\n").replace("return 2", 'return "two"')
    edit, note = format_edit(tmp_path, FileEdit("m.py", before, after, "codemods"), rules)
    assert note == ""
    assert edit.after == before.replace("x == None", "x is None").replace("return 2", "return 'two'")


def test_a_file_the_formatter_would_change_on_base_is_left_alone(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    rules = ProjectRules(black=BlackRules(source="pyproject.toml", line_length=100))
    unformatted_after = UNFORMATTED.replace("    if x == None:\n", "    if x  is  None :\n")
    edit = FileEdit("m.py", UNFORMATTED, unformatted_after, "codemods")
    assert format_edit(tmp_path, edit, rules) == (
        edit,
        "black not applied to m.py: the file is not black-formatted on base",
    )


def test_no_formatter_or_an_excluded_file_leaves_the_edit_alone(tmp_path):
    edit = FileEdit("m.py", BEFORE, AFTER, "codemods")
    assert format_edit(tmp_path, edit, ProjectRules()) == (edit, "")
    black = ProjectRules(black=BlackRules(source="pyproject.toml", excludes=("/m\\.py",)))
    assert format_edit(tmp_path, edit, black) == (edit, "")


def test_a_formatter_failure_keeps_the_edit_and_says_why(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 'wide'\n")
    rules = read_project_rules(tmp_path)  # black gets the broken setting through Evolve's --config
    assert rules.black is not None
    edit = FileEdit("m.py", BEFORE, AFTER, "codemods")
    kept, note = format_edit(tmp_path, edit, rules)
    assert kept == edit and note.startswith("black could not format m.py")


def test_black_adds_no_blank_line_above_a_nested_def_whose_signature_changed(tmp_path):
    """black 24.10.0's tests/test_trans.py: with only the signature's second line in range, black 26 put a blank line
    between `def test_fexpr_spans() -> None:` and the nested `def check(`; the changed statement's neighbours are in
    range too, so it does not."""
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 88\n")
    rules = read_project_rules(tmp_path)
    before = (
        "from typing import List, Tuple\n\n\ndef test_fexpr_spans() -> None:\n    def check(\n"
        "        string: str, expected_spans: List[Tuple[int, int]], expected_slices: List[str]\n"
        "    ) -> None:\n        pass\n"
    )
    after = before.replace("from typing import List, Tuple\n\n\n", "").replace(
        "List[Tuple[int, int]], expected_slices: List[str]", "list[tuple[int, int]], expected_slices: list[str]"
    )
    edit, note = format_edit(tmp_path, FileEdit("tests/test_trans.py", before, after, "codemods"), rules)
    assert note == ""
    assert edit.after == after


def test_black_joins_a_statement_the_edit_shortened(tmp_path):
    """A changed statement is formatted whole: a signature the edit made short enough goes back on one line, and the
    untouched code around it stays as it was."""
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 88\n")
    rules = read_project_rules(tmp_path)
    before = (
        "import typing\n\n\ndef f(\n    first_argument: typing.Dict[str, int], second_argu: typing.Dict[str, int]\n"
        ") -> None:\n    pass\n"
    )
    after = before.replace("typing.Dict[", "dict[")
    edit, note = format_edit(tmp_path, FileEdit("m.py", before, after, "codemods"), rules)
    assert note == ""
    assert edit.after == (
        "import typing\n\n\ndef f(first_argument: dict[str, int], second_argu: dict[str, int]) -> None:\n    pass\n"
    )
