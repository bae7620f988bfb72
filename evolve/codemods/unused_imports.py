"""Remove imports whose names are certainly never used and whose removal cannot change behaviour (F401).

Importing runs the imported module: a package may install an import hook, register plugins or patch
things on import. So only an import that is provably free of such effects is removed: a standard-library
module that does nothing on import, or any import under `if TYPE_CHECKING:` (never executed). Everything
else — third-party and first-party modules, relative imports — stays, even when its name is unused.
"""

from __future__ import annotations

import ast
import doctest
import re
import sys
from collections.abc import Sequence

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import (
    RecordingTransformer,
    dotted_name,
    drop_statements,
    iter_nodes,
    name_references,
    run_transformer,
)

ID = "unused-imports"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_COMMENT = re.compile(r"#\s*type:(.*)$", re.MULTILINE)
_DOCTESTS = doctest.DocTestParser()
# Modules calling these may look names up dynamically: nothing is certainly unused there.
_DYNAMIC = frozenset({"globals", "locals", "vars", "eval", "exec", "__getattr__"})
_TRY_AST = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
# Standard-library modules whose import does something (prints, installs readline, runs site hooks...).
_STDLIB_WITH_EFFECTS = frozenset(
    {
        "antigravity",
        "this",
        "readline",
        "rlcompleter",
        "site",
        "sitecustomize",
        "usercustomize",
        "__hello__",
        "__phello__",
        "idlelib",
        "turtledemo",
        "encodings",
        "__main__",
        "builtins",
    }
)


def import_has_no_effects(module: str | None, level: int, type_checking_only: bool) -> bool:
    """Whether removing an import of `module` cannot change what the program does."""
    if type_checking_only:
        return True  # `if TYPE_CHECKING:` bodies never run
    if level or not module:
        return False  # the repository's own modules may register things on import
    top = module.split(".")[0]
    return top in sys.stdlib_module_names and top not in _STDLIB_WITH_EFFECTS


def _is_type_checking_test(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class UnusedImports(Codemod):
    """Delete unused imports, but only where nothing could still reach the name."""

    metadata = CodemodMetadata(
        id=ID,
        title="Remove unused imports",
        theme="cleanup",
        rationale="Unused imports slow start-up, hide real dependencies and confuse readers.",
        risk="medium",
        review_guidance="Only standard-library imports without import-time effects (and anything under "
        "`if TYPE_CHECKING:`) are removed: third-party, first-party and relative imports may install hooks or "
        "register plugins and always stay. Also kept: package `__init__` files, `__all__` entries, `import x as x` "
        "re-exports, imports inside try/except, `__future__`, `# noqa`, names mentioned in strings or type "
        "comments, modules using globals()/eval. Check that no other module imports the removed name from this one.",
        benefit="cleanup",
        min_target_python=(2, 7),
        references=("https://docs.astral.sh/ruff/rules/unused-import/", "https://peps.python.org/pep-0484/#stub-files"),
        lint_codes=("F401", "pylint:unused-import", "pylint:W0611"),
    )
    examples = (
        Example("import os\nimport sys\nprint(sys.argv)\n", "import sys\nprint(sys.argv)\n"),
        Example("from os import sep, getcwd, path\ngetcwd()\n", "from os import getcwd\ngetcwd()\n"),
        Example(
            "from os import (\n    sep,\n    getcwd,\n)\ngetcwd()\n", "from os import (\n    getcwd,\n)\ngetcwd()\n"
        ),
        Example("import os  # noqa: E501\nx = 1\n", "x = 1\n"),  # a noqa for another rule
        Example("import json\n# the parser\nimport re\nx = 1\n", "# the parser\nx = 1\n"),
        Example(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from m import Unused\nx: TYPE_CHECKING = 1\n",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nx: TYPE_CHECKING = 1\n",
        ),
        Example("import os.path, sys\nsys.exit()\n", "import sys\nsys.exit()\n"),
        Example("def f():\n    import os\n    return 1\n", "def f():\n    return 1\n"),
    )
    valid = (
        "from __future__ import annotations\n",
        "from a import b as b\nimport c as c\n",
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
        "import xml.etree\nxml.dom\n",
        "from typing import List\nx: 'List[int]' = []\n",
        "from typing import List\nx = []  # type: List[int]\n",
        "from m import helper\n__all__ = ['helper']\n",
        "from m import helper\nfrom n import __all__\n",
        "from m import thing\nglobals()['thing']()\n",
        "from fixtures import db\ndef test_x(db):\n    assert db\n",
        "import os\ndef f():\n    '''>>> os.sep'''\n",
        "from m import *\n",
        "import statemachine\n",  # a third-party import may install an import hook: never removed
        "from statemachine import State\n",
        "from . import signals\n",  # the package's own modules may register things on import
        "import readline\n",  # a standard-library module with an import-time effect
        "import os  # noqa: F401\n",
        "import os  # noqa\n",
        "import os  # nosec\n",
        "# deliberate: keeps the codec registered\nimport codecs\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find import aliases binding names that nothing in the module can reach."""
        if "import" not in source or _is_package_init(context):
            return []
        used = _used_names_ast(tree, source)
        if used is None:
            return []
        protected = {id(inner) for node in ast.walk(tree) if isinstance(node, _TRY_AST) for inner in ast.walk(node)}
        type_checking = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and _is_type_checking_test(node.test)
            for statement in node.body
            for inner in ast.walk(statement)
        }
        found = []
        for node, symbol in walk_with_symbol(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in protected:
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            for alias in node.names:
                module = node.module if isinstance(node, ast.ImportFrom) else alias.name
                level = node.level if isinstance(node, ast.ImportFrom) else 0
                if (
                    alias.name != "*"
                    and alias.asname != alias.name
                    and _local_name(alias.name, alias.asname) not in used
                    and import_has_no_effects(module, level, id(node) in type_checking)
                ):
                    found.append(
                        Occurrence(
                            node.lineno,
                            node.end_lineno or node.lineno,
                            symbol,
                            f"unused import `{alias.asname or alias.name}`",
                        )
                    )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Remove the unused aliases, and the import statements left empty."""
        if _is_package_init(context):
            return module, []
        return remove_unused_imports(module, context)


def remove_unused_imports(
    module: cst.Module, context: CodemodContext, codemod_id: str = ID, only: frozenset[str] | None = None
) -> tuple[cst.Module, list[Change]]:
    """Remove unused import aliases (only those binding names in `only`, when given); shared with other codemods."""
    if _is_package_init(context):
        return module, []
    # Names another codemod's own edit left unused: a word in prose or test data ("x: List[int] = ...") does not keep
    # them, only a string that is code (a forward reference, a doctest, an `__all__` entry).
    used = used_names_cst(module, strings_as_code=only is not None)
    if used is None:
        return module, []
    return run_transformer(module, _Transformer(codemod_id, context, used, only))


def _is_package_init(context: CodemodContext) -> bool:
    """Package `__init__` files and compatibility shims (`compat.py`, `_compat.py`, `compatibility.py`…):
    their imports are the interface other code imports from, whether or not `__all__` lists them."""
    name = context.path.replace("\\", "/").rsplit("/", 1)[-1]
    return context.is_package_init or name == "__init__.py" or "compat" in name.lower()


def _local_name(name: str, asname: str | None) -> str:
    return asname or name.split(".")[0]


def _used_names_ast(tree: ast.Module, source: str) -> set[str] | None:
    """Every identifier that may refer to an import, or None when the module is too dynamic to tell."""
    used: set[str] = set()
    all_names = all_literal = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
            all_names += node.id == "__all__"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            used.add(node.name)
        elif isinstance(node, ast.arg):
            used.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            used.update(node.names)
        elif (isinstance(node, ast.ExceptHandler) and node.name) or (
            isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name
        ):
            used.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            used.add(node.rest)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used.update(_WORD.findall(node.value))
        elif isinstance(node, ast.alias) and "__all__" in (node.name, node.asname):
            return None
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and _is_literal_all_ast(node):
            all_literal += 1
    for match in _TYPE_COMMENT.finditer(source):
        used.update(_WORD.findall(match.group(1)))
    if used & _DYNAMIC or all_names > all_literal:
        return None
    return used


def _is_literal_all_ast(node: ast.Assign | ast.AugAssign | ast.AnnAssign) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not (len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == "__all__"):
        return False
    value = node.value
    return isinstance(value, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
    )


def _string_words(node: cst.SimpleString) -> list[str]:
    try:
        value = node.evaluated_value
    except Exception:
        value = node.value
    return _WORD.findall(value) if isinstance(value, str) else []


def _is_literal_all_cst(target: cst.BaseExpression, value: cst.BaseExpression | None) -> bool:
    if not (isinstance(target, cst.Name) and target.value == "__all__" and isinstance(value, (cst.List, cst.Tuple))):
        return False
    return all(
        isinstance(e.value, cst.SimpleString) and isinstance(e.value.evaluated_value, str) for e in value.elements
    )


def _string_code_names(node: cst.SimpleString) -> set[str]:
    """The names a string uses if it is code: an expression (a forward reference, an `__all__` entry) or a
    docstring's doctest examples. Prose and other text use none."""
    try:
        value = node.evaluated_value
    except Exception:
        return set(_WORD.findall(node.value))  # cannot tell: every word counts
    if not isinstance(value, str):
        return set()
    if ">>>" not in value:
        if len(value) > 1000:
            return set()  # data, not a forward reference
        sources, mode = [value.strip()], "eval"
    else:
        try:
            sources, mode = [example.source for example in _DOCTESTS.get_examples(value)], "exec"
        except ValueError:  # a docstring doctest cannot read: every word counts
            return set(_WORD.findall(value))
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source, mode=mode)
        except (SyntaxError, ValueError):
            if mode == "exec":
                names.update(_WORD.findall(source))  # a doctest line that does not parse may still use anything
            continue
        names.update(inner.id for inner in ast.walk(tree) if isinstance(inner, ast.Name))
    return names


def used_names_cst(module: cst.Module, strings_as_code: bool = False) -> set[str] | None:
    """Every identifier that may refer to an import, or None when the module is too dynamic to tell.

    Every word of every string counts, unless `strings_as_code`: then only the names of strings that are code."""
    references = name_references(module)
    used = set(references)
    all_literal = 0
    for node in iter_nodes(module):
        if isinstance(node, cst.SimpleString):
            used.update(_string_code_names(node) if strings_as_code else _string_words(node))
        elif isinstance(node, cst.FormattedStringText):
            if not strings_as_code:
                used.update(_WORD.findall(node.value))
        elif isinstance(node, cst.Comment):
            match = _TYPE_COMMENT.search(node.value)
            if match:
                used.update(_WORD.findall(match.group(1)))
        elif isinstance(node, cst.ImportAlias) and "__all__" in (node.evaluated_name, node.evaluated_alias):
            return None
        elif isinstance(node, cst.Assign) and len(node.targets) == 1:
            all_literal += _is_literal_all_cst(node.targets[0].target, node.value)
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign)):
            all_literal += _is_literal_all_cst(node.target, node.value)
    # A call of eval/globals() makes every name reachable; a string that only mentions one (test data such as
    # "exec(x, end=y)") does not, when strings are read as code.
    dynamic = set(references) if strings_as_code else used
    if dynamic & _DYNAMIC or references.get("__all__", 0) > all_literal:
        return None
    return used


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, used: set[str], only: frozenset[str] | None) -> None:
        super().__init__(codemod_id, context)
        self.used, self.only = used, only
        self.try_depth = 0
        self.type_checking_depth = 0

    def visit_If(self, node: cst.If) -> None:
        if _is_type_checking_cst(node.test):
            self.type_checking_depth += 1

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If:
        if _is_type_checking_cst(original_node.test):
            self.type_checking_depth -= 1
        return updated_node

    def visit_Try(self, node: cst.Try) -> None:
        self.try_depth += 1

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        self.try_depth -= 1
        return updated_node

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self.try_depth += 1

    def leave_TryStar(self, original_node: cst.TryStar, updated_node: cst.TryStar) -> cst.TryStar:
        self.try_depth -= 1
        return updated_node

    def _unused(self, alias: cst.ImportAlias, statement: cst.Import | cst.ImportFrom) -> bool:
        name, asname = alias.evaluated_name, alias.evaluated_alias
        local = _local_name(name, asname)
        if asname == name or local in self.used or (self.only is not None and local not in self.only):
            return False
        if isinstance(statement, cst.ImportFrom):
            module = dotted_name(statement.module) if statement.module is not None else None
            level = len(statement.relative)
        else:
            module, level = name, 0
        return import_has_no_effects(module, level, self.type_checking_depth > 0)

    def _prune(self, original: cst.CSTNode, line: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        """The line with unused aliases removed (its body may end up empty)."""
        body: list[cst.BaseSmallStatement] = []
        for small in line.body:
            if not isinstance(small, (cst.Import, cst.ImportFrom)) or isinstance(small.names, cst.ImportStar):
                body.append(small)
                continue
            if (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and dotted_name(small.module) == "__future__"
            ):
                body.append(small)
                continue
            kept = [alias for alias in small.names if not self._unused(alias, small)]
            for alias in small.names:
                if self._unused(alias, small):
                    self.record(original, f"removed unused import `{alias.evaluated_alias or alias.evaluated_name}`")
            if kept:
                body.append(small.with_changes(names=_fix_commas(kept, small)))
        if body and len(body) < len(line.body):
            body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return line.with_changes(body=body)

    def _prune_block(
        self,
        original_body: Sequence[cst.BaseStatement],
        body: Sequence[cst.BaseStatement],
        footer: Sequence[cst.EmptyLine],
    ) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
        if self.try_depth:
            return list(body), list(footer)
        new_body: list[cst.BaseStatement] = list(body)
        doomed: set[int] = set()
        for index, (before, statement) in enumerate(zip(original_body, body)):
            if (
                isinstance(statement, cst.SimpleStatementLine)
                and not self.is_protected(before)
                and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)
            ):
                pruned = self._prune(before, statement)
                new_body[index] = pruned
                if not pruned.body:
                    doomed.add(index)
        return drop_statements(new_body, doomed, footer)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body, footer = self._prune_block(original_node.body, updated_node.body, updated_node.footer)
        return updated_node.with_changes(body=body, footer=footer)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body, footer = self._prune_block(original_node.body, updated_node.body, updated_node.footer)
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=footer)]
            footer = []
        return updated_node.with_changes(body=body, footer=footer)


def _is_type_checking_cst(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Name) and test.value == "TYPE_CHECKING") or (
        isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"
    )


def _fix_commas(kept: list[cst.ImportAlias], statement: cst.Import | cst.ImportFrom) -> list[cst.ImportAlias]:
    """Without parentheses a trailing comma is a syntax error: the last kept alias loses its comma."""
    parenthesized = isinstance(statement, cst.ImportFrom) and statement.lpar is not None
    if parenthesized or isinstance(kept[-1].comma, cst.MaybeSentinel):
        return kept
    return [*kept[:-1], kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
