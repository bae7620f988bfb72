"""Repository-wide totals: the numbers a PR's metrics table compares between base and head."""

from __future__ import annotations

from collections.abc import Sequence

from evolve.findings import FileMetrics, Finding, RepoMetrics


def _ratio(part: float, whole: float, scale: float, *, empty: float) -> float:
    return round(scale * part / whole, 4) if whole else empty


def average_maintainability(files: Sequence[FileMetrics]) -> float:
    """SLOC-weighted mean MI; a plain mean when no file has code; 100 (radon's empty-file value) for no files."""
    sloc = sum(f.sloc for f in files)
    if sloc:
        return round(sum(f.maintainability * f.sloc for f in files) / sloc, 4)
    if files:
        return round(sum(f.maintainability for f in files) / len(files), 4)
    return 100.0


def repo_totals(
    files: Sequence[FileMetrics], findings: Sequence[Finding], line_coverage: float | None = None
) -> RepoMetrics:
    """Sum and average the per-file metrics.

    * average_complexity: mean cyclomatic complexity over all functions and methods (0 when none);
    * average_maintainability: mean MI over files weighted by SLOC, so empty `__init__.py` files (MI 100)
      do not flatter a repository; 100 when there is no code, as radon rates an empty file;
    * docstring_coverage: interrogate's figure, documented objects / all objects x 100 (100 when none).
    """
    functions = [func for metrics in files for func in metrics.functions]
    complexities = [f.complexity for f in functions]
    documented = sum(f.docstrings_covered for f in files)
    documentable = sum(f.docstrings_total for f in files)
    return RepoMetrics(
        files=len(files),
        loc=sum(f.loc for f in files),
        sloc=sum(f.sloc for f in files),
        functions=len(functions),
        average_complexity=_ratio(sum(complexities), len(complexities), 1.0, empty=0.0),
        max_complexity=max(complexities, default=0),
        average_maintainability=average_maintainability(files),
        docstring_coverage=_ratio(documented, documentable, 100.0, empty=100.0),
        findings=len(findings),
        security_findings=sum(1 for f in findings if f.kind == "security"),
        line_coverage=None if line_coverage is None else round(line_coverage, 4),
    )
