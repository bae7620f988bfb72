"""`pkg_resources.get_distribution(name).version` -> `importlib.metadata.version(name)` (Python >= 3.8).

`pkg_resources` is deprecated: importing it warns (setuptools >= 67.5) and setuptools is removing it, after
which the import fails, and a package that looks up its own version at import time no longer imports. It
is also slow to import (it scans every installed distribution). `importlib.metadata.version` answers the
same question from the standard library. Only the plain lookup changes: an argument that is a distribution
name literal or `__name__`/`__package__` (not a requirement string), with `pkg_resources` imported at the
top of the module (an import in a `try`/`except ImportError` fallback is left alone). A surrounding
`except pkg_resources.DistributionNotFound` / `except DistributionNotFound` becomes
`except importlib.metadata.PackageNotFoundError`; imports of `pkg_resources` that are no longer used go.
"""

from __future__ import annotations

import ast
import re

import libcst as cst

from evolve.codemods.ast_scan import imported_from, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import (
    RecordingTransformer,
    dotted_name,
    drop_statements,
    iter_nodes,
    module_bindings,
    name_references,
    run_transformer,
)
from evolve.codemods.imports import insert_stdlib_import

ID = "pkg-resources-version"
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
# Before 3.10, importlib.metadata does not normalise names as pkg_resources does (`Foo-Bar` vs `foo_bar`):
# there, only names that need no normalising are looked up the new way.
_PLAIN_NAME = re.compile(r"^[a-z0-9_]+$")


def _name_ok(name: str, min_python: tuple[int, int]) -> bool:
    return bool((_NAME if min_python >= (3, 10) else _PLAIN_NAME).match(name))


_MODULE_NAMES = frozenset({"__name__", "__package__"})


def _top_level_imports(tree: ast.Module) -> tuple[bool, set[str], set[str]]:
    """(`import pkg_resources` at top level, local names of `get_distribution`, of `DistributionNotFound`).

    Any import of pkg_resources elsewhere (in a try, a function) makes the module's use uncertain: nothing.
    """
    top = {id(statement) for statement in tree.body}
    module_import = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "pkg_resources" for a in node.names):
            if id(node) not in top or any(a.name != "pkg_resources" or a.asname for a in node.names):
                return False, set(), set()
            module_import = True
        elif isinstance(node, ast.ImportFrom) and node.module == "pkg_resources" and id(node) not in top:
            return False, set(), set()
    imported = imported_from(tree, "pkg_resources")
    getters = {local for local, name in imported.items() if name == "get_distribution"}
    missing = {local for local, name in imported.items() if name == "DistributionNotFound"}
    return module_import, getters, missing


def _ast_lookup(node: ast.AST, module_import: bool, getters: set[str], min_python: tuple[int, int]) -> bool:
    """`<get_distribution>(<name>).version`."""
    if not (isinstance(node, ast.Attribute) and node.attr == "version" and isinstance(node.ctx, ast.Load)):
        return False
    call = node.value
    if not (isinstance(call, ast.Call) and len(call.args) == 1 and not call.keywords):
        return False
    func = call.func
    via_module = (
        module_import
        and isinstance(func, ast.Attribute)
        and func.attr == "get_distribution"
        and isinstance(func.value, ast.Name)
        and func.value.id == "pkg_resources"
    )
    via_name = isinstance(func, ast.Name) and func.id in getters
    argument = call.args[0]
    plain = (
        isinstance(argument, ast.Constant) and isinstance(argument.value, str) and _name_ok(argument.value, min_python)
    ) or (isinstance(argument, ast.Name) and argument.id in _MODULE_NAMES)
    return (via_module or via_name) and plain


def _binds_importlib_otherwise(node: ast.AST) -> bool:
    """Whether `node` binds the name `importlib` to something other than the importlib package."""
    if isinstance(node, ast.alias) and (node.asname or node.name.split(".")[0]) == "importlib":
        return node.asname is not None or node.name not in {"importlib", "importlib.metadata"}
    if isinstance(node, ast.Name):
        return node.id == "importlib" and not isinstance(node.ctx, ast.Load)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == "importlib"
    return isinstance(node, ast.arg) and node.arg == "importlib"


def _importlib_free(tree: ast.Module) -> bool:
    """`importlib` is unbound, or bound only by `import importlib` / `import importlib.metadata`."""
    return not any(_binds_importlib_otherwise(node) for node in ast.walk(tree))


def _handlers_all_move(
    tree: ast.Module, module_import: bool, getters: set[str], missing: set[str], min_python: tuple[int, int]
) -> bool:
    """Whether every mention of DistributionNotFound is a handler of a try whose body has a lookup."""

    def mentions(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in missing and isinstance(node.ctx, ast.Load)
        return (
            module_import
            and isinstance(node, ast.Attribute)
            and node.attr == "DistributionNotFound"
            and isinstance(node.value, ast.Name)
            and node.value.id == "pkg_resources"
        )

    moved: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(inner, ast.Attribute) and _ast_lookup(inner, module_import, getters, min_python)
            for statement in node.body
            for inner in ast.walk(statement)
        ):
            moved |= {id(n) for h in node.handlers if h.type is not None for n in ast.walk(h.type) if mentions(n)}
    return all(id(node) in moved for node in ast.walk(tree) if mentions(node))


class PkgResourcesVersion(Codemod):
    """Read a distribution's version with importlib.metadata instead of the deprecated pkg_resources."""

    metadata = CodemodMetadata(
        id=ID,
        title="Read versions with `importlib.metadata`, not `pkg_resources`",
        theme="deprecations",
        rationale="`pkg_resources` is deprecated and being removed from setuptools: importing it warns, is slow, "
        "and fails where setuptools is absent or too new; the standard library answers the same question.",
        risk="low",
        benefit="deprecation",
        lint_codes=("TID251",),  # flake8-tidy-imports' banned API: how projects ban pkg_resources
        min_target_python=(3, 8),
        review_guidance="`importlib.metadata.version(name)` returns the same version string for an installed "
        "distribution; a missing one raises `PackageNotFoundError`, and the handlers that caught "
        "`DistributionNotFound` now catch that. Only plain names are looked up this way (no requirement strings).",
        references=(
            "https://setuptools.pypa.io/en/latest/pkg_resources.html",
            "https://docs.python.org/3/library/importlib.metadata.html#distribution-versions",
        ),
    )
    examples = (
        Example(
            "import pkg_resources\n\n__version__ = pkg_resources.get_distribution('mypkg').version\n",
            "import importlib.metadata\n\n__version__ = importlib.metadata.version('mypkg')\n",
        ),
        Example(
            '"""Pkg."""\nimport os\n\nfrom pkg_resources import DistributionNotFound, get_distribution\n\n'
            "try:\n    __version__ = get_distribution(__name__).version\nexcept DistributionNotFound:\n"
            "    __version__ = 'unknown'\n",
            '"""Pkg."""\nimport importlib.metadata\nimport os\n\n'
            "try:\n    __version__ = importlib.metadata.version(__name__)\n"
            "except importlib.metadata.PackageNotFoundError:\n    __version__ = 'unknown'\n",
        ),
        Example(
            "import pkg_resources\n\ntry:\n    VERSION = pkg_resources.get_distribution('a_b').version\n"
            "except (pkg_resources.DistributionNotFound, ValueError):\n    VERSION = None\n"
            "DATA = pkg_resources.resource_filename('a', 'data')\n",
            "import importlib.metadata\n\nimport pkg_resources\n\ntry:\n    VERSION = importlib.metadata.version('a_b')\n"
            "except (importlib.metadata.PackageNotFoundError, ValueError):\n    VERSION = None\n"
            "DATA = pkg_resources.resource_filename('a', 'data')\n",
        ),
    )
    valid = (
        "import pkg_resources\n\nv = pkg_resources.get_distribution('mypkg>=1.0').version\n",  # a requirement
        "try:\n    import pkg_resources\nexcept ImportError:\n    pkg_resources = None\n"
        "v = pkg_resources.get_distribution('mypkg').version\n",
        "import pkg_resources\n\nv = pkg_resources.get_distribution(name).version\n",
        "import importlib.metadata\n\nv = importlib.metadata.version('mypkg')\n",
        "import pkg_resources\nv = pkg_resources.get_distribution('mypkg').version  # noqa\n",
        "import pkg_resources\n\ndef version():\n    return pkg_resources.get_distribution('p').version\n\n"
        "def show():\n    try:\n        print(version())\n    except pkg_resources.DistributionNotFound:\n        pass\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `get_distribution(<name>).version` where pkg_resources is imported at the top of the module."""
        if "get_distribution" not in source or context.min_python < (3, 8) or not _importlib_free(tree):
            return []
        module_import, getters, missing = _top_level_imports(tree)
        if not module_import and not getters:
            return []
        found = [
            Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, "version looked up with pkg_resources")
            for node, symbol in walk_with_symbol(tree)
            if isinstance(node, ast.Attribute) and _ast_lookup(node, module_import, getters, context.min_python)
        ]
        return found if found and _handlers_all_move(tree, module_import, getters, missing, context.min_python) else []

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rewrite the lookups and their handlers, then the imports."""
        if context.min_python < (3, 8) or "get_distribution" not in module.code:
            return module, []
        tree = ast.parse(module.code)
        if not _importlib_free(tree):
            return module, []
        module_import, getters, missing = _top_level_imports(tree)
        if not module_import and not getters:
            return module, []
        transformer = _Transformer(ID, context, module_import, getters, missing)
        new_module, changes = run_transformer(module, transformer)
        if not changes or _still_expects_distribution_not_found(new_module, module_import, missing):
            return module, []  # a handler elsewhere waits for pkg_resources' exception: leave the module whole
        return _fix_imports(new_module), changes


def _still_expects_distribution_not_found(module: cst.Module, module_import: bool, missing: set[str]) -> bool:
    references = name_references(module)
    if any(references.get(name) for name in missing):
        return True
    return module_import and any(
        isinstance(node, cst.Attribute) and dotted_name(node) == "pkg_resources.DistributionNotFound"
        for node in iter_nodes(module)
    )


class _Transformer(RecordingTransformer):
    def __init__(
        self, codemod_id: str, context: CodemodContext, module_import: bool, getters: set[str], missing: set[str]
    ) -> None:
        super().__init__(codemod_id, context)
        self.module_import, self.getters, self.missing = module_import, getters, missing
        self.tries: list[int] = []  # per enclosing try: how many lookups its body rewrote
        self.in_body: list[bool] = []

    def _is_lookup(self, node: cst.Attribute) -> bool:
        call = node.value
        if node.attr.value != "version" or not isinstance(call, cst.Call) or len(call.args) != 1:
            return False
        arg = call.args[0]
        if arg.keyword is not None or arg.star:
            return False
        name = dotted_name(call.func)
        via = (self.module_import and name == "pkg_resources.get_distribution") or name in self.getters
        value = arg.value
        plain = (
            isinstance(value, cst.SimpleString)
            and value.prefix == ""
            and isinstance(value.evaluated_value, str)
            and _name_ok(value.evaluated_value, self.context.min_python)
        ) or (isinstance(value, cst.Name) and value.value in _MODULE_NAMES)
        return via and plain

    def visit_Try(self, node: cst.Try) -> None:
        self.tries.append(0)

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        rewrote = self.tries.pop()
        if not rewrote:
            return updated_node
        handlers = [h.with_changes(type=self._handler_type(h.type)) if h.type else h for h in updated_node.handlers]
        return updated_node.with_changes(handlers=handlers)

    def _handler_type(self, node: cst.BaseExpression) -> cst.BaseExpression:
        if isinstance(node, cst.Tuple):
            return node.with_changes(
                elements=[e.with_changes(value=self._handler_type(e.value)) for e in node.elements]
            )
        name = dotted_name(node)
        if (self.module_import and name == "pkg_resources.DistributionNotFound") or name in self.missing:
            return cst.parse_expression("importlib.metadata.PackageNotFoundError").with_changes(
                lpar=getattr(node, "lpar", ()), rpar=getattr(node, "rpar", ())
            )
        return node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated_node, cst.Attribute) or not self._is_lookup(updated_node):
            return updated_node
        assert isinstance(updated_node.value, cst.Call)
        if self.tries:
            self.tries[-1] += 1
        self.record(original_node, "version read with `importlib.metadata.version`")
        call = updated_node.value
        return call.with_changes(func=cst.parse_expression("importlib.metadata.version")).with_changes(
            lpar=updated_node.lpar, rpar=updated_node.rpar
        )


def _fix_imports(module: cst.Module) -> cst.Module:
    """Drop pkg_resources imports nothing uses any more; add `import importlib.metadata` unless present."""
    used = name_references(module)
    body = list(module.body)
    doomed: set[int] = set()
    for index, statement in enumerate(body):
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
            continue
        small = statement.body[0]
        if isinstance(small, cst.Import) and [dotted_name(a.name) for a in small.names] == ["pkg_resources"]:
            if not used.get("pkg_resources"):
                doomed.add(index)
        elif (
            isinstance(small, cst.ImportFrom)
            and small.module is not None
            and not small.relative
            and dotted_name(small.module) == "pkg_resources"
            and not isinstance(small.names, cst.ImportStar)
        ):
            kept = [a for a in small.names if used.get(a.evaluated_alias or a.evaluated_name)]
            if not kept:
                doomed.add(index)
            elif len(kept) != len(small.names):
                kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                body[index] = statement.with_changes(body=[small.with_changes(names=kept)])
    kept_body, footer = drop_statements(body, doomed, module.footer)
    module = module.with_changes(body=kept_body, footer=footer)
    present = any(
        isinstance(node, cst.Import) and any(dotted_name(a.name) == "importlib.metadata" for a in node.names)
        for node in module_bindings(module).get("importlib", [])
    )
    return module if present else insert_stdlib_import(module, "import importlib.metadata\n")
