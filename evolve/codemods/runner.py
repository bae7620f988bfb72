"""Run the codemod catalog over files: cheap `ast` detection first, then one LibCST parse per file that needs it.

The runner never raises for a bad file: unreadable, binary, non-UTF-8 and unparsable files are recorded as
skipped with a reason, and a codemod that fails on a file is recorded as an error while the others still run.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from pydantic import BaseModel

from evolve.codemods.base import Change, Codemod, CodemodContext, Occurrence
from evolve.codemods.continuation_lines import realign_continuations
from evolve.codemods.cst_edits import module_code, remember_code
from evolve.codemods.python_versions import min_python_from_requires, repository_min_python
from evolve.codemods.registry import available_codemods, configured, declared_settings
from evolve.codemods.shared_walks import walks_shared
from evolve.edits import FileEdit
from evolve.findings import SkippedFile

__all__ = [
    "CodemodError",
    "CodemodRunResult",
    "FileOutcome",
    "SkippedFile",
    "apply_codemods",
    "detect_occurrences",
    "min_python_from_requires",
    "process_file",
    "repository_min_python",
]

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 8
ContextFor = Callable[[str], CodemodContext] | tuple[int, int]


@dataclass(frozen=True)
class CodemodError:
    """A codemod that raised on one file; its edits to that file were dropped."""

    path: str
    codemod: str
    message: str


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file."""

    path: str
    edit: FileEdit | None = None
    skipped: str | None = None
    errors: tuple[CodemodError, ...] = ()
    detected: tuple[str, ...] = ()  # ids of codemods whose detect found something
    parsed_with_libcst: bool = False


@dataclass(frozen=True)
class CodemodRunResult:
    """Everything one run produced: edits for changed files, skipped files, codemod errors."""

    edits: tuple[FileEdit, ...]
    skipped: tuple[SkippedFile, ...]
    errors: tuple[CodemodError, ...]
    files_scanned: int
    files_parsed_with_libcst: int

    def files_changed_by(self) -> dict[str, int]:
        """Codemod id -> number of files it changed."""
        counts: dict[str, int] = {}
        for edit in self.edits:
            for codemod_id in sorted({change.codemod for change in edit.changes}):
                counts[codemod_id] = counts.get(codemod_id, 0) + 1
        return dict(sorted(counts.items()))


def _context_function(context_for: ContextFor | None) -> Callable[[str], CodemodContext]:
    if callable(context_for):
        return context_for
    min_python = tuple(context_for) if context_for is not None else (3, 8)

    def context(path: str) -> CodemodContext:
        return CodemodContext(path=path, min_python=min_python, is_package_init=Path(path).name == "__init__.py")  # type: ignore[arg-type]

    return context


def _with_stub(root: Path, path: str, context: CodemodContext) -> CodemodContext:
    """The context, noting whether the module ships a `.pyi` stub beside it."""
    stub = (root / path).with_suffix(".pyi")
    return context.replace(has_stub=True) if path.endswith(".py") and stub.is_file() else context


def _read_source(full_path: Path) -> tuple[str | None, str | None, str]:
    """(text without BOM, skip reason, BOM prefix)."""
    try:
        data = full_path.read_bytes()
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}", ""
    if b"\x00" in data:
        return None, "binary file (NUL bytes)", ""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (byte {exc.start})", ""
    if text.startswith("\ufeff"):
        return text[1:], None, "\ufeff"
    return text, None, ""


def _parse_ast(text: str, path: str) -> tuple[ast.Module | None, str | None]:
    try:
        return ast.parse(text, filename=path), None
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return None, f"syntax error{f' at line {line}' if line else ''}: {getattr(exc, 'msg', exc)}"


def process_file(root: Path, path: str, codemods: Sequence[Codemod], context: CodemodContext) -> FileOutcome:
    """Detect with `ast`, then (only if needed) parse once with LibCST and run the detecting transforms in order."""
    text, reason, bom = _read_source(root / path)
    if text is None:
        return FileOutcome(path, skipped=reason)
    tree, reason = _parse_ast(text, path)
    if tree is None:
        return FileOutcome(path, skipped=reason)
    errors: list[CodemodError] = []
    detected: list[Codemod] = []
    with walks_shared():  # the detectors walk the same tree: once
        for codemod in codemods:
            try:
                if codemod.detect(tree, text, context):
                    detected.append(codemod)
            except Exception as exc:
                errors.append(CodemodError(path, codemod.metadata.id, f"detect failed: {type(exc).__name__}: {exc}"))
    ids = tuple(codemod.metadata.id for codemod in detected)
    if not detected:
        return FileOutcome(path, errors=tuple(errors))
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        return FileOutcome(
            path, skipped=f"LibCST cannot parse: {str(exc).splitlines()[0]}", errors=tuple(errors), detected=ids
        )
    remember_code(module, text)  # the transforms' signal checks read it: no codegen for the parse
    changes: list[Change] = []
    for codemod in detected:
        try:
            new_module, made = codemod.transform(module, context)
        except Exception as exc:
            errors.append(CodemodError(path, codemod.metadata.id, f"transform failed: {type(exc).__name__}: {exc}"))
            continue
        module = new_module
        changes.extend(made)
    # LibCST keeps whitespace inside brackets as it was: lines aligned with a bracket whose line got shorter or
    # longer (`elif (` -> `if (`, `warn(` -> `warning(`) are lined up with it again.
    after = realign_continuations(text, module_code(module))
    if after == text:
        return FileOutcome(path, errors=tuple(errors), detected=ids, parsed_with_libcst=True)
    _, invalid = _parse_ast(after, path)
    if invalid:
        errors.append(CodemodError(path, ",".join(ids), f"result does not parse ({invalid}); edit dropped"))
        return FileOutcome(path, errors=tuple(errors), detected=ids, parsed_with_libcst=True)
    changes.sort(key=lambda change: (change.line, change.codemod))
    edit = FileEdit(path=path, before=bom + text, after=bom + after, source="codemods", changes=tuple(changes))
    return FileOutcome(path, edit=edit, errors=tuple(errors), detected=ids, parsed_with_libcst=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _process_by_ids(job: tuple[str, str, tuple[tuple[str, BaseModel | None], ...], CodemodContext]) -> FileOutcome:
    """Worker entry point: codemods travel as ids with their settings and are looked up in the worker's registry."""
    root, path, settings, context = job
    registry = available_codemods()
    return process_file(Path(root), path, [configured(registry[cid], given) for cid, given in settings], context)


def apply_codemods(
    root: Path,
    paths: Sequence[str],
    codemods: Sequence[Codemod],
    context_for: ContextFor | None = None,
    *,
    workers: int | None = None,
) -> CodemodRunResult:
    """Run `codemods` over `paths` (relative to `root`) and collect edits for the files that changed.

    `context_for` is a function from path to CodemodContext, or the repository's min_python tuple.
    Files are processed in parallel when there are more than a handful and every codemod is registered.
    """
    root = Path(root)
    make_context = _context_function(context_for)
    jobs = [(path, _with_stub(root, path, make_context(path))) for path in paths]
    settings = tuple((codemod.metadata.id, declared_settings(codemod)) for codemod in codemods)
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if len(jobs) > PARALLEL_THRESHOLD else 1
    registered = available_codemods()
    parallel = workers > 1 and len(jobs) > 1 and all(registered.get(c.metadata.id) is type(c) for c in codemods)
    if parallel:
        # Largest files first, one at a time: a big file started last would leave the other workers idle at the end.
        order = sorted(range(len(jobs)), key=lambda index: -_size(root / jobs[index][0]))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = pool.map(_process_by_ids, [(str(root), jobs[index][0], settings, jobs[index][1]) for index in order])
            by_index = dict(zip(order, done))
        outcomes = [by_index[index] for index in range(len(jobs))]
    else:
        outcomes = [process_file(root, path, codemods, ctx) for path, ctx in jobs]
    return CodemodRunResult(
        edits=tuple(outcome.edit for outcome in outcomes if outcome.edit is not None),
        skipped=tuple(SkippedFile(outcome.path, outcome.skipped) for outcome in outcomes if outcome.skipped),
        errors=tuple(error for outcome in outcomes for error in outcome.errors),
        files_scanned=len(outcomes),
        files_parsed_with_libcst=sum(outcome.parsed_with_libcst for outcome in outcomes),
    )


def detect_occurrences(
    root: Path, paths: Sequence[str], codemods: Sequence[Codemod], min_python: ContextFor | None = None
) -> dict[str, list[tuple[str, Occurrence]]]:
    """Path -> [(codemod id, occurrence)] using only `ast` (no LibCST): what research needs to plan."""
    make_context = _context_function(min_python)
    found: dict[str, list[tuple[str, Occurrence]]] = {}
    for path in paths:
        text, _, _ = _read_source(Path(root) / path)
        tree = _parse_ast(text, path)[0] if text is not None else None
        if tree is None or text is None:
            continue
        context = _with_stub(Path(root), path, make_context(path))
        hits: list[tuple[str, Occurrence]] = []
        with walks_shared():
            for codemod in codemods:
                try:
                    hits.extend((codemod.metadata.id, occurrence) for occurrence in codemod.detect(tree, text, context))
                except Exception:
                    continue
        if hits:
            found[path] = sorted(hits, key=lambda hit: (hit[1].line, hit[0]))
    return found
