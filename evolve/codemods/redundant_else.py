"""Dedent the `else` after an `if` branch that always leaves (return/raise/continue/break)."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "redundant-else"
_EXITS_AST = (ast.Return, ast.Raise, ast.Continue, ast.Break)
_EXITS_CST = (cst.Return, cst.Raise, cst.Continue, cst.Break)


class RedundantElse(Codemod):
    """Flatten `if c: return ...` / `else: body` into the `if` followed by the body."""

    metadata = CodemodMetadata(
        id=ID,
        title="Remove `else` after a branch that always exits",
        theme="cleanup",
        rationale="When the `if` branch returns, raises, continues or breaks, the `else` only adds nesting; "
        "early exits read top to bottom.",
        risk="medium",
        benefit="cosmetic",
        min_target_python=(2, 7),
        review_guidance="Control flow is unchanged because the `if` branch ends in an unconditional exit. Check "
        "that comments that sat on the `else:` line still read well above the dedented code.",
        references=(
            "https://docs.astral.sh/ruff/rules/superfluous-else-return/",
            "https://pylint.readthedocs.io/en/stable/user_guide/messages/refactor/no-else-return.html",
        ),
        lint_codes=(
            "RET505",
            "RET506",
            "RET507",
            "RET508",
            "pylint:no-else-return",
            "pylint:R1705",
            "pylint:no-else-raise",
            "pylint:R1720",
            "pylint:no-else-continue",
            "pylint:R1724",
            "pylint:no-else-break",
            "pylint:R1723",
        ),
    )
    examples = (
        Example(
            "def f(x):\n    if x:\n        return 1\n    else:\n        y = 2\n        return y\n",
            "def f(x):\n    if x:\n        return 1\n    y = 2\n    return y\n",
        ),
        Example(
            "for i in items:\n    if i < 0:\n        continue\n    else:  # positive\n        use(i)\n",
            "for i in items:\n    if i < 0:\n        continue\n    # positive\n    use(i)\n",
        ),
        Example(
            "def f(x):\n    if x:\n        raise ValueError(x)\n    elif x is None:\n        return 0\n    else:\n        return 1\n",
            "def f(x):\n    if x:\n        raise ValueError(x)\n    if x is None:\n        return 0\n    return 1\n",
        ),
        Example(
            "def f(x):\n    if x:\n        return 1\n    elif x == 0:\n        log(x)\n    else:\n        return 2\n    return 3\n",
            "def f(x):\n    if x:\n        return 1\n    if x == 0:\n        log(x)\n    else:\n        return 2\n    return 3\n",
        ),
        Example(
            "while True:\n    if done(): break\n    else: step()\n",
            "while True:\n    if done(): break\n    step()\n",
        ),
        Example(
            "def f(x):\n    if x:\n        return 1\n    # about the else\n    else:\n        s = '''\n  kept\n'''\n        return s\n",
            "def f(x):\n    if x:\n        return 1\n    # about the else\n    s = '''\n  kept\n'''\n    return s\n",
        ),
        Example(  # the blank line that set the last branch apart stays (more-itertools `sample`)
            "def f(x):\n    if x:\n        return 1\n\n    elif x is None:\n        return 0\n\n    else:\n        return 2\n",
            "def f(x):\n    if x:\n        return 1\n\n    if x is None:\n        return 0\n\n    return 2\n",
        ),
    )
    valid = (
        "def f(x):\n    if x:\n        return 1\n    else:  # pragma: no cover\n        return 2\n",
        "def f(x):\n    if x:\n        y = 1\n    else:\n        y = 2\n    return y\n",
        "def f(x):\n    if x:\n        if y:\n            return 1\n    else:\n        return 2\n",  # inner exit is conditional
        "def f(x):\n    if x:\n        return 1\n    return 2\n",
        "for i in x:\n    pass\nelse:\n    done()\n",
        "def f(x):\n    try:\n        return 1\n    except E:\n        pass\n    else:\n        g()\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `if` statements with an `else`/`elif` whose own branch ends in an exit."""
        if "else" not in source and "elif" not in source:
            return []
        found = []
        lines = source.splitlines()
        for node, symbol in walk_with_symbol(tree):
            if not isinstance(node, ast.If) or lines[node.lineno - 1][node.col_offset :].startswith("elif"):
                continue  # an `elif` is flattened (or not) together with the head of its chain
            if node.orelse and isinstance(node.body[-1], _EXITS_AST):
                found.append(
                    Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, "else after an exiting branch")
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Flatten the redundant `else` branches, innermost first."""
        return run_transformer(module, _Transformer(ID, context))


_EXIT_WORDS: dict[type, str] = {cst.Return: "return", cst.Raise: "raise", cst.Continue: "continue", cst.Break: "break"}


def _describe(node: cst.If) -> str:
    """In the code's terms: which keyword went, after which exit, e.g. "removed `else:` after `return`"."""
    last = node.body.body[-1] if node.body.body else None
    exit_node = last.body[-1] if isinstance(last, cst.SimpleStatementLine) and last.body else last
    word = _EXIT_WORDS.get(type(exit_node), "an exit")
    if isinstance(node.orelse, cst.If):
        return f"`elif` after `{word}` became a separate `if`"
    return f"removed `else:` after `{word}` and dedented its body"


def _ends_with_exit(suite: cst.BaseSuite) -> bool:
    last = suite.body[-1] if suite.body else None
    if isinstance(suite, cst.SimpleStatementSuite):
        return isinstance(last, _EXITS_CST)
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], _EXITS_CST)


def _as_statements(suite: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(suite, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=suite.body, trailing_whitespace=suite.trailing_whitespace)]
    # A suite is either the statements after the colon on the same line or an indented block.
    assert isinstance(suite, cst.IndentedBlock)
    return list(suite.body)


def _is_pass_only(statements: list[cst.BaseStatement]) -> bool:
    return (
        len(statements) == 1
        and isinstance(statements[0], cst.SimpleStatementLine)
        and all(isinstance(s, cst.Pass) for s in statements[0].body)
    )


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext) -> None:
        super().__init__(codemod_id, context)
        self.elifs: set[int] = set()  # ids of original `If` nodes that are `elif` branches

    def visit_If(self, node: cst.If) -> None:
        if isinstance(node.orelse, cst.If):
            self.elifs.add(id(node.orelse))

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If | cst.FlattenSentinel[cst.BaseStatement]:
        # An `elif` cannot be flattened on its own (the branches before it may not exit); its chain's head does it.
        if id(original_node) in self.elifs:
            return updated_node
        statements = _flatten(updated_node)
        if len(statements) == 1:
            return updated_node
        self.record(original_node, _describe(updated_node))
        return cst.FlattenSentinel(statements)


def _visual_test_would_meet_body(branch: cst.If) -> bool:
    """Whether an `elif (a and` / `      b):` test, as `if (a and` / `    b):`, would line its continuation up with the
    body below it (pycodestyle E129): such a chain stays as it is rather than trade alignment for ambiguity."""
    test = cst.Module(body=[]).code_for_node(branch.test)
    if "\n" not in test or not test.startswith(("(", "[", "{")):
        return False
    return not test[1:].lstrip(" ").startswith(("\n", "\r", "#"))  # a bracket that ends its line hangs instead


def _flatten(node: cst.If) -> list[cst.BaseStatement]:
    """The statements equivalent to `node` with every redundant else/elif of its chain lifted out."""
    orelse = node.orelse
    if orelse is None or not _ends_with_exit(node.body):
        return [node]
    if isinstance(orelse, cst.If):
        if _visual_test_would_meet_body(orelse):
            return [node]
        # `elif` becomes a separate `if`, which may itself have a redundant else.
        return [node.with_changes(orelse=None), *_flatten(orelse)]
    if isinstance(orelse.body, cst.IndentedBlock) and any(line.comment for line in orelse.body.footer):
        return [node]
    moved = _as_statements(orelse.body)
    # Blank lines and comments above `else:` stay above the dedented code (a blank line that set the
    # branch apart keeps doing so).
    leading = list(orelse.leading_lines)
    if isinstance(orelse.body, cst.IndentedBlock) and orelse.body.header.comment is not None:
        leading.append(cst.EmptyLine(indent=True, comment=orelse.body.header.comment))
    comments = [line for line in leading if line.comment is not None]
    if _is_pass_only(moved) and not comments:
        moved = []
    elif moved:
        first = moved[0]
        # Every concrete statement (a simple line or a compound statement) carries its own leading lines.
        assert isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        moved[0] = first.with_changes(leading_lines=[*leading, *first.leading_lines])
    return [node.with_changes(orelse=None), *moved]
