"""`evolve scan`: metrics and findings for every Python file of a tree, cached by file content.

list files -> read and hash -> cache lookup -> (semgrep over the misses, in the background)
           -> radon + interrogate + codemod detectors over the misses (a process pool when there are many)
           -> optional coverage -> findings sorted by priority -> totals.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evolve.config import EvolveConfig
from evolve.findings import FileMetrics, Finding, ScanResult, SkippedFile
from evolve.research import codemod_findings as codemods
from evolve.research.analysis import load_interrogate_options
from evolve.research.cache import ScanCache, default_cache_path, fingerprint
from evolve.research.coverage_findings import coverage_findings, measure_coverage
from evolve.research.files import list_python_files, read_source
from evolve.research.priorities import sort_findings
from evolve.research.security import RULES_FILE, Match, SemgrepRun, security_findings
from evolve.research.totals import repo_totals
from evolve.research.workers import Job, Settings, run_jobs

ANALYZER_VERSION = "1"  # bump when what is cached per file changes meaning
Progress = Callable[[str, int, int], None]


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _open_cache(root: Path, cache_dir: Path | None, use_cache: bool) -> ScanCache:
    if not use_cache:
        return ScanCache(None)
    path = Path(cache_dir) / "scan-cache.sqlite" if cache_dir is not None else default_cache_path(root)
    return ScanCache(path)


def scan_repository(
    root: Path,
    config: EvolveConfig | None = None,
    *,
    paths: Sequence[str] | None = None,
    with_coverage: bool = False,
    with_semgrep: bool = True,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan the Python files of `root` (or only `paths`, relative to it) and return metrics and findings.

    Bad files (syntax errors, binary, not UTF-8) are listed in `skipped`; tools that are missing or fail
    are listed in `notes`. Per-file results are cached by content hash, so a re-scan only analyses changes.
    """
    root = Path(root).resolve()
    config = config or EvolveConfig()
    report = progress or (lambda step, done, total: None)
    notes: list[str] = []

    report("list", 0, 1)
    listed = list_python_files(root, config, paths)
    report("list", 1, 1)
    sources = []
    for done, path in enumerate(listed, 1):
        sources.append(read_source(root, path))
        report("read", done, len(listed))
    skipped = [SkippedFile(s.path, s.problem) for s in sources if s.problem]
    readable = [s for s in sources if not s.problem]
    keys = [(s.path, s.digest) for s in readable]

    options = load_interrogate_options(root)
    metrics_fp = fingerprint(ANALYZER_VERSION, _version("radon"), _version("interrogate"), options,
                             config.gates.complexity.threshold, config.gates.maintainability.floor)
    rules_hash = hashlib.sha256(RULES_FILE.read_bytes()).hexdigest()
    semgrep_fp = fingerprint(ANALYZER_VERSION, _version("semgrep"), rules_hash)
    catalog = codemods.load_catalog(config)
    codemod_fp = fingerprint(ANALYZER_VERSION, catalog.ids, codemods.min_python(root), _version("evolve-bot"))

    cache = _open_cache(root, cache_dir, use_cache)
    try:
        cached_metrics = cache.get_many("metrics", metrics_fp, keys)
        cached_matches = cache.get_many("semgrep", semgrep_fp, keys) if with_semgrep else {}
        cached_codemods = cache.get_many("codemods", codemod_fp, keys) if catalog.codemods else {}

        semgrep_todo = [s.path for s in readable if s.path not in cached_matches] if with_semgrep else []
        semgrep = SemgrepRun(root, semgrep_todo) if semgrep_todo else None  # runs while radon works

        use_codemods = bool(catalog.codemods)
        jobs = [
            Job(s.path, s.text or "", s.path not in cached_metrics, use_codemods and s.path not in cached_codemods)
            for s in readable
            if s.path not in cached_metrics or (use_codemods and s.path not in cached_codemods)
        ]
        settings = Settings(root, config, options, catalog if use_codemods else None)
        fresh_metrics: dict[str, dict[str, Any]] = {}
        fresh_codemods: dict[str, list[dict[str, Any]]] = {}
        for done in run_jobs(jobs, settings, progress):
            if done.metrics is not None:
                fresh_metrics[done.path] = done.metrics
            if done.codemods is not None:
                fresh_codemods[done.path] = done.codemods
            notes.extend(note for note in done.notes if note not in notes)
        if catalog.note:
            notes.append(catalog.note)

        fresh_matches: dict[str, list[Match]] = {}
        if semgrep is not None:
            report("semgrep", 0, len(semgrep_todo))
            outcome = semgrep.result()
            report("semgrep", len(semgrep_todo), len(semgrep_todo))
            if outcome.ok:
                fresh_matches = {p: outcome.matches.get(p, []) for p in semgrep_todo}
            else:
                notes.append(f"{outcome.note}; security findings are incomplete")

        digests = dict(keys)
        cache.put_many("metrics", metrics_fp, [(p, digests[p], v) for p, v in fresh_metrics.items()])
        cache.put_many("semgrep", semgrep_fp, [(p, digests[p], [m.to_dict() for m in v]) for p, v in fresh_matches.items()])
        cache.put_many("codemods", codemod_fp, [(p, digests[p], v) for p, v in fresh_codemods.items() if p in digests])
        if fresh_metrics:
            cache.prune()
    finally:
        cache.close()

    files: list[FileMetrics] = []
    findings: list[Finding] = []
    all_matches = {**{p: [Match.from_dict(m) for m in v] for p, v in cached_matches.items()}, **fresh_matches}
    all_codemods = {**cached_codemods, **fresh_codemods}
    for source in readable:
        payload = fresh_metrics.get(source.path) or cached_metrics[source.path]
        if "skipped" in payload:
            skipped.append(SkippedFile(source.path, payload["skipped"]))
            continue
        metrics = FileMetrics.from_dict(payload["metrics"])
        files.append(metrics)
        findings.extend(Finding.from_dict(f) for f in payload["findings"])
        findings.extend(security_findings(source.path, all_matches.get(source.path, []), metrics.functions))
        findings.extend(codemods.codemod_findings(source.path, all_codemods.get(source.path, []), catalog.metadata))

    coverage = None
    line_coverage = None
    if with_coverage:
        report("coverage", 0, 1)
        measured = measure_coverage(root, config, [f.path for f in files])
        notes.extend(measured.notes)
        coverage, line_coverage = measured.lines, measured.percent
        if coverage is not None:
            findings.extend(coverage_findings(files, coverage))
        report("coverage", 1, 1)

    ordered = sort_findings(findings)
    files.sort(key=lambda f: f.path)
    skipped.sort(key=lambda s: s.path)
    hits = sum(
        1 for s in readable
        if s.path in cached_metrics
        and (not with_semgrep or s.path in cached_matches)
        and (not catalog.codemods or s.path in cached_codemods)
    )
    report("done", 1, 1)
    return ScanResult(
        root=str(root),
        files=tuple(files),
        findings=ordered,
        skipped=tuple(skipped),
        totals=repo_totals(files, ordered, line_coverage),
        coverage=coverage,
        cache_hits=hits,
        cache_misses=len(readable) - hits,
        notes=tuple(notes),
    )
