"""One conversation's working set: validates each tool call, applies it with LibCST, explains rejections."""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.codemods.base import Change
from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit
from evolve.llm.docstring_style import DocstringStyle, docstring_problem
from evolve.llm.paths import edit_path_problem, normalise
from evolve.llm.prompts import contains_neutralised_tag
from evolve.llm.redaction import REDACTED, new_token_like_strings
from evolve.llm.repository import function_complexity
from evolve.llm.source_edits import EditRejected, replace_function, set_docstring, split_qualname
from evolve.wording import plural

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "replace_function": ("target", "new_source"),
    "set_docstring": ("target", "docstring"),
    "add_test_file": ("path", "content"),
    "finish": ("summary",),
}
MAX_FIELD_CHARS = 200_000


@dataclass(frozen=True)
class EditRules:
    """What this plan lets the model touch, and the checks each kind of edit must pass."""

    config: EvolveConfig
    files: frozenset[str]  # plan files the model may edit
    function_targets: dict[str, frozenset[str] | None]  # path -> qualnames replace_function may touch (None: any)
    complexity_baselines: dict[tuple[str, str], int]  # (path, qualname) -> radon cc before; must go down
    tests_first: frozenset[tuple[str, str]]  # complexity targets with no tests yet: add tests before refactoring
    docstring_style: DocstringStyle = "plain"
    max_changed_lines: int = 300
    tests_dir: str = "tests"  # where new test files go (the project's own tests directory)


@dataclass
class ToolAnswer:
    """What goes back to the model as a tool_result."""

    text: str
    is_error: bool = False
    finished: bool = False


@dataclass
class EditSession:
    """The files as the model's accepted edits leave them, plus a log of what was accepted and rejected."""

    workspace: Path
    rules: EditRules
    originals: dict[str, str] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    changes: dict[str, list[Change]] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    tested_names: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    summary: str = ""

    def handle(self, name: str, raw_input: Any) -> ToolAnswer:
        """Validate and apply one tool call; never raises."""
        try:
            values = self._fields(name, raw_input)
            if name == "finish":
                self.summary = _plain_summary(values["summary"])
                return ToolAnswer("finished", finished=True)
            text = getattr(self, f"_{name}")(**values)
            self.accepted.append(text)
            return ToolAnswer(f"accepted: {text}")
        except EditRejected as error:
            reason = str(error)
        except Exception as error:
            reason = f"the edit could not be applied ({type(error).__name__}: {error}); try a simpler edit"
        label = raw_input.get("target") or raw_input.get("path") if isinstance(raw_input, dict) else None
        self.rejected.append(f"{name} {label if isinstance(label, str) else ''}".strip() + f": {reason}")
        return ToolAnswer(f"rejected: {reason}", is_error=True)

    def _fields(self, name: str, raw_input: Any) -> dict[str, str]:
        if name not in REQUIRED_FIELDS:
            raise EditRejected(f"unknown tool {name!r}; use one of {', '.join(REQUIRED_FIELDS)}")
        if not isinstance(raw_input, dict):
            raise EditRejected(f"{name} expects a JSON object with fields {', '.join(REQUIRED_FIELDS[name])}")
        values = {}
        for key in REQUIRED_FIELDS[name]:
            if key not in raw_input:
                raise EditRejected(f"{name} is missing the required field {key!r}")
            if not isinstance(raw_input[key], str):
                raise EditRejected(f"{name}.{key} must be a string, not {type(raw_input[key]).__name__}")
            if len(raw_input[key]) > MAX_FIELD_CHARS:
                raise EditRejected(f"{name}.{key} is too long")
            values[key] = raw_input[key]
        return values

    # -- reading and writing the working set ---------------------------------------------------------

    def _read(self, path: str) -> str:
        if path not in self.current:
            file = self.workspace / path
            if not file.is_file():
                raise EditRejected(f"{path} does not exist in the repository")
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise EditRejected(f"{path} cannot be read: {error}") from None
            self.originals[path] = self.current[path] = text
        return self.current[path]

    def _target(self, target: str, allow_module: bool = False) -> tuple[str, str | None]:
        raw_path, sep, qualname = target.partition(":")
        path, problem = normalise(raw_path.strip())
        problem = problem or edit_path_problem(self.workspace, path, self.rules.config)
        if problem or path is None:
            raise EditRejected(problem or "no path given")
        if path not in self.rules.files:
            allowed = ", ".join(sorted(self.rules.files))
            raise EditRejected(f"{path} is not part of this task set; edit only: {allowed}")
        if not sep or not qualname.strip():
            if allow_module:
                return path, None
            raise EditRejected(f"target must look like 'path/to/module.py:Class.method', got {target!r}")
        return path, ".".join(split_qualname(qualname))

    def _store(self, path: str, text: str, change: Change) -> None:
        original = self.originals.get(path, "")
        if REDACTED in text and REDACTED not in original:
            raise EditRejected(f"the edit contains {REDACTED}; keep redacted values exactly as in the repository file")
        if new_token_like_strings(original, text):
            raise EditRejected("the edit adds a credential-like string; code must never contain secrets")
        if contains_neutralised_tag(text) and not contains_neutralised_tag(original):
            raise EditRejected("the edit contains text from the prompt's delimiters; write only Python source")
        total = sum(self._changed_lines(p) for p in self.current if p != path) + _changed_lines(original, text)
        if total > self.rules.max_changed_lines:
            raise EditRejected(
                f"the change would touch {total} lines, above this repository's limit of {self.rules.max_changed_lines};"
                " make a smaller change"
            )
        self.current[path] = text
        self.changes.setdefault(path, []).append(change)

    def _changed_lines(self, path: str) -> int:
        return _changed_lines(self.originals.get(path, ""), self.current[path])

    # -- the tools -----------------------------------------------------------------------------------

    def _replace_function(self, target: str, new_source: str) -> str:
        path, qualname = self._target(target)
        assert qualname is not None
        allowed = self.rules.function_targets.get(path)
        if allowed is not None and qualname not in allowed:
            raise EditRejected(
                f"{qualname!r} is not a target of this task set; replace only: {', '.join(sorted(allowed))}"
            )
        if (path, qualname) in self.rules.tests_first and qualname.split(".")[-1] not in self.tested_names:
            raise EditRejected(
                f"no test exercises {qualname!r} yet; first add characterization tests for it with add_test_file,"
                " then refactor"
            )
        before = self._read(path)
        after, helpers = replace_function(before, path, qualname, new_source, keep_signature=True)
        detail = f"replaced {qualname} in {path}"
        baseline = self.rules.complexity_baselines.get((path, qualname))
        if baseline is not None:
            detail += self._check_complexity(after, qualname, helpers, baseline)
        if helpers:
            detail += f" (helpers added: {', '.join(helpers)})"
        self._store(path, after, Change("llm:replace_function", _line_of(before, qualname), detail))
        return detail

    def _check_complexity(self, after: str, qualname: str, helpers: list[str], baseline: int) -> str:
        new = function_complexity(after, qualname)
        if new is None:
            raise EditRejected(f"radon could not measure {qualname!r} after the edit")
        if new >= baseline:
            raise EditRejected(
                f"radon cyclomatic complexity of {qualname!r} is {new}, not below its current {baseline}; simplify"
                " the control flow (early returns, lookup tables, extracted helpers) without changing behaviour"
            )
        prefix = qualname.rpartition(".")[0]
        for helper in helpers:
            helper_cc = function_complexity(after, f"{prefix}.{helper}" if prefix else helper) or 0
            if helper_cc >= baseline:
                raise EditRejected(f"helper {helper!r} has complexity {helper_cc}; the complexity only moved")
        return f" (complexity {baseline} -> {new})"

    def _set_docstring(self, target: str, docstring: str) -> str:
        path, qualname = self._target(target, allow_module=True)
        problem = docstring_problem(docstring, qualname or path.rsplit("/", 1)[-1][:-3], self.rules.docstring_style)
        if problem:
            raise EditRejected(problem)
        before = self._read(path)
        after = set_docstring(before, path, qualname, docstring)
        detail = f"set the docstring of {qualname or 'the module'} in {path}"
        self._store(path, after, Change("llm:set_docstring", _line_of(before, qualname), detail))
        return detail

    def _add_test_file(self, path: str, content: str) -> str:
        clean, problem = normalise(path)
        problem = problem or edit_path_problem(
            self.workspace, clean, self.rules.config, test_file=True, tests_dir=self.rules.tests_dir
        )
        if problem or clean is None:
            raise EditRejected(problem or "no path given")
        path = clean
        if path not in self.created and ((self.workspace / path).exists() or path in self.originals):
            raise EditRejected(f"{path} already exists; choose a new test file name (existing tests are not rewritten)")
        try:
            tree = ast.parse(content)
        except SyntaxError as error:
            raise EditRejected(f"the test file does not parse: {error.msg} (line {error.lineno})") from None
        tests = [
            n
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
        ]
        if not tests:
            raise EditRejected("the test file defines no test functions (def test_...)")
        self.originals.setdefault(path, "")
        self.created.add(path)
        self._store(
            path, content if content.endswith("\n") else content + "\n", Change("llm:add_test_file", 1, f"added {path}")
        )
        self.tested_names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", content))
        return f"added {path} with {plural(len(tests), 'test')}"

    # -- results -------------------------------------------------------------------------------------

    def edits(self) -> tuple[FileEdit, ...]:
        """The accepted edits as FileEdit values (source "llm"), sorted by path; unchanged files are left out."""
        result = []
        for path in sorted(self.current):
            before, after = self.originals.get(path, ""), self.current[path]
            if before != after:
                result.append(FileEdit(path, before, after, "llm", tuple(self.changes.get(path, ()))))
        return tuple(result)


def _changed_lines(before: str, after: str) -> int:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))


def _line_of(source: str, qualname: str | None) -> int:
    if qualname is None:
        return 1
    parts = qualname.split(".")
    try:
        nodes: list[ast.stmt] = ast.parse(source).body
    except SyntaxError:
        return 1
    line = 1
    for part in parts:
        match = next(
            (
                n
                for n in nodes
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
            ),
            None,
        )
        if match is None:
            return line
        line, nodes = match.lineno, match.body
    return line


def _plain_summary(text: str) -> str:
    """The model's summary as one short line for the PR body: no @mentions that would notify people."""
    line = " ".join(text.split())[:500]
    return re.sub(r"@(?=[\w-])", "@\u200b", line)
