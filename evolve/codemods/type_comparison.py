"""`type(x) == T` / `type(x) != T` -> `is` / `is not` (pycodestyle E721).

Classes are compared by identity: `type(x) == T` goes through the metaclass's `__eq__`, which a metaclass may
define, and reads as if a subclass should match (which is what `isinstance` is for). `is` states what the code
does today for every class whose metaclass does not override `__eq__` (the builtins and every ordinary class),
and keeps excluding subclasses. Only single comparisons where one side is a call to the builtin `type` with one
argument change; `isinstance` is never introduced (it would accept subclasses: a behaviour change).
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "type-comparison"


def _is_type_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and len(node.args) == 1
        and not node.keywords
    )


def _binds_type(tree: ast.Module) -> bool:
    """Whether the module rebinds the name `type` (then `type(x)` may not be the builtin)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "type" and not isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == "type":
            return True
        if isinstance(node, ast.arg) and node.arg == "type":
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name) == "type":
            return True
    return False


def _cst_is_type_call(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "type"
        and len(node.args) == 1
        and node.args[0].keyword is None
        and not node.args[0].star
    )


class TypeComparison(Codemod):
    """Compare classes by identity: `type(x) is T`."""

    metadata = CodemodMetadata(
        id=ID,
        title="Compare types with `is`",
        theme="correctness",
        rationale="`type(x) == T` compares classes through the metaclass's `__eq__` and reads as if subclasses "
        "matched; `type(x) is T` is the exact-class check the code performs (pycodestyle E721).",
        risk="low",
        lint_codes=("E721",),
        # It states the check precisely; behaviour changes only under a metaclass `__eq__`: below real breakage.
        benefit="cleanup",
        min_target_python=(2, 7),
        review_guidance="The result is the same for every class whose metaclass does not define `__eq__`. "
        "Subclasses still do not match; use `isinstance` where they should.",
        references=("https://docs.astral.sh/ruff/rules/type-comparison/",),
    )
    examples = (
        Example("if type(x) == int:\n    pass\n", "if type(x) is int:\n    pass\n"),
        Example("ok = type(a) != type(b)\n", "ok = type(a) is not type(b)\n"),
        Example("same = dict == type(value)  # exact\n", "same = dict is type(value)  # exact\n"),
    )
    valid = (
        "if isinstance(x, int):\n    pass\n",
        "if type(x) == int == y:\n    pass\n",  # chained
        "def f(type):\n    return type(x) == int\n",  # `type` is not the builtin here
        "if type(x) == int:  # noqa: E721\n    pass\n",
        "if type(x) is int:\n    pass\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `type(x) == T` and `type(x) != T` single comparisons."""
        if "type(" not in source or _binds_type(tree):
            return []
        found = []
        for node, symbol in walk_with_symbol(tree):
            if not isinstance(node, ast.Compare) or len(node.ops) != 1:
                continue
            if not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
                continue
            if _is_type_call(node.left) or _is_type_call(node.comparators[0]):
                found.append(Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, "type compared with =="))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Turn those comparisons into identity checks."""
        if _binds_type(ast.parse(module.code)):
            return module, []
        return run_transformer(module, _Transformer(ID, context))


class _Transformer(RecordingTransformer):
    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.Comparison:
        if len(updated_node.comparisons) != 1:
            return updated_node
        target = updated_node.comparisons[0]
        if not (_cst_is_type_call(updated_node.left) or _cst_is_type_call(target.comparator)):
            return updated_node
        operator = target.operator
        if isinstance(operator, cst.Equal):
            new: cst.BaseCompOp = cst.Is(
                whitespace_before=operator.whitespace_before, whitespace_after=operator.whitespace_after
            )
            text = "`type(...) ==` spelled `is`"
        elif isinstance(operator, cst.NotEqual):
            new = cst.IsNot(whitespace_before=operator.whitespace_before, whitespace_after=operator.whitespace_after)
            text = "`type(...) !=` spelled `is not`"
        else:
            return updated_node
        self.record(original_node, text)
        return updated_node.with_changes(comparisons=[target.with_changes(operator=new)])
