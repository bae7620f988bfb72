"""`yaml.load(x)` without a Loader -> `yaml.safe_load(x)` (Bandit B506).

Only the plain, loader-less call changes. A module that chooses loaders itself — it mentions
`unsafe_load`, `UnsafeLoader`, `FullLoader`, `full_load` or Python tags (`!!python/...`) anywhere — is
left alone as a whole: its author knows which objects the documents hold. So are calls through a name
that is also bound some other way (`try: from yaml import load` / `except ImportError: load = ...`),
because the safe name would not exist in the fallback branch.
"""

from __future__ import annotations

import ast
import re

import libcst as cst

from evolve.codemods.ast_scan import bound_names, imported_from, module_aliases, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import (
    RecordingTransformer,
    dotted_name,
    iter_nodes,
    module_bindings,
    name_references,
    run_transformer,
)

ID = "yaml-safe-load"
SAFE = {"load": "safe_load", "load_all": "safe_load_all"}
# A module mentioning these chose its loaders on purpose (see the module docstring).
_EXPLICIT_LOADING = re.compile(r"unsafe_load|UnsafeLoader|FullLoader|full_load|!!python|python/(?:object|name)")
_TRY_AST = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)


class YamlSafeLoad(Codemod):
    """Load YAML with the safe loader when no Loader was chosen."""

    metadata = CodemodMetadata(
        id=ID,
        title="Use `yaml.safe_load`",
        theme="security",
        rationale="`yaml.load` without an explicit Loader can build arbitrary Python objects from untrusted input "
        "(PyYAML < 5.1) and raises TypeError on PyYAML >= 6; `safe_load` only builds plain data.",
        risk="low",
        review_guidance="Documents using Python-specific tags (`!!python/...`) no longer load. Calls that pass a "
        "Loader (even an unsafe one) are left alone: that choice was explicit; so is every call in a module that "
        "mentions `unsafe_load`, `UnsafeLoader`, `FullLoader` or `!!python` tags, and calls through a name bound "
        "in a try/except ImportError fallback.",
        benefit="security",
        min_target_python=(2, 7),
        references=(
            "https://pyyaml.org/wiki/PyYAMLDocumentation",
            "https://github.com/yaml/pyyaml/wiki/PyYAML-yaml.load(input)-Deprecation",
            "https://bandit.readthedocs.io/en/latest/plugins/b506_yaml_load.html",
        ),
        lint_codes=("S506",),
    )
    examples = (
        Example("import yaml\ndata = yaml.load(stream)\n", "import yaml\ndata = yaml.safe_load(stream)\n"),
        Example(
            "import yaml as y\ndocs = list(y.load_all(text))\n",
            "import yaml as y\ndocs = list(y.safe_load_all(text))\n",
        ),
        Example("from yaml import load\nconfig = load(fh)\n", "from yaml import safe_load\nconfig = safe_load(fh)\n"),
        Example(
            "from yaml import Loader, load\na = load(x)\nb = load(y, Loader=Loader)\n",
            "from yaml import Loader, load, safe_load\na = safe_load(x)\nb = load(y, Loader=Loader)\n",
        ),
        Example(
            "from yaml import load, safe_load\nc = load(s)\n",
            "from yaml import safe_load\nc = safe_load(s)\n",
        ),
    )
    valid = (
        "import yaml\nyaml.load(s, Loader=yaml.FullLoader)\n",
        "import yaml\nyaml.load(s, yaml.UnsafeLoader)\n",
        "import yaml\nyaml.safe_load(s)\n",
        "import json\njson.load(fh)\n",
        "import pickle as yaml\nyaml.load(fh)\n",
        "from yaml import load\nsafe_load = None\nload(s)\n",  # the safe name is taken
        "import yaml\nyaml.load(**kwargs)\n",
        # deliberate: the CLI loads `!!python/name:` values its users write
        "import yaml\ndata = yaml.unsafe_load(fh)\nother = yaml.load(fh2)\n",
        "import yaml\nloaded = yaml.load(fh)  # nosec B506 - trusted file written by us\n",
        "import yaml\nloaded = yaml.load(fh)  # noqa: S506\n",
        "try:\n    from yaml import load\nexcept ImportError:\n    load = None\nconfig = load(fh)\n",
        "import yaml\n# intentionally the default loader: see docs/config.md\nconfig = yaml.load(fh)\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `yaml.load(x)` / `load(x)` (imported from yaml) without a Loader."""
        if "yaml" not in source or "load" not in source or _EXPLICIT_LOADING.search(source):
            return []
        modules = module_aliases(tree, "yaml")
        fallbacks = _names_with_other_bindings(tree)
        from_yaml = {
            local: name
            for local, name in imported_from(tree, "yaml").items()
            if name in SAFE and local not in fallbacks
        }
        bound, _ = bound_names(tree)
        local_safe = set(imported_from(tree, "yaml"))
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                not isinstance(node, ast.Call)
                or len(node.args) != 1
                or node.keywords
                or isinstance(node.args[0], ast.Starred)
            ):
                continue
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in modules
                and func.attr in SAFE
            ):
                found.append(
                    Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"yaml.{func.attr} without Loader")
                )
            elif isinstance(func, ast.Name) and func.id in from_yaml:
                safe = SAFE[from_yaml[func.id]]
                if safe in bound and safe not in local_safe:
                    continue
                found.append(
                    Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, f"{func.id} without Loader")
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Switch the calls to the safe functions, then fix the `from yaml import` lines."""
        if _EXPLICIT_LOADING.search(module.code):
            return module, []
        bindings = module_bindings(module)
        modules = {name for name, nodes in bindings.items() if any(_imports_yaml_as(node, name) for node in nodes)}
        from_yaml: dict[str, str] = {}
        for name, nodes in bindings.items():
            originals = [_imported_from_yaml(node, name) for node in nodes]
            # Only a name bound solely by one `from yaml import` outside any try: a fallback binding has no safe twin.
            if len(nodes) == 1 and originals[0] in SAFE and id(nodes[0]) not in _imports_in_try(module):
                from_yaml[name] = originals[0]
        # A safe name already bound to something other than `from yaml import` is off limits.
        blocked = {
            safe
            for safe in SAFE.values()
            if safe in bindings and not all(_imported_from_yaml(n, safe) == safe for n in bindings[safe])
        }
        transformer = _Transformer(ID, context, modules, from_yaml, blocked)
        new_module, changes = run_transformer(module, transformer)
        if transformer.needed_names:
            new_module = new_module.visit(_FixImports(transformer.needed_names, name_references(new_module)))
        return new_module, changes


def _names_with_other_bindings(tree: ast.Module) -> set[str]:
    """Names imported inside a try statement, or bound more than once: fallbacks the safe name would not have."""
    counts: dict[str, int] = {}
    in_try: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                counts[local] = counts.get(local, 0) + 1
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[node.name] = counts.get(node.name, 0) + 1
        if isinstance(node, _TRY_AST):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    in_try.update(alias.asname or alias.name for alias in inner.names)
    return in_try | {name for name, count in counts.items() if count > 1}


def _imports_in_try(module: cst.Module) -> set[int]:
    """ids of the `from ... import` statements inside a try statement."""
    return {
        id(inner)
        for node in iter_nodes(module)
        if isinstance(node, (cst.Try, cst.TryStar))
        for inner in iter_nodes(node)
        if isinstance(inner, cst.ImportFrom)
    }


def _imports_yaml_as(node: cst.CSTNode, local: str) -> bool:
    return isinstance(node, cst.Import) and any(
        dotted_name(alias.name) == "yaml" and (alias.evaluated_alias or "yaml") == local for alias in node.names
    )


def _imported_from_yaml(node: cst.CSTNode, local: str) -> str | None:
    if not (
        isinstance(node, cst.ImportFrom)
        and node.module is not None
        and dotted_name(node.module) == "yaml"
        and not node.relative
    ):
        return None
    if isinstance(node.names, cst.ImportStar):
        return None
    for alias in node.names:
        if (alias.evaluated_alias or alias.evaluated_name) == local:
            return alias.evaluated_name
    return None


class _Transformer(RecordingTransformer):
    def __init__(
        self, codemod_id: str, context: CodemodContext, modules: set[str], from_yaml: dict[str, str], blocked: set[str]
    ) -> None:
        super().__init__(codemod_id, context)
        self.modules, self.from_yaml, self.blocked = modules, from_yaml, blocked
        self.needed_names: set[str] = set()  # safe names used through `from yaml import`

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        args = updated_node.args
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            return updated_node
        func = updated_node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self.modules
            and func.attr.value in SAFE
        ):
            self.record(
                original_node,
                f"`{_code(original_node)}` had no Loader: now `{func.value.value}.{SAFE[func.attr.value]}`",
            )
            return updated_node.with_changes(func=func.with_changes(attr=cst.Name(SAFE[func.attr.value])))
        if isinstance(func, cst.Name) and func.value in self.from_yaml:
            safe = SAFE[self.from_yaml[func.value]]
            if safe in self.blocked:
                return updated_node
            self.needed_names.add(safe)
            self.record(original_node, f"`{_code(original_node)}` (yaml's `load`, no Loader): now `{safe}`")
            return updated_node.with_changes(func=cst.Name(safe))
        return updated_node


def _code(node: cst.CSTNode, limit: int = 60) -> str:
    """The node's source on one line, shortened: what the code had, for the change description."""
    text = " ".join(cst.Module(body=[]).code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _FixImports(cst.CSTTransformer):
    """Add the safe names to the first `from yaml import` and drop `load` names no longer referenced."""

    def __init__(self, needed: set[str], references: dict[str, int]) -> None:
        super().__init__()
        self.needed, self.references = set(needed), references

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if not (
            updated_node.module is not None and dotted_name(updated_node.module) == "yaml" and not updated_node.relative
        ):
            return updated_node
        if isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        names = list(updated_node.names)
        present = {alias.evaluated_alias or alias.evaluated_name for alias in names}
        kept = [
            alias
            for alias in names
            if not (
                alias.evaluated_name in SAFE
                and alias.asname is None
                and self.references.get(alias.evaluated_name, 0) == 0
            )
        ]
        additions = sorted(self.needed - present)
        self.needed -= present | set(additions)
        kept.extend(cst.ImportAlias(name=cst.Name(name)) for name in additions)
        if not kept:
            return updated_node
        kept = [
            alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            if i == len(kept) - 1 and updated_node.lpar is None
            else alias
            for i, alias in enumerate(kept)
        ]
        # Re-space added names like the first one: `a, b` (commas of kept names keep their own whitespace).
        kept = [
            alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            if i < len(kept) - 1 and alias.comma is cst.MaybeSentinel.DEFAULT
            else alias
            for i, alias in enumerate(kept)
        ]
        return updated_node.with_changes(names=kept)
