"""`from collections import Mapping` / `collections.Mapping` -> `collections.abc` (the aliases are gone in 3.10).

Python 3.10 removed the abstract base classes' aliases in `collections` (deprecated since 3.3): the import
fails with ImportError, the attribute with AttributeError. `collections.abc` has held them since 3.3.
Changed: `from collections import <ABC>` (split from the other names it imports), and `collections.<ABC>`
where `collections` is bound only by `import collections` (`import collections.abc` is added). A
`try`/`except ImportError` fallback (the way code supported both) is left alone.

Where the project still declares Python 2 (or a 3.x before 3.3), which has no `collections.abc`, the rewrite is
the form every declared Python accepts: the import becomes a `try: from collections.abc import X` /
`except ImportError: from collections import X` fallback, and `collections.X` becomes `collections_abc.X` with
`collections_abc` bound by such a fallback after `import collections`.
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import binds_only_module, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, dotted_name, iter_nodes, run_transformer
from evolve.codemods.cst_edits import binds_only_module as cst_binds_only_module

ID = "collections-abc"
ABCS = frozenset(
    {
        "Awaitable",
        "Coroutine",
        "AsyncIterable",
        "AsyncIterator",
        "AsyncGenerator",
        "Hashable",
        "Iterable",
        "Iterator",
        "Generator",
        "Reversible",
        "Sized",
        "Container",
        "Callable",
        "Collection",
        "Set",
        "MutableSet",
        "Mapping",
        "MutableMapping",
        "MappingView",
        "KeysView",
        "ItemsView",
        "ValuesView",
        "Sequence",
        "MutableSequence",
        "ByteString",
    }
)
_FALLBACK_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError", "Exception", "BaseException"})
HAS_ABC = (3, 3)  # the first Python with collections.abc
COMPAT_NAME = "collections_abc"
_COMPAT_ALIAS = (
    "try:\n    import collections.abc as collections_abc\nexcept ImportError:  # pragma: no cover (Python 2)\n"
    "    collections_abc = collections\n"
)


def _in_fallbacks(tree: ast.Module) -> set[int]:
    """ids of nodes inside a `try` that catches ImportError/AttributeError (or everything): compatibility code."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught: set[str] = set()
        for handler in node.handlers:
            if handler.type is None:
                caught.add("BaseException")
            else:
                caught |= {n.id if isinstance(n, ast.Name) else "" for n in ast.walk(handler.type)}
        if caught & _FALLBACK_ERRORS:
            inside |= {id(n) for part in (*node.body, *node.handlers, *node.orelse) for n in ast.walk(part)}
    return inside


class CollectionsAbc(Codemod):
    """Import the container ABCs from `collections.abc`, where they still exist."""

    metadata = CodemodMetadata(
        id=ID,
        title="Import container ABCs from `collections.abc`",
        theme="deprecations",
        rationale="Python 3.10 removed `collections.Mapping`, `collections.Iterable` and the other ABC aliases: "
        "the module fails to import (ImportError) or the attribute lookup fails (AttributeError).",
        risk="low",
        benefit="defect",
        lint_codes=("UP035",),
        min_target_python=(2, 6),  # the ABCs came to `collections` in 2.6; the fallback form works there
        review_guidance="The classes are the same objects, moved: `collections.abc.Mapping is` what "
        "`collections.Mapping` was. Imports inside try/except ImportError fallbacks are left as they are. Where the "
        "project declares Python 2, the new imports fall back to `collections` on ImportError.",
        references=(
            "https://docs.python.org/3/whatsnew/3.10.html#removed",
            "https://docs.python.org/3/library/collections.abc.html",
        ),
    )
    examples = (
        Example(
            "from collections import Mapping\n\nisinstance(x, Mapping)\n",
            "from collections.abc import Mapping\n\nisinstance(x, Mapping)\n",
        ),
        Example(
            "from collections import OrderedDict, Iterable as It\n",
            "from collections import OrderedDict\nfrom collections.abc import Iterable as It\n",
        ),
        Example(
            "from collections import (\n    OrderedDict,\n    Sequence,\n)\n",
            "from collections import (\n    OrderedDict,\n)\nfrom collections.abc import (\n    Sequence,\n)\n",
        ),
        Example(
            "import collections\n\ndef f(x):\n    return isinstance(x, collections.MutableMapping)\n",
            "import collections\nimport collections.abc\n\ndef f(x):\n    return isinstance(x, collections.abc.MutableMapping)\n",
        ),
        Example(
            "from collections import OrderedDict, Mapping\n\nisinstance(x, Mapping)\n",
            "from collections import OrderedDict\ntry:\n    from collections.abc import Mapping\n"
            "except ImportError:  # pragma: no cover (Python 2)\n    from collections import Mapping\n\nisinstance(x, Mapping)\n",
            context=(("min_python", (2, 7)),),
        ),
        Example(
            "import collections\n\n\ndef is_tag(tag):\n    return isinstance(tag, collections.Hashable)\n",
            "import collections\ntry:\n    import collections.abc as collections_abc\nexcept ImportError:  # pragma: no cover (Python 2)\n"
            "    collections_abc = collections\n\n\ndef is_tag(tag):\n"
            "    return isinstance(tag, collections_abc.Hashable)\n",
            context=(("min_python", (2, 7)),),
        ),
    )
    valid = (
        "try:\n    from collections.abc import Mapping\nexcept ImportError:\n    from collections import Mapping\n",
        "from collections import OrderedDict, defaultdict\n",
        "import collections.abc\nx = collections.abc.Mapping\n",
        "def f():\n    import collections\n    return collections.Mapping\n",  # no top-level import to extend
        "collections = load()\nx = collections.Mapping\n",
        "from collections import Mapping  # noqa\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find ABC imports from `collections` and `collections.<ABC>` attributes outside fallbacks."""
        if "collections" not in source:
            return []
        fallbacks = _in_fallbacks(tree)
        compat = context.min_python < HAS_ABC
        module_ok = (
            (not compat or COMPAT_NAME not in source)
            and binds_only_module(tree, "collections")
            and any(
                isinstance(statement, ast.Import)
                and [(a.name, a.asname) for a in statement.names] == [("collections", None)]
                for statement in tree.body
            )
        )
        found = []
        for node, symbol in walk_with_symbol(tree):
            if id(node) in fallbacks:
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "collections" and node.level == 0:
                names = [a.name for a in node.names if a.name in ABCS]
                if names:
                    found.append(
                        Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"removed alias {names[0]}")
                    )
            elif (
                module_ok
                and isinstance(node, ast.Attribute)
                and node.attr in ABCS
                and isinstance(node.value, ast.Name)
                and node.value.id == "collections"
            ):
                found.append(
                    Occurrence(
                        node.lineno, node.end_lineno or node.lineno, symbol, f"removed `collections.{node.attr}`"
                    )
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Split the imports, rewrite the attributes, and add `import collections.abc` where needed."""
        if "collections" not in module.code:
            return module, []
        compat = context.min_python < HAS_ABC  # Python 2 has no collections.abc: write the fallback form
        module_ok = (
            (not compat or COMPAT_NAME not in module.code)
            and cst_binds_only_module(module, "collections")
            and any(_is_plain_collections_import(statement) for statement in module.body)
        )
        transformer = _Transformer(ID, context, module_ok, compat)
        new_module, changes = run_transformer(module, transformer)
        if transformer.needs_abc_import and compat:
            new_module = new_module.visit(_AddAbcImport(_COMPAT_ALIAS))
        elif transformer.needs_abc_import and not _imports_collections_abc(new_module):
            new_module = new_module.visit(_AddAbcImport())
        return new_module, changes


def _is_plain_collections_import(statement: cst.CSTNode) -> bool:
    """A top-level line `import collections`."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Import)
        and [dotted_name(a.name) for a in statement.body[0].names] == ["collections"]
        and statement.body[0].names[0].asname is None
    )


def _imports_collections_abc(module: cst.Module) -> bool:
    return any(
        isinstance(node, cst.Import)
        and any(dotted_name(a.name) == "collections.abc" and a.asname is None for a in node.names)
        for node in iter_nodes(module)
    )


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, module_ok: bool, compat: bool = False) -> None:
        super().__init__(codemod_id, context)
        self.module_ok = module_ok
        self.compat = compat
        self.needs_abc_import = False
        self.fallbacks: list[bool] = []  # per enclosing try: whether it catches ImportError (or everything)

    def visit_Try(self, node: cst.Try) -> None:
        caught: set[str] = set()
        for handler in node.handlers:
            if handler.type is None:
                caught.add("BaseException")
            elif isinstance(handler.type, cst.Tuple):
                caught |= {dotted_name(e.value) for e in handler.type.elements}
            else:
                caught.add(dotted_name(handler.type))
        self.fallbacks.append(bool(caught & _FALLBACK_ERRORS))

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        self.fallbacks.pop()
        return updated_node

    def _in_fallback(self) -> bool:
        return any(self.fallbacks)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.BaseStatement]:
        if len(updated_node.body) != 1 or not isinstance(updated_node.body[0], cst.ImportFrom):
            return updated_node
        small = updated_node.body[0]
        if (
            small.relative
            or small.module is None
            or dotted_name(small.module) != "collections"
            or isinstance(small.names, cst.ImportStar)
        ):
            return updated_node
        moved = [a for a in small.names if a.evaluated_name in ABCS]
        if not moved or self._in_fallback():
            return updated_node
        stay = [a for a in small.names if a.evaluated_name not in ABCS]
        self.record(original_node, f"{', '.join(a.evaluated_name for a in moved)} imported from collections.abc")
        if self.compat:
            return self._fallback(updated_node, small, moved, stay)
        last_comma = small.names[-1].comma  # a parenthesised list keeps its layout: `,` + newline before `)`
        moved[-1] = moved[-1].with_changes(comma=last_comma)
        abc_line = updated_node.with_changes(
            body=[small.with_changes(module=cst.parse_expression("collections.abc"), names=moved)]
        )
        if not stay:
            return abc_line
        stay[-1] = stay[-1].with_changes(comma=last_comma)
        return cst.FlattenSentinel(
            [updated_node.with_changes(body=[small.with_changes(names=stay)]), abc_line.with_changes(leading_lines=[])]
        )

    def _fallback(
        self,
        line: cst.SimpleStatementLine,
        small: cst.ImportFrom,
        moved: list[cst.ImportAlias],
        stay: list[cst.ImportAlias],
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.BaseStatement]:
        """`try: from collections.abc import X` / `except ImportError: from collections import X`."""
        names = ", ".join(
            f"{a.evaluated_name} as {a.evaluated_alias}" if a.evaluated_alias else a.evaluated_name for a in moved
        )
        fallback = cst.parse_statement(
            f"try:\n    from collections.abc import {names}\n"
            f"except ImportError:  # pragma: no cover (Python 2)\n    from collections import {names}\n"
        )
        if not stay:
            return cst.FlattenSentinel([fallback.with_changes(leading_lines=line.leading_lines)])
        assert not isinstance(small.names, cst.ImportStar)  # checked by the caller
        stay = [*stay[:-1], stay[-1].with_changes(comma=small.names[-1].comma)]
        kept = line.with_changes(body=[small.with_changes(names=stay)])
        return cst.FlattenSentinel([kept, fallback])

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if (
            not (
                self.module_ok
                and updated_node.attr.value in ABCS
                and isinstance(updated_node.value, cst.Name)
                and updated_node.value.value == "collections"
            )
            or self._in_fallback()
        ):
            return updated_node
        self.needs_abc_import = True
        module = COMPAT_NAME if self.compat else "collections.abc"
        self.record(
            original_node, f"`collections.{updated_node.attr.value}` spelled `{module}.{updated_node.attr.value}`"
        )
        return updated_node.with_changes(value=cst.parse_expression(module))


class _AddAbcImport(cst.CSTTransformer):
    """Add `import collections.abc` (or the Python 2 fallback binding `collections_abc`) after the first
    top-level `import collections`."""

    def __init__(self, code: str = "import collections.abc\n") -> None:
        super().__init__()
        self.code = code

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        for index, statement in enumerate(body):
            if _is_plain_collections_import(statement):
                body.insert(index + 1, cst.parse_statement(self.code))
                return updated_node.with_changes(body=body)
        return updated_node
