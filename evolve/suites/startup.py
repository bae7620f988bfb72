"""Telling a suite that ran (even with failures) from one that never started, so a run stops instead of
spending attempts on a failure that is not the change's."""

from __future__ import annotations

import re

from evolve.suites.runs import TestRun
from evolve.untrusted_text import cap_text, redacted
from evolve.wording import plural

CANNOT_RUN = "cannot run the tests: {reason}"
REASON_LIMIT = 600
# pytest's exit codes for "interrupted" (collection errors), "internal error" and "usage error".
PYTEST_CANNOT_START = {2: "the test run was interrupted", 3: "pytest hit an internal error", 4: "pytest usage error"}
COMMAND_NOT_FOUND = 127
# The line that says why, in the order people look for it.
_CAUSES = (
    re.compile(r"^.*ImportError while loading conftest.*$", re.M),
    re.compile(r"^E\s+(ModuleNotFoundError|ImportError):.*$", re.M),
    re.compile(r"^(ModuleNotFoundError|ImportError):.*$", re.M),
    re.compile(r"^[\w.-]+: error: .*$", re.M),  # argparse's "pytest: error: unrecognized arguments: --cov"
    re.compile(r"^(ERROR|error): .*$", re.M),
    re.compile(r"^.*(No module named|command not found|not found on PATH|cannot start).*$", re.M),
    re.compile(r"^E\s+\w+(Error|Exception):.*$", re.M),
)


def _cause(run: TestRun) -> str:
    """The line that names the cause, and the error it leads to (`ImportError while loading conftest` is
    followed by the `E   ModuleNotFoundError: ...` that says which module)."""
    text = run.output_tail + "\n" + run.failure_details
    found: list[str] = []
    for pattern in _CAUSES:
        match = pattern.search(text)
        if match and match.group(0).strip() not in found:
            found.append(match.group(0).strip())
        if len(found) == 2:
            break
    if found:
        return " / ".join(re.sub(r"^E\s+", "", line) for line in found)
    lines = [line.strip() for line in run.output_tail.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {run.returncode}"


def cannot_start_reason(run: TestRun | None) -> str | None:
    """Why a suite never started (no test ran and the runner says so), or None when it ran or could not be told."""
    if run is None or run.timed_out or run.ok or run.passed or run.failed:
        return None
    pytest = any("pytest" in word for word in run.command)
    if run.returncode == COMMAND_NOT_FOUND:
        summary = f"the test command was not found ({run.command[0] if run.command else '?'})"
    elif pytest and run.returncode in PYTEST_CANNOT_START:
        summary = PYTEST_CANNOT_START[run.returncode]
        if run.errors:
            summary += f": {plural(run.errors, 'collection error')}, no test ran"
    elif run.errors and not run.failed:
        summary = f"every test module failed to load ({plural(run.errors, 'error')}), no test ran"
    else:
        return None
    return redacted(cap_text(f"{summary}; {_cause(run)}", REASON_LIMIT))


def cannot_run_message(reason: str) -> str:
    """`cannot run the tests: <reason>`."""
    return CANNOT_RUN.format(reason=reason)
