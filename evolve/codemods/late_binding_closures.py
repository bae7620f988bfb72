"""A lambda made in a loop, kept for later, that reads the loop variable -> bind the value: `lambda i=i: ...`.

A closure looks its free variables up when it is *called*: every lambda stored from
`for name in names: handlers.append(lambda: greet(name))` greets the last name. Binding the value as a
default argument (`lambda name=name: greet(name)`) is the standard fix (flake8-bugbear B023 reports it; ruff
has no fix). Only clear cases change: a lambda that is stored, never called where it is made — the
argument of `.append(...)`/`.add(...)`/`.insert(i, ...)`, the value of `x[k] = ...`, or the element of a
list/set/dict comprehension — and that reads a variable bound by the loop's own target. Lambdas with `*args`
/`**kwargs`, or with a parameter of the same name already, are left alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, iter_nodes, run_transformer

ID = "late-binding-closures"
_STORING_METHODS = frozenset({"append", "add", "insert", "appendleft"})


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _free_loads(function: ast.Lambda) -> set[str]:
    """Names the lambda reads that are not its own parameters (nor bound by comprehensions inside it)."""
    args = function.args
    own = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    inner = {
        name
        for node in ast.walk(function.body)
        if isinstance(node, ast.comprehension)
        for name in _target_names(node.target)
    }
    loads = {n.id for n in ast.walk(function.body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - own - inner


def _simple_params(function: ast.Lambda) -> bool:
    return function.args.vararg is None and function.args.kwarg is None and not function.args.kwonlyargs


def _stored_lambdas(node: ast.AST) -> Iterator[ast.Lambda]:
    """Lambdas that `node` (a statement of a loop body, or a comprehension) keeps for later."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        if isinstance(call.func, ast.Attribute) and call.func.attr in _STORING_METHODS and not call.keywords:
            stored = call.args[-1] if call.args else None
            if isinstance(stored, ast.Lambda):
                yield stored
    elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
        if all(isinstance(t, ast.Subscript) for t in node.targets):
            yield node.value
    elif isinstance(node, (ast.ListComp, ast.SetComp)) and isinstance(node.elt, ast.Lambda):
        yield node.elt
    elif isinstance(node, ast.DictComp) and isinstance(node.value, ast.Lambda):
        yield node.value


_NEW_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _in_loop(statements: list[ast.stmt]) -> list[ast.AST]:
    """Every node of a loop body that runs in the loop's own scope (nested functions, classes, comprehensions not entered)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(statements))
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, _NEW_SCOPES):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


def _loop_bodies(tree: ast.AST) -> Iterator[tuple[set[str], ast.AST, str | None]]:
    """(variables the loop binds, a stored-lambda candidate, symbol): statements of for loops, and comprehensions.

    A for loop binds its target and every name its body assigns; a comprehension binds its targets.
    """
    for node, symbol in walk_with_symbol(tree):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            inside = _in_loop(node.body)
            names = set(_target_names(node.target))
            names |= {n.id for n in inside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            for statement in inside:
                if isinstance(statement, (ast.Expr, ast.Assign)):
                    yield names, statement, symbol
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp)):
            names = {name for generator in node.generators for name in _target_names(generator.target)}
            yield names, node, symbol


class LateBindingClosures(Codemod):
    """Bind loop variables into lambdas that outlive the iteration that made them."""

    metadata = CodemodMetadata(
        id=ID,
        title="Bind loop variables in stored lambdas",
        theme="correctness",
        rationale="A lambda reads its free variables when it is called: every lambda stored in a loop sees the "
        "loop variable's last value, not the one of the iteration that made it.",
        risk="medium",
        lint_codes=("B023",),
        benefit="defect",
        min_target_python=(2, 7),
        review_guidance="Each changed lambda now takes the loop variable as a default argument, so it keeps the "
        "value of its own iteration. Check that no caller passes an extra positional argument (it would now "
        "replace the bound value) and that the code did not mean to read the variable's final value.",
        references=(
            "https://docs.python.org/3/faq/programming.html#why-do-lambdas-defined-in-a-loop-with-different-values-all-return-the-same-result",
            "https://docs.astral.sh/ruff/rules/function-uses-loop-variable/",
        ),
    )
    examples = (
        Example(
            "for name in names:\n    handlers.append(lambda: greet(name))\n",
            "for name in names:\n    handlers.append(lambda name=name: greet(name))\n",
        ),
        Example(
            "for key, col in columns.items():\n    getters[key] = lambda row: row[col]\n",
            "for key, col in columns.items():\n    getters[key] = lambda row, col=col: row[col]\n",
        ),
        Example(
            "for spec in specs:\n    if spec.enabled:\n        env = make_env(spec)\n        factories.append(lambda: env)\n",
            "for spec in specs:\n    if spec.enabled:\n        env = make_env(spec)\n        factories.append(lambda env=env: env)\n",
        ),
        Example(
            "powers = [lambda x: x ** n for n in range(3)]\n",
            "powers = [lambda x, n=n: x ** n for n in range(3)]\n",
        ),
        Example(
            "actions = {op: lambda a, b: apply(op, a, b) for op in ops}\n",
            "actions = {op: lambda a, b, op=op: apply(op, a, b) for op in ops}\n",
        ),
    )
    valid = (
        "for name in names:\n    call(lambda: greet(name))\n",  # used while the loop runs
        "for name in names:\n    handlers.append(lambda name=name: greet(name))\n",
        "for name in names:\n    handlers.append(lambda *a: greet(name, *a))\n",
        "for name in names:\n    handlers.append(lambda: greet(other))\n",
        "for name in names:\n    handlers.append(lambda: greet(name))  # noqa: B023\n",
        "values = [f(lambda: x) for x in xs]\n",
        "env = make_env()\nfor spec in specs:\n    factories.append(lambda: env)\n",  # not bound by the loop
        "for spec in specs:\n    def make():\n        env = spec\n        return lambda: env\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find stored lambdas in loops that read a loop variable."""
        if "lambda" not in source:
            return []
        found = []
        bound: dict[int, tuple[ast.Lambda, set[str], str | None]] = {}
        for names, node, symbol in _loop_bodies(tree):  # a lambda in nested loops is bound by all of them
            for function in _stored_lambdas(node):
                bound.setdefault(id(function), (function, set(), symbol))[1].update(names)
        for function, names, symbol in bound.values():
            captured = sorted(_free_loads(function) & names)
            if captured and _simple_params(function):
                found.append(
                    Occurrence(
                        function.lineno,
                        function.end_lineno or function.lineno,
                        symbol,
                        f"stored lambda reads loop variable {', '.join(f'`{n}`' for n in captured)} late",
                    )
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Add `name=name` defaults to the stored lambdas for the loop variables they read."""
        targets = _cst_targets(module)
        if not targets:
            return module, []
        return run_transformer(module, _Transformer(ID, context, targets))


def _cst_target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _cst_target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _cst_target_names(target.value)


def _cst_stored(node: cst.CSTNode) -> Iterator[cst.Lambda]:
    if isinstance(node, cst.SimpleStatementLine):
        for small in node.body:
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                call = small.value
                if (
                    isinstance(call.func, cst.Attribute)
                    and call.func.attr.value in _STORING_METHODS
                    and call.args
                    and all(a.keyword is None and not a.star for a in call.args)
                    and isinstance(call.args[-1].value, cst.Lambda)
                ):
                    yield call.args[-1].value
            elif (
                isinstance(small, cst.Assign)
                and isinstance(small.value, cst.Lambda)
                and all(isinstance(t.target, cst.Subscript) for t in small.targets)
            ):
                yield small.value
    elif isinstance(node, (cst.ListComp, cst.SetComp)) and isinstance(node.elt, cst.Lambda):
        yield node.elt
    elif isinstance(node, cst.DictComp) and isinstance(node.value, cst.Lambda):
        yield node.value


def _comp_names(node: cst.ListComp | cst.SetComp | cst.DictComp) -> set[str]:
    names: set[str] = set()
    comp: cst.CompFor | None = node.for_in
    while comp is not None:
        names.update(_cst_target_names(comp.target))
        comp = comp.inner_for_in
    return names


_CST_NEW_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _cst_in_loop(body: cst.BaseSuite) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, _CST_NEW_SCOPES):
            stack.extend(reversed(node.children))
    return found


def _cst_assigned(nodes: list[cst.CSTNode]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            names.update(_cst_target_names(node.target))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            names.update(_cst_target_names(node.asname.name))
    return names


def _cst_targets(module: cst.Module) -> dict[int, set[str]]:
    """id(lambda) -> the variables its loop binds (the loop's target and what its body assigns)."""
    targets: dict[int, set[str]] = {}
    for node in iter_nodes(module):
        if isinstance(node, cst.For):
            inside = _cst_in_loop(node.body)
            names = set(_cst_target_names(node.target)) | _cst_assigned(inside)
            for statement in inside:
                for function in _cst_stored(statement):
                    targets.setdefault(id(function), set()).update(names)
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp)):
            for function in _cst_stored(node):
                targets.setdefault(id(function), set()).update(_comp_names(node))
    return targets


def _cst_free_loads(function: cst.Lambda) -> set[str]:
    params = function.params
    if not isinstance(params.star_arg, cst.MaybeSentinel) or params.star_kwarg is not None or params.kwonly_params:
        return set()
    own = {p.name.value for p in [*params.posonly_params, *params.params]}
    inner = {
        name
        for node in iter_nodes(function.body)
        if isinstance(node, cst.CompFor)
        for name in _cst_target_names(node.target)
    }
    loads = _loaded_names(function.body)
    return loads - own - inner


def _loaded_names(root: cst.CSTNode) -> set[str]:
    found: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            found.add(node.value)
        elif isinstance(node, (cst.Attribute, cst.Arg)):
            stack.append(node.value)
        elif isinstance(node, cst.Lambda):
            inner_own = {p.name.value for p in [*node.params.posonly_params, *node.params.params]}
            found |= _loaded_names(node.body) - inner_own
        else:
            stack.extend(child for child in node.children)
    return found


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, targets: dict[int, set[str]]) -> None:
        super().__init__(codemod_id, context)
        self.targets = targets

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.Lambda:
        names = self.targets.get(id(original_node))
        if not names:
            return updated_node
        captured = sorted(_cst_free_loads(original_node) & names)
        if not captured:
            return updated_node
        params = list(updated_node.params.params)
        added = [
            cst.Param(
                name=cst.Name(name),
                default=cst.Name(name),
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
                ),
            )
            for name in captured
        ]
        if params:
            params[-1] = params[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        for index, param in enumerate(added[:-1]):
            added[index] = param.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        new = updated_node.with_changes(params=updated_node.params.with_changes(params=[*params, *added]))
        if not updated_node.params.params and not updated_node.params.posonly_params:
            new = new.with_changes(whitespace_after_lambda=cst.SimpleWhitespace(" "))
        self.record(
            original_node, f"loop variable {', '.join(f'`{n}`' for n in captured)} bound when the lambda is made"
        )
        return new
