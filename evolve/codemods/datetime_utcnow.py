"""`datetime.utcnow()` / `utcfromtimestamp(t)` -> their exact timezone-aware spelling (deprecated in 3.12).

Python 3.12 deprecates both (DeprecationWarning; suites running with `-W error` fail). The replacement
keeps the result *naive*, exactly as before: `datetime.now(timezone.utc).replace(tzinfo=None)`. Making
the values aware would be better still, but changes what comparisons with other naive values do, so that
is left to a person. Only the module spellings this codemod can resolve are changed: `datetime.datetime.x`
after `import datetime` (any alias), and `datetime.x` after `from datetime import datetime` (the module
then gains `timezone` in that import, unless the name `timezone` is taken).
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import bound_names, imported_from, module_aliases, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, dotted_name, module_bindings, run_transformer

ID = "datetime-utcnow"
METHODS = {"utcnow": 0, "utcfromtimestamp": 1}  # method -> number of positional arguments


class DatetimeUtcnow(Codemod):
    """Replace the deprecated naive-UTC constructors with the spelling Python recommends, keeping the result."""

    metadata = CodemodMetadata(
        id=ID,
        title="Replace `datetime.utcnow()` and `utcfromtimestamp()`",
        theme="deprecations",
        rationale="Deprecated since Python 3.12 (they return naive datetimes that are easy to mistake for local "
        "time); suites that turn warnings into errors fail on them.",
        risk="low",
        lint_codes=("DTZ003", "DTZ004"),
        benefit="deprecation",
        min_target_python=(3, 2),
        review_guidance="The result is still a naive datetime holding UTC, so comparisons and arithmetic behave "
        "as before. Consider dropping `.replace(tzinfo=None)` later to work with aware values.",
        references=(
            "https://docs.python.org/3/library/datetime.html#datetime.datetime.utcnow",
            "https://docs.astral.sh/ruff/rules/call-datetime-utcnow/",
        ),
    )
    examples = (
        Example(
            "import datetime\nstamp = datetime.datetime.utcnow()\n",
            "import datetime\nstamp = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)\n",
        ),
        Example(
            "import datetime as dt\nwhen = dt.datetime.utcfromtimestamp(ts)\n",
            "import datetime as dt\nwhen = dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)\n",
        ),
        Example(
            "from datetime import datetime\nnow = datetime.utcnow()\n",
            "from datetime import datetime, timezone\nnow = datetime.now(timezone.utc).replace(tzinfo=None)\n",
        ),
        Example(
            "from datetime import datetime, timezone\nnow = datetime.utcnow()\n",
            "from datetime import datetime, timezone\nnow = datetime.now(timezone.utc).replace(tzinfo=None)\n",
        ),
    )
    valid = (
        "import datetime\nstamp = datetime.datetime.now(datetime.timezone.utc)\n",
        "from datetime import datetime\ntimezone = 'UTC'\nnow = datetime.utcnow()\n",  # `timezone` is taken
        "import arrow\nnow = arrow.utcnow()\n",
        "stamp = datetime.utcnow()\n",  # nothing says which datetime this is
        "import datetime\nstamp = datetime.datetime.utcnow()  # noqa: DTZ003\n",
        "from datetime import datetime\nnow = datetime.utcfromtimestamp(ts, tz)\n",  # not the deprecated signature
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `utcnow()` / `utcfromtimestamp(t)` on the `datetime` class, spelled in a way this module resolves."""
        if "utc" not in source or "datetime" not in source:
            return []
        modules = module_aliases(tree, "datetime")
        classes = {local for local, name in imported_from(tree, "datetime").items() if name == "datetime"}
        bound, _ = bound_names(tree)
        timezone_free = "timezone" not in bound or imported_from(tree, "datetime").get("timezone") == "timezone"
        found = []
        for node, symbol in walk_with_symbol(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in METHODS):
                continue
            if node.keywords or len(node.args) != METHODS[node.func.attr]:
                continue
            receiver = node.func.value
            via_module = (
                isinstance(receiver, ast.Attribute)
                and receiver.attr == "datetime"
                and isinstance(receiver.value, ast.Name)
                and receiver.value.id in modules
            )
            via_class = isinstance(receiver, ast.Name) and receiver.id in classes and timezone_free
            if via_module or via_class:
                found.append(
                    Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"deprecated `{node.func.attr}()`")
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rewrite the calls, then add `timezone` to `from datetime import datetime` where the class form needs it."""
        bindings = module_bindings(module)
        modules = {
            name for name, nodes in bindings.items() if any(_binds(node, name, "datetime", None) for node in nodes)
        }
        classes = {
            name
            for name, nodes in bindings.items()
            if nodes and all(_binds(node, name, "datetime", "datetime") for node in nodes)
        }
        timezone_nodes = bindings.get("timezone", [])
        timezone_free = all(_binds(node, "timezone", "datetime", "timezone") for node in timezone_nodes)
        transformer = _Transformer(ID, context, modules, classes if timezone_free else set())
        new_module, changes = run_transformer(module, transformer)
        if transformer.needs_timezone and not timezone_nodes:
            new_module = new_module.visit(_AddTimezone())
        return new_module, changes


def _binds(node: cst.CSTNode, local: str, module: str, name: str | None) -> bool:
    """Whether `node` binds `local` to `module` (name None) or to `module.name` via `from module import`."""
    if name is None and isinstance(node, cst.Import):
        return any(dotted_name(a.name) == module and (a.evaluated_alias or module) == local for a in node.names)
    if (
        name is not None
        and isinstance(node, cst.ImportFrom)
        and not node.relative
        and node.module is not None
        and dotted_name(node.module) == module
        and not isinstance(node.names, cst.ImportStar)
    ):
        return any(a.evaluated_name == name and (a.evaluated_alias or name) == local for a in node.names)
    return False


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, modules: set[str], classes: set[str]) -> None:
        super().__init__(codemod_id, context)
        self.modules, self.classes = modules, classes
        self.needs_timezone = False

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in METHODS):
            return updated_node
        args = updated_node.args
        if len(args) != METHODS[func.attr.value] or any(a.keyword is not None or a.star for a in args):
            return updated_node
        receiver = func.value
        if (
            isinstance(receiver, cst.Attribute)
            and receiver.attr.value == "datetime"
            and isinstance(receiver.value, cst.Name)
            and receiver.value.value in self.modules
        ):
            utc = f"{receiver.value.value}.timezone.utc"
        elif isinstance(receiver, cst.Name) and receiver.value in self.classes:
            utc = "timezone.utc"
            self.needs_timezone = True
        else:
            return updated_node
        owner = cst.Module(body=[]).code_for_node(receiver)
        if func.attr.value == "utcnow":
            text = f"{owner}.now({utc}).replace(tzinfo=None)"
        else:
            stamp = cst.Module(body=[]).code_for_node(args[0].value)
            text = f"{owner}.fromtimestamp({stamp}, {utc}).replace(tzinfo=None)"
        self.record(original_node, f"deprecated `{func.attr.value}()` spelled `{text}` (still naive UTC)")
        return cst.parse_expression(text)


class _AddTimezone(cst.CSTTransformer):
    """Add `timezone` to the first `from datetime import ... datetime ...`."""

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if self.done or updated_node.relative or updated_node.module is None:
            return updated_node
        if dotted_name(updated_node.module) != "datetime" or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        names = list(updated_node.names)
        if not any(a.evaluated_name == "datetime" for a in names):
            return updated_node
        self.done = True
        last = names[-1]
        names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        trailing = last.comma if updated_node.lpar is not None else cst.MaybeSentinel.DEFAULT
        names.append(cst.ImportAlias(name=cst.Name("timezone"), comma=trailing))
        return updated_node.with_changes(names=names)
