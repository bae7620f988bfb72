"""Repository-wide totals: the numbers a PR's metrics table compares between base and head."""

from __future__ import annotations

from collections.abc import Sequence

from evolve.findings import FileMetrics, Finding, RepoMetrics


def repo_totals(files: Sequence[FileMetrics], findings: Sequence[Finding], line_coverage: float | None = None) -> RepoMetrics:
    """Sum and average the per-file metrics.

    * average_complexity: mean cyclomatic complexity over all functions and methods (0 when none);
    * average_maintainability: mean MI over files weighted by SLOC, so empty `__init__.py` files (MI 100)
      do not flatter a repository; 100 when there is no code, as radon rates an empty file;
    * docstring_coverage: interrogate's figure, documented objects / all objects x 100 (100 when none).
    """
    functions = [func for metrics in files for func in metrics.functions]
    sloc = sum(f.sloc for f in files)
    if sloc:
        maintainability = sum(f.maintainability * f.sloc for f in files) / sloc
    elif files:
        maintainability = sum(f.maintainability for f in files) / len(files)
    else:
        maintainability = 100.0
    documented = sum(f.docstrings_covered for f in files)
    documentable = sum(f.docstrings_total for f in files)
    return RepoMetrics(
        files=len(files),
        loc=sum(f.loc for f in files),
        sloc=sloc,
        functions=len(functions),
        average_complexity=round(sum(f.complexity for f in functions) / len(functions), 4) if functions else 0.0,
        max_complexity=max((f.complexity for f in functions), default=0),
        average_maintainability=round(maintainability, 4),
        docstring_coverage=round(100.0 * documented / documentable, 4) if documentable else 100.0,
        findings=len(findings),
        security_findings=sum(1 for f in findings if f.kind == "security"),
        line_coverage=None if line_coverage is None else round(line_coverage, 4),
    )
