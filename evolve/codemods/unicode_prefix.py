"""`u"text"` -> `"text"` in Python-3-only projects (pyupgrade / ruff UP025).

Every string literal is text on Python 3; the `u` prefix, kept for Python 2, changes nothing. Cosmetic: never in a
default run, only when asked for (`--focus unicode-prefix`). Projects that still declare Python 2 get nothing
(there the prefix makes the literal text).
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "unicode-prefix"


def _has_u_prefix(source_lines: list[str], node: ast.Constant) -> bool:
    line = source_lines[node.lineno - 1] if node.lineno <= len(source_lines) else ""
    start = line.encode("utf-8")[node.col_offset : node.col_offset + 2].decode("utf-8", errors="replace")
    return start[:1] in {"u", "U"} and start[1:2] in {"'", '"'}


class UnicodePrefix(Codemod):
    """Drop the `u` prefix, which Python 3 ignores."""

    metadata = CodemodMetadata(
        id=ID,
        title="Remove `u` prefixes from string literals",
        theme="modernize",
        rationale="On Python 3 every string literal is text: the `u` prefix is a Python 2 leftover that changes "
        "nothing.",
        risk="low",
        benefit="cosmetic",
        lint_codes=("UP025",),
        min_target_python=(3, 0),
        review_guidance="The literals are the same `str` values; only the prefix goes.",
        references=("https://docs.astral.sh/ruff/rules/unicode-kind-prefix/",),
    )
    examples = (
        Example("name = u'caf\\xe9'\n", "name = 'caf\\xe9'\n"),
        Example('title = U"Title"  # shown\n', 'title = "Title"  # shown\n'),
        Example(
            "def f():\n    return (u'a'\n            u'b')\n",
            "def f():\n    return ('a'\n            'b')\n",
        ),
    )
    valid = (
        "name = 'plain'\n",
        "data = b'bytes'\nraw = r'\\d+'\n",
        "text = f'{x}'\n",
        "name = u'kept'  # noqa: UP025\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find string literals written with a `u` prefix."""
        if "u'" not in source and 'u"' not in source and "U'" not in source and 'U"' not in source:
            return []
        lines = source.splitlines()
        return [
            Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, "`u` prefix on a string literal")
            for node, symbol in walk_with_symbol(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _has_u_prefix(lines, node)
        ]

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Drop the prefixes."""
        return run_transformer(module, _Transformer(ID, context))


class _Transformer(RecordingTransformer):
    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        if updated_node.prefix.lower() != "u":
            return updated_node
        self.record(original_node, "`u` prefix removed")
        return updated_node.with_changes(value=updated_node.value[1:])
