"""`@asyncio.coroutine` (removed in Python 3.11) on a generator function becomes `@types.coroutine`: what the
asyncio decorator applied to generator functions outside debug mode, so `yield from`, `await`, `ensure_future`
and plain generators delegating to it behave as they did.

Not `async def`: a native coroutine refuses a plain generator's `yield from` (`TypeError: cannot 'yield from' a
coroutine object in a non-coroutine generator`), and who delegates to a function is rarely knowable from its module
(aiofiles 0.3's `__await__` does `yield from self._coro` on what another module's coroutine returned). A decorated
function that is not a generator (asyncio wrapped it into one) is left alone, and `declines` says why, with the line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from evolve.codemods.ast_scan import binds_only_module, imported_from
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, dotted_name, run_transformer
from evolve.codemods.imports import insert_stdlib_import
from evolve.codemods.removed_module_uses import Declined, other_bindings

ID = "asyncio-coroutine"
TYPES_COROUTINE = (3, 5)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True)
class _Verdict:
    converted: tuple[tuple[int, str], ...]  # (line of the def, name)
    declined: tuple[Declined, ...]
    decorator_names: frozenset[str]  # `asyncio.coroutine`, or the local name `from asyncio import coroutine` bound


def _is_generator(function: ast.FunctionDef) -> bool:
    """Whether the function's own body (not the functions, lambdas and classes inside it) yields."""
    stack: list[ast.AST] = [node for node in function.body if not isinstance(node, _SCOPES)]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _SCOPES))
    return False


def _decorator_names(tree: ast.Module) -> frozenset[str]:
    names = set()
    if binds_only_module(tree, "asyncio"):
        names.add("asyncio.coroutine")
    names |= {local for local, name in imported_from(tree, "asyncio").items() if name == "coroutine"}
    return frozenset(names)


def _name_of(decorator: ast.expr) -> str:
    if isinstance(decorator, ast.Attribute) and isinstance(decorator.value, ast.Name):
        return f"{decorator.value.id}.{decorator.attr}"
    return decorator.id if isinstance(decorator, ast.Name) else ""


def _judge(tree: ast.Module, min_python: tuple[int, int]) -> _Verdict:
    names = _decorator_names(tree)
    if not names:
        return _Verdict((), (), names)
    converted, declined = [], []
    shadowed = "types" in other_bindings(tree)  # `import types` would be hidden by the module's own `types`
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or not any(_name_of(d) in names for d in function.decorator_list):
            continue
        label = f"@coroutine {function.name}"
        if min_python < TYPES_COROUTINE:
            version = ".".join(map(str, min_python))
            declined.append(
                Declined(function.lineno, label, f"types.coroutine needs Python 3.5 and the project declares {version}")
            )
        elif shadowed:
            reason = "the module binds `types` to something else, which would hide `import types`"
            declined.append(Declined(function.lineno, label, reason))
        elif not _is_generator(function):
            reason = (
                "not a generator: asyncio.coroutine wrapped it into one, which `async def` matches only where no "
                "plain generator delegates to it with `yield from`: rewrite by hand"
            )
            declined.append(Declined(function.lineno, label, reason))
        else:
            converted.append((function.lineno, function.name))
    return _Verdict(tuple(converted), tuple(declined), names)


class AsyncioCoroutine(Codemod):
    """`@asyncio.coroutine` generators (the decorator was removed in Python 3.11) decorated with `types.coroutine`."""

    metadata = CodemodMetadata(
        id=ID,
        title="Decorate generator coroutines with `types.coroutine`, not the removed `asyncio.coroutine`",
        theme="deprecations",
        rationale="Python 3.11 removed `asyncio.coroutine`: a module that decorates with it fails with "
        "AttributeError (or ImportError) there.",
        risk="low",
        benefit="defect",
        lint_codes=("W4902",),
        min_target_python=TYPES_COROUTINE,
        review_guidance="For a generator function asyncio.coroutine returned types.coroutine(func) (outside debug "
        "mode): the same object, so every caller behaves as before. `async def` is the modern spelling, but a plain "
        "generator anywhere that delegates with `yield from` would refuse it; that is a change for a person who knows "
        "the callers.",
        references=(
            "https://docs.python.org/3/whatsnew/3.11.html#removed",
            "https://docs.python.org/3/library/types.html#types.coroutine",
        ),
    )
    examples = (
        Example(
            "import asyncio\n\n\n@asyncio.coroutine\ndef fetch(url):\n    reader, writer = yield from connect(url)\n",
            "import asyncio\nimport types\n\n\n@types.coroutine\ndef fetch(url):\n    reader, writer = yield from connect(url)\n",
        ),
        Example(
            "import types\nfrom asyncio import coroutine, sleep\n\n\n@coroutine\ndef nap():\n    yield from sleep(1)\n",
            "import types\nfrom asyncio import sleep\n\n\n@types.coroutine\ndef nap():\n    yield from sleep(1)\n",
        ),
        Example(
            "import asyncio\n\n\nclass Lock:\n    @asyncio.coroutine\n    def __iter__(self):\n        yield from self.acquire()\n",
            "import asyncio\nimport types\n\n\nclass Lock:\n    @types.coroutine\n    def __iter__(self):\n"
            "        yield from self.acquire()\n",
        ),
    )
    valid = (
        "import asyncio\n\n\n@asyncio.coroutine\ndef ready():\n    return True\n",  # not a generator
        "@coroutine\ndef f():\n    yield from g()\n",  # some other `coroutine`
        "async def f():\n    await g()\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """The decorated generator functions."""
        if "coroutine" not in source:
            return []
        verdict = _judge(tree, context.min_python)
        return [Occurrence(line, line, name, "`@asyncio.coroutine` generator") for line, name in verdict.converted]

    def declines(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Declined]:
        """The decorated functions left alone, with the reason (the declared Python is said once, elsewhere:
        evolve/research/declines.py names the lines when a codemod declines for it)."""
        if "coroutine" not in source or context.min_python < self.metadata.min_target_python:
            return []
        return list(_judge(tree, context.min_python).declined)

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Swap the decorators; import `types`; drop `from asyncio import coroutine` once nothing uses it."""
        tree = ast.parse(module.code)
        verdict = _judge(tree, context.min_python)
        if not verdict.converted:
            return module, []
        locals_ = {name for name in verdict.decorator_names if "." not in name}
        remaining = sum(isinstance(node, ast.Name) and node.id in locals_ for node in ast.walk(tree))
        drop = locals_ if remaining <= len(verdict.converted) and not verdict.declined else set()
        # By name (a declined function of the same name keeps both as they are).
        names = {name for _, name in verdict.converted} - {d.name.split(" ", 1)[1] for d in verdict.declined}
        new, changes = run_transformer(module, _Transformer(ID, context, names, verdict.decorator_names, drop))
        if changes and not any(
            isinstance(node, ast.Import) and any(a.name == "types" and a.asname is None for a in node.names)
            for node in tree.body
        ):
            new = insert_stdlib_import(new, "import types")
        return new, changes


class _Transformer(RecordingTransformer):
    def __init__(
        self, codemod_id: str, context: CodemodContext, names: set[str], decorators: frozenset[str], drop: set[str]
    ) -> None:
        super().__init__(codemod_id, context)
        self.names, self.decorators, self.drop = names, decorators, drop

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if original_node.name.value not in self.names:
            return updated_node
        decorators = []
        changed = False
        for decorator in updated_node.decorators:
            if dotted_name(decorator.decorator) in self.decorators:
                decorator = decorator.with_changes(decorator=cst.parse_expression("types.coroutine"))
                changed = True
            decorators.append(decorator)
        if not changed:
            return updated_node
        self.record(original_node, f"`{original_node.name.value}` decorated with `types.coroutine`")
        return updated_node.with_changes(decorators=decorators)

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        if not self.drop or updated_node.module is None or dotted_name(updated_node.module) != "asyncio":
            return updated_node
        if isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        kept = [a for a in updated_node.names if (a.evaluated_alias or a.evaluated_name) not in self.drop]
        if len(kept) == len(updated_node.names):
            return updated_node
        self.record(original_node, "`coroutine` (removed) no longer imported")
        if not kept:
            return cst.RemoveFromParent()
        return updated_node.with_changes(names=[*kept[:-1], kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
