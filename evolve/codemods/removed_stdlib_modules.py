"""Uses of standard-library modules Python removed (`imp`, `distutils`, `cgi`, `pipes`, 3.12-3.13) and of removed
functions of modules that stay (`inspect.getargspec`, `ssl.wrap_socket`, 3.11-3.12), rewritten where a recipe keeps
the behaviour (the table: evolve/codemods/removed_modules_table.py; the analysis: removed_module_uses.py).

`from pipes import quote` becomes `from shlex import quote` (with an `except ImportError:` fallback where the project
still declares a Python without the new name); a removed function with no one-line equivalent (`strtobool`,
`cgi.parse_header`, `imp.load_source`, `ssl.wrap_socket`) becomes a private copy in the module, under the name the
module imported it as. Where a use has no recipe (`cgi.FieldStorage`, `asyncore`, `LooseVersion`) the file is left as
it is and `declines` says why, with the line, and names the drop-in distribution to declare where there is one.
"""

from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, dotted_name, run_transformer
from evolve.codemods.imports import insert_stdlib_import, is_future_or_docstring, is_import_line
from evolve.codemods.removed_module_uses import Analysis, Declined, ImportEdit, Use, analyse
from evolve.codemods.removed_modules_table import HELPERS

ID = "removed-stdlib-modules"


class RemovedStdlibModules(Codemod):
    """Replace uses of removed standard-library modules and functions where a recipe keeps the behaviour."""

    metadata = CodemodMetadata(
        id=ID,
        title="Replace standard-library modules and functions that Python removed",
        theme="deprecations",
        rationale="Python 3.11-3.13 removed `imp`, `distutils`, `cgi`, `pipes`, `inspect.getargspec` and "
        "`ssl.wrap_socket`: a module that imports them fails with ImportError there, a call with AttributeError.",
        risk="low",
        benefit="defect",
        lint_codes=("W4901", "W4902"),  # pylint's deprecated-module / deprecated-method
        min_target_python=(2, 0),  # each recipe names the Python its new spelling needs
        review_guidance="Each replacement is the one What's New, PEP 594 or PEP 632 names, or a private copy of the "
        "removed function. A removed module's import goes only when every use of it in the file has a recipe; "
        "otherwise the file stays and the plan says why, with the line.",
        references=(
            "https://docs.python.org/3/whatsnew/3.12.html#removed",
            "https://docs.python.org/3/whatsnew/3.13.html#pep-594-remove-dead-batteries-from-the-standard-library",
            "https://peps.python.org/pep-0632/#migration-advice",
        ),
    )
    examples = (
        Example(
            "from pipes import quote\n\ncommand = quote(path)\n", "from shlex import quote\n\ncommand = quote(path)\n"
        ),
        Example(
            "import pipes\n\ncommand = pipes.quote(path)\n",
            "import shlex\n\ncommand = shlex.quote(path)\n",
        ),
        Example(
            "from pipes import quote\n",
            "try:\n    from shlex import quote\nexcept ImportError:  # pragma: no cover (Python 2)\n"
            "    from pipes import quote\n",
            context=(("min_python", (2, 7)),),
        ),
        Example(
            "import imp\n\nimp.reload(module)\nplugin = imp.new_module('plugin')\n",
            "import importlib\nimport types\n\nimportlib.reload(module)\nplugin = types.ModuleType('plugin')\n",
        ),
        Example(
            "import os\nimport cgi\n\n\ndef page(text):\n    return cgi.escape(text)\n",
            "import os\nimport html\n\n\ndef page(text):\n    return html.escape(text, quote=False)\n",
        ),
        Example(  # cgi.escape(s, True) escaped `"` but not `'`
            "import cgi\n\nattribute = cgi.escape(value, True)\n",
            "import html\n\nattribute = html.escape(value, quote=False).replace('\"', '&quot;')\n",
        ),
        Example(
            "from distutils.spawn import find_executable\n\ngit = find_executable('git')\n",
            "import shutil\n\ngit = shutil.which('git')\n",
        ),
        Example(
            "from distutils.dir_util import copy_tree\n\ncopy_tree(source, target)\n",
            "import shutil\n\nshutil.copytree(source, target, dirs_exist_ok=True)\n",
        ),
        Example(
            "import os\nfrom distutils.util import strtobool\n\nDEBUG = strtobool(os.environ.get('DEBUG', 'no'))\n",
            "import os\n\n\n" + HELPERS["_strtobool"].strip().replace("def _strtobool", "def strtobool") + "\n\n\n"
            "DEBUG = strtobool(os.environ.get('DEBUG', 'no'))\n",
        ),
        Example(
            "import sys\nfrom cgi import parse_header\n\nPY3 = sys.version_info[0] == 3\n",
            "import sys\n\n\n"
            + HELPERS["_parse_header"].strip().replace("def _parse_header", "def parse_header")
            + "\n\n\nPY3 = sys.version_info[0] == 3\n",
        ),
        Example(
            "import inspect\n\nargs, varargs, keywords, defaults = inspect.getargspec(function)\n"
            "names = inspect.getargspec(function).args\n",
            "import inspect\n\nargs, varargs, keywords, defaults = inspect.getfullargspec(function)[:4]\n"
            "names = inspect.getfullargspec(function).args\n",
        ),
        Example(  # Python 2 declared: the new function under the old name, when only the shared fields are read
            "from inspect import getargspec\n\n\ndef names(func):\n    spec = getargspec(func)\n"
            "    return spec[0][: len(spec[0]) - len(spec[3] or ())]\n",
            "try:\n    from inspect import getfullargspec as getargspec\n"
            "except ImportError:  # pragma: no cover (Python 2)\n    from inspect import getargspec\n\n\n"
            "def names(func):\n    spec = getargspec(func)\n    return spec[0][: len(spec[0]) - len(spec[3] or ())]\n",
            context=(("min_python", (2, 7)),),
        ),
        Example(
            "import distutils.sysconfig\n\nsite = distutils.sysconfig.get_python_lib()\n",
            "import sysconfig\n\nsite = sysconfig.get_paths()['purelib']\n",
        ),
    )
    valid = (
        "try:\n    from shlex import quote\nexcept ImportError:\n    from pipes import quote\n",  # compatibility code
        # One use without a recipe keeps the module's import, so nothing else in the file changes either.
        "import cgi\n\nform = cgi.FieldStorage()\ntext = cgi.escape(form.getvalue('q'))\n",
        "from distutils.version import LooseVersion\n\nok = LooseVersion(v) >= LooseVersion('1.2')\n",
        "import cgi\n\nsafe = cgi.escape(text, quote)\n",  # html.escape(quote=True) also escapes `'`
        "import inspect\n\nspec = inspect.getargspec(f)\n",  # the ArgSpec itself: its `keywords` field is gone
        "import asyncore\n\nasyncore.loop()\n",
        "import sys\nif sys.version_info[0] == 3:\n    from html import escape\nelse:\n    from cgi import escape\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """The uses and imports a recipe rewrites."""
        if not _mentions_removed(source):
            return []
        found = analyse(tree, context.min_python)
        return [Occurrence(line, end, None, f"removed {what}") for line, end, what in found.lines()]

    def declines(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Declined]:
        """The uses left alone, each with the reason (for the plan: no silent refusals)."""
        if not _mentions_removed(source):
            return []
        return analyse(tree, context.min_python).declined

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Apply the analysis: uses, imports, then the imports and helpers the new spellings need."""
        tree = ast.parse(module.code)
        found = analyse(tree, context.min_python)
        if not found.uses and not found.edits:
            return module, []
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        transformer = _Transformer(ID, context, found, wrapper.resolve(PositionProvider), module)
        # A top-level import line that goes entirely takes the first import the new spellings need, in place.
        transformer.pending = sorted(found.imports - _module_imports(tree))
        new_module, changes = run_transformer(wrapper.module, transformer)
        if not changes:
            return module, []
        for line in transformer.pending:
            new_module = insert_stdlib_import(new_module, line)
        if found.helpers:
            new_module = _add_helpers(new_module, found.helpers)
        return new_module, changes


_REMOVED_WORDS = (
    "imp",
    "distutils",
    "cgi",
    "pipes",
    "getargspec",
    "formatargspec",
    "wrap_socket",
    "asyncore",
    "asynchat",
    "smtpd",
    "telnetlib",
    "match_hostname",
)


def _mentions_removed(source: str) -> bool:
    """A cheap filter before the analysis: most files name none of these."""
    return "import" in source and any(word in source for word in _REMOVED_WORDS)


def _module_imports(tree: ast.Module) -> set[str]:
    """`import x` lines at the top level of the module, as text."""
    return {
        f"import {alias.name}"
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.asname is None
    }


def _helper_statements(name: str, as_name: str) -> list[cst.BaseStatement]:
    source = HELPERS[name].strip() + "\n"
    parsed = cst.parse_module(source)
    statements: list[cst.BaseStatement] = list(parsed.body)
    first = statements[0]
    assert isinstance(first, cst.FunctionDef)
    blank = [cst.EmptyLine(), cst.EmptyLine()]
    statements[0] = first.with_changes(name=cst.Name(as_name), leading_lines=blank)
    return statements


def _add_helpers(module: cst.Module, helpers: dict[str, str]) -> cst.Module:
    """The helpers after the module's leading imports (before anything that could call them at import time)."""
    body = list(module.body)
    position = 0
    while position < len(body) and (is_future_or_docstring(body[position]) or is_import_line(body[position])):
        position += 1
    added: list[cst.BaseStatement] = []
    for name, as_name in sorted(helpers.items()):
        added += _helper_statements(name, as_name)
    if position < len(body):
        following = body[position]
        lines = list(getattr(following, "leading_lines", ()))
        blank = next((index for index, line in enumerate(lines) if line.comment is not None), len(lines))
        if blank < 2:
            body[position] = following.with_changes(leading_lines=[cst.EmptyLine()] * (2 - blank) + lines)
    return module.with_changes(body=[*body[:position], *added, *body[position:]])


def _render(template: str, call: cst.Call, module: cst.Module) -> cst.BaseExpression:
    args = [module.code_for_node(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)) for arg in call.args]
    positional = [module.code_for_node(arg.value) for arg in call.args]
    return cst.parse_expression(template.replace("{args}", ", ".join(args)).format(*positional))


class _Transformer(RecordingTransformer):
    def __init__(
        self,
        codemod_id: str,
        context: CodemodContext,
        found: Analysis,
        positions: object,
        module: cst.Module,
    ) -> None:
        super().__init__(codemod_id, context)
        self.positions = positions
        self.module = module
        self.pending: list[str] = []
        self.blocks = 0  # how deep in indented blocks: 0 is the module's top level
        self.calls: dict[tuple[int, int, int, int], Use] = {}
        self.references: dict[tuple[int, int, int, int], Use] = {}
        lines = module.code.splitlines()

        def characters(line: int, offset: int) -> int:  # ast counts UTF-8 bytes, LibCST characters
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            return len(text.encode("utf-8")[:offset].decode("utf-8", "replace"))

        for use in found.uses:
            key = (use.line, characters(use.line, use.column), use.end_line, characters(use.end_line, use.end_column))
            (self.calls if use.kind in ("call", "unpack", "with_true") else self.references)[key] = use
        self.edits: dict[tuple[int, str], ImportEdit] = {(edit.line, edit.local): edit for edit in found.edits}

    def _start(self, node: cst.CSTNode) -> tuple[int, int] | None:
        where = self.positions.get(node)  # type: ignore[attr-defined]
        return None if where is None else (where.start.line, where.start.column)

    def _span(self, node: cst.CSTNode) -> tuple[int, int, int, int] | None:
        where = self.positions.get(node)  # type: ignore[attr-defined]
        return None if where is None else (where.start.line, where.start.column, where.end.line, where.end.column)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        span = self._span(original_node.func)
        use = self.calls.get(span) if span else None
        if use is None:
            return updated_node
        template = use.recipe.with_true if use.kind == "with_true" else use.recipe.template
        new = _render(template, updated_node, self.module)
        if use.kind == "unpack":  # `a, b, c, d = getargspec(f)`: the first four fields of the longer value
            new = cst.Subscript(
                new, [cst.SubscriptElement(cst.Slice(lower=None, upper=cst.Integer(str(use.recipe.unpack))))]
            )
        self.record(original_node, f"`{use.name}` spelled `{self.module.code_for_node(new).split('(')[0]}`")
        return new

    def _reference(self, original_node: cst.CSTNode, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        span = self._span(original_node)
        use = self.references.get(span) if span else None
        if use is None or use.recipe.reference is None:
            return updated_node
        self.record(original_node, f"`{use.name}` spelled `{use.recipe.reference}`")
        return cst.parse_expression(use.recipe.reference)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._reference(original_node, updated_node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._reference(original_node, updated_node)

    def _edits_of(self, original_node: cst.Import | cst.ImportFrom) -> list[ImportEdit]:
        start = self._start(original_node)
        if start is None or isinstance(original_node.names, cst.ImportStar):
            return []
        found = []
        for alias in original_node.names:
            local = alias.evaluated_alias or dotted_name(alias.name).split(".")[0]
            edit = self.edits.get((start[0], local))
            if edit is not None:
                found.append(edit)
        return found

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        body: list[cst.BaseSmallStatement] = []
        replaced: list[cst.BaseStatement] = []
        changed = False
        for original, small in zip(original_node.body, updated_node.body):
            if not isinstance(original, (cst.Import, cst.ImportFrom)) or not isinstance(small, type(original)):
                body.append(small)
                continue
            edits = {edit.local: edit for edit in self._edits_of(original)}
            if not edits:
                body.append(small)
                continue
            changed = True
            assert not isinstance(small.names, cst.ImportStar)
            kept = []
            for alias in small.names:
                local = alias.evaluated_alias or dotted_name(alias.name).split(".")[0]
                edit = edits.get(local)
                if edit is None:
                    kept.append(alias)
                    continue
                self.record(original_node, _describe(edit))
                if edit.action == "rename":
                    replaced.append(cst.parse_statement(_rename_text(edit)))
            if kept:
                last = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                body.append(small.with_changes(names=[*kept[:-1], last]))
        if not changed:
            return updated_node
        statements: list[cst.BaseStatement] = []
        if body:
            statements.append(updated_node.with_changes(body=body))
        statements += replaced
        if not statements and self.pending and self.blocks == 0:
            return cst.parse_statement(self.pending.pop(0)).with_changes(leading_lines=updated_node.leading_lines)
        if not statements:
            return cst.RemoveFromParent()
        statements[0] = statements[0].with_changes(leading_lines=updated_node.leading_lines)
        return cst.FlattenSentinel(statements)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks += 1

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.blocks -= 1
        if updated_node.body:
            return updated_node
        return updated_node.with_changes(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def _rename_text(edit: ImportEdit) -> str:
    module, name = edit.target.rsplit(".", 1)
    alias = f" as {edit.local}" if edit.local != name else ""
    line = f"from {module} import {name}{alias}"
    if not edit.fallback:
        return line + "\n"
    old_module, old_name = edit.fallback.rsplit(".", 1)
    old_alias = f" as {edit.local}" if edit.local != old_name else ""
    return (
        f"try:\n    {line}\nexcept ImportError:  # pragma: no cover (Python 2)\n"
        f"    from {old_module} import {old_name}{old_alias}\n"
    )


def _describe(edit: ImportEdit) -> str:
    if edit.action == "rename":
        return f"`{edit.local}` imported from `{edit.target.rsplit('.', 1)[0]}`"
    if edit.action == "define":
        return f"`{edit.target}` (removed) defined in the module as `{edit.local}`"
    return f"import of the removed `{edit.local}` dropped"
