"""`x == None` -> `x is None` and `x != None` -> `x is not None` (pycodestyle E711)."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "none-comparison"


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class NoneComparison(Codemod):
    """Compare to None by identity: `==` may call a custom `__eq__`, `is` cannot."""

    metadata = CodemodMetadata(
        id=ID,
        title="Compare with None using `is`",
        theme="correctness",
        rationale="`== None` calls `__eq__`, which classes may override; `is None` is the identity test PEP 8 asks for.",
        risk="medium",  # `==` may be a custom `__eq__` (ORM columns, arrays): unexecuted hunks need proof
        benefit="defect",
        min_target_python=(2, 7),
        review_guidance="Check that no compared object relies on a custom `__eq__` against None (e.g. array-likes or ORM column expressions).",
        references=(
            "https://peps.python.org/pep-0008/#programming-recommendations",
            "https://docs.astral.sh/ruff/rules/none-comparison/",
        ),
        lint_codes=("E711", "pylint:singleton-comparison", "pylint:C0121"),
    )
    examples = (
        Example("if x == None:\n    pass\n", "if x is None:\n    pass\n"),
        Example("ok = value != None\n", "ok = value is not None\n"),
        Example("y = None == x\n", "y = x is None\n"),
        Example("z = (a.b[0]  ==  None)  # spacing kept\n", "z = (a.b[0]  is  None)  # spacing kept\n"),
        Example("assert f(x) != None, 'missing'\n", "assert f(x) is not None, 'missing'\n"),
    )
    valid = (
        "flag = value == None  # noqa: E711 - numpy elementwise comparison\n",
        "if x is None:\n    pass\n",
        "a == None == b\n",  # chained comparison: left alone
        "x = y == 0\n",
        "query.filter(Column.name == 'None')\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find single comparisons `== None` / `!= None` (either side)."""
        if "None" not in source:
            return []
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.Eq, ast.NotEq))
                and (_is_none(node.comparators[0]) or _is_none(node.left))
            ):
                op = "==" if isinstance(node.ops[0], ast.Eq) else "!="
                found.append(Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"comparison `{op} None`"))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rewrite the comparisons to identity tests."""
        return run_transformer(module, _Transformer(ID, context))


class _Transformer(RecordingTransformer):
    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        if len(updated_node.comparisons) != 1:
            return updated_node
        target = updated_node.comparisons[0]
        operator = target.operator
        if not isinstance(operator, (cst.Equal, cst.NotEqual)):
            return updated_node
        if isinstance(operator, cst.Equal):
            new_operator: cst.BaseCompOp = cst.Is(
                whitespace_before=operator.whitespace_before, whitespace_after=operator.whitespace_after
            )
        else:
            new_operator = cst.IsNot(
                whitespace_before=operator.whitespace_before, whitespace_after=operator.whitespace_after
            )
        left, right = updated_node.left, target.comparator
        if _is_cst_none(right):
            new = updated_node.with_changes(comparisons=[target.with_changes(operator=new_operator)])
        elif _is_cst_none(left):
            # `None == x` -> `x is None`: None has no side effects, so swapping the operands is safe.
            new = updated_node.with_changes(
                left=right, comparisons=[target.with_changes(operator=new_operator, comparator=left)]
            )
        else:
            return updated_node
        self.record(original_node, "comparison with None made an identity test")
        return new


def _is_cst_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"
