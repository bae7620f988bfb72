"""The CPU-bound part of a scan, per file: radon + interrogate metrics and the codemod detectors.

Files that missed the cache are spread over a process pool when there are enough of them to pay for it.
Every worker call is total: an unexpected error becomes a skipped file or a note, never an exception.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.research import codemod_findings as codemods
from evolve.research.analysis import analyse_source
from evolve.research.priorities import file_findings

PARALLEL_MIN_FILES = 24  # below this, a process pool costs more than it saves


@dataclass(frozen=True)
class Job:
    """One file to work on: which analyses it still needs (the others came from the cache)."""

    path: str
    text: str
    metrics: bool
    codemods: bool


@dataclass(frozen=True)
class Settings:
    """What every job shares; picklable, sent to each worker."""

    root: Path
    config: EvolveConfig
    interrogate_options: dict[str, Any]
    catalog: codemods.Catalog | None


@dataclass
class JobResult:
    """The cacheable payloads of one file (None for analyses that were not requested) and any note."""

    path: str
    metrics: dict[str, Any] | None = None
    codemods: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)


def analyse_file(path: str, text: str, config: EvolveConfig, interrogate_options: dict[str, Any]) -> dict[str, Any]:
    """The cacheable result of one file: metrics and file-level findings, or why it was skipped."""
    try:
        analysis = analyse_source(path, text, interrogate_options)
    except SyntaxError as error:
        where = f" at line {error.lineno}" if error.lineno else ""
        return {"skipped": f"syntax error{where}: {error.msg}; fix the file or exclude it"}
    except (ValueError, RecursionError, MemoryError) as error:
        return {"skipped": f"cannot be analysed: {type(error).__name__}: {error}"}
    findings = file_findings(analysis, config)
    return {"metrics": analysis.metrics.to_dict(), "findings": [f.to_dict() for f in findings]}


def run_job(job: Job, settings: Settings) -> JobResult:
    """Do the analyses `job` asks for."""
    result = JobResult(job.path)
    if job.metrics:
        try:
            result.metrics = analyse_file(job.path, job.text, settings.config, settings.interrogate_options)
        except Exception as error:
            result.metrics = {"skipped": f"analysis failed: {type(error).__name__}: {error}"}
    if job.codemods and settings.catalog is not None:
        found, note = codemods.detect(settings.root, [job.path], settings.catalog)
        if note:
            result.notes.append(note)
        else:
            result.codemods = found.get(job.path, [])
    return result


def _run_batch(batch: tuple[list[Job], Settings]) -> list[JobResult]:
    jobs, settings = batch
    return [run_job(job, settings) for job in jobs]


def run_jobs(
    jobs: Sequence[Job], settings: Settings, progress: Callable[[str, int, int], None] | None = None
) -> list[JobResult]:
    """Run every job, in a process pool when there are many, and report progress as ("analyse", done, total)."""
    total = len(jobs)
    report = progress or (lambda step, done, count: None)
    cpus = os.cpu_count() or 1
    if total >= PARALLEL_MIN_FILES and cpus > 1:
        workers = min(cpus, max(1, total // 8))
        # Small batches balance the load (file sizes vary a lot); each batch ships the settings once.
        size = max(1, total // (workers * 6))
        batches = [(list(jobs[i : i + size]), settings) for i in range(0, total, size)]
        # fork is cheapest (everything is imported already) but unsafe once the process has threads.
        method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
        results: list[JobResult] = []
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
                for batch_results in pool.map(_run_batch, batches):
                    results.extend(batch_results)
                    report("analyse", len(results), total)
            return results
        except (OSError, BrokenProcessPool):
            pass  # no processes allowed here: do the work in this process instead
    results = []
    for job in jobs:
        results.append(run_job(job, settings))
        report("analyse", len(results), total)
    return results
