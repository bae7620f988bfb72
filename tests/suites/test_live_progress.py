"""Live progress of a sandboxed pytest run (tests done / total), and how the CLI shows it."""

from __future__ import annotations

import os
import pty
import select

from evolve.cli.progress import StepProgress
from evolve.configuration.model import EvolveConfig
from evolve.suites.live_progress import PROGRESS_FILE, read_progress
from evolve.suites.runs import run_test_suite
from tests.gates.builders import write_files


def test_a_sandboxed_suite_reports_tests_done_out_of_total(tmp_path):
    tests = "from calc import double\n\n" + "".join(
        f"def test_{i}():\n    assert double({i}) == {2 * i}\n\n" for i in range(12)
    )
    files = {"calc.py": "def double(x):\n    return 2 * x\n", "tests/test_many.py": tests}
    write_files(tmp_path, {**files, "tests/test_failing.py": "def test_no():\n    assert False\n"})
    seen: list[tuple[int, int]] = []
    run = run_test_suite(tmp_path, EvolveConfig(), with_coverage=True, progress=lambda d, t: seen.append((d, t)))
    assert (run.passed, run.failed) == (12, 1)
    assert seen and seen[-1] == (13, 13)
    assert all(total == 13 for _, total in seen) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert run.coverage_percent is not None  # the plugin does not disturb our coverage measurement


def test_progress_written_by_repository_code_is_only_ever_two_bounded_numbers(tmp_path):
    for text, expected in [("3 10\n", (3, 10)), ("x y", None), ("-1 5", None), ("5", None), ("1 99999999999", None)]:
        (tmp_path / PROGRESS_FILE).write_text(text, encoding="utf-8")
        assert read_progress(tmp_path) == expected


def test_plain_output_has_one_line_per_step_and_one_when_the_count_completes(tmp_path):
    log = tmp_path / "log"
    with open(log, "w", encoding="utf-8") as stream:
        progress = StepProgress(stream)
        progress("research", 0, 1)
        for done in range(11):
            progress("running the tests on head", done, 10)
        progress.close()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "research",
        "running the tests on head",
        "running the tests on head: 10/10",
    ]


def test_a_terminal_gets_a_live_bar_with_done_and_total():
    main, secondary = pty.openpty()
    chunks: list[bytes] = []
    try:
        with os.fdopen(secondary, "w", encoding="utf-8", closefd=False) as stream:
            progress = StepProgress(stream)
            assert progress.interactive
            progress("running the tests on base", 7, 20)
            progress.close()
        while select.select([main], [], [], 1.0)[0]:  # everything the terminal received
            chunks.append(os.read(main, 65536))
    finally:
        os.close(main)
        os.close(secondary)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "running the tests on base" in shown and "7/20" in shown
