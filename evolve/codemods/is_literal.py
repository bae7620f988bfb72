"""`x is 1` / `x is not "a"` -> `==` / `!=` (pyflakes F632): identity with a literal is a bug."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "is-literal"


def _is_literal(node: ast.AST) -> bool:
    """A str, bytes or number literal (None, True, False and Ellipsis are singletons: `is` is right for them)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and not isinstance(node.value, bool)
        and isinstance(node.value, (str, bytes, int, float, complex))
    )


class IsLiteral(Codemod):
    """Compare with a literal by value: whether two equal literals are the same object is an interpreter detail."""

    metadata = CodemodMetadata(
        id=ID,
        title="Compare with literals using `==`",
        theme="correctness",
        rationale="`x is 1` or `x is 'a'` tests object identity, which for numbers and strings depends on "
        "interning and caching (CPython warns: SyntaxWarning since 3.8); the code means equality.",
        risk="low",
        lint_codes=("F632",),
        benefit="defect",
        min_target_python=(2, 7),
        review_guidance="Only single comparisons against a str, bytes or number literal change; `is None`, "
        "`is True`/`is False` and `is ...` are left alone. A class with a custom `__eq__` on the other side now "
        "takes part in the comparison, which is what the literal comparison meant.",
        references=(
            "https://docs.astral.sh/ruff/rules/is-literal/",
            "https://docs.python.org/3/whatsnew/3.8.html#changes-in-python-behavior",
        ),
    )
    examples = (
        Example("if x is 1:\n    pass\n", "if x == 1:\n    pass\n"),
        Example("ok = name is not 'admin'\n", "ok = name != 'admin'\n"),
        Example("flag = 0 is count  # zero\n", "flag = 0 == count  # zero\n"),
        Example("neg = x is -1\n", "neg = x == -1\n"),
    )
    valid = (
        "if x is None:\n    pass\n",
        "if flag is True:\n    pass\n",
        "if x is ...:\n    pass\n",
        "a is 1 is b\n",  # chained: left alone
        "if x is 1:  # noqa: F632\n    pass\n",
        "same = x is y\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find single `is` / `is not` comparisons with a str, bytes or number literal on either side."""
        if " is " not in source:
            return []
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.Is, ast.IsNot))
                and (_is_literal(node.left) or _is_literal(node.comparators[0]))
            ):
                op = "is" if isinstance(node.ops[0], ast.Is) else "is not"
                found.append(Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"`{op}` with a literal"))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rewrite the identity tests to equality tests."""
        return run_transformer(module, _Transformer(ID, context))


def _is_cst_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Imaginary))


class _Transformer(RecordingTransformer):
    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        if len(updated_node.comparisons) != 1:
            return updated_node
        target = updated_node.comparisons[0]
        operator = target.operator
        if not isinstance(operator, (cst.Is, cst.IsNot)):
            return updated_node
        if not (_is_cst_literal(updated_node.left) or _is_cst_literal(target.comparator)):
            return updated_node
        if isinstance(target.comparator, cst.FormattedString) or isinstance(updated_node.left, cst.FormattedString):
            return updated_node
        before, after = operator.whitespace_before, operator.whitespace_after
        if isinstance(operator, cst.Is):
            new_operator: cst.BaseCompOp = cst.Equal(whitespace_before=before, whitespace_after=after)
            self.record(original_node, "`is` with a literal made `==`")
        else:
            # `is not` keeps the spacing of its two outer sides; its inner space disappears with it.
            new_operator = cst.NotEqual(whitespace_before=before, whitespace_after=after)
            self.record(original_node, "`is not` with a literal made `!=`")
        return updated_node.with_changes(comparisons=[target.with_changes(operator=new_operator)])
