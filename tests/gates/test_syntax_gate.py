"""The syntax gate: pure decision, and the gate on trees made with git."""

from __future__ import annotations

from gates.syntax_gate import SyntaxGate, judge_syntax, syntax_errors


def test_syntax_errors_names_the_broken_files_only():
    errors = syntax_errors({"ok.py": b"x = 1\n", "bad.py": b"def f(:\n", "nul.py": b"x = 1\0\n"})
    assert sorted(errors) == ["bad.py", "nul.py"]
    assert errors["bad.py"].startswith("bad.py:1:")


def test_coding_cookie_is_respected():
    assert syntax_errors({"latin.py": "# -*- coding: latin-1 -*-\ns = 'é'\n".encode("latin-1")}) == {}


def test_judge_passes_when_head_compiles():
    assert judge_syntax({"a.py": "a.py:1: bad"}, {}, checked=1).status == "passed"


def test_judge_fails_and_blames_broken_files():
    result = judge_syntax({}, {"b.py": "b.py:2: invalid syntax"}, checked=2)
    assert result.status == "failed"
    assert result.blame == ("b.py",)
    assert "b.py:2" in result.details


def test_gate_on_real_trees(make_trees):
    trees = make_trees(
        {"pkg/a.py": "x = 1\n", "pkg/b.py": "y = 2\n", "README.md": "hi\n", "pkg/gone.py": "z = 3\n"},
        {"pkg/a.py": "x = (\n", "pkg/b.py": "y = 3\n", "README.md": "def (\n", "pkg/gone.py": None},
    )
    assert set(trees.changed_files) == {"pkg/a.py", "pkg/b.py", "README.md", "pkg/gone.py"}
    result = SyntaxGate().evaluate(trees.context())
    assert result.status == "failed"
    assert result.blame == ("pkg/a.py",)
    assert result.metrics[0].base == 0 and result.metrics[0].head == 1


def test_gate_skips_when_no_python_changed(make_trees):
    trees = make_trees({"README.md": "a\n"}, {"README.md": "b\n"})
    assert SyntaxGate().evaluate(trees.context()).status == "skipped"
