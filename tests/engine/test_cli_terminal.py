"""`evolve scan|plan|run` on a real terminal (a pseudo-terminal): the live progress display, exit codes, no
traceback; and Ctrl-C, which says "stopping…" at once, kills the sandboxed test run and exits 130."""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from evolve.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK
from tests.engine.terminal import CTRL_C, Terminal, evolve_command
from tests.repo_factory import SAMPLE_PACKAGE, make_repo


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVOLVE_", "PYTEST_", "COV_"))}
    env.update(
        TERM="xterm-256color",
        COLUMNS="120",
        EVOLVE_DATA_DIR=str(tmp_path / "data"),
        EVOLVE_CACHE_DIR=str(tmp_path / "cache"),
        EVOLVE_ENV_DIR=str(tmp_path / "envs"),
    )
    return env


def _run(tmp_path: Path, *args: str, timeout: float = 300) -> tuple[int | None, str]:
    terminal = Terminal([evolve_command(), *args], tmp_path, _environment(tmp_path))
    try:
        code = terminal.wait(timeout)
    finally:
        terminal.close()
    return code, terminal.text


def _live_display_was_drawn(text: str) -> bool:
    """rich's live display: cursor hidden while it runs, shown again at the end."""
    return "\x1b[?25l" in text and "\x1b[?25h" in text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["scan"], "comparison `== None`"),
        (["plan"], "none-comparison"),
        (["run", "--focus", "correctness", "--python", sys.executable], "branch: evolve/"),
    ],
    ids=["scan", "plan", "run"],
)
def test_every_command_shows_live_progress_on_a_terminal_and_ends_cleanly(tmp_path, command, expected):
    repo = make_repo(tmp_path / "repo", SAMPLE_PACKAGE)
    code, text = _run(tmp_path, command[0], str(repo), *command[1:])
    assert "Traceback" not in text, text
    assert code == EXIT_OK, text
    assert _live_display_was_drawn(text), text
    assert expected in text, text


SLEEPY_TEST = """
import subprocess
import sys


def test_takes_its_time():
    subprocess.run([sys.executable, "-c", "import time; time.sleep(40)", "{marker}"], check=True)
"""


def _running(marker: str) -> list[int]:
    """Processes whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_the_first_ctrl_c_stops_a_run_and_kills_its_sandboxed_tests(tmp_path):
    marker = f"evolve-sleeper-{uuid.uuid4().hex}"
    files = {**SAMPLE_PACKAGE, "tests/test_sleepy.py": SLEEPY_TEST.replace("{marker}", marker)}
    repo = make_repo(tmp_path / "repo", files)
    terminal = Terminal(
        [evolve_command(), "run", str(repo), "--focus", "correctness", "--python", sys.executable],
        tmp_path,
        _environment(tmp_path),
    )
    try:
        # The base suite reaches the 40 s test (the sandbox's child of a child, marked by its command line).
        assert terminal.read_until(lambda: bool(_running(marker)), timeout=240), terminal.text
        terminal.press(CTRL_C)
        pressed = time.monotonic()
        assert terminal.read_until(lambda: "stopping" in terminal.text, timeout=5), terminal.text
        code = terminal.wait(timeout=30)
        stopped_after = time.monotonic() - pressed
    finally:
        terminal.close()
    assert code == EXIT_INTERRUPTED, terminal.text
    assert "Traceback" not in terminal.text
    assert not _running(marker), "the sandboxed test run outlived the command"
    # Behaviour, not speed: it did not wait for the 40 s test (nor a second Ctrl-C) to end.
    assert stopped_after < 10, stopped_after
