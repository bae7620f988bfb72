"""Head's coverage limited to the changed library modules, the rest completed from base's run."""

from __future__ import annotations

from evolve.configuration.model import EvolveConfig
from evolve.gating.running import build_context
from evolve.suites.coverage_scope import coverage_scope, measured_by_coverage, with_base_coverage
from evolve.suites.runs import executable_statements
from gates.coverage_gate import CoverageGate, CoverageSettings
from tests.gates.builders import make_run

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/calc.py": "def double(x):\n    return x * 2\n\n\ndef unused(x):\n    return x\n",
    "pkg/text.py": "def shout(s):\n    return s.upper()\n",
    "pkg/extra.py": "def never():\n    value = 1\n    return value\n",
    "tests/test_pkg.py": (
        "from pkg.calc import double\nfrom pkg.text import shout\n\n\n"
        "def test_both():\n    assert double(2) == 4 and shout('a') == 'A'\n"
    ),
}


def test_only_changes_confined_to_library_modules_are_scoped():
    assert measured_by_coverage("pkg/calc.py") and not measured_by_coverage("tests/test_pkg.py")
    assert not measured_by_coverage("conftest.py") and not measured_by_coverage("setup.cfg")
    assert coverage_scope(["pkg/calc.py", "pkg/gone.py"], ["pkg/calc.py"]) == ("pkg/calc.py",)
    assert coverage_scope(["pkg/calc.py", "tests/test_pkg.py"], ["pkg/calc.py", "tests/test_pkg.py"]) is None
    assert coverage_scope(["pkg/calc.py", "pyproject.toml"], ["pkg/calc.py"]) is None


def test_completion_takes_unscoped_files_from_base():
    base = make_run(
        coverage_percent=50.0,
        covered_lines={"a.py": [1], "b.py": [1]},
        executable_lines={"a.py": [1, 2], "b.py": [1, 2]},
    )
    head = make_run(
        coverage_percent=100.0,
        covered_lines={"a.py": [1, 2]},
        executable_lines={"a.py": [1, 2]},
        coverage_scope=("a.py",),
    )
    done = with_base_coverage(head, base)
    assert done is not None and done.coverage_from_base and done.coverage_percent == 75.0
    assert done.executable_lines == {"a.py": [1, 2], "b.py": [1, 2]}
    assert with_base_coverage(done, base) is done and with_base_coverage(base, head) is base
    assert executable_statements("'''Doc.'''\nimport os\n\nif os:  # pragma: no cover\n    x = 1\ny = 2\n") == [2, 6]
    assert executable_statements("def broken(:\n") is None


def _gate_and_head(trees, settings: CoverageSettings):
    gate = CoverageGate(settings)
    context = build_context(
        trees.base,
        trees.head,
        trees.changed_files,
        EvolveConfig(),
        changed_lines=trees.changed_lines,
        measures=gate.measures(),
    )
    result = gate.evaluate(context)
    assert context.run_tests is not None
    return result, context.run_tests("head")


def test_a_scoped_head_run_gives_the_same_figures_as_measuring_every_file(make_trees):
    change = {
        "pkg/calc.py": PACKAGE["pkg/calc.py"].replace("return x * 2", "doubled = x * 2\n    return doubled"),
        "pkg/extra.py": PACKAGE["pkg/extra.py"].replace("value = 1", "value = 2"),  # imported by no test
    }
    trees = make_trees(PACKAGE, change)
    scoped, scoped_head = _gate_and_head(trees, CoverageSettings())
    full, full_head = _gate_and_head(trees, CoverageSettings(scope="all"))
    assert scoped_head.coverage_scope == ("pkg/calc.py", "pkg/extra.py") and full_head.coverage_scope is None
    assert set(scoped_head.executable_lines) == {"pkg/calc.py", "pkg/extra.py"}
    assert scoped_head.executable_lines["pkg/extra.py"] == full_head.executable_lines["pkg/extra.py"]
    assert scoped.status == full.status == "passed", (scoped.summary, full.summary)
    assert [m.to_dict() for m in scoped.metrics] == [m.to_dict() for m in full.metrics]
    assert "Head measured in the 2 changed files" in scoped.summary and "Head measured" not in full.summary
    assert "pkg/extra.py: no test runs the changed line 2 (base)" in scoped.details


def test_a_changed_test_file_measures_every_file(make_trees):
    trees = make_trees(
        PACKAGE, {"tests/test_pkg.py": PACKAGE["tests/test_pkg.py"].replace(" and shout('a') == 'A'", "")}
    )
    result, head = _gate_and_head(trees, CoverageSettings())
    assert head.coverage_scope is None
    assert result.status == "failed" and "drops" in result.summary  # shout() is no longer run by any test
