"""One truth per figure: a real run on a small repository, and every figure its report states twice is equal.

Real git, real pytest in the sandbox, the real gates. The figures: changed lines the tests execute (the intro,
the Tests section, the coverage gate's summary and metric, the proof in report.json), the test counts (the Tests
section, the tests gate, pytest's own summary line), the title (from the codemod that made the edits).
"""

from __future__ import annotations

import re

from evolve.engine import run_engine
from evolve.runs import RunOptions
from tests.repo_factory import make_repo

SHAPES = '''
    """Shapes."""


    def sign(x):
        """The sign of x."""
        if x < 0:
            return -1
        else:
            return 1 if x else 0


    def label(x):
        """Never called by a test."""
        if x:
            return "yes"
        else:
            return "no"
'''
TESTS = """
    import pytest

    from sample.shapes import sign


    def test_sign():
        assert (sign(-3), sign(0), sign(2)) == (-1, 0, 1)


    @pytest.mark.xfail(reason="documented bug")
    def test_known_bug():
        assert sign(None) == 0


    def test_each(subtests):
        for n in (1, 2, 3):
            with subtests.test(n=n):
                assert sign(n) == 1
"""
FIGURE = re.compile(r"Changed lines the tests execute: \**(?P<share>[\d.]+%)\** \((?P<of>\d+ of \d+) lines? that")


def _repo(tmp_path):
    files = {
        "pyproject.toml": '[project]\nname = "sample"\nversion = "0.1"\nrequires-python = ">=3.10"\n',
        "sample/__init__.py": '"""Sample."""\n',
        "sample/shapes.py": SHAPES,
        "tests/test_shapes.py": TESTS,
    }
    return make_repo(tmp_path / "sample", files)


def _section(markdown, heading):
    return markdown.split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0]


def test_every_figure_stated_twice_is_equal(tmp_path):
    report = run_engine(_repo(tmp_path), RunOptions(focus="redundant-else"))
    assert report.status == "succeeded", report.message
    body = report.markdown
    document = report.to_dict()

    # Changed lines the tests execute: sign's else ran, label's did not.
    intro = body.split("\n### ", 1)[0]
    tests_section = _section(body, "Tests")
    gates = {g.gate: g for g in report.attempts[-1].gate_results}
    coverage = gates["coverage"]
    stated = [FIGURE.search(text) for text in (intro, tests_section, coverage.summary)]
    assert all(stated), (intro, tests_section, coverage.summary)
    assert {(m["share"], m["of"]) for m in stated if m} == {("50%", "2 of 4")}
    figure = document["attempts"][-1]["proof"]["changed_lines"]
    assert (figure["executed"], figure["executable"]) == (2, 4)
    (metric,) = [m for m in coverage.metrics if m.name == "changed lines the tests execute"]
    assert metric.head == 50.0
    assert (
        "The lines no test runs are in: `sample/shapes.py` lines 16–17." in intro
    )  # label's else: the lines no test runs, named once for both

    # Test counts: pytest's own summary line, the Tests section and the tests gate say the same.
    counts = "2 passed, 1 xfailed; subtests: 3 passed"
    assert f"- base: {counts} in" in tests_section and f"- with this change: {counts} in" in tests_section
    assert gates["tests"].summary == f"The suite passes: {counts}."
    assert (report.tests["head"]["passed"], report.tests["head"]["xfailed"]) == (2, 1)
    assert report.tests["head"]["subtests_passed"] == 3 and report.tests["head"]["skipped"] == 0

    # The title is the codemod's (the edits made), and the CLI's report offers no App command.
    assert body.startswith("## Remove `else` after a branch that always exits\n")
    assert report.title == "Remove `else` after a branch that always exits"
    assert "`/evolve " not in body and "This PR makes 2 changes in 1 file" in intro
    # The CLI's last line counts the changes the report lists.
    assert report.message.startswith("Evolve made 2 changes in 1 file ")
    assert len(re.findall(r"^- `\w+\(\)`: ", _section(body, "What changed and why"), re.M)) == 2
