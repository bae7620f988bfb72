"""LibCST building blocks shared by the codemods' `transform` methods."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

import libcst as cst
import libcst.matchers as m
from libcst._nodes.internal import CodegenState  # no public hook for a light position pass

from evolve.codemods.base import Change, CodemodContext
from evolve.codemods.signals import protected_lines


class RecordingTransformer(cst.CSTTransformer):
    """A transformer that records a `Change` for every edit it makes; lines are resolved after the visit."""

    def __init__(self, codemod_id: str, context: CodemodContext) -> None:
        super().__init__()
        self.codemod_id = codemod_id
        self.context = context
        self.recorded: list[tuple[cst.CSTNode, str]] = []
        # ids of statements the code marks as deliberate (see signals.py); set by `run_transformer`.
        self.protected: frozenset[int] = frozenset()

    def is_protected(self, original_node: cst.CSTNode) -> bool:
        """Whether an original statement is one the code marks as deliberate: it must stay as it is."""
        return id(original_node) in self.protected

    def on_visit(self, node: cst.CSTNode) -> bool:
        """Do not descend into protected statements."""
        if id(node) in self.protected:
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        """Protected statements come back exactly as they were."""
        if id(original_node) in self.protected:
            return original_node
        return super().on_leave(original_node, updated_node)  # type: ignore[return-value]

    def record(self, original_node: cst.CSTNode, description: str) -> None:
        """Remember one edit made at `original_node` (a node of the tree being visited)."""
        self.recorded.append((original_node, description))


@dataclass
class _LineCodegenState(CodegenState):
    """Codegen that notes the lines of the nodes whose syntax it passes (much cheaper than PositionProvider).

    `spans` maps id(node) -> (first line, last line) of every node LibCST records a syntactic position for
    (statements, clauses, most expressions), the same lines PositionProvider gives, with `start_node`/`end_node`
    honoured as it does; with `targets`, only those nodes' start lines are noted (in `spans`, end line 0).
    Lines are counted lazily, from the tokens emitted since the last count."""

    targets: frozenset[int] | None = None
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    counted: int = 0
    line: int = 1

    def _current_line(self) -> int:
        tokens = self.tokens
        if self.counted < len(tokens):
            self.line += sum(token.count("\n") for token in tokens[self.counted :])
            self.counted = len(tokens)
        return self.line

    @contextmanager
    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> Iterator[None]:
        """Note the line where the node's syntax starts (after its leading whitespace) and where it ends."""
        targets = self.targets
        if targets is not None:
            if id(node) in targets and id(node) not in self.spans:
                self.spans[id(node)] = (self._current_line(), 0)
            yield
            return
        if not _is_statement_part(node):
            yield
            return
        start = self._current_line()
        yield
        end = self._current_line()
        spans = self.spans
        if start_node is not None and id(start_node) in spans:
            start = spans[id(start_node)][0]
        if end_node is not None and id(end_node) in spans:
            end = spans[id(end_node)][1]
        spans[id(node)] = (start, end)


_STATEMENT_PARTS = (
    cst.BaseStatement,
    cst.BaseSmallStatement,
    cst.BaseSuite,
    cst.Else,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Finally,
    cst.MatchCase,
)
_IS_STATEMENT_PART: dict[type, bool] = {}


def _is_statement_part(node: cst.CSTNode) -> bool:
    """Statements, their clauses and suites: the nodes whose lines decide what a signal protects."""
    kind = type(node)
    known = _IS_STATEMENT_PART.get(kind)
    if known is None:
        known = _IS_STATEMENT_PART[kind] = isinstance(node, _STATEMENT_PARTS)
    return known


def _statements(module: cst.Module) -> Iterator[cst.CSTNode]:
    """Every statement of `module` (simple lines and compound statements, at any depth), without expressions."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            yield node
        if isinstance(node, cst.SimpleStatementLine):
            continue
        children: list[cst.CSTNode] = []
        _push_children(children, node, reverse_sequences=False)
        stack.extend(child for child in children if _is_statement_part(child) or isinstance(child, cst.If))


def node_lines(module: cst.Module, nodes: Sequence[cst.CSTNode]) -> dict[int, int]:
    """id(node) -> 1-based start line, for nodes of `module`."""
    known = _known(module)
    if known is not None and known.spans is not None and all(id(node) in known.spans for node in nodes):
        return {id(node): known.spans[id(node)][0] for node in nodes}
    state = _LineCodegenState(
        default_indent=module.default_indent, default_newline=module.default_newline, targets=frozenset(map(id, nodes))
    )
    module._codegen(state)
    return {key: start for key, (start, _) in state.spans.items()}


@dataclass
class _ModuleText:
    """What is known of one module object: its code and (once computed) the lines of its nodes."""

    module: cst.Module  # kept alive, so that its id and its nodes' ids stay its own
    code: str
    spans: dict[int, tuple[int, int]] | None = None


_KNOWN: dict[int, _ModuleText] = {}
_KNOWN_LIMIT = 8  # the modules of the file being transformed: the parse and the codemods' results


def _known(module: cst.Module) -> _ModuleText | None:
    entry = _KNOWN.get(id(module))
    return entry if entry is not None and entry.module is module else None


def _remember(entry: _ModuleText) -> _ModuleText:
    if len(_KNOWN) >= _KNOWN_LIMIT:
        _KNOWN.clear()
    _KNOWN[id(entry.module)] = entry
    return entry


def remember_code(module: cst.Module, code: str) -> None:
    """Note that `module` is the parse of `code` (the runner knows it), so nobody generates it again."""
    _remember(_ModuleText(module, code))


def module_code(module: cst.Module) -> str:
    """`module.code`, generated at most once per module object among the last few transformed."""
    known = _known(module)
    return known.code if known is not None else _remember(_ModuleText(module, module.code)).code


def _with_spans(module: cst.Module) -> _ModuleText:
    """The module's code and the lines of its nodes, from one light codegen pass."""
    known = _known(module)
    if known is not None and known.spans is not None:
        return known
    state = _LineCodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    return _remember(_ModuleText(module, "".join(state.tokens), state.spans))


def _clause_lines(node: cst.BaseCompoundStatement, spans: Mapping[int, tuple[int, int]]) -> set[int]:
    """The lines of a compound statement's headers: `def`/`if ...:` up to its body, and `elif`/`else`/`except`."""
    start = spans[id(node)][0]
    body = getattr(node, "body", None)  # a `match` has cases instead
    first = body.body[0] if isinstance(body, cst.IndentedBlock) and body.body else None
    header_end = spans[id(first)][0] - 1 if first is not None and id(first) in spans else start
    lines = set(range(start, max(header_end, start) + 1))
    clauses: list[cst.CSTNode | None] = [getattr(node, "orelse", None), getattr(node, "finalbody", None)]
    clauses.extend(getattr(node, "handlers", ()))
    for clause in clauses:
        if clause is not None and id(clause) in spans:
            lines.add(spans[id(clause)][0])
            if isinstance(clause, cst.If):
                lines |= _clause_lines(clause, spans)
    return lines


def protected_statements(module: cst.Module, codes: Sequence[str], tool_comments: bool = True) -> frozenset[int]:
    """ids of the statements of `module` that carry a signal on one of their own lines (signals.py)."""
    lines = protected_lines(module_code(module), codes, tool_comments)
    if not lines:
        return frozenset()
    spans = _with_spans(module).spans
    assert spans is not None  # _with_spans always computes them
    found = set()
    for node in _statements(module):
        if id(node) not in spans:
            continue
        if isinstance(node, cst.SimpleStatementLine):
            first, last = spans[id(node)]
            if any(first <= line <= last for line in lines):
                found.add(id(node))
        elif _clause_lines(node, spans) & lines:  # type: ignore[arg-type]  # a compound statement
            found.add(id(node))
    return frozenset(found)


def _lint_codes(codemod_id: str) -> tuple[tuple[str, ...], bool]:
    """The codemod's lint codes, and whether tool comments protect a line from it (signals.py)."""
    from evolve.codemods.registry import available_codemods  # the registry imports the codemods, not this module

    codemod = available_codemods().get(codemod_id)
    return (codemod.metadata.lint_codes, codemod.metadata.tool_comments_protect) if codemod is not None else ((), True)


def run_transformer(module: cst.Module, transformer: RecordingTransformer) -> tuple[cst.Module, list[Change]]:
    """Visit `module`, leaving protected statements alone, and return the new module and the changes made."""
    transformer.protected = protected_statements(module, *_lint_codes(transformer.codemod_id))
    new_module = module.visit(transformer)
    if not transformer.recorded:
        return module, []  # the same tree, whose code and lines are known already
    lines = node_lines(module, [node for node, _ in transformer.recorded])
    changes = [
        Change(transformer.codemod_id, lines.get(id(node), 1), description)
        for node, description in transformer.recorded
    ]
    return new_module, sorted(changes, key=lambda change: change.line)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _push_children(stack: list[cst.CSTNode], node: cst.CSTNode, reverse_sequences: bool) -> None:
    """Push the child nodes of `node`, read straight from its dataclass fields (names cached per type)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in fields(node))
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            stack.append(value)
        elif isinstance(value, (list, tuple)):
            items = reversed(value) if reverse_sequences else value
            stack.extend(item for item in items if isinstance(item, cst.CSTNode))


def iter_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `root` (pre-order), read straight from the dataclass fields: far cheaper than a visitor."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        _push_children(stack, node, reverse_sequences=True)


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


def _bound_by(node: cst.CSTNode) -> Iterator[str]:
    """The names one node binds in its scope."""
    if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.Del)):
        yield from _target_names(node.target)
    elif isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Param)):
        yield node.name.value
    elif isinstance(node, (cst.WithItem, cst.ExceptHandler, cst.ExceptStarHandler)):
        asname = node.asname if isinstance(node, cst.WithItem) else node.name
        if asname is not None:
            yield from _target_names(asname.name)
    elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
        for alias in node.names:
            yield alias.evaluated_alias or dotted_name(alias.name).split(".")[0]
    elif isinstance(node, (cst.Global, cst.Nonlocal)):
        yield from (item.name.value for item in node.names)
    elif isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
        yield node.name.value
    elif isinstance(node, cst.MatchMapping) and node.rest is not None:
        yield node.rest.value


def module_bindings(module: cst.Module) -> dict[str, list[cst.CSTNode]]:
    """Name -> the nodes binding it (import statements, defs, assignment targets...) anywhere in the module."""
    found: dict[str, list[cst.CSTNode]] = {}
    for node in iter_nodes(module):
        for name in _bound_by(node):
            found.setdefault(name, []).append(node)
    return found


def module_bound_names(module: cst.Module) -> tuple[set[str], bool]:
    """Every name assigned in any scope of the module, and whether a star import may bind more."""
    return set(module_bindings(module)), has_star_import(module)


def binds_only_module(module: cst.Module, name: str) -> bool:
    """Whether `name` is bound in the module, and only by `import name` (or `import name.sub`)."""
    if has_star_import(module):
        return False
    nodes = module_bindings(module).get(name, [])
    if not nodes:
        return False
    for node in nodes:
        if not isinstance(node, cst.Import):
            return False
        for alias in node.names:
            full = dotted_name(alias.name)
            local = alias.evaluated_alias or full.split(".")[0]
            if local == name and full != name and (alias.asname is not None or full.split(".")[0] != name):
                return False
    return True


def name_references(root: cst.CSTNode) -> dict[str, int]:
    """How often each name is referenced under `root`, ignoring imports, attribute names and keyword-argument names."""
    counts: dict[str, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            counts[node.value] = counts.get(node.value, 0) + 1
            continue
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        if isinstance(node, (cst.Attribute, cst.Arg)):
            stack.append(node.value)
            continue
        _push_children(stack, node, reverse_sequences=False)
    return counts


def dotted_name(node: cst.BaseExpression) -> str:
    """`a.b.c` for a Name/Attribute chain, "" for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


def has_comment(node: cst.CSTNode) -> bool:
    """Whether a comment lives anywhere inside `node` (edits that would drop it are skipped)."""
    return any(isinstance(inner, cst.Comment) for inner in iter_nodes(node))


def has_star_import(module: cst.Module) -> bool:
    """Whether a `from x import *` (which may bind any name) appears anywhere."""
    return any(
        isinstance(node, cst.ImportFrom) and isinstance(node.names, cst.ImportStar) for node in iter_nodes(module)
    )


def has_future_annotations(module: cst.Module) -> bool:
    """Whether the module has `from __future__ import annotations`."""
    future = m.ImportFrom(
        module=m.Name("__future__"), names=[m.ZeroOrMore(), m.ImportAlias(name=m.Name("annotations")), m.ZeroOrMore()]
    )
    return any(
        m.matches(small, future)
        for statement in module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


def append_keyword_arg(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """Return `call` with `keyword=value` added after its last argument, keeping its layout (trailing commas, newlines)."""
    new_arg = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new_arg])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # Multi-line call with a trailing comma: the new argument takes the trailing comma's place.
        separator = _argument_separator(call)
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=separator))
        args.append(new_arg.with_changes(comma=last.comma))
    else:
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        args.append(new_arg.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def _argument_separator(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace the call already uses between arguments, without any comment it carries."""
    separator: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace(" ")
    if len(call.args) >= 2 and isinstance(call.args[-2].comma, cst.Comma):
        separator = call.args[-2].comma.whitespace_after
    elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        separator = call.whitespace_before_args
    if isinstance(separator, cst.ParenthesizedWhitespace):
        separator = separator.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return separator


def drop_statements(
    body: Sequence[cst.BaseStatement], doomed: set[int], footer: Sequence[cst.EmptyLine]
) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
    """Remove statements at indices `doomed`, moving their comment lines onto the next kept statement (or the footer)."""
    kept: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []
    for index, statement in enumerate(body):
        if index in doomed:
            carried.extend(line for line in getattr(statement, "leading_lines", ()) if line.comment is not None)
            continue
        # Every concrete statement (a simple line or a compound statement) carries its own leading lines.
        assert isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        if not kept and index and statement.leading_lines:
            # The statement now opens its block: blank lines that separated it from the dropped ones go.
            lines = list(statement.leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)
            statement = statement.with_changes(leading_lines=lines)
        if carried:
            statement = statement.with_changes(leading_lines=[*carried, *statement.leading_lines])
            carried = []
        kept.append(statement)
    return kept, [*carried, *footer]


class _ShiftContinuations(cst.CSTTransformer):
    def __init__(self, delta: int) -> None:
        super().__init__()
        self.delta = delta

    def leave_ParenthesizedWhitespace(
        self, original_node: cst.ParenthesizedWhitespace, updated_node: cst.ParenthesizedWhitespace
    ) -> cst.ParenthesizedWhitespace:
        value = updated_node.last_line.value
        if self.delta >= 0:
            value += " " * self.delta
        elif value.endswith(" " * -self.delta):
            value = value[: self.delta]
        return updated_node.with_changes(last_line=cst.SimpleWhitespace(value))


def shift_continuation_lines(call: cst.Call, delta: int) -> cst.Call:
    """`call` after its callee's name grew by `delta` characters: visually aligned argument lines move with it.

    Only a call whose first argument shares the line of the opening parenthesis is aligned to it; a call that
    breaks right after the parenthesis (a hanging indent) keeps its lines where they are.
    """
    if not delta or isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call
    shifter = _ShiftContinuations(delta)
    return call.with_changes(args=[arg.visit(shifter) for arg in call.args])
