"""`warnings.warn("...", DeprecationWarning)` inside a function -> `..., stacklevel=2` (flake8-bugbear B028).

Without `stacklevel`, a deprecation warning names the library's own `warnings.warn` line, so the user whose call is
deprecated cannot find it, and `-W error::DeprecationWarning:their_module` filters never match. `stacklevel=2`
names the caller of the function that warns (a function the module calls itself is left alone: its caller is the
module; so is a pass-through `(*args, **kwargs)` function, made to be reached through `super()` from subclasses). Changed: calls inside a function body with a message and one of the
categories about the caller's use (`DeprecationWarning`, `PendingDeprecationWarning`, `FutureWarning`), when
`warnings` is bound only by `import warnings` (or `warn` by `from warnings import warn`) and no stacklevel is given.
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import binds_only_module, imported_from
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, append_keyword_arg, dotted_name, run_transformer

ID = "warnings-stacklevel"
CALLER_CATEGORIES = frozenset({"DeprecationWarning", "PendingDeprecationWarning", "FutureWarning"})


def _warn_names(tree: ast.Module) -> tuple[bool, set[str]]:
    """(whether `warnings.warn` is the module's, the local names bound to `warnings.warn` by a from-import)."""
    module_ok = binds_only_module(tree, "warnings")
    local = {name for name, original in imported_from(tree, "warnings").items() if original == "warn"}
    return module_ok, local


def _called_here(tree: ast.Module) -> set[str]:
    """Names the module itself calls (`f(...)`, `self.f(...)`): stacklevel=2 in one of those functions would name
    the module's own line, not the user's, so they are left alone."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names - {"__init__"}


def _passes_through(arguments: ast.arguments) -> bool:
    """`def __init__(self, *args, **kwargs)`: a signature made to be reached through `super().__init__(*args,
    **kwargs)` from subclasses, so `stacklevel=2` would often name the subclass's line, not the user's."""
    return arguments.vararg is not None and arguments.kwarg is not None


def _cst_passes_through(params: cst.Parameters) -> bool:
    return isinstance(params.star_arg, cst.Param) and params.star_kwarg is not None


def _category(node: ast.Call) -> str | None:
    candidate: ast.expr | None
    if len(node.args) == 2:
        candidate = node.args[1]
    else:
        candidate = next((k.value for k in node.keywords if k.arg == "category"), None)
    if isinstance(candidate, ast.Name):
        return candidate.id
    if isinstance(candidate, ast.Attribute):
        return candidate.attr
    return None


def _is_candidate(node: ast.Call, module_ok: bool, local: set[str]) -> bool:
    func = node.func
    is_warn = (
        module_ok and isinstance(func, ast.Attribute) and func.attr == "warn" and isinstance(func.value, ast.Name)
    ) and func.value.id == "warnings"
    is_warn = is_warn or (isinstance(func, ast.Name) and func.id in local)
    if not is_warn or len(node.args) > 2 or not node.args:
        return False
    if any(k.arg in (None, "stacklevel", "skip_file_prefixes") for k in node.keywords):
        return False
    return _category(node) in CALLER_CATEGORIES


class WarningsStacklevel(Codemod):
    """Point deprecation warnings at the caller: `stacklevel=2`."""

    metadata = CodemodMetadata(
        id=ID,
        title="Point deprecation warnings at the caller (`stacklevel=2`)",
        theme="deprecations",
        rationale="A `warnings.warn(..., DeprecationWarning)` without `stacklevel` reports the library's own line: "
        "the user cannot see which of their calls is deprecated, and per-module warning filters do not match.",
        risk="low",
        benefit="deprecation",
        lint_codes=("B028",),
        min_target_python=(2, 7),
        review_guidance="Only the reported location changes: the warning names the line that called this function "
        "instead of the `warn` call. Only calls inside a function, with a deprecation category, change.",
        references=(
            "https://docs.python.org/3/library/warnings.html#warnings.warn",
            "https://docs.astral.sh/ruff/rules/no-explicit-stacklevel/",
        ),
    )
    examples = (
        Example(
            "import warnings\n\n\ndef old():\n    warnings.warn('use new()', DeprecationWarning)\n",
            "import warnings\n\n\ndef old():\n    warnings.warn('use new()', DeprecationWarning, stacklevel=2)\n",
        ),
        Example(
            "from warnings import warn\n\n\nclass A:\n    def f(self):\n        warn(\n            'gone soon',\n"
            "            category=FutureWarning,\n        )\n",
            "from warnings import warn\n\n\nclass A:\n    def f(self):\n        warn(\n            'gone soon',\n"
            "            category=FutureWarning,\n            stacklevel=2,\n        )\n",
        ),
        Example(  # the closing bracket on a line of its own stays there (WebOb's deprecation shims)
            "import warnings\n\n\ndef f():\n    warnings.warn(\n        'use g()',\n        DeprecationWarning\n    )\n",
            "import warnings\n\n\ndef f():\n    warnings.warn(\n        'use g()',\n        DeprecationWarning, stacklevel=2\n"
            "    )\n",
        ),
        Example(
            "import warnings\n\n\ndef f(x):\n    if x:\n        warnings.warn(f'{x} is deprecated', "
            "category=warnings.PendingDeprecationWarning)\n",
            "import warnings\n\n\ndef f(x):\n    if x:\n        warnings.warn(f'{x} is deprecated', "
            "category=warnings.PendingDeprecationWarning, stacklevel=2)\n",
        ),
    )
    valid = (
        "import warnings\nwarnings.warn('module level', DeprecationWarning)\n",
        "import warnings\n\ndef f():\n    warnings.warn('x', DeprecationWarning, stacklevel=3)\n",
        "import warnings\n\ndef f():\n    warnings.warn('x', DeprecationWarning, 2)\n",
        "import warnings\n\ndef f():\n    warnings.warn('the file is empty')\n",  # about the state, not the caller
        "import warnings\n\ndef f():\n    warnings.warn('x', RuntimeWarning)\n",
        "def f(warnings):\n    warnings.warn('x', DeprecationWarning)\n",
        # Called by the module itself: stacklevel=2 would name the module's own line.
        "import warnings\n\ndef helper():\n    warnings.warn('x', DeprecationWarning)\n\ndef api():\n    helper()\n",
        "import warnings\n\ndef f():\n    warnings.warn('x', DeprecationWarning)  # noqa: B028\n",
        # Pass-through signature, reached through `super().__init__(*args, **kwargs)` (Markdown 2.6's Extension).
        "import warnings\n\nclass Extension:\n    def __init__(self, *args, **kwargs):\n        if args:\n"
        "            warnings.warn('positional args are deprecated', DeprecationWarning)\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find deprecation warnings inside functions that name no stacklevel."""
        if "warn" not in source:
            return []
        module_ok, local = _warn_names(tree)
        internal = _called_here(tree)
        found = []
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function.name in internal:
                continue
            if _passes_through(function.args):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and _is_candidate(node, module_ok, local):
                    found.append(
                        Occurrence(node.lineno, node.end_lineno or node.lineno, function.name, "no stacklevel")
                    )
        unique = {(o.line, o.end_line): o for o in reversed(found)}  # nested functions are walked twice
        return sorted(unique.values(), key=lambda o: o.line)

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Add `stacklevel=2` to those calls."""
        tree = ast.parse(module.code)
        module_ok, local = _warn_names(tree)
        return run_transformer(module, _Transformer(ID, context, module_ok, local, _called_here(tree)))


class _Transformer(RecordingTransformer):
    def __init__(
        self, codemod_id: str, context: CodemodContext, module_ok: bool, local: set[str], internal: set[str]
    ) -> None:
        super().__init__(codemod_id, context)
        self.module_ok, self.local, self.internal = module_ok, local, internal
        self.functions: list[str | None] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # None marks a pass-through function: left alone, like one the module calls itself.
        self.functions.append(None if _cst_passes_through(node.params) else node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.functions.pop()
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if not self.functions or self.functions[-1] is None or self.functions[-1] in self.internal:
            return updated_node
        name = dotted_name(updated_node.func)
        if not ((self.module_ok and name == "warnings.warn") or name in self.local):
            return updated_node
        positional = [a for a in updated_node.args if a.keyword is None]
        if any(a.star for a in updated_node.args) or not positional or len(positional) > 2:
            return updated_node
        keywords = {a.keyword.value for a in updated_node.args if a.keyword is not None}
        if keywords & {"stacklevel", "skip_file_prefixes"}:
            return updated_node
        category = (
            positional[1].value
            if len(positional) == 2
            else next(
                (a.value for a in updated_node.args if a.keyword is not None and a.keyword.value == "category"), None
            )
        )
        if category is None or dotted_name(category).rsplit(".", 1)[-1] not in CALLER_CATEGORIES:
            return updated_node
        self.record(original_node, "deprecation warning points at the caller (`stacklevel=2`)")
        # After the last argument, in the call's layout: `DeprecationWarning)` on its own line gets
        # `DeprecationWarning, stacklevel=2)`, not a trailing space and an outdented line (WebOb, waitress).
        return append_keyword_arg(updated_node, "stacklevel", cst.Integer("2"))
