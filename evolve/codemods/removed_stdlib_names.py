"""Standard-library names Python removed, spelled the way that still exists (What's New 3.8-3.13, "Removed").

One rule per name (the `RENAMES` table), each a mechanical rename with the same behaviour:

- module attributes, where the module is bound only by `import m`: `base64.encodestring` -> `encodebytes`,
  `base64.decodestring` -> `decodebytes` (3.9), `locale.format` -> `locale.format_string` (3.12),
  `configparser.SafeConfigParser` -> `ConfigParser` (3.12); `from m import old` keeps its local name
  (`from base64 import encodebytes as encodestring`);
- `import xml.etree.cElementTree as ET` -> `xml.etree.ElementTree` (3.9);
- `unittest.makeSuite(C)` / `unittest.findTestCases(m)` -> `unittest.defaultTestLoader.loadTestsFrom...` (3.13);
- methods, by their unmistakable names: `.isAlive()` -> `.is_alive()` (threads, 3.9), `.getchildren()` ->
  `list(...)` (ElementTree elements, 3.9), `.getiterator(...)` -> `.iter(...)` (3.9), `.readfp(f)` ->
  `.read_file(f)` (config parsers, 3.12), and, in a module that imports `array`, `.tostring()` -> `.tobytes()` (3.9).

Each rule applies only where every Python the project declares has the new name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from evolve.codemods.ast_scan import binds_only_module, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, dotted_name, run_transformer

ID = "removed-stdlib-names"


@dataclass(frozen=True)
class Rename:
    """`module.old` (or the method `.old` when `module` is empty) is spelled `new` since `since`."""

    module: str
    old: str
    new: str
    since: tuple[int, int]
    removed_in: tuple[int, int]
    arguments: int | None = None  # methods: only calls with this many positional arguments (None: any)
    needs_import: str | None = None  # methods: only in a module that imports this one


RENAMES = (
    Rename("base64", "encodestring", "encodebytes", (3, 1), (3, 9)),
    Rename("base64", "decodestring", "decodebytes", (3, 1), (3, 9)),
    Rename("locale", "format", "format_string", (2, 7), (3, 12)),
    Rename("configparser", "SafeConfigParser", "ConfigParser", (3, 2), (3, 12)),
    Rename("", "isAlive", "is_alive", (2, 6), (3, 9), arguments=0),
    Rename("", "getiterator", "iter", (2, 7), (3, 9)),
    Rename("", "readfp", "read_file", (3, 2), (3, 12)),
    Rename("", "tostring", "tobytes", (3, 2), (3, 9), arguments=0, needs_import="array"),
)
GETCHILDREN_SINCE = (2, 5)  # xml.etree joined the standard library in 2.5
# `unittest.makeSuite(C)` / `unittest.findTestCases(m)` (removed in 3.13): the default loader's methods, which they
# called with the same defaults (one positional argument only: a prefix or sort function has no such spelling).
LOADER_CALLS = {"makeSuite": "loadTestsFromTestCase", "findTestCases": "loadTestsFromModule"}
CELEMENTTREE = ("xml.etree.cElementTree", "xml.etree.ElementTree")


def _applicable(context: CodemodContext) -> tuple[Rename, ...]:
    return tuple(rename for rename in RENAMES if context.min_python >= rename.since)


def _imports(tree: ast.Module, module: str) -> bool:
    return any(
        (isinstance(node, ast.Import) and any(a.name.split(".")[0] == module for a in node.names))
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == module and not node.level)
        for node in ast.walk(tree)
    )


def _method_rename(name: str, arguments: int, renames: tuple[Rename, ...], imported: set[str]) -> Rename | None:
    for rename in renames:
        if rename.module or rename.old != name:
            continue
        if rename.arguments is not None and rename.arguments != arguments:
            continue
        if rename.needs_import and rename.needs_import not in imported:
            continue
        return rename
    return None


class RemovedStdlibNames(Codemod):
    """Spell removed standard-library names the way that still exists."""

    metadata = CodemodMetadata(
        id=ID,
        title="Replace standard-library names that Python removed",
        theme="deprecations",
        rationale="Python 3.9 and 3.12 removed these aliases (`base64.encodestring`, `Thread.isAlive`, "
        "`Element.getchildren`, `SafeConfigParser`, `readfp`, `locale.format`, `cElementTree`, `array.tostring`): "
        "code that uses them fails with AttributeError or ImportError there.",
        risk="low",
        benefit="defect",
        # pylint's deprecated-module / -method / -class report these names; no ruff rule does. A line that
        # silences one of them with a noqa comment naming the code (the protection every codemod honours) is left alone.
        lint_codes=("W4901", "W4902", "W4904"),
        min_target_python=(2, 5),  # each rule names the Python its new spelling needs (`Rename.since`)
        review_guidance="Each new name is the one the old name forwarded to (What's New lists them); a method is "
        "renamed only under its unmistakable name and arity. A rule applies only where every declared Python "
        "has the new name.",
        references=(
            "https://docs.python.org/3/whatsnew/3.9.html#removed",
            "https://docs.python.org/3/whatsnew/3.12.html#removed",
        ),
    )
    examples = (
        Example(
            "import base64\n\ndata = base64.encodestring(raw)\nback = base64.decodestring(data)\n",
            "import base64\n\ndata = base64.encodebytes(raw)\nback = base64.decodebytes(data)\n",
        ),
        Example(
            "from base64 import decodestring\n\nback = decodestring(data)\n",
            "from base64 import decodebytes as decodestring\n\nback = decodestring(data)\n",
        ),
        Example("if worker.isAlive():\n    worker.join()\n", "if worker.is_alive():\n    worker.join()\n"),
        Example("for child in node.getchildren():\n    pass\n", "for child in list(node):\n    pass\n"),
        Example("items = tree.getiterator('item')\n", "items = tree.iter('item')\n"),
        Example(
            "import configparser\n\nparser = configparser.SafeConfigParser()\nparser.readfp(stream)\n",
            "import configparser\n\nparser = configparser.ConfigParser()\nparser.read_file(stream)\n",
        ),
        Example(
            "from configparser import SafeConfigParser\n",
            "from configparser import ConfigParser as SafeConfigParser\n",
        ),
        Example(
            "import locale\n\ntext = locale.format('%d', n, True)\n",
            "import locale\n\ntext = locale.format_string('%d', n, True)\n",
        ),
        Example(
            "import xml.etree.cElementTree as ET\n",
            "import xml.etree.ElementTree as ET\n",
        ),
        Example(
            "from xml.etree.cElementTree import fromstring\n",
            "from xml.etree.ElementTree import fromstring\n",
        ),
        Example("import array\n\nraw = values.tostring()\n", "import array\n\nraw = values.tobytes()\n"),
        Example(
            "import unittest\n\nsuite = unittest.TestSuite()\nsuite.addTest(unittest.makeSuite(SpecTests))\n",
            "import unittest\n\nsuite = unittest.TestSuite()\n"
            "suite.addTest(unittest.defaultTestLoader.loadTestsFromTestCase(SpecTests))\n",
        ),
    )
    valid = (
        "raw = ET.tostring(root)\n",  # ElementTree's function, not array's method
        "raw = values.tostring()\n",  # no `array` import: numpy or anything else
        "alive = worker.isAlive(timeout)\n",  # not Thread.isAlive's arity
        "base64 = load()\nbase64.encodestring(x)\n",  # not the module
        "import xml.etree.cElementTree\n",  # the dotted name is used as-is below; left to a person
        "import locale\nlocale.format_string('%d', 1)\n",
        "import unittest\nsuite = unittest.makeSuite(T, 'check')\n",  # a prefix: no one-to-one spelling
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find uses of the removed names that a rename fixes."""
        renames = _applicable(context)
        imported = {
            rename.needs_import for rename in renames if rename.needs_import and _imports(tree, rename.needs_import)
        }
        modules = {rename.module for rename in renames if rename.module and binds_only_module(tree, rename.module)}
        loaders = {"unittest"} if binds_only_module(tree, "unittest") else set()
        found = []
        for node, symbol in walk_with_symbol(tree):
            what = None
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                if any(r.module == node.value.id and r.old == node.attr for r in renames):
                    what = f"{node.value.id}.{node.attr}"
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module == CELEMENTTREE[0] or any(
                    r.module == node.module and r.old in {a.name for a in node.names} for r in renames
                ):
                    what = f"from {node.module} import"
            elif isinstance(node, ast.Import) and any(a.name == CELEMENTTREE[0] and a.asname for a in node.names):
                what = CELEMENTTREE[0]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords:
                name = node.func.attr
                if (
                    name in LOADER_CALLS
                    and len(node.args) == 1
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "unittest"
                    and "unittest" in loaders
                ):
                    what = f"unittest.{name}"
                elif name == "getchildren" and not node.args and context.min_python >= GETCHILDREN_SINCE:
                    what = ".getchildren()"
                elif _method_rename(name, len(node.args), renames, imported) and not (
                    isinstance(node.func.value, ast.Name) and node.func.value.id in {"ET", "etree", "ElementTree"}
                ):
                    what = f".{name}()"
            if what and isinstance(node, (ast.stmt, ast.expr)):
                found.append(Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"removed `{what}`"))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rename what `detect` found."""
        tree = ast.parse(module.code)
        renames = _applicable(context)
        imported = {
            rename.needs_import for rename in renames if rename.needs_import and _imports(tree, rename.needs_import)
        }
        modules = {rename.module for rename in renames if rename.module and binds_only_module(tree, rename.module)}
        if binds_only_module(tree, "unittest"):
            modules.add("unittest")
        return run_transformer(module, _Transformer(ID, context, renames, imported, modules))


class _Transformer(RecordingTransformer):
    def __init__(
        self,
        codemod_id: str,
        context: CodemodContext,
        renames: tuple[Rename, ...],
        imported: set[str],
        modules: set[str],
    ) -> None:
        super().__init__(codemod_id, context)
        self.renames, self.imported, self.modules = renames, imported, modules

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if not (isinstance(updated_node.value, cst.Name) and updated_node.value.value in self.modules):
            return updated_node
        for rename in self.renames:
            if rename.module == updated_node.value.value and rename.old == updated_node.attr.value:
                self.record(original_node, f"`{rename.module}.{rename.old}` spelled `{rename.module}.{rename.new}`")
                return updated_node.with_changes(attr=cst.Name(rename.new))
        return updated_node

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if updated_node.relative or updated_node.module is None or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        module = dotted_name(updated_node.module)
        if module == CELEMENTTREE[0]:
            self.record(original_node, f"`{CELEMENTTREE[0]}` is `{CELEMENTTREE[1]}`")
            return updated_node.with_changes(module=cst.parse_expression(CELEMENTTREE[1]))
        names = []
        for alias in updated_node.names:
            rename = next((r for r in self.renames if r.module == module and r.old == alias.evaluated_name), None)
            if rename is None:
                names.append(alias)
                continue
            local = alias.asname if alias.asname is not None else cst.AsName(name=cst.Name(rename.old))
            self.record(original_node, f"`{rename.old}` imported as `{module}.{rename.new}`")
            names.append(alias.with_changes(name=cst.Name(rename.new), asname=local))
        return updated_node.with_changes(names=names)

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        names = []
        for alias in updated_node.names:
            if dotted_name(alias.name) == CELEMENTTREE[0] and alias.asname is not None:
                self.record(original_node, f"`{CELEMENTTREE[0]}` is `{CELEMENTTREE[1]}`")
                alias = alias.with_changes(name=cst.parse_expression(CELEMENTTREE[1]))
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if not isinstance(func, cst.Attribute) or any(arg.keyword or arg.star for arg in updated_node.args):
            return updated_node
        name = func.attr.value
        if (
            name in LOADER_CALLS
            and len(updated_node.args) == 1
            and isinstance(func.value, cst.Name)
            and func.value.value == "unittest"
            and "unittest" in self.modules
        ):
            self.record(original_node, f"`unittest.{name}` spelled with the default test loader")
            loader = cst.parse_expression(f"unittest.defaultTestLoader.{LOADER_CALLS[name]}")
            return updated_node.with_changes(func=loader)
        if name == "getchildren" and not updated_node.args and self.context.min_python >= GETCHILDREN_SINCE:
            self.record(original_node, "`.getchildren()` spelled `list(...)`")
            return cst.Call(func=cst.Name("list"), args=[cst.Arg(func.value)])
        if isinstance(func.value, cst.Name) and func.value.value in {"ET", "etree", "ElementTree"}:
            return updated_node
        rename = _method_rename(name, len(updated_node.args), self.renames, self.imported)
        if rename is None:
            return updated_node
        self.record(original_node, f"`.{rename.old}()` spelled `.{rename.new}()`")
        return updated_node.with_changes(func=func.with_changes(attr=cst.Name(rename.new)))
