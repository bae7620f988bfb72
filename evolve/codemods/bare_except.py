"""`except:` -> `except Exception:` (pycodestyle E722), where the handler swallows the error.

A bare `except:` also catches KeyboardInterrupt, SystemExit and GeneratorExit: Ctrl-C is ignored,
`sys.exit()` is cancelled, a generator cannot be closed. A handler that re-raises (any `raise` in it)
deliberately sees everything and then lets it go, so it is left alone; so is a `try` whose body
mentions SystemExit/KeyboardInterrupt/`sys.exit`/`exit(` or yields (catching those may be the point). A `try`
whose body only imports and whose handlers are all bare (an optional dependency) is left alone too: what the
guard means is `except ImportError`, and `except Exception` there fixes nothing a user meets.
"""

from __future__ import annotations

import ast
import re
import sys
from typing import TypeAlias

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "bare-except"
_BASE_SIGNALS = re.compile(r"SystemExit|KeyboardInterrupt|GeneratorExit|BaseException|\bexit\(|\b_exit\(")
if sys.version_info >= (3, 11):
    _TryNode: TypeAlias = ast.Try | ast.TryStar
    _TRY_AST: tuple[type[_TryNode], ...] = (ast.Try, ast.TryStar)
else:  # Python 3.10 has no `try ... except*`
    _TryNode: TypeAlias = ast.Try
    _TRY_AST: tuple[type[_TryNode], ...] = (ast.Try,)


def _reraises(statements: list[ast.stmt]) -> bool:
    return any(isinstance(node, ast.Raise) for statement in statements for node in ast.walk(statement))


def _yields(statements: list[ast.stmt]) -> bool:
    return any(isinstance(node, (ast.Yield, ast.YieldFrom)) for s in statements for node in ast.walk(s))


class BareExcept(Codemod):
    """Catch `Exception` instead of everything when the handler swallows the error."""

    metadata = CodemodMetadata(
        id=ID,
        title="Catch `Exception`, not everything",
        theme="correctness",
        rationale="A bare `except:` also swallows KeyboardInterrupt and SystemExit: Ctrl-C and `sys.exit()` "
        "stop working inside the `try`. `except Exception:` catches every error and lets those through.",
        risk="medium",
        lint_codes=("E722", "B001"),
        benefit="defect",
        min_target_python=(2, 7),
        review_guidance="After the change, KeyboardInterrupt, SystemExit and GeneratorExit raised in the `try` "
        "propagate instead of being swallowed. Handlers that re-raise are left alone (seeing everything and "
        "re-raising is a deliberate pattern), as are `try` bodies that mention SystemExit, KeyboardInterrupt, "
        "`exit(` or contain `yield`.",
        references=(
            "https://docs.astral.sh/ruff/rules/bare-except/",
            "https://docs.python.org/3/library/exceptions.html#exception-hierarchy",
        ),
    )
    examples = (
        Example(
            "try:\n    value = int(text)\nexcept:\n    value = 0\n",
            "try:\n    value = int(text)\nexcept Exception:\n    value = 0\n",
        ),
        Example(
            "try:\n    import ujson as json\nexcept ImportError:\n    json = None\nexcept:  # broken install\n    json = None\n",
            "try:\n    import ujson as json\nexcept ImportError:\n    json = None\nexcept Exception:  # broken install\n    json = None\n",
        ),
        Example(
            "def f():\n    try:\n        return g()\n    except :\n        log('failed')\n",
            "def f():\n    try:\n        return g()\n    except Exception:\n        log('failed')\n",
        ),
    )
    valid = (
        "try:\n    work()\nexcept:\n    cleanup()\n    raise\n",  # re-raises: sees everything on purpose
        "try:\n    work()\nexcept:\n    raise RuntimeError('wrapped')\n",
        "try:\n    main()\n    sys.exit(0)\nexcept:\n    pass\n",
        "def gen():\n    try:\n        yield 1\n    except:\n        pass\n",
        "try:\n    work()\nexcept:  # noqa: E722\n    pass\n",
        "try:\n    work()\nexcept Exception:\n    pass\n",
        # An optional import (Mako 1.0.7's beaker guard): `except ImportError` is meant, `Exception` is churn.
        "try:\n    from beaker import cache as beaker_cache\nexcept:\n    has_beaker = False\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find bare `except:` handlers that do not re-raise, in `try` statements that are not about exiting."""
        if "except" not in source:
            return []
        lines = source.splitlines()
        found = []
        for node, symbol in walk_with_symbol(tree):
            if not isinstance(node, _TRY_AST) or _leave_alone(node, lines):
                continue
            for handler in node.handlers:
                if handler.type is None and not _reraises(handler.body):
                    found.append(Occurrence(handler.lineno, handler.lineno, symbol, "bare `except:`"))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Name `Exception` in the bare handlers that detection would report."""
        return run_transformer(module, _Transformer(ID, context))


def _leave_alone(node: _TryNode, lines: list[str]) -> bool:
    body_text = "\n".join(lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
    return bool(_BASE_SIGNALS.search(body_text)) or _yields(node.body) or _optional_import(node)


def _optional_import(node: _TryNode) -> bool:
    return all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in node.body) and all(
        handler.type is None for handler in node.handlers
    )


def _cst_optional_import(node: cst.Try) -> bool:
    if any(handler.type is not None for handler in node.handlers):
        return False
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):  # `try: import x`
        return all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in body.body)
    return all(
        isinstance(statement, cst.SimpleStatementLine)
        and all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)
        for statement in body.body
    )


class _Transformer(RecordingTransformer):
    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        code = cst.Module(body=[]).code_for_node(original_node)
        if _BASE_SIGNALS.search(code) or _cst_yields(original_node.body) or _cst_optional_import(original_node):
            return updated_node
        handlers = []
        for original, handler in zip(original_node.handlers, updated_node.handlers):
            if handler.type is None and not _cst_reraises(handler):
                self.record(original, "bare `except:` now catches `Exception`")
                handler = handler.with_changes(
                    type=cst.Name("Exception"), whitespace_after_except=cst.SimpleWhitespace(" ")
                )
            handlers.append(handler)
        return updated_node.with_changes(handlers=handlers)


def _cst_reraises(handler: cst.ExceptHandler) -> bool:
    return bool(cst.matchers.findall(handler.body, cst.matchers.Raise()))


def _cst_yields(body: cst.BaseSuite) -> bool:
    return bool(cst.matchers.findall(body, cst.matchers.Yield()))
