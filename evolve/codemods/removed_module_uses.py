"""Where a file uses a standard-library module Python removed, and what each use becomes (pure: `ast` in, a value
out). The codemod `removed-stdlib-modules` applies the result; research reads its refusals.

A removed module is all or nothing per file: its import can go only when every use of it has a recipe, so one use
without one leaves the file as it is and says why, with the line. A removed function of a module that stays
(`inspect.getargspec`) is judged use by use. Imports inside a `try` that catches ImportError, and names a module
binds twice (a version switch: `if PY3: from html import escape` / `else: from cgi import escape`), are
compatibility code and stay.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from evolve.codemods.base import Declined
from evolve.codemods.removed_modules_table import (
    HELPERS,
    REMOVED_MODULES,
    SURVIVING,
    Recipe,
    Refusal,
    module_refusal,
    recipe_for,
)

_FALLBACK_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class Use:
    """One rewritable use: the expression at (line, column) that names `name` (`pipes.quote`), how it is used
    (`call`: its call is rewritten; `reference`: the name alone), and its recipe."""

    line: int
    column: int
    end_line: int
    end_column: int
    name: str
    kind: str
    recipe: Recipe


@dataclass(frozen=True)
class ImportEdit:
    """What becomes of one imported name (statement line, local name): `drop` it, `rename` it (`from pipes import
    quote` -> `from shlex import quote`: `target` is `shlex.quote`; `fallback`: keep the old import in an
    `except ImportError:` for the old Pythons the project declares), or `define` it (a helper under that name)."""

    line: int
    local: str
    action: str
    target: str = ""
    fallback: str = ""


@dataclass
class Analysis:
    """What to change in one file: the uses, the imported names, the import lines and helpers (name -> defined
    as) to add; and what stays, with reasons."""

    uses: list[Use] = field(default_factory=list)
    edits: list[ImportEdit] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    helpers: dict[str, str] = field(default_factory=dict)
    declined: list[Declined] = field(default_factory=list)

    def lines(self) -> list[tuple[int, int, str]]:
        """(line, end line, what) of every change, for `detect`."""
        found = [(use.line, use.end_line, f"`{use.name}`") for use in self.uses]
        found += [(edit.line, edit.line, f"import of `{edit.local}`") for edit in self.edits]
        return sorted(found)


@dataclass
class _Binding:
    local: str  # the name the import binds
    prefix: str  # what it stands for: `distutils` (import distutils.util), `pipes.quote` (from pipes import quote)
    statement: ast.stmt
    dotted_import: bool = False  # `import a.b` binds `a`: uses spell the whole dotted path


def _parents(tree: ast.Module) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _in_fallback(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    current = parents.get(id(node))
    while current is not None:
        if isinstance(current, ast.Try):
            caught: set[str] = set()
            for handler in current.handlers:
                if handler.type is None:
                    caught.add("BaseException")
                else:
                    caught |= {n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)}
            if caught & _FALLBACK_ERRORS:
                return True
        current = parents.get(id(current))
    return False


def _import_bindings(tree: ast.Module, parents: dict[int, ast.AST]) -> tuple[list[_Binding], dict[str, int]]:
    """The imports of removed modules or removed names (outside fallbacks), and how often each name is bound."""
    found: list[_Binding] = []
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                counts[local] = counts.get(local, 0) + 1
                top = alias.name.split(".")[0]
                if (top in REMOVED_MODULES or top in SURVIVING) and not _in_fallback(node, parents):
                    prefix = alias.name if alias.asname else top
                    found.append(_Binding(local, prefix, node, dotted_import=not alias.asname and "." in alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            top = node.module.split(".")[0]
            for alias in node.names:
                local = alias.asname or alias.name
                counts[local] = counts.get(local, 0) + 1
                if _in_fallback(node, parents) or alias.name == "*":
                    continue
                name = f"{node.module}.{alias.name}"
                if top in REMOVED_MODULES or (top in SURVIVING and name in _SURVIVING_NAMES):
                    found.append(_Binding(local, name, node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[node.name] = counts.get(node.name, 0) + 1
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
    return found, counts


def other_bindings(tree: ast.Module) -> set[str]:
    """Names the module binds anywhere other than by a plain `import name`: a variable, a parameter, a function,
    an alias. A module a recipe imports under such a name would be shadowed (`def page(html): html.escape(...)`)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.asname for alias in node.names if alias.asname}
        elif isinstance(node, ast.ImportFrom):
            found |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            found.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found |= set(node.names)
    return found


_SURVIVING_NAMES = {"inspect.getargspec", "inspect.formatargspec", "ssl.wrap_socket", "ssl.match_hostname"}


def _chain(node: ast.Name, parents: dict[int, ast.AST]) -> list[ast.expr]:
    """`a`, `a.b`, `a.b.c`: the name and the attribute nodes built on it, innermost first."""
    chain: list[ast.expr] = [node]
    parent = parents.get(id(node))
    while isinstance(parent, ast.Attribute) and parent.value is chain[-1]:
        chain.append(parent)
        parent = parents.get(id(parent))
    return chain


def _dotted(chain: list[ast.expr], size: int, binding: _Binding) -> str:
    attributes = [node.attr for node in chain[1:size] if isinstance(node, ast.Attribute)]
    return ".".join([binding.prefix, *attributes])


def _shape(recipe: Recipe, expression: ast.expr, parents: dict[int, ast.AST]) -> str | None:
    """`call` or `reference` when `expression` is used the way `recipe` can rewrite; None otherwise."""
    parent = parents.get(id(expression))
    if not (isinstance(parent, ast.Call) and parent.func is expression):
        return "reference" if recipe.reference else None
    call = parent
    if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
        return "call" if "{args}" in recipe.template else None
    if recipe.arity is not None and len(call.args) != recipe.arity:
        last = call.args[-1] if call.args else None
        quoted = isinstance(last, ast.Constant) and last.value is True and len(call.args) == recipe.arity + 1
        return "with_true" if recipe.with_true and quoted else None
    outer = parents.get(id(call))
    if recipe.statement_only and not isinstance(outer, ast.Expr):
        return None
    if recipe.unpack or recipe.fields:
        unpacked = (
            isinstance(outer, ast.Assign)
            and len(outer.targets) == 1
            and isinstance(outer.targets[0], (ast.Tuple, ast.List))
            and len(outer.targets[0].elts) == recipe.unpack
        )
        return "unpack" if unpacked else ("call" if _reads_fields(recipe, call, parents) else None)
    return "call"


def _reads_field(recipe: Recipe, value: ast.expr, parents: dict[int, ast.AST]) -> bool:
    """`value.args` or `value[0]`: one of the fields the old and the new value share (the first four)."""
    outer = parents.get(id(value))
    if isinstance(outer, ast.Attribute):
        return outer.attr in recipe.fields
    return (
        isinstance(outer, ast.Subscript)
        and outer.value is value
        and isinstance(outer.slice, ast.Constant)
        and type(outer.slice.value) is int
        and 0 <= outer.slice.value < (recipe.unpack or 0)
    )


def _reads_fields(recipe: Recipe, call: ast.Call, parents: dict[int, ast.AST]) -> bool:
    """The call's value is read only through shared fields: directly, or through a name assigned once in its
    function (`spec = getargspec(f)` ... `spec[0]`, `spec.args`)."""
    if _reads_field(recipe, call, parents):
        return True
    outer = parents.get(id(call))
    if not (isinstance(outer, ast.Assign) and len(outer.targets) == 1 and isinstance(outer.targets[0], ast.Name)):
        return False
    name = outer.targets[0].id
    scope = parents.get(id(outer))
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        scope = parents.get(id(scope))
    if scope is None:
        return False
    uses = [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == name]
    stores = [n for n in uses if not isinstance(n.ctx, ast.Load)]
    loads = [n for n in uses if isinstance(n.ctx, ast.Load)]
    return len(stores) == 1 and bool(loads) and all(_reads_field(recipe, n, parents) for n in loads)


def analyse(tree: ast.Module, min_python: tuple[int, int]) -> Analysis:
    """The uses of removed modules and names in `tree`, each rewritten or declined with its reason."""
    parents = _parents(tree)
    bindings, counts = _import_bindings(tree, parents)
    other = other_bindings(tree)
    result = Analysis()
    names = {b.local: b for b in bindings if counts.get(b.local, 0) == 1}
    per_module: dict[str, tuple[list[Use], list[Declined], list[ImportEdit]]] = {}
    loads: dict[str, list[ast.Name]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            loads.setdefault(node.id, []).append(node)
    version = ".".join(map(str, min_python))
    for local, binding in names.items():
        top = binding.prefix.split(".")[0]
        if top in REMOVED_MODULES:
            key = top
        elif isinstance(binding.statement, ast.ImportFrom):
            key = f"{binding.prefix}#{local}"  # `from inspect import getargspec`: the import goes with every use
        else:
            key = f"{binding.prefix}@{local}"  # `import inspect`: each use of `inspect.getargspec` on its own
        group = per_module.setdefault(key, ([], [], []))
        uses, declined, edits = group
        whole = recipe_for(binding.prefix) if isinstance(binding.statement, ast.ImportFrom) else None
        if whole is not None and isinstance(whole[1], Recipe) and whole[1].fields and min_python < whole[1].since:
            # `from inspect import getargspec` where Python 2 is declared: the new function under the old name,
            # with the old import as the fallback, when every use reads only the fields both values share.
            recipe = whole[1]
            shapes = [_shape(recipe, n, parents) for n in loads.get(local, [])]
            if shapes and all(shape == "call" for shape in shapes):
                target = recipe.template.split("(")[0]
                edits.append(ImportEdit(binding.statement.lineno, local, "rename", target, binding.prefix))
            else:
                declined.append(Declined(binding.statement.lineno, binding.prefix, recipe.otherwise))
            continue
        if whole is not None and isinstance(whole[1], Recipe) and (whole[1].helper or _renames(whole[1])):
            found = _from_import(
                binding, whole[1], [parents.get(id(n)) for n in loads.get(local, [])], min_python, other
            )
            if isinstance(found, Declined):
                declined.append(found)
            else:
                edits.append(found)
            continue
        if (isinstance(binding.statement, ast.ImportFrom) and top in SURVIVING) or top in REMOVED_MODULES:
            edits.append(ImportEdit(binding.statement.lineno, local, "drop"))
        for name in loads.get(local, []):
            chain = _chain(name, parents)
            start = 2 if binding.dotted_import else 1
            entry = None
            for size in range(len(chain), start - 1, -1):
                entry = recipe_for(_dotted(chain, size, binding))
                if entry is not None:
                    expression, dotted = chain[size - 1], entry[0]
                    break
            line = name.lineno
            if entry is None:
                dotted = _dotted(chain, len(chain), binding)
                if top in SURVIVING:
                    continue  # `inspect.signature`: a name that stays
                declined.append(Declined(line, dotted, module_refusal(dotted).reason))
                continue
            if isinstance(entry[1], Refusal):
                declined.append(Declined(line, dotted, entry[1].reason))
                continue
            recipe = entry[1]
            shape = _shape(recipe, expression, parents)
            if shape is None:
                reason = (
                    recipe.otherwise or f"`{dotted}` is used in a way its recipe (`{recipe.template}`) does not cover"
                )
                declined.append(Declined(line, dotted, reason))
            elif min_python < recipe.since:
                needs = ".".join(map(str, recipe.since))
                reason = f"its replacement needs Python {needs} and the project declares Python {version}"
                declined.append(Declined(line, dotted, reason))
            elif recipe.helper and (counts.get(recipe.helper, 0) or recipe.helper in other):
                declined.append(Declined(line, dotted, f"the module already defines `{recipe.helper}`"))
            elif clash := next((name for name in _imported_names(recipe) if name in other), None):
                reason = f"the module binds `{clash}` to something else, which would hide `import {clash}`"
                declined.append(Declined(line, dotted, reason))
            else:
                end = expression.end_lineno or line
                end_column = expression.end_col_offset or 0
                uses.append(Use(line, expression.col_offset, end, end_column, dotted, shape, recipe))
    for key, (uses, declined, edits) in sorted(per_module.items()):
        result.declined += declined
        if declined and "@" not in key:  # a removed module's import goes only with every use of it
            continue
        if "@" in key and declined:  # `from inspect import getargspec` stays while one use of it stays
            edits = [edit for edit in edits if edit.action != "drop"]
        result.uses += uses
        result.edits += edits
        for use in uses:
            result.imports.update(use.recipe.imports)
            if use.recipe.helper:
                result.helpers[use.recipe.helper] = use.recipe.helper
        for edit in edits:
            entry = recipe_for(edit.target) if edit.action == "define" else None
            if entry is not None and isinstance(entry[1], Recipe) and entry[1].helper:
                result.helpers[entry[1].helper] = edit.local
                result.imports.update(entry[1].imports)
    result.uses.sort(key=lambda use: (use.line, use.column))
    result.edits.sort(key=lambda edit: (edit.line, edit.local))
    result.declined = sorted(set(result.declined), key=lambda declined: (declined.line, declined.name))
    assert all(helper in HELPERS for helper in result.helpers)
    return result


def _imported_names(recipe: Recipe) -> list[str]:
    """The names a recipe's import lines bind (`import importlib.util` binds `importlib`)."""
    return [line.split()[1].split(".")[0] for line in recipe.imports]


def _renames(recipe: Recipe) -> bool:
    """A pure rename to another module's name (`shlex.quote`), which a `from` import can spell itself."""
    return bool(recipe.reference) and "." in (recipe.reference or "") and not recipe.helper


def _from_import(
    binding: _Binding, recipe: Recipe, parents: list[ast.AST | None], min_python: tuple[int, int], other: set[str]
) -> ImportEdit | Declined:
    """`from pipes import quote` -> `from shlex import quote`; `from cgi import parse_header` -> a helper named
    `parse_header` (callers, and modules that import the name from this one, keep working)."""
    line = binding.statement.lineno
    for parent in parents:
        if (
            isinstance(parent, ast.Call)
            and recipe.arity is not None
            and (len(parent.args) != recipe.arity or parent.keywords)
        ):
            reason = recipe.otherwise or f"a call with other arguments than `{recipe.template}` takes"
            return Declined(parent.lineno, binding.prefix, reason)
    clash = next((name for name in _imported_names(recipe) if name in other), None)
    if clash:
        return Declined(
            line, binding.prefix, f"the module binds `{clash}` to something else, which would hide `import {clash}`"
        )
    if recipe.helper:
        if min_python < recipe.since:
            needs = ".".join(map(str, recipe.since))
            return Declined(line, binding.prefix, f"its replacement needs Python {needs}")
        return ImportEdit(line, binding.local, "define", binding.prefix)
    assert recipe.reference is not None
    fallback = ""
    if min_python < recipe.since:
        fallback = binding.prefix
    return ImportEdit(line, binding.local, "rename", recipe.reference, fallback)
