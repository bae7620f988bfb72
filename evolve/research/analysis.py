"""Per-file metrics from one parse: radon complexity, maintainability and raw size, interrogate docstrings.

The source is parsed once with `ast`; radon's and interrogate's visitors run over that one tree. The
numbers are the ones `radon cc`, `radon mi` (multi-line strings counted as comments, radon's default),
`radon raw` and `interrogate` (its defaults, or the repository's `[tool.interrogate]` settings) print.

Docstring coverage counts what interrogate counts by default (module, classes, functions, methods,
nested ones, private and magic ones), so `docstrings_covered / docstrings_total` matches its CLI; a
repository's `[tool.interrogate]` options (ignore-init-method, ignore-private, ...) are honoured.
`is_public` is narrower, for findings: no part of the qualname starts with `_` (dunders such as
`__init__` count as public) and the function is not nested inside another function.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interrogate import config as interrogate_config
from interrogate import coverage as interrogate_coverage
from interrogate import visit as interrogate_visit
from radon.metrics import h_visit_ast, mi_compute
from radon.visitors import ComplexityVisitor

from evolve.findings import FileMetrics, FunctionMetrics
from evolve.research.raw_metrics import analyze_raw

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Definition:
    """A class or function as the docstring check sees it."""

    qualname: str
    kind: str  # "function", "method" or "class"
    line: int
    end_line: int
    has_docstring: bool
    is_public: bool


@dataclass(frozen=True)
class FileAnalysis:
    """What one file yields: its metrics, plus the class and function definitions docstring findings need."""

    metrics: FileMetrics
    definitions: tuple[Definition, ...]


def load_interrogate_options(root: Path) -> dict[str, Any]:
    """The repository's `[tool.interrogate]` settings (as the interrogate CLI reads them), or {} for its defaults."""
    pyproject = Path(root) / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    try:
        raw = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    section = raw.get("tool", {}).get("interrogate", {})
    known = {field.name for field in interrogate_config.InterrogateConfig.__attrs_attrs__}
    options = {}
    for key, value in section.items():
        name = key.replace("--", "").replace("-", "_")
        if name == "whitelist_regex":
            name = "include_regex"
        if name in known and name not in ("color", "fail_under", "omit_covered_files"):
            options[name] = value
    return options


@functools.lru_cache(maxsize=8)
def _interrogate(options_json: str) -> interrogate_coverage.InterrogateCoverage:
    options = json.loads(options_json)
    for key in ("ignore_regex", "include_regex"):
        if options.get(key):
            values = options[key] if isinstance(options[key], list) else [options[key]]
            options[key] = [re.compile(value) for value in values]
    conf = interrogate_config.InterrogateConfig(**options)
    return interrogate_coverage.InterrogateCoverage(paths=[], conf=conf)


def docstring_counts(tree: ast.Module, path: str, options: dict[str, Any] | None = None) -> tuple[int, int]:
    """(covered, total) for one file, applying interrogate's own visitor and filters."""
    interrogator = _interrogate(json.dumps(options or {}, sort_keys=True))
    conf = interrogator.config
    if conf.ignore_init_module and Path(path).name == "__init__.py":
        return 0, 0
    visitor = interrogate_visit.CoverageVisitor(filename=path, config=conf)
    visitor.visit(tree)
    # The same steps as InterrogateCoverage._get_file_coverage, minus re-reading and re-parsing the file.
    nodes = interrogator._filter_nodes(visitor.nodes)
    if conf.ignore_nested_functions:
        nodes = [n for n in nodes if not n.is_nested_func]
    if conf.ignore_nested_classes:
        nodes = interrogator._filter_inner_nested(nodes)
    if conf.docstring_style == "google":
        interrogator._set_google_style(nodes)
    counted = [n for n in nodes if not (n.node_type == "Module" and conf.ignore_module)]
    return sum(1 for n in counted if n.covered), len(counted)


def _has_docstring(node: ast.AST) -> bool:
    doc = ast.get_docstring(node)  # type: ignore[arg-type]
    return doc is not None and doc.strip() != ""


def _is_public_name(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _collect_definitions(tree: ast.Module) -> list[Definition]:
    """Every class and function with its dotted qualname; closures are never public."""
    found: list[Definition] = []

    def visit(body: list[ast.stmt], prefix: str, parent: str, public: bool) -> None:
        for node in body:
            if isinstance(node, (ast.ClassDef, *_FUNCTION_NODES)):
                qualname = f"{prefix}{node.name}"
                is_function = isinstance(node, _FUNCTION_NODES)
                kind = "class" if not is_function else ("method" if parent == "class" else "function")
                is_public = public and parent != "function" and _is_public_name(node.name)
                end = getattr(node, "end_lineno", None) or node.lineno
                found.append(Definition(qualname, kind, node.lineno, end, _has_docstring(node), is_public))
                visit(node.body, qualname + ".", "function" if is_function else "class", is_public)
            else:
                # Definitions under if/try/with/for blocks belong to the enclosing scope.
                for field_name in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field_name, None)
                    if isinstance(inner, list):
                        # Each block is a list of ast.stmt: an except handler's body, or the field itself.
                        stmts: list[Any] = (
                            [getattr(h, "body", h) for h in inner] if field_name == "handlers" else [inner]
                        )
                        for block in stmts:
                            visit(block, prefix, parent, public)
                if isinstance(node, ast.Match):
                    for case in node.cases:
                        visit(case.body, prefix, parent, public)

    visit(tree.body, "", "module", True)
    return found


def _radon_functions(blocks: list[Any]) -> list[tuple[str, Any]]:
    """Flatten radon's blocks into (qualname, Function): methods as `Class.method`, closures as `outer.inner`."""
    out: list[tuple[str, Any]] = []

    def add_function(prefix: str, func: Any) -> None:
        qualname = prefix + func.name
        out.append((qualname, func))
        for closure in func.closures:
            add_function(qualname + ".", closure)

    def add_class(prefix: str, cls: Any) -> None:
        qualname = prefix + cls.name
        for method in cls.methods:
            add_function(qualname + ".", method)
        for inner in cls.inner_classes:
            add_class(qualname + ".", inner)

    for block in blocks:
        if hasattr(block, "methods"):
            add_class("", block)
        else:
            add_function("", block)
    return out


def analyse_source(path: str, text: str, interrogate_options: dict[str, Any] | None = None) -> FileAnalysis:
    """Measure one file's source. Raises SyntaxError (or ValueError for NUL bytes) when it cannot be parsed."""
    tree = ast.parse(text, filename=path)
    raw = analyze_raw(text)  # radon.raw.analyze, minus its quadratic worst case
    visitor = ComplexityVisitor.from_ast(tree)
    # radon's mi_visit(text, multi=True) recomputed from the shared tree: same inputs, one parse.
    comments_percent = (raw.comments + raw.multi) / float(raw.sloc) * 100 if raw.sloc else 0
    maintainability = mi_compute(h_visit_ast(tree).total.volume, visitor.total_complexity, raw.lloc, comments_percent)

    definitions = _collect_definitions(tree)
    by_line = {(d.line, d.qualname): d for d in definitions if d.kind != "class"}
    functions = []
    for qualname, func in _radon_functions([*visitor.functions, *visitor.classes]):
        definition = by_line.get((func.lineno, qualname))
        functions.append(
            FunctionMetrics(
                qualname=qualname,
                line=func.lineno,
                end_line=definition.end_line if definition else func.endline,
                complexity=int(func.complexity),
                has_docstring=definition.has_docstring if definition else False,
                is_public=definition.is_public if definition else False,
            )
        )
    functions.sort(key=lambda f: (f.line, f.qualname))
    covered, total = docstring_counts(tree, path, interrogate_options)
    metrics = FileMetrics(
        path=path,
        loc=raw.loc,
        sloc=raw.sloc,
        comments=raw.comments,
        maintainability=round(maintainability, 4),
        functions=tuple(functions),
        docstrings_covered=covered,
        docstrings_total=total,
    )
    return FileAnalysis(metrics=metrics, definitions=tuple(definitions))
