"""Apply the model's structured edits with LibCST: only the named node changes, every other byte stays."""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass

import libcst as cst

Definition = cst.FunctionDef | cst.ClassDef


class EditRejected(Exception):
    """An edit cannot be applied; the message is the reason the model is told."""


@dataclass(frozen=True)
class Symbol:
    """One function or class definition in a module, by dotted qualname."""

    qualname: str
    kind: str  # "function" or "class"


def split_qualname(qualname: str) -> list[str]:
    """`A.b.<locals>.c` -> ["A", "b", "c"]; empty parts are errors."""
    parts = [part for part in qualname.strip().split(".") if part != "<locals>"]
    if not parts or any(not part.isidentifier() for part in parts):
        raise EditRejected(f"{qualname!r} is not a dotted Python name such as 'Class.method' or 'function'")
    return parts


def parse_module(source: str, label: str) -> cst.Module:
    """Parse with LibCST, turning syntax errors into a short rejection reason."""
    try:
        ast.parse(source)
    except SyntaxError as error:  # Python's own message is the most helpful one
        raise EditRejected(f"{label} does not parse: {error.msg} (line {error.lineno})") from None
    except ValueError as error:
        raise EditRejected(f"{label} does not parse: {error}") from None
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise EditRejected(f"{label} does not parse: {error.message} (line {error.raw_line})") from None
    except Exception as error:
        raise EditRejected(f"{label} does not parse: {error}") from None


class _SymbolIndex(cst.CSTVisitor):
    def __init__(self) -> None:
        self.scope: list[str] = []
        self.symbols: list[Symbol] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)
        self.symbols.append(Symbol(".".join(self.scope), "class"))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.append(node.name.value)
        self.symbols.append(Symbol(".".join(self.scope), "function"))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope.pop()


def list_symbols(module: cst.Module) -> list[Symbol]:
    """Every class and function of `module`, in source order (a name defined twice appears twice)."""
    index = _SymbolIndex()
    module.visit(index)
    return index.symbols


def _require_single(module: cst.Module, parts: list[str], path: str, kind: str | None) -> None:
    qualname = ".".join(parts)
    symbols = list_symbols(module)
    found = [s for s in symbols if s.qualname == qualname and (kind is None or s.kind == kind)]
    if not found:
        known = ", ".join(sorted({s.qualname for s in symbols if kind is None or s.kind == kind})[:30]) or "none"
        what = {"function": "function", "class": "class"}.get(kind or "", "function or class")
        raise EditRejected(f"there is no {what} {qualname!r} in {path}; defined there: {known}")
    if len(found) > 1:
        raise EditRejected(f"{qualname!r} is defined {len(found)} times in {path}; it cannot be edited unambiguously")


class _Rewriter(cst.CSTTransformer):
    """Calls `on_match(original, updated, enclosing_indent)` for the definition at `parts`."""

    def __init__(self, parts: list[str], default_indent: str, on_match) -> None:
        super().__init__()
        self.parts = parts
        self.default_indent = default_indent
        self.on_match = on_match
        self.scope: list[str] = []
        self.indents: list[str] = []

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.indents.append(node.indent if node.indent is not None else self.default_indent)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        self.indents.pop()
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.append(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.append(node.name.value)

    def _leave(self, original: Definition, updated: Definition):
        here = list(self.scope)
        self.scope.pop()
        if here == self.parts:
            return self.on_match(original, updated, "".join(self.indents))
        return updated

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef):
        return self._leave(original_node, updated_node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        return self._leave(original_node, updated_node)


def signature_of(function: cst.FunctionDef) -> str:
    """A position-independent fingerprint of decorators, async-ness, parameters and return annotation."""
    stub = function.with_changes(
        body=cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])]), leading_lines=()
    )
    tree = ast.parse(textwrap.dedent(cst.Module(body=[]).code_for_node(stub)))
    node = tree.body[0]
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    parts = [type(node).__name__, ast.dump(node.args), ast.dump(node.returns) if node.returns else ""]
    parts += [ast.dump(decorator) for decorator in node.decorator_list]
    parts += [ast.dump(param) for param in getattr(node, "type_params", [])]
    return "|".join(parts)


def _split_new_source(new_source: str, name: str) -> tuple[cst.FunctionDef, list[cst.FunctionDef]]:
    module = parse_module(textwrap.dedent(new_source).strip("\n") + "\n", "new_source")
    target: list[cst.FunctionDef] = []
    helpers: list[cst.FunctionDef] = []
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            target.append(statement)
        elif isinstance(statement, cst.FunctionDef) and statement.name.value.startswith("_"):
            helpers.append(statement)
        else:
            raise EditRejected(
                f"new_source may hold only the function {name!r} and private helper functions (names starting"
                " with '_'); no imports, classes or other statements"
            )
    if len(target) != 1:
        raise EditRejected(f"new_source must define the function {name!r} exactly once")
    return target[0], helpers


def _sibling_names(module: cst.Module, parts: list[str]) -> set[str]:
    prefix = ".".join(parts[:-1])
    names = set()
    for symbol in list_symbols(module):
        head, _, last = symbol.qualname.rpartition(".")
        if head == prefix:
            names.add(last)
    return names


def replace_function(
    source: str, path: str, qualname: str, new_source: str, keep_signature: bool = True
) -> tuple[str, list[str]]:
    """Replace the definition of `qualname` with `new_source`; return the new text and any helper names added."""
    parts = split_qualname(qualname)
    module = parse_module(source, path)
    _require_single(module, parts, path, "function")
    new_function, helpers = _split_new_source(new_source, parts[-1])
    taken = _sibling_names(module, parts)
    clashes = sorted({h.name.value for h in helpers} & taken)
    if clashes:
        raise EditRejected(f"helper name(s) {', '.join(clashes)} already exist next to {qualname!r}; choose new names")
    blank_lines = 2 if len(parts) == 1 else 1

    def on_match(original: Definition, updated: Definition, indent: str):
        assert isinstance(original, cst.FunctionDef)
        if keep_signature and signature_of(original) != signature_of(new_function):
            raise EditRejected(
                f"the signature of {qualname!r} (decorators, parameters, defaults, annotations) must stay exactly as it is"
            )
        replacement = [new_function.with_changes(leading_lines=original.leading_lines)]
        for helper in helpers:
            comments = [line for line in helper.leading_lines if line.comment is not None]
            replacement.append(
                helper.with_changes(leading_lines=[cst.EmptyLine(indent=False)] * blank_lines + comments)
            )
        return cst.FlattenSentinel(replacement) if len(replacement) > 1 else replacement[0]

    result = module.visit(_Rewriter(parts, module.default_indent, on_match)).code
    _check_python(result, path)
    return result, [h.name.value for h in helpers]


def format_docstring(text: str, indent: str) -> str:
    """The docstring literal for `text` at a body indentation of `indent`."""
    lines = inspect.cleandoc(text).splitlines() or [""]
    body = [lines[0].strip()] + [indent + line.rstrip() if line.strip() else "" for line in lines[1:]]
    joined = "\n".join(body)
    joined = joined.replace("\\", "\\\\")
    if joined.endswith('"'):
        joined = joined[:-1] + '\\"'
    if len(lines) == 1:
        return f'"""{joined}"""'
    return f'"""{joined}\n{indent}"""'


def _docstring_line(literal: str) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Expr(value=cst.SimpleString(literal))])


def _is_docstring(statement: cst.BaseStatement | cst.BaseSmallStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _with_docstring(body: cst.BaseSuite, literal: str) -> cst.BaseSuite:
    if isinstance(body, cst.SimpleStatementSuite):  # `def f(): return 1` becomes an indented block
        statement = cst.SimpleStatementLine(body=body.body, trailing_whitespace=body.trailing_whitespace)
        return cst.IndentedBlock(body=[_docstring_line(literal), statement])
    assert isinstance(body, cst.IndentedBlock)
    statements = list(body.body)
    if statements and _is_docstring(statements[0]):
        first = statements[0]
        assert isinstance(first, cst.SimpleStatementLine)
        statements[0] = first.with_changes(body=[cst.Expr(value=cst.SimpleString(literal))])
    else:
        statements.insert(0, _docstring_line(literal))
    return body.with_changes(body=statements)


def set_docstring(source: str, path: str, qualname: str | None, docstring: str) -> str:
    """Insert or replace the docstring of `qualname` (the module's when None); return the new text."""
    module = parse_module(source, path)
    if qualname is None:
        literal = format_docstring(docstring, "")
        statements = list(module.body)
        if statements and _is_docstring(statements[0]):
            statements[0] = statements[0].with_changes(body=[cst.Expr(value=cst.SimpleString(literal))])
        else:
            statements.insert(0, _docstring_line(literal))
        result = module.with_changes(body=statements).code
        _check_python(result, path)
        return result
    parts = split_qualname(qualname)
    _require_single(module, parts, path, None)

    def on_match(original: Definition, updated: Definition, indent: str):
        block = updated.body
        own = (
            block.indent if isinstance(block, cst.IndentedBlock) and block.indent is not None else module.default_indent
        )
        if isinstance(block, cst.SimpleStatementSuite):
            return updated.with_changes(
                body=_with_docstring(block, format_docstring(docstring, indent + module.default_indent)).with_changes(
                    header=cst.TrailingWhitespace()
                )
            )
        return updated.with_changes(body=_with_docstring(block, format_docstring(docstring, indent + own)))

    result = module.visit(_Rewriter(parts, module.default_indent, on_match)).code
    _check_python(result, path)
    return result


def _check_python(text: str, path: str) -> None:
    try:
        ast.parse(text)
    except SyntaxError as error:
        raise EditRejected(f"the edited {path} is not valid Python: {error.msg} (line {error.lineno})") from None
