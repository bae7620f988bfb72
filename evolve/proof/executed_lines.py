"""Changed lines the tests execute: the one computation behind every such figure (the PR's intro, its Tests
section, the coverage gate, the status pages). Pure: texts and line sets in.

What needs executing is decided here, once. A changed line counts when it belongs to a statement that does
something at run time: not a blank or comment line, a docstring, an import, a bare annotation (`x: int`), an
`else:`/`try:`/`finally:` line, nor a hunk that changes only annotations, docstrings, comments or layout (with or
without `from __future__ import annotations`). A `def` line (its decorators, defaults) runs when its body does; a
`class` line when the module is imported.

Whether a line ran comes from the test runs: the executed line numbers of each file (coverage.py's
`executed_lines`; base's run is the one input every caller has), and, for test files (which coverage does not
measure), the tests that passed. A removed line ran when its statement did on base. An added line ran when head's
run executed it, once head ran with coverage (`HeadRun`); before that, when the code around it did on base (the
hunk's own base lines, else the nearest statement before or after it in the same function; a new function: not
measured).
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from evolve.changed_lines import ChangedLines
from evolve.proof.code_changes import neutral_shape
from evolve.proof.hunks import Hunk, apply_hunks, split_hunks

Execution = Literal["executed", "not-executed", "not-measured", "no-code"]


@dataclass(frozen=True)
class LineMap:
    """One side of an edit: its lines that need executing, each with the line whose execution decides it."""

    anchors: Mapping[int, int]  # executable line -> the line coverage reports for it
    imports: Mapping[int, int]  # import line -> its statement's first line (it runs when the module is imported)
    tests: Mapping[int, str]  # line inside a test function -> that test's qualified name (`Class.test_x`)
    functions: Mapping[int, str]  # line -> innermost function or class around it ("" at module level)


@dataclass(frozen=True)
class HunkExecution:
    """One hunk's changed lines that need executing, and how many of them base's tests execute."""

    hunk: Hunk
    executable: int  # lines needing executing that base's run measured
    executed: int
    execution: Execution
    unmeasured: int = 0  # lines needing executing that nothing measured (a test helper, an omitted file)


def _code_lines(source: str) -> set[int]:
    """Lines holding a token other than a comment, newline or indentation (strings spanning lines included)."""
    found: set[int] = set()
    ignored = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in ignored:
                found.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return {
            n for n, line in enumerate(source.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")
        }
    return found


def _is_docstring(node: ast.stmt) -> bool:
    """A statement that is only a constant (a docstring, a bare string, `...`): it does nothing when run."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _body_anchor(body: list[ast.stmt]) -> int | None:
    """The first line of the first statement of `body` that does something (a docstring does not)."""
    for node in body:
        if not _is_docstring(node):
            return _first_line(node)
    return None


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _header_end(node: ast.stmt) -> int:
    """The last line of a compound statement's header (the line before its body)."""
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and body[0].lineno > node.lineno:
        return body[0].lineno - 1
    return node.lineno


class _Walker:
    """Collects each executable line's anchor, the test around each line, and the function around it."""

    def __init__(self, code: set[int]) -> None:
        self.code = code
        self.anchors: dict[int, int] = {}
        self.imports: dict[int, int] = {}
        self.tests: dict[int, str] = {}
        self.functions: dict[int, str] = {}

    def mark(self, first: int, last: int, anchor: int) -> None:
        for line in range(first, last + 1):
            if line in self.code:
                self.anchors.setdefault(line, anchor)

    def walk(self, body: list[ast.stmt], prefix: str, test: str | None) -> None:
        for node in body:
            self.statement(node, prefix, test)

    def statement(self, node: ast.stmt, prefix: str, test: str | None) -> None:
        first, last = _first_line(node), node.end_lineno or node.lineno
        for line in range(first, last + 1):
            self.functions.setdefault(line, prefix.rstrip("."))
            if test is not None:
                self.tests.setdefault(line, test)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports.update((line, node.lineno) for line in range(first, last + 1) if line in self.code)
            return
        if _is_docstring(node):
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.mark(node.lineno, last, node.lineno)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}{node.name}"
            inner_test = test
            if test is None and _is_test(node, prefix):
                inner_test = name
            # A def line (decorators, defaults) matters when the function runs; a class line when it is defined.
            anchor = _body_anchor(node.body) if not isinstance(node, ast.ClassDef) else node.lineno
            if anchor is not None:
                self.mark(first, _header_end(node), anchor)
            for line in range(first, last + 1):
                self.functions[line] = name
            self.walk(node.body, name + ".", inner_test)
            return
        blocks = [getattr(node, field, None) for field in ("body", "orelse", "finalbody", "handlers", "cases")]
        if any(isinstance(block, list) and block for block in blocks):
            self.mark(node.lineno, _header_end(node), node.lineno)
            for block in blocks:
                for child in block or ():
                    if isinstance(child, ast.stmt):
                        self.statement(child, prefix, test)
                    else:  # an except handler or a match case: its header runs when it is reached
                        self.clause(child, prefix, test)
            return
        self.mark(first, last, node.lineno)

    def clause(self, node: ast.AST, prefix: str, test: str | None) -> None:
        body = getattr(node, "body", [])
        line = getattr(node, "lineno", None) or (body[0].lineno - 1 if body else None)
        if line is not None and body:
            self.mark(line, body[0].lineno - 1 if body[0].lineno > line else line, _body_anchor(body) or line)
        self.walk(body, prefix, test)


def _is_test(node: ast.stmt, prefix: str) -> bool:
    """pytest's and unittest's naming: `test*` functions, at module level or in a `Test*` class or TestCase."""
    if isinstance(node, ast.ClassDef):
        return False
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")


@functools.lru_cache(maxsize=32)
def line_map(source: str) -> LineMap | None:
    """Which lines of `source` need executing and what decides each one; None when it is not Python.

    Remembered for the last few sources: an attempt asks about the same before and after several times (the
    proof before the gates, the coverage and mutation gates, the proof relabelled for the report)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    walker = _Walker(_code_lines(source))
    walker.walk(tree.body, "", None)
    return LineMap(walker.anchors, walker.imports, walker.tests, walker.functions)


def _ran(line: int, lines: LineMap, executed: Collection[int] | None, passed: Collection[str]) -> bool | None:
    """Whether base's run executed `line` (a base line); None when nothing measured it."""
    test = lines.tests.get(line)
    if test is not None and test in passed:
        return True
    if executed is None:
        return None
    anchor = lines.anchors.get(line, lines.imports.get(line, line))
    return anchor in executed


def _imports_ran(
    hunk: Hunk, base: LineMap, head: LineMap, executed: Collection[int] | None, passed: Collection[str]
) -> Execution | None:
    """For a hunk that changes imports and nothing else that needs executing: whether its imports ran (they are
    not counted among the lines that need executing, yet a risky import removal nothing runs stays unproven)."""
    removed = [line for line in hunk.base_lines if line in base.imports]
    added = any(hunk.head_start + i in head.imports for i in range(len(hunk.added)))
    if not removed and not added:
        return None
    if not removed:  # an added import runs with the module's code around it
        near = _nearest(base, hunk.base_start, "", max(base.functions, default=0), also=base.imports)
        removed = [near] if near is not None else []
    states = [_ran(line, base, executed, passed) for line in removed]
    if not states or any(state is None for state in states):
        return "not-measured"
    return "executed" if any(states) else "not-executed"


def _neutral(before: str, hunk: Hunk, top_level: list[tuple[int, int]]) -> bool:
    """Whether the hunk, applied alone, changes only annotations, docstrings, comments or layout.

    Judged on the top-level statements it touches: the rest of the module is the same on both sides."""
    first, last = hunk.base_start, max(hunk.base_end, hunk.base_start)
    touched = [(a, b) for a, b in top_level if a <= last and first <= b]
    start = min([first, *(a for a, _ in touched)])
    end = max([hunk.base_end, *(b for _, b in touched)])
    region = "".join(before.splitlines(keepends=True)[start - 1 : end])
    moved = Hunk(hunk.base_start - start + 1, hunk.base_end - start + 1, 0, 0, hunk.added)
    shape = neutral_shape(region)
    return shape is not None and shape == neutral_shape(apply_hunks(region, [moved]))


def _nearest(
    lines: LineMap, around: int, function: str, count: int, also: Mapping[int, int] | None = None
) -> int | None:
    """The executable base line nearest to the gap before `around`, in the same function: before it, else after."""
    candidates = set(lines.anchors) | set(also or ())
    for line in range(around - 1, 0, -1):
        if line in candidates and lines.functions.get(line, "") == function:
            return line
    for line in range(around, count + 1):
        if line in candidates and lines.functions.get(line, "") == function:
            return line
    return None


def hunk_executions(
    before: str,
    after: str,
    executed: Collection[int] | None,
    passed_tests: Collection[str] = (),
    head: HeadRun | None = None,
) -> tuple[HunkExecution, ...]:
    """Each hunk of the edit `before` → `after`, with its changed lines that need executing and how many of them
    the tests executed. `executed` is base's executed line numbers of the file (None: not measured);
    `passed_tests` the qualified names (`Class.test_x`) of the file's tests that passed on base. Added lines are
    judged on `head`'s run when it measured them, else by the base code around them."""
    base, after_map = line_map(before), line_map(after)
    if base is None or after_map is None:
        return tuple(HunkExecution(h, 0, 0, "not-measured") for h in split_hunks(before, after))
    head_lines: LineMap = after_map
    passed = frozenset(passed_tests)
    head_run = head or HeadRun()
    base_functions = set(base.functions.values())
    try:
        top_level = [(_first_line(n), n.end_lineno or n.lineno) for n in ast.parse(before).body]
    except (SyntaxError, ValueError):
        top_level = []
    count = len(before.splitlines())
    results = []
    for hunk in split_hunks(before, after):
        removed = [line for line in hunk.base_lines if line in base.anchors]
        added = [hunk.head_start + i for i in range(len(hunk.added)) if hunk.head_start + i in head_lines.anchors]
        if (not removed and not added) or _neutral(before, hunk, top_level):
            neutral = _neutral(before, hunk, top_level)
            imported = None if neutral else _imports_ran(hunk, base, head_lines, executed, passed)
            results.append(HunkExecution(hunk, 0, 0, imported or "no-code"))
            continue
        ran = {line: _ran(line, base, executed, passed) for line in removed}
        if ran:
            around: bool | None = any(ran.values()) if all(v is not None for v in ran.values()) else None
        else:
            function = base.functions.get(hunk.base_start, base.functions.get(hunk.base_start - 1, ""))
            near = _nearest(base, hunk.base_start, function, count)
            around = _ran(near, base, executed, passed) if near is not None else None
        added_ran = {line: _ran_added(line, head_lines, head_run, around, base_functions) for line in added}
        states = [*ran.values(), *added_ran.values()]
        known = [state for state in states if state is not None]
        hits = sum(1 for state in known if state)
        execution: Execution = "executed" if hits else ("not-executed" if known else "not-measured")
        results.append(HunkExecution(hunk, len(known), hits, execution, len(states) - len(known)))
    return tuple(results)


@dataclass(frozen=True)
class HeadRun:
    """Head's run for one file, when it measured it: executed lines (None: not measured) and passed tests."""

    executed: Collection[int] | None = None
    passed_tests: Collection[str] = ()


def _ran_added(line: int, lines: LineMap, head: HeadRun, around: bool | None, base_functions: set[str]) -> bool | None:
    """Whether an added line ran: on head's run when it measured the file, else as the base code around it."""
    test = lines.tests.get(line)
    if test is not None and test in head.passed_tests:
        return True
    if head.executed is not None:
        return lines.anchors[line] in head.executed
    function = lines.functions.get(line, "")
    if function and function not in base_functions:
        return None  # a new function: nothing on base tells whether it runs
    return around


def changed_lines(
    path: str,
    before: str,
    after: str,
    executed: Collection[int] | None,
    passed_tests: Collection[str] = (),
    head: HeadRun | None = None,
    measured: bool = True,
) -> ChangedLines:
    """The file's changed lines that need executing and how many the tests executed (see `hunk_executions`)."""
    return summarize(path, hunk_executions(before, after, executed, passed_tests, head), measured)


def summarize(path: str, hunks: Iterable[HunkExecution], measured: bool = True) -> ChangedLines:
    """Totals of some hunks of one file (`measured`: whether base's run measured line coverage at all)."""
    executed = executable = unmeasured = 0
    unexecuted: list[tuple[str, int, int]] = []
    for item in hunks:
        executable += item.executable
        executed += item.executed
        unmeasured += item.unmeasured
        if item.executed < item.executable:
            unexecuted.append((path, item.hunk.base_start, max(item.hunk.base_end, item.hunk.base_start)))
    return ChangedLines(executed, executable, measured, tuple(unexecuted), unmeasured)
