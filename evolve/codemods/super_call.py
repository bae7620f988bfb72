"""`super(C, self)` -> `super()` inside methods of class `C` (PEP 3135)."""

from __future__ import annotations

import ast
from typing import TypeVar

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, has_comment, run_transformer

# A lambda or comprehension: its own scope, handed back unchanged when it is left.
_ScopeExpression = TypeVar("_ScopeExpression", bound=cst.BaseExpression)

ID = "super-call"


def _first_param_ast(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    params = [*function.args.posonlyargs, *function.args.args]
    return params[0].arg if params else None


def _is_staticmethod_ast(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


class SuperCall(Codemod):
    """Use zero-argument `super()` where it means exactly the same as the two-argument form."""

    metadata = CodemodMetadata(
        id=ID,
        title="Use zero-argument `super()`",
        theme="modernize",
        rationale="`super()` cannot name the wrong class after a rename or copy-paste and is the Python 3 idiom.",
        risk="low",
        benefit="cosmetic",
        review_guidance="Only rewritten directly inside methods of the named class, with the method's own first argument. "
        "Check the class is not replaced by a decorator that returns a different class.",
        references=("https://peps.python.org/pep-3135/", "https://docs.python.org/3/library/functions.html#super"),
        lint_codes=("UP008", "pylint:super-with-arguments", "pylint:R1725"),
    )
    examples = (
        Example(
            "class A(B):\n    def __init__(self, x):\n        super(A, self).__init__(x)\n",
            "class A(B):\n    def __init__(self, x):\n        super().__init__(x)\n",
        ),
        Example(
            "class A(B):\n    @classmethod\n    def make(cls):\n        return super(A, cls).make()\n",
            "class A(B):\n    @classmethod\n    def make(cls):\n        return super().make()\n",
        ),
        Example(
            "class A(B):\n    async def run(me):\n        await super(A, me).run()\n",
            "class A(B):\n    async def run(me):\n        await super().run()\n",
        ),
        Example(
            "class Outer:\n    class A(B):\n        def f(self):\n            return super(A, self).f()\n",
            "class Outer:\n    class A(B):\n        def f(self):\n            return super().f()\n",
        ),
        Example(
            "class A(B):\n    def f(self):\n        return super(\n            A, self\n        ).f()\n",
            "class A(B):\n    def f(self):\n        return super().f()\n",
        ),
    )
    valid = (
        "class A(B):\n    def f(self):\n        super(A, self).f()  # noqa: UP008\n",
        "class A(B):\n    def f(self):\n        return super(B, self).f()\n",  # skips a class in the MRO: different meaning
        "class A(B):\n    def f(self):\n        def g():\n            return super(A, self).f()\n        return g()\n",
        "class A(B):\n    def f(self):\n        return lambda: super(A, self).f()\n",
        "class A(B):\n    def f(self):\n        return [super(A, self).f() for _ in range(2)]\n",
        "class A(B):\n    @staticmethod\n    def f(self):\n        return super(A, self).f()\n",
        "class A(B):\n    def f(self, other):\n        return super(A, other).f()\n",
        "def f(self):\n    return super(A, self).f()\n",
        "class A(B):\n    def f(self):\n        return super().f()\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find two-argument `super` calls directly inside a method of the named class."""
        if "super(" not in source:
            return []
        found = []
        for node, symbol in walk_with_symbol(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for method in node.body:
                if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or _is_staticmethod_ast(method):
                    continue
                first = _first_param_ast(method)
                for call in _direct_calls(method):
                    if _matches_ast(call, node.name, first):
                        qualname = f"{symbol}.{node.name}.{method.name}" if symbol else f"{node.name}.{method.name}"
                        found.append(
                            Occurrence(call.lineno, call.end_lineno or call.lineno, qualname, "two-argument super()")
                        )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Drop the arguments of matching `super` calls."""
        return run_transformer(module, _Transformer(ID, context))


def _direct_calls(function: ast.AST) -> list[ast.Call]:
    """Calls in the function's own scope: not in nested functions, lambdas, classes or comprehensions."""
    nested = (
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.Lambda,
        ast.ClassDef,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
    )
    calls, stack = [], list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, nested):
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return calls


def _matches_ast(call: ast.Call, class_name: str, first: str | None) -> bool:
    return (
        first is not None
        and isinstance(call.func, ast.Name)
        and call.func.id == "super"
        and not call.keywords
        and len(call.args) == 2
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == class_name
        and isinstance(call.args[1], ast.Name)
        and call.args[1].id == first
    )


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext) -> None:
        super().__init__(codemod_id, context)
        # Innermost scopes last: ("class", name) / ("method", first param) / ("other", None)
        self.scopes: list[tuple[str, str | None]] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(("class", node.name.value))

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.scopes.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        in_class = bool(self.scopes) and self.scopes[-1][0] == "class"
        static = any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)
        params = [*node.params.posonly_params, *node.params.params]
        if in_class and not static and params:
            self.scopes.append(("method", params[0].name.value))
        else:
            self.scopes.append(("other", None))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.scopes.pop()
        return updated_node

    def _push_other(self, node: cst.CSTNode) -> None:
        self.scopes.append(("other", None))

    def _pop(self, original_node: _ScopeExpression, updated_node: _ScopeExpression) -> _ScopeExpression:
        self.scopes.pop()
        return updated_node

    visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _push_other
    leave_Lambda = leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _pop

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if len(self.scopes) < 2 or self.scopes[-1][0] != "method" or self.scopes[-2][0] != "class":
            return updated_node
        args = updated_node.args
        if not (isinstance(updated_node.func, cst.Name) and updated_node.func.value == "super" and len(args) == 2):
            return updated_node
        if any(arg.keyword or arg.star for arg in args) or has_comment(updated_node):
            return updated_node
        cls, obj = args[0].value, args[1].value
        if not (
            isinstance(cls, cst.Name)
            and cls.value == self.scopes[-2][1]
            and isinstance(obj, cst.Name)
            and obj.value == self.scopes[-1][1]
        ):
            return updated_node
        self.record(original_node, "two-argument super() made zero-argument")
        return updated_node.with_changes(args=[], whitespace_before_args=cst.SimpleWhitespace(""))
