"""`logging.warn(...)` / `logger.warn(...)` -> `.warning(...)`: the deprecated alias warns on every call.

`Logger.warn` and `logging.warn` have been deprecated since Python 3.3 and emit a DeprecationWarning each
time (Python 3.13 removed them in its alphas and restored them after the breakage). `warning` is the same
method. Only receivers that are provably logging's change: the `logging` module itself, a name the module
binds only by `name = logging.getLogger(...)` (or `getLogger(...)` imported from logging), and a direct
`logging.getLogger(...).warn(...)`.
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import binds_only_module, imported_from, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, dotted_name, run_transformer, shift_continuation_lines

ID = "logging-warn"


def _is_get_logger(node: ast.expr, logging_ok: bool, getters: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return (
            logging_ok and func.attr == "getLogger" and isinstance(func.value, ast.Name) and func.value.id == "logging"
        )
    return isinstance(func, ast.Name) and func.id in getters


def _loggers(tree: ast.Module, logging_ok: bool, getters: set[str]) -> set[str]:
    """Names bound only by `name = logging.getLogger(...)` assignments (at any level) and nothing else."""
    by_logger: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            (by_logger if _is_get_logger(node.value, logging_ok, getters) else other).add(node.targets[0].id)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            continue
        elif isinstance(node, ast.arg):
            other.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            other.add(node.name)
        elif isinstance(node, ast.alias):
            other.add(node.asname or node.name.split(".")[0])
    for node in ast.walk(tree):  # any other store (for targets, with ... as, tuple unpacking, augmented, ...)
        if isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
            other |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        elif isinstance(node, ast.Assign) and not (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            other |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return by_logger - other


class LoggingWarn(Codemod):
    """Call `warning`, not its deprecated alias `warn`, on loggers and the logging module."""

    metadata = CodemodMetadata(
        id=ID,
        title="Use `.warning()` instead of the deprecated `.warn()` on loggers",
        theme="deprecations",
        rationale="`Logger.warn` and `logging.warn` are deprecated aliases of `warning` (since Python 3.3): each "
        "call emits a DeprecationWarning, which fails suites that turn warnings into errors.",
        risk="low",
        lint_codes=("G010",),
        benefit="deprecation",
        min_target_python=(2, 7),
        review_guidance="`warn` only forwarded to `warning` with the same arguments, so the log records are the "
        "same. Only receivers that are certainly logging's (the module, or a name bound only to "
        "`logging.getLogger(...)`) change.",
        references=(
            "https://docs.python.org/3/library/logging.html#logging.Logger.warning",
            "https://docs.astral.sh/ruff/rules/logging-warn/",
        ),
    )
    examples = (
        Example("import logging\nlogging.warn('disk low')\n", "import logging\nlogging.warning('disk low')\n"),
        Example(
            "import logging\n\nlog = logging.getLogger(__name__)\n\ndef f():\n    log.warn('x=%s', x)\n",
            "import logging\n\nlog = logging.getLogger(__name__)\n\ndef f():\n    log.warning('x=%s', x)\n",
        ),
        Example(
            "from logging import getLogger\nlogger = getLogger('a')\nlogger.warn('late')\n",
            "from logging import getLogger\nlogger = getLogger('a')\nlogger.warning('late')\n",
        ),
        Example(
            "import logging\nlogging.getLogger('a').warn('x')\n",
            "import logging\nlogging.getLogger('a').warning('x')\n",
        ),
    )
    valid = (
        "import warnings\nwarnings.warn('deprecated', DeprecationWarning)\n",
        "log = make_logger()\nlog.warn('x')\n",  # not provably a logging logger
        "import logging\nlog = logging.getLogger()\nlog = Other()\nlog.warn('x')\n",  # rebound
        "def f(logger):\n    logger.warn('x')\n",
        "import logging\nlogging.warn('x')  # noqa: G010\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `.warn(...)` calls on logging's module or its loggers."""
        if ".warn(" not in source or "logging" not in source:
            return []
        logging_ok = binds_only_module(tree, "logging")
        getters = {local for local, name in imported_from(tree, "logging").items() if name == "getLogger"}
        loggers = _loggers(tree, logging_ok, getters)
        found = []
        for node, symbol in walk_with_symbol(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn"):
                continue
            receiver = node.func.value
            if (
                (isinstance(receiver, ast.Name) and receiver.id == "logging" and logging_ok)
                or (isinstance(receiver, ast.Name) and receiver.id in loggers)
                or _is_get_logger(receiver, logging_ok, getters)
            ):
                found.append(Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, "deprecated `.warn()`"))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rename `.warn` to `.warning` on those receivers."""
        tree = ast.parse(module.code)  # the same resolution as `detect`, over the same source
        logging_ok = binds_only_module(tree, "logging")
        getters = {local for local, name in imported_from(tree, "logging").items() if name == "getLogger"}
        loggers = _loggers(tree, logging_ok, getters)
        return run_transformer(module, _Transformer(ID, context, logging_ok, getters, loggers))


def _cst_is_get_logger(node: cst.BaseExpression, logging_ok: bool, getters: set[str]) -> bool:
    if not isinstance(node, cst.Call):
        return False
    name = dotted_name(node.func)
    return (logging_ok and name == "logging.getLogger") or name in getters


class _Transformer(RecordingTransformer):
    def __init__(
        self, codemod_id: str, context: CodemodContext, logging_ok: bool, getters: set[str], loggers: set[str]
    ) -> None:
        super().__init__(codemod_id, context)
        self.logging_ok, self.getters, self.loggers = logging_ok, getters, loggers

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = updated_node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "warn"):
            return updated_node
        receiver = func.value
        if not (
            (isinstance(receiver, cst.Name) and receiver.value == "logging" and self.logging_ok)
            or (isinstance(receiver, cst.Name) and receiver.value in self.loggers)
            or _cst_is_get_logger(receiver, self.logging_ok, self.getters)
        ):
            return updated_node
        self.record(original_node, "deprecated `.warn()` renamed `.warning()`")
        renamed = updated_node.with_changes(func=func.with_changes(attr=cst.Name("warning")))
        return shift_continuation_lines(renamed, len("warning") - len("warn"))
