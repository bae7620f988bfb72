"""`d.iteritems()` / `itervalues()` / `iterkeys()` / `d.has_key(k)` -> `d.items()` / ... / `k in d`, where `d` is
certainly a dict.

Python 3's dict has none of these methods: the call raises AttributeError. Changed only where the receiver is
provably a dict: a `**kwargs` parameter, a name every binding of which (in its function, or at module level) is a
dict display, a dict comprehension or a call of `dict`/`OrderedDict`/`defaultdict`/`Counter`, a dict display
itself, `vars()`/`globals()`/`locals()`, or `os.environ`. An object of another class may define `iteritems` itself,
so anything less certain is left alone.

The view replaces the iterator where only iteration follows (a `for`, a comprehension, `list(...)`, `sorted(...)`,
...); elsewhere it is wrapped in `iter(...)`, so `next()` still works. Every form means the same on Python 2, so
projects that still declare it get the rewrite too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from evolve.codemods.ast_scan import binds_only_module, imported_from
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer
from evolve.codemods.python2_scan import char_columns, char_position, cst_nodes_at

ID = "dict-iter-methods"
# Python 2 method -> what replaces it (a description, also shown by research's diagnosis).
METHODS = {
    "iteritems": "dict.items()",
    "itervalues": "dict.values()",
    "iterkeys": "dict.keys()",
    "has_key": "`key in dict`",
}
VIEWS = {"iteritems": "items", "itervalues": "values", "iterkeys": "keys"}
_DICT_FACTORIES = frozenset({"OrderedDict", "defaultdict", "Counter"})
_DICT_CALLS = frozenset({"vars", "globals", "locals"})
# Calls that only iterate their argument once: a view there is what the iterator was.
_ITERATING_CALLS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "dict", "zip", "enumerate", "map", "filter", "sum", "min", "max"}
    | {"any", "all"}
)
_ITERATING_METHODS = frozenset({"join", "extend", "update"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_NESTED = (*_SCOPES, ast.ClassDef, *_COMPREHENSIONS)


@dataclass(frozen=True)
class Site:
    """One call to rewrite: `view` (bare view), `iter` (view wrapped in iter()), `in` / `not in` (has_key), with
    `parens` when the comparison sits where it must be parenthesised."""

    node: ast.expr
    method: str
    form: str
    parens: bool = False


def _scope_bindings(scope: ast.AST) -> dict[str, list[ast.AST]]:
    """Name -> the nodes binding it directly in `scope` (nested functions, classes and comprehensions excluded);
    an Assign/AnnAssign binding is the statement, any other binding the node itself."""
    found: dict[str, list[ast.AST]] = {}
    body = scope.body if isinstance(scope, (ast.Module, *_SCOPES[:2])) else [scope.body]  # type: ignore[attr-defined]
    if isinstance(scope, _SCOPES):
        arguments = scope.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            found.setdefault(arg.arg, []).append(arg)
        if arguments.vararg:
            found.setdefault(arguments.vararg.arg, []).append(arguments.vararg)
        if arguments.kwarg:
            found.setdefault(arguments.kwarg.arg, []).append(arguments)  # the arguments node marks `**kwargs`
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (*_SCOPES[:2], ast.ClassDef)):
            found.setdefault(node.name, []).append(node)
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, _NESTED):
            # `(y := ...)` inside a comprehension binds in this scope
            for inner in ast.walk(node) if not isinstance(node, (*_SCOPES, ast.ClassDef)) else ():
                if isinstance(inner, ast.NamedExpr) and isinstance(inner.target, ast.Name):
                    found.setdefault(inner.target.id, []).append(inner)
            continue
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            for target in node.targets:
                found.setdefault(target.id, []).append(node)  # type: ignore[attr-defined]
            stack.append(node.value)
            continue
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found.setdefault(node.target.id, []).append(node)
            stack.append(node.value)
            continue
        name = _bound_name(node)
        if name is not None:
            found.setdefault(name, []).append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _bound_name(node: ast.AST) -> str | None:
    """The name a node other than an assignment statement binds (a store, an import, `except ... as`, a pattern)."""
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return node.id
    if isinstance(node, ast.alias):
        return node.asname or node.name.split(".")[0]
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        return node.name
    return None


class _Resolver:
    """Decides whether a name, read in a given function, is certainly a dict."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.declared = {
            name for node in ast.walk(tree) if isinstance(node, (ast.Global, ast.Nonlocal)) for name in node.names
        }
        self.star = any(isinstance(n, ast.alias) and n.name == "*" for n in ast.walk(tree))
        self.collections = binds_only_module(tree, "collections")
        self.factories = {
            local for local, original in imported_from(tree, "collections").items() if original in _DICT_FACTORIES
        }
        self.cache: dict[int, dict[str, list[ast.AST]]] = {}
        self.module_bindings = self.bindings(tree)

    def bindings(self, scope: ast.AST) -> dict[str, list[ast.AST]]:
        if id(scope) not in self.cache:
            self.cache[id(scope)] = _scope_bindings(scope)
        return self.cache[id(scope)]

    def makes_dict(self, value: ast.expr) -> bool:
        """A dict display or comprehension, or a call of a dict class (the module does not rebind its name)."""
        if isinstance(value, (ast.Dict, ast.DictComp)):
            return True
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        if isinstance(func, ast.Name):
            if func.id == "dict":
                return "dict" not in self.module_bindings
            if func.id in _DICT_CALLS and func.id not in self.module_bindings:
                return True
            return func.id in self.factories and len(self.module_bindings.get(func.id, [])) == 1
        return (
            isinstance(func, ast.Attribute)
            and func.attr in _DICT_FACTORIES
            and isinstance(func.value, ast.Name)
            and func.value.id == "collections"
            and self.collections
        )

    def is_dict(self, receiver: ast.expr, scopes: list[ast.AST]) -> bool:
        """Whether `receiver`, read inside `scopes` (outermost first), is certainly a dict."""
        if self.makes_dict(receiver):
            return True
        if (
            isinstance(receiver, ast.Attribute)
            and receiver.attr == "environ"
            and isinstance(receiver.value, ast.Name)
            and receiver.value.id == "os"
        ):
            return binds_only_module(self.tree, "os")
        if not isinstance(receiver, ast.Name) or self.star or receiver.id in self.declared:
            return False
        for scope in reversed(scopes):
            if isinstance(scope, ast.ClassDef):
                return False  # class bodies resolve names in their own way: left alone
            if isinstance(scope, _COMPREHENSIONS):
                targets = {n.id for g in scope.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
                if receiver.id in targets:
                    return False
                continue
            bound = self.bindings(scope).get(receiver.id)
            if bound:
                return all(self._binds_dict(node) for node in bound)
        module_bound = self.module_bindings.get(receiver.id, [])
        return bool(module_bound) and all(self._binds_dict(node) for node in module_bound)

    def _binds_dict(self, node: ast.AST) -> bool:
        if isinstance(node, ast.arguments):
            return True  # `**kwargs` is always a dict
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            return self.makes_dict(node.value)
        return False


def _needs_parens(parent: ast.AST | None, node: ast.AST) -> bool:
    """Whether a comparison put in place of `node` must be parenthesised under `parent`."""
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and getattr(parent, "test", None) is node:
        return False
    if isinstance(parent, (ast.BoolOp, ast.Return, ast.Assign, ast.AnnAssign, ast.keyword, ast.Expr)):
        return False
    if isinstance(parent, ast.comprehension) and node in parent.ifs:
        return False
    return not (isinstance(parent, ast.Call) and node in parent.args)


def _iterates(parent: ast.AST | None, node: ast.AST) -> bool:
    """Whether the value of `node` is only iterated by `parent` (a view serves as well as the iterator)."""
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)):
        return parent.iter is node
    if isinstance(parent, ast.Call) and node in parent.args and not parent.keywords:
        func = parent.func
        if isinstance(func, ast.Name):
            return func.id in _ITERATING_CALLS
        return isinstance(func, ast.Attribute) and func.attr in _ITERATING_METHODS
    return False


def find_sites(tree: ast.Module) -> list[tuple[Site, str | None]]:
    """Every call to rewrite, with the qualified name of its enclosing function or class."""
    resolver = _Resolver(tree)
    found: list[tuple[Site, str | None]] = []

    def visit(node: ast.AST, parent: ast.AST | None, scopes: list[ast.AST], symbol: str | None) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
            method = node.func.attr
            arity = 1 if method == "has_key" else 0
            plain = (
                len(node.args) == arity and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)
            )
            negated = isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)
            if plain and resolver.is_dict(node.func.value, scopes):
                if method != "has_key":
                    form = "view" if _iterates(parent, node) else "iter"
                    found.append((Site(node, method, form), symbol))
                elif not negated:  # a negated one is recorded with its `not`, by the parent
                    found.append((Site(node, method, "in", _needs_parens(parent, node)), symbol))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = node.operand
            if (
                isinstance(operand, ast.Call)
                and isinstance(operand.func, ast.Attribute)
                and operand.func.attr == "has_key"
                and len(operand.args) == 1
                and not operand.keywords
                and not isinstance(operand.args[0], ast.Starred)
                and resolver.is_dict(operand.func.value, scopes)
            ):
                found.append((Site(node, "has_key", "not in", _needs_parens(parent, node)), symbol))
        inner_scopes, inner_symbol = scopes, symbol
        if isinstance(node, (*_SCOPES, ast.ClassDef, *_COMPREHENSIONS)):
            inner_scopes = [*scopes, node]
            name = getattr(node, "name", None)
            if name:
                inner_symbol = f"{symbol}.{name}" if symbol else name
        for child in ast.iter_child_nodes(node):
            outer = isinstance(node, (*_SCOPES[:2], ast.ClassDef)) and (
                child in node.decorator_list or child in getattr(node, "bases", ())
            )
            visit(child, node, scopes if outer else inner_scopes, symbol if outer else inner_symbol)

    visit(tree, None, [], None)
    return sorted(found, key=lambda item: (item[0].node.lineno, item[0].node.col_offset))


class DictIterMethods(Codemod):
    """Use the Python 3 dict methods where the receiver is certainly a dict."""

    metadata = CodemodMetadata(
        id=ID,
        title="Replace Python 2 dict methods that Python 3 removed",
        theme="deprecations",
        rationale="Python 3's dict has no `iteritems`, `itervalues`, `iterkeys` or `has_key`: calling one "
        "raises AttributeError.",
        risk="low",
        benefit="defect",
        # pylint's python3 checker (W1620); pycodestyle's W601 covers only has_key, so it is not named here.
        lint_codes=("pylint:dict-iter-method",),
        min_target_python=(2, 2),
        review_guidance="Only receivers that are certainly dicts change (`**kwargs`, names bound only to dict "
        "displays or `dict(...)`, `os.environ`). A view replaces the iterator where only iteration follows; "
        "elsewhere it is `iter(view)`, an iterator as before.",
        references=(
            "https://docs.python.org/3/whatsnew/3.0.html#views-and-iterators-instead-of-lists",
            "https://pylint.pycqa.org/en/v2.10.0/technical_reference/features.html#python3-checker",
        ),
    )
    examples = (
        Example(
            "def render(**kwargs):\n    for key, value in kwargs.iteritems():\n        print(key, value)\n",
            "def render(**kwargs):\n    for key, value in kwargs.items():\n        print(key, value)\n",
        ),
        Example(
            "def first(pairs):\n    table = dict(pairs)\n    names = sorted(table.iterkeys())\n"
            "    return next(table.itervalues()), names\n",
            "def first(pairs):\n    table = dict(pairs)\n    names = sorted(table.keys())\n"
            "    return next(iter(table.values())), names\n",
        ),
        Example(
            "CACHE = {}\n\ndef lookup(key):\n    if not CACHE.has_key(key):\n        return None\n"
            "    return CACHE.has_key(key) == True\n",
            "CACHE = {}\n\ndef lookup(key):\n    if key not in CACHE:\n        return None\n"
            "    return (key in CACHE) == True\n",
        ),
        Example(
            "import os\n\nfound = [k for k, v in os.environ.iteritems() if v]\n",
            "import os\n\nfound = [k for k, v in os.environ.items() if v]\n",
            context=(("min_python", (2, 7)),),
        ),
    )
    valid = (
        "def f(mapping):\n    return mapping.iteritems()\n",  # a parameter: any class
        "d = {}\nd = load()\nd.iteritems()\n",  # one binding is not a dict
        "def f():\n    global d\n    d = {}\n    return d.iteritems()\n",
        "class C:\n    table = {}\n    pairs = table.iteritems()\n",
        "def f(**kwargs):\n    return kwargs.items()\n",
        "d = {}\nd.has_key(a, b)\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find Python 2 dict method calls on certain dicts."""
        if not any(f".{name}(" in source for name in METHODS):
            return []
        return [
            Occurrence(
                site.node.lineno,
                site.node.end_lineno or site.node.lineno,
                symbol,
                f"`.{site.method}()` does not exist on Python 3's dict",
            )
            for site, symbol in find_sites(tree)
        ]

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rewrite the calls `detect` found."""
        if not any(f".{name}(" in module.code for name in METHODS):
            return module, []
        sites = [site for site, _ in find_sites(ast.parse(module.code))]
        if not sites:
            return module, []
        lines = char_columns(module.code)
        positions = [char_position(lines, site.node) for site in sites]
        calls = cst_nodes_at(module, positions, cst.Call)
        negations = cst_nodes_at(module, positions, cst.UnaryOperation)
        return run_transformer(module, _Transformer(ID, context, sites, calls, negations))


def _wrapped(expression: cst.BaseExpression) -> cst.BaseExpression:
    """`expression` parenthesised when it binds more loosely than a comparison operand."""
    loose = (cst.Lambda, cst.IfExp, cst.BooleanOperation, cst.Comparison, cst.NamedExpr)
    negation = isinstance(expression, cst.UnaryOperation) and isinstance(expression.operator, cst.Not)
    if (isinstance(expression, loose) or negation) and not expression.lpar:
        return expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expression


class _Transformer(RecordingTransformer):
    def __init__(
        self,
        codemod_id: str,
        context: CodemodContext,
        sites: list[Site],
        calls: dict[int, int],
        negations: dict[int, int],
    ) -> None:
        super().__init__(codemod_id, context)
        self.sites, self.calls, self.negations = sites, calls, negations

    def _membership(self, call: cst.Call, negated: bool, parens: bool) -> cst.Comparison | None:
        if not isinstance(call.func, cst.Attribute) or call.func.attr.value != "has_key" or len(call.args) != 1:
            return None
        key = _wrapped(call.args[0].value.with_changes())
        receiver = call.func.value
        operator: cst.BaseCompOp = cst.NotIn() if negated else cst.In()
        comparison = cst.Comparison(key, [cst.ComparisonTarget(operator, receiver)])
        if parens:
            comparison = comparison.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return comparison

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        index = self.calls.get(id(original_node))
        if index is None:
            return updated_node
        site = self.sites[index]
        func = updated_node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != site.method or site.form == "not in":
            return updated_node
        if site.form == "in":
            comparison = self._membership(updated_node, negated=False, parens=site.parens)
            if comparison is None:
                return updated_node
            self.record(original_node, "`.has_key(k)` spelled `k in d`")
            return comparison
        view = updated_node.with_changes(func=func.with_changes(attr=cst.Name(VIEWS[site.method])))
        self.record(original_node, f"`.{site.method}()` spelled `.{VIEWS[site.method]}()`")
        if site.form == "view":
            return view
        return cst.Call(func=cst.Name("iter"), args=[cst.Arg(view)])

    def leave_UnaryOperation(
        self, original_node: cst.UnaryOperation, updated_node: cst.UnaryOperation
    ) -> cst.BaseExpression:
        index = self.negations.get(id(original_node))
        if index is None or not isinstance(updated_node.operator, cst.Not):
            return updated_node
        site = self.sites[index]
        operand = updated_node.expression
        if site.form != "not in" or not isinstance(operand, cst.Call):
            return updated_node
        comparison = self._membership(operand, negated=True, parens=site.parens)
        if comparison is None:
            return updated_node
        self.record(original_node, "`not d.has_key(k)` spelled `k not in d`")
        return comparison
