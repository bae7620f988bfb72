"""`evolve scan`: metrics and findings for every Python file of a tree, cached by file content.

list files -> read and hash -> cache lookup -> (semgrep over the misses, in the background)
           -> radon + interrogate + codemod detectors over the misses (a process pool when there are many)
           -> optional coverage -> findings sorted by priority -> totals.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.configuration.path_kinds import NEVER_IN_SCOPE, PathKind, in_scope, kind_of_file
from evolve.environments.model import Environment
from evolve.findings import FileMetrics, Finding, ScanResult, SkippedFile
from evolve.research import codemod_findings as codemods
from evolve.research.analysis import load_interrogate_options
from evolve.research.cache import ScanCache, default_cache_path, fingerprint
from evolve.research.coverage_findings import coverage_findings, measure_coverage
from evolve.research.files import SourceFile, list_python_files, read_source
from evolve.research.priorities import sort_findings
from evolve.research.removed_names import with_removal_family
from evolve.research.security import RULES_FILE, Match, SemgrepRun, security_findings
from evolve.research.totals import repo_totals
from evolve.research.workers import Job, Settings, run_jobs

ANALYZER_VERSION = "2"  # bump when what is cached per file changes meaning
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


@dataclass
class Section:
    """One per-file analysis that is cached on its own: what the cache had and what was computed now."""

    name: str
    enabled: bool
    fingerprint: str
    cached: dict[str, Any] = field(default_factory=dict)
    fresh: dict[str, Any] = field(default_factory=dict)

    def missing(self, path: str) -> bool:
        """Whether `path` still needs this analysis."""
        return self.enabled and path not in self.cached

    def payload(self, path: str, default: Any = None) -> Any:
        """The fresh or cached payload of `path`."""
        return self.fresh.get(path, self.cached.get(path, default))


def _read_tree(
    root: Path, config: EvolveConfig, paths: Sequence[str] | None, report: Progress
) -> tuple[list[SourceFile], list[SkippedFile]]:
    report("list", 0, 1)
    listed = list_python_files(root, config, paths)
    report("list", 1, 1)
    sources = []
    for done, path in enumerate(listed, 1):
        sources.append(read_source(root, path))
        report("read", done, len(listed))
    skipped = [SkippedFile(s.path, s.problem) for s in sources if s.problem]
    return [s for s in sources if not s.problem], skipped


def _sections(
    root: Path, config: EvolveConfig, options: dict[str, Any], catalog: codemods.Catalog, with_semgrep: bool
) -> dict[str, Section]:
    """The cached analyses, each with a fingerprint of everything its per-file result depends on."""
    rules_hash = hashlib.sha256(RULES_FILE.read_bytes()).hexdigest()
    return {
        "metrics": Section(
            "metrics",
            True,
            fingerprint(
                ANALYZER_VERSION,
                _version("radon"),
                _version("interrogate"),
                options,
                config.gates.complexity.threshold,
                config.gates.maintainability.floor,
            ),
        ),
        "semgrep": Section("semgrep", with_semgrep, fingerprint(ANALYZER_VERSION, _version("semgrep"), rules_hash)),
        "codemods": Section(
            "codemods",
            bool(catalog.codemods),
            fingerprint(
                ANALYZER_VERSION,
                catalog.ids,
                catalog.source_digest,
                codemods.min_python(root),
                _version("evolve-bot"),
            ),
        ),
    }


def _analyse_misses(
    root: Path,
    config: EvolveConfig,
    options: dict[str, Any],
    catalog: codemods.Catalog,
    readable: list[SourceFile],
    sections: dict[str, Section],
    progress: Progress,
) -> list[str]:
    """Fill each section's `fresh` payloads for the files the cache missed; return notes."""
    notes: list[str] = []
    metrics, semgrep, detectors = sections["metrics"], sections["semgrep"], sections["codemods"]
    semgrep_todo = [s.path for s in readable if semgrep.missing(s.path)]
    running = SemgrepRun(root, semgrep_todo) if semgrep_todo else None  # works while radon does

    jobs = [
        Job(s.path, s.text or "", metrics.missing(s.path), detectors.missing(s.path))
        for s in readable
        if metrics.missing(s.path) or detectors.missing(s.path)
    ]
    settings = Settings(root, config, options, catalog if detectors.enabled else None)
    for done in run_jobs(jobs, settings, progress):
        if done.metrics is not None:
            metrics.fresh[done.path] = done.metrics
        if done.codemods is not None:
            detectors.fresh[done.path] = done.codemods
        notes.extend(note for note in done.notes if note not in notes)
    if catalog.note:
        notes.append(catalog.note)

    if running is not None:
        note = _collect_semgrep(running, semgrep, progress)
        if note:
            notes.append(note)
    return notes


def _collect_semgrep(running: SemgrepRun, section: Section, progress: Progress) -> str | None:
    """Wait for semgrep and keep its matches per file (cacheable only when semgrep succeeded)."""
    progress("semgrep", 0, len(running.paths))
    outcome = running.result()
    progress("semgrep", len(running.paths), len(running.paths))
    if not outcome.ok:
        return f"{outcome.note}; security findings are incomplete"
    section.fresh = {p: [m.to_dict() for m in outcome.matches.get(p, [])] for p in running.paths}
    return None


def _in_scope(
    findings: list[Finding],
    kind: PathKind,
    include_kinds: Sequence[str],
    metadata: Mapping[str, Any],
    broken: frozenset[tuple[str, str]] = frozenset(),
) -> list[Finding]:
    """A file's findings as far as the scope allows.

    Generated and vendored files have none. Other kinds out of scope (tests, docs, ...) keep their security
    findings (the security gate must still see a new one in, say, a test file a change adds) and the findings of
    codemods that declare the kind in `also_in_kinds` (TestCase aliases removed in 3.12 live in tests), and the
    findings of a recipe that fixes failing tests (`broken`: (codemod id, path), from the diagnosis), with the other
    removal recipes when it is one.
    """
    if kind in NEVER_IN_SCOPE:
        return []
    if in_scope(kind, include_kinds):
        return findings
    red = with_removal_family(frozenset(recipe for recipe, _ in broken))  # removed names in tests break next
    return [
        finding
        for finding in findings
        if finding.kind == "security" or _codemod_reaches(finding, kind, metadata) or finding.rule in red
    ]


def _codemod_reaches(finding: Finding, kind: PathKind, metadata: Mapping[str, Any]) -> bool:
    """Whether `finding` is a codemod's whose metadata names `kind` among the kinds it edits out of scope."""
    meta = metadata.get(finding.rule) if finding.kind == "codemod" else None
    return meta is not None and kind in getattr(meta, "also_in_kinds", ())


def _assemble(
    readable: list[SourceFile],
    sections: dict[str, Section],
    catalog: codemods.Catalog,
    config: EvolveConfig,
    broken: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[FileMetrics], list[Finding], list[SkippedFile]]:
    """Metrics, findings (within the configured scope) and skipped files from the per-file payloads."""
    files: list[FileMetrics] = []
    findings: list[Finding] = []
    skipped: list[SkippedFile] = []
    include_kinds = config.scope.include_kinds
    for source in readable:
        payload = sections["metrics"].payload(source.path)
        if "skipped" in payload:
            skipped.append(SkippedFile(source.path, payload["skipped"]))
            continue
        metrics = FileMetrics.from_dict(payload["metrics"])
        files.append(metrics)
        found = [Finding.from_dict(f) for f in payload["findings"]]
        matches = [Match.from_dict(m) for m in sections["semgrep"].payload(source.path, [])]
        found.extend(security_findings(source.path, matches, metrics.functions))
        occurrences = sections["codemods"].payload(source.path, [])
        found.extend(codemods.codemod_findings(source.path, occurrences, catalog.metadata))
        if found:  # what kind of file it is (a regex over its text) matters only to its findings
            kind = kind_of_file(source.path, source.text)
            findings.extend(_in_scope(found, kind, include_kinds, catalog.metadata, broken))
    return files, findings, skipped


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
    environment: Environment | None = None,
    broken: frozenset[tuple[str, str]] = frozenset(),
) -> ScanResult:
    """Scan the Python files of `root` (or only `paths`, relative to it) and return metrics and findings.

    Bad files (syntax errors, binary, not UTF-8) are listed in `skipped`; tools that are missing or fail
    are listed in `notes`. Per-file results are cached by content hash, so a re-scan only analyses changes.
    `broken` names (codemod id, path) pairs whose findings are kept out of the scope too: failing tests need them.
    """
    root = Path(root).resolve()
    config = config or EvolveConfig()
    report: Progress = progress or (lambda step, done, total: None)
    readable, unreadable = _read_tree(root, config, paths, report)
    options = load_interrogate_options(root)
    catalog = codemods.load_catalog(config)
    sections = _sections(root, config, options, catalog, with_semgrep)
    digests = {s.path: s.digest for s in readable}

    cache = _open_cache(root, cache_dir, use_cache)
    try:
        for section in sections.values():
            if section.enabled:
                section.cached = cache.get_many(section.name, section.fingerprint, digests.items())
        hits = sum(1 for path in digests if not any(section.missing(path) for section in sections.values()))
        notes = _analyse_misses(root, config, options, catalog, readable, sections, report)
        for section in sections.values():
            cache.put_many(section.name, section.fingerprint, [(p, digests[p], v) for p, v in section.fresh.items()])
        if hits < len(digests):
            cache.prune()
    finally:
        cache.close()

    files, findings, skipped = _assemble(readable, sections, catalog, config, broken)
    line_coverage = coverage = None
    if with_coverage:
        report("coverage", 0, 1)
        measured = measure_coverage(root, config, [f.path for f in files], environment)
        notes.extend(measured.notes)
        coverage, line_coverage = measured.lines, measured.percent
        findings.extend(coverage_findings(files, coverage or {}))
        report("coverage", 1, 1)

    ordered = sort_findings(findings)
    report("done", 1, 1)
    return ScanResult(
        root=str(root),
        files=tuple(sorted(files, key=lambda f: f.path)),
        findings=ordered,
        skipped=tuple(sorted([*unreadable, *skipped], key=lambda s: s.path)),
        totals=repo_totals(files, ordered, line_coverage),
        coverage=coverage,
        cache_hits=hits,
        cache_misses=len(digests) - hits,
        notes=tuple(notes),
    )
