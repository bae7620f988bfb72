"""`not x in y` -> `x not in y` and `not x is y` -> `x is not y` (pycodestyle E713/E714)."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import spans_comment, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, has_comment, run_transformer

ID = "not-in"


class NotIn(Codemod):
    """Use the dedicated `not in` / `is not` operators instead of negating a membership or identity test."""

    metadata = CodemodMetadata(
        id=ID,
        title="Use `not in` and `is not`",
        theme="correctness",
        rationale="`not x in y` reads as `(not x) in y`; `x not in y` says what it means and is the PEP 8 form. Same semantics.",
        risk="low",
        benefit="cosmetic",
        min_target_python=(2, 7),
        review_guidance="Purely syntactic: `not (a in b)` and `a not in b` evaluate identically.",
        references=(
            "https://peps.python.org/pep-0008/#programming-recommendations",
            "https://docs.python.org/3/reference/expressions.html#membership-test-operations",
        ),
        lint_codes=("E713", "E714", "pylint:unneeded-not", "pylint:C0113"),
    )
    examples = (
        Example("if not key in mapping:\n    pass\n", "if key not in mapping:\n    pass\n"),
        Example("if not x is y:\n    pass\n", "if x is not y:\n    pass\n"),
        Example("ok = a and not (k in d)\n", "ok = a and k not in d\n"),
        Example("f(not obj.attr in {1, 2})\n", "f(obj.attr not in {1, 2})\n"),
        Example("x = (not a in b)\n", "x = (a not in b)\n"),
    )
    valid = (
        "ok = not x in y  # noqa\n",
        "if key not in mapping:\n    pass\n",
        "if not a < b:\n    pass\n",
        "if not a in b in c:\n    pass\n",  # chained: left alone
        "if not x not in y:\n    pass\n",  # double negation: left alone
        "if not (k in d  # why\n        ):\n    pass\n",  # comment inside: left alone
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `not` applied to a single `in` / `is` comparison."""
        if "not" not in source:
            return []
        found = []
        lines = source.splitlines()
        for node, symbol in walk_with_symbol(tree):
            if (
                isinstance(node, ast.UnaryOp)
                and isinstance(node.op, ast.Not)
                and isinstance(node.operand, ast.Compare)
                and len(node.operand.ops) == 1
                and isinstance(node.operand.ops[0], (ast.In, ast.Is))
                and not spans_comment(lines, node)
            ):
                op = "in" if isinstance(node.operand.ops[0], ast.In) else "is"
                found.append(Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"`not x {op} y`"))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Fold the negation into the operator."""
        return run_transformer(module, _Transformer(ID, context))


class _Transformer(RecordingTransformer):
    def leave_UnaryOperation(
        self, original_node: cst.UnaryOperation, updated_node: cst.UnaryOperation
    ) -> cst.BaseExpression:
        comparison = updated_node.expression
        if not isinstance(updated_node.operator, cst.Not) or not isinstance(comparison, cst.Comparison):
            return updated_node
        if len(comparison.comparisons) != 1 or has_comment(original_node):
            return updated_node
        target = comparison.comparisons[0]
        operator = target.operator
        space = cst.SimpleWhitespace(" ")
        if isinstance(operator, cst.In):
            new_operator: cst.BaseCompOp = cst.NotIn(
                whitespace_before=operator.whitespace_before,
                whitespace_between=space,
                whitespace_after=operator.whitespace_after,
            )
        elif isinstance(operator, cst.Is):
            new_operator = cst.IsNot(
                whitespace_before=operator.whitespace_before,
                whitespace_between=space,
                whitespace_after=operator.whitespace_after,
            )
        else:
            return updated_node
        self.record(original_node, "negated comparison uses the dedicated operator")
        # The comparison's own parentheses go; the `not` expression's parentheses stay.
        return comparison.with_changes(
            comparisons=[target.with_changes(operator=new_operator)], lpar=updated_node.lpar, rpar=updated_node.rpar
        )
