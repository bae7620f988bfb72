"""Adding a standard-library import where isort would put it: with the module's leading stdlib imports."""

from __future__ import annotations

import sys

import libcst as cst

from evolve.codemods.cst_edits import dotted_name


def is_future_or_docstring(statement: cst.CSTNode) -> bool:
    """A docstring or `from __future__` line."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return all(
        (isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)))
        or (
            isinstance(small, cst.ImportFrom) and small.module is not None and dotted_name(small.module) == "__future__"
        )
        for small in statement.body
    )


def is_import_line(statement: cst.CSTNode) -> bool:
    """A line of import statements only."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def is_stdlib_import(statement: cst.CSTNode) -> bool:
    """An import line that imports standard-library modules only."""
    assert isinstance(statement, cst.SimpleStatementLine)
    for small in statement.body:
        if isinstance(small, cst.Import):
            modules = [dotted_name(alias.name) for alias in small.names]
        elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
            modules = [dotted_name(small.module)]
        else:
            return False
        if not all(module.split(".")[0] in sys.stdlib_module_names for module in modules):
            return False
    return True


def _sort_key(statement: cst.CSTNode) -> tuple[int, str]:
    """isort's default order in a section: `import x` lines before `from x import` lines, by module name."""
    assert isinstance(statement, cst.SimpleStatementLine)
    small = statement.body[0]
    if isinstance(small, cst.Import):
        return 0, dotted_name(small.names[0].name).lower()
    assert isinstance(small, cst.ImportFrom)
    return 1, dotted_name(small.module).lower() if small.module is not None else ""


def insert_stdlib_import(module: cst.Module, text: str) -> cst.Module:
    """Add the import statement `text` after the module's leading stdlib imports (or above its first import)."""
    body = list(module.body)
    position = 0
    while position < len(body) and is_future_or_docstring(body[position]):
        position += 1
    first_import = position
    last_stdlib = None
    while position < len(body) and is_import_line(body[position]):
        if is_stdlib_import(body[position]):
            last_stdlib = position
        position += 1
    # With the standard-library imports (isort's first section), or before the first import when there are none.
    position = last_stdlib + 1 if last_stdlib is not None else first_import
    line = cst.parse_statement(text)
    stdlib = [i for i in range(first_import, position) if is_stdlib_import(body[i])]
    keys = [_sort_key(body[i]) for i in stdlib]
    if stdlib and keys == sorted(keys):
        # An alphabetised section stays alphabetised: the line goes before the first one that sorts after it.
        later = [i for i, key in zip(stdlib, keys) if key > _sort_key(line)]
        if later:
            before = body[later[0]]
            assert isinstance(before, cst.SimpleStatementLine)
            body[later[0]] = before.with_changes(leading_lines=[])
            body.insert(later[0], line.with_changes(leading_lines=before.leading_lines))
            return module.with_changes(body=body)
    if last_stdlib is None and position < len(body) and is_import_line(body[position]):
        # A section of its own above the first import, which keeps any comment written above it.
        first = body[position]
        assert isinstance(first, cst.SimpleStatementLine)
        line = line.with_changes(leading_lines=[e for e in first.leading_lines if e.comment is None])
        body[position] = first.with_changes(
            leading_lines=[cst.EmptyLine(), *(e for e in first.leading_lines if e.comment is not None)]
        )
    else:
        if 0 < position == first_import:
            line = line.with_changes(leading_lines=[cst.EmptyLine()])  # after the docstring, as its own block
        following = body[position] if position < len(body) else None
        if isinstance(following, (cst.SimpleStatementLine, cst.BaseCompoundStatement)) and not (
            is_import_line(following) or following.leading_lines
        ):
            body[position] = following.with_changes(leading_lines=[cst.EmptyLine()])  # imports end with a blank
    body.insert(position, line)
    return module.with_changes(body=body)
