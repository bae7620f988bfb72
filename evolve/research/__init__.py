"""Research: metrics and findings per file and function (radon, interrogate, semgrep, coverage, codemod detectors)."""

from evolve.research.scan import scan_repository
from evolve.research.scan_schema import validate_scan_json
from evolve.research.table import render_scan_table

__all__ = ["render_scan_table", "scan_repository", "validate_scan_json"]
