"""semgrep with the project's own rules: one process per scan over every file that needs it, offline.

semgrep is started with `--experimental`, which makes its native (OCaml) CLI handle the scan itself
instead of handing it to the Python wrapper: the same engine and rules, the same JSON, at a tenth of
the start-up time. The installed `semgrep` script is itself a Python program that only execs that native
binary (`semgrep-core` started under the name `osemgrep`); Evolve starts the binary the same way directly,
which saves a Python interpreter's start on every scan (what a re-scan of one file mostly waits for).
If that mode fails, the classic invocation is tried once before giving up.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.findings import Finding, FunctionMetrics
from evolve.research.priorities import disambiguate, make_finding
from evolve.sandbox import scrubbed_environment

RULES_FILE = Path(__file__).parent / "rules" / "evolve-python.yml"
_SEVERITY = {"ERROR": "high", "WARNING": "medium", "INFO": "low"}
_CONFIDENCE = {"HIGH": 0.9, "MEDIUM": 0.7, "LOW": 0.5}
_MAX_ARGS_CHARS = 100_000  # stay far below the kernel's argument-size limit; split into batches beyond it


@dataclass(frozen=True)
class Match:
    """One semgrep result, reduced to what a finding needs; cached per file as JSON."""

    rule: str
    line: int
    end_line: int
    message: str
    severity: str
    confidence: float
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Serialise for the cache."""
        return {
            "rule": self.rule,
            "line": self.line,
            "end_line": self.end_line,
            "message": self.message,
            "severity": self.severity,
            "confidence": self.confidence,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Match:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**raw)


@dataclass
class SemgrepOutcome:
    """Matches by path for the files semgrep scanned, or a note saying why it could not."""

    matches: dict[str, list[Match]]
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Whether semgrep produced results that may be cached."""
        return self.note is None


def semgrep_executable() -> str | None:
    """The semgrep next to the running interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "semgrep"
    if beside.is_file():
        return str(beside)
    return shutil.which("semgrep")


def native_semgrep(executable: str) -> str | None:
    """The native binary the `semgrep` script at `executable` execs (as `osemgrep`), when that script is the one
    installed beside the running interpreter and the binary is where its package keeps it; None otherwise."""
    if Path(executable) != Path(sys.executable).parent / "semgrep":
        return None
    spec = importlib.util.find_spec("semgrep")
    locations = spec.submodule_search_locations if spec is not None else None
    for location in locations or ():
        core = Path(location) / "bin" / "semgrep-core"
        if core.is_file() and os.access(core, os.X_OK):
            return str(core)
    return None


def _environment(home: str) -> dict[str, str]:
    """No secret of Evolve's and a private HOME (semgrep keeps settings and logs there): semgrep reads only the
    files it is given and Evolve's rules, never the repository's configuration (with explicit file targets it
    opens no `.semgrepignore`)."""
    return scrubbed_environment(
        {
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_CACHE_HOME": os.path.join(home, "cache"),
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "NO_COLOR": "1",
        }
    )


def semgrep_command(
    executable: str, paths: Sequence[str], *, jobs: int | None = None, experimental: bool = True
) -> list[str]:
    """The command line: local rules only, no metrics, no version check, no registry, no git-ignore filtering.

    `--no-git-ignore` because research already chose the files; semgrep must not drop any of them.
    """
    command = [
        executable,
        "scan",
        "--config",
        str(RULES_FILE),
        "--json",
        "--metrics=off",
        "--disable-version-check",
        "--quiet",
        "--no-git-ignore",
        "--jobs",
        str(jobs or os.cpu_count() or 1),
        "--timeout",
        "30",
    ]
    if experimental:
        command.append("--experimental")
    return [*command, "--", *paths]


def _batches(paths: Sequence[str]) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for path in paths:
        if size + len(path) > _MAX_ARGS_CHARS and batches[-1]:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += len(path) + 1
    return batches


class SemgrepRun:
    """A semgrep scan started in the background; :meth:`result` waits for it. Never raises."""

    def __init__(self, root: Path, paths: Sequence[str], timeout: float = 600.0) -> None:
        self.root = Path(root)
        self.paths = list(paths)
        self.timeout = timeout
        self.executable = semgrep_executable()
        self._pending = _batches(self.paths) if self.paths else []
        self._process: subprocess.Popen[bytes] | None = None
        self._experimental = True
        self._home = tempfile.TemporaryDirectory(prefix="evolve-semgrep-")
        if self.executable and self._pending:
            self._start(self._pending[0])

    def _start(self, batch: list[str]) -> None:
        command = semgrep_command(
            self.executable or "semgrep",
            batch,
            jobs=min(len(batch), os.cpu_count() or 1),
            experimental=self._experimental,
        )
        native = native_semgrep(command[0]) if self._experimental else None
        try:
            self._process = subprocess.Popen(
                ["osemgrep", *command[1:]] if native else command,  # the name decides the native binary's mode
                executable=native,
                cwd=self.root,
                env=_environment(self._home.name),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as error:
            self._process = None
            self._start_error = f"semgrep could not start: {error}"

    def _finish(self) -> tuple[dict[str, Any] | None, str | None]:
        process = self._process
        if process is None:
            return None, getattr(self, "_start_error", "semgrep could not start")
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None, f"semgrep timed out after {self.timeout:.0f}s"
        try:
            document = json.loads(out.decode("utf-8", "replace"))
        except ValueError:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
            return None, f"semgrep failed (exit {process.returncode}): {' '.join(tail) or 'no output'}"
        if not isinstance(document, dict) or "results" not in document:
            return None, f"semgrep returned no results (exit {process.returncode})"
        return document, None

    def result(self) -> SemgrepOutcome:
        """Wait for semgrep and parse its JSON; failures become a note, never an exception."""
        if not self.paths:
            return SemgrepOutcome({})
        if not self.executable:
            return SemgrepOutcome({}, "semgrep is not installed: security findings were not collected")
        matches: dict[str, list[Match]] = {path: [] for path in self.paths}
        for index, batch in enumerate(self._pending):
            if index:
                self._start(batch)
            document, note = self._finish()
            if note and self._experimental:
                # The native CLI refused; try the classic wrapper once, for this batch and the rest.
                self._experimental = False
                self._start(batch)
                document, note = self._finish()
            if note or document is None:
                return SemgrepOutcome({}, note)
            for raw in document.get("results", []):
                match = _parse_result(raw)
                if match is not None:
                    matches.setdefault(Path(raw["path"]).as_posix(), []).append(match)
        self._home.cleanup()
        return SemgrepOutcome(matches)


def _parse_result(raw: dict[str, Any]) -> Match | None:
    try:
        rule = str(raw["check_id"]).rsplit(".", 1)[-1]  # the classic CLI prefixes ids with the config's path
        extra = raw.get("extra", {})
        metadata = dict(extra.get("metadata") or {})
        return Match(
            rule=rule,
            line=int(raw["start"]["line"]),
            end_line=int(raw["end"]["line"]),
            message=str(extra.get("message", rule)).strip(),
            severity=_SEVERITY.get(str(extra.get("severity", "WARNING")).upper(), "medium"),
            confidence=_CONFIDENCE.get(str(metadata.get("confidence", "medium")).upper(), 0.7),
            metadata=metadata,
        )
    except (KeyError, TypeError, ValueError):
        return None


def enclosing_symbol(functions: Sequence[FunctionMetrics], line: int) -> str | None:
    """The innermost function whose span holds `line`, or None at module level."""
    best = None
    for func in functions:
        if func.line <= line <= func.end_line and (best is None or func.line >= best.line):
            best = func
    return best.qualname if best else None


def security_findings(path: str, matches: Sequence[Match], functions: Sequence[FunctionMetrics]) -> list[Finding]:
    """Findings of kind "security"; ids hash rule, path, enclosing function and the match's index within it."""
    ordered = sorted(matches, key=lambda m: (m.line, m.rule))
    symbols = [enclosing_symbol(functions, m.line) for m in ordered]
    discriminators = disambiguate((m.rule, symbol or "") for m, symbol in zip(ordered, symbols))
    return [
        make_finding(
            "security",
            m.rule,
            path,
            m.line,
            m.end_line,
            symbol,
            m.severity,
            1.0 if m.severity == "high" else 0.5,
            m.confidence,
            m.message,
            disc,
            category=m.metadata.get("category"),
            cwe=m.metadata.get("cwe"),
        )
        for m, symbol, disc in zip(ordered, symbols, discriminators)
    ]
