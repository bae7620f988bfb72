"""Test counts as pytest's own summary line states them: passed, failed, errors, skipped, xfailed, xpassed and
subtests, each apart.

JUnit XML cannot tell them apart (an xfailed test is a `<skipped>`, an xpassed one a pass, and a subtest an extra
test case), so a small pytest plugin (its source below, written into the run's output directory) writes the counts
pytest's terminal summary is built from. They come from repository code: read as a few bounded integers only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLUGIN_MODULE = "evolve_counts_plugin"
COUNTS_FILE = "counts.json"
_LIMIT = 10_000_000
_READ_LIMIT = 64 * 1024

PLUGIN_SOURCE = '''"""Written by Evolve: the counts of pytest's summary line, to the file named by EVOLVE_COUNTS_FILE."""
import json
import os


def pytest_terminal_summary(terminalreporter):
    path = os.environ.get("EVOLVE_COUNTS_FILE")
    if not path:
        return
    counts = {}
    for key, reports in terminalreporter.stats.items():
        if key in ("", "warnings"):
            continue
        counts[str(key)] = sum(1 for r in reports if getattr(r, "count_towards_summary", True))
    try:
        with open(path + ".tmp", "w") as handle:
            json.dump(counts, handle)
        os.replace(path + ".tmp", path)
    except OSError:
        pass
'''


@dataclass(frozen=True)
class RunnerCounts:
    """What pytest's summary line says, one count per outcome."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    subtests_passed: int = 0
    subtests_failed: int = 0
    subtests_skipped: int = 0


_KEYS = {
    "passed": "passed",
    "failed": "failed",
    "error": "errors",
    "skipped": "skipped",
    "xfailed": "xfailed",
    "xpassed": "xpassed",
    "subtests passed": "subtests_passed",
    "subtests failed": "subtests_failed",
    "subtests skipped": "subtests_skipped",
}


# The runner's own words, in pytest's order; each count as reported, never folded into another.
COUNT_WORDS = (
    ("failed", "failed", "failed"),
    ("passed", "passed", "passed"),
    ("skipped", "skipped", "skipped"),
    ("xfailed", "xfailed", "xfailed"),
    ("xpassed", "xpassed", "xpassed"),
    ("errors", "error", "errors"),
)
SUBTEST_WORDS = (("subtests_passed", "passed"), ("subtests_failed", "failed"), ("subtests_skipped", "skipped"))


def describe_counts(counts: Mapping[str, Any]) -> str:
    """`3 failed, 1,324 passed, 2 xfailed; subtests: 158 passed` from a run's counts (TestRun field names)."""
    parts = [
        f"{counts[key]:,} {one if counts[key] == 1 else many}" for key, one, many in COUNT_WORDS if counts.get(key)
    ]
    text = ", ".join(parts) or "no test counts reported"
    subtests = [f"{counts[key]:,} {word}" for key, word in SUBTEST_WORDS if counts.get(key)]
    return text + ("; subtests: " + ", ".join(subtests) if subtests else "")


def run_counts(run: object) -> dict[str, int]:
    """The count fields of a TestRun (or any object with them), by name."""
    names = [key for key, _, _ in COUNT_WORDS] + [key for key, _ in SUBTEST_WORDS]
    return {name: int(getattr(run, name, 0) or 0) for name in names}


def install_counts_plugin(outputs: Path) -> None:
    """Write the plugin module into the run's output directory (put on the sandboxed PYTHONPATH)."""
    (outputs / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")


def parse_counts(raw: bytes | None) -> RunnerCounts | None:
    """The plugin's file as counts; None when it is missing, not JSON, or names no outcome we know."""
    if raw is None or len(raw) > _READ_LIMIT:
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    values: dict[str, int] = {}
    for key, field in _KEYS.items():
        value = document.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _LIMIT:
            return None
        values[field] = value
    return RunnerCounts(**values)
