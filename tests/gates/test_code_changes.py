"""Head's coverage run is skipped when no edit changes executable code; coverage uses sys.monitoring where it can."""

from __future__ import annotations

import sys

from evolve.configuration.model import EvolveConfig
from evolve.gating.running import build_context
from evolve.proof.code_changes import any_executable_change, changes_executable_code
from evolve.suites.runs import coverage_core
from gates.coverage_gate import CoverageGate
from gates.tests_gate import TestsGate

CODE = '''"""Sizes."""
import os


def size(path: str) -> int:
    """How big."""
    # a comment
    return os.path.getsize(path)
'''


def test_docstrings_comments_layout_and_annotations_are_not_executable_changes():
    assert not changes_executable_code("a.py", CODE, CODE.replace('"""How big."""', '"""How big the file is."""'))
    assert not changes_executable_code("a.py", CODE, CODE.replace("    # a comment\n", ""))
    assert not changes_executable_code("a.py", CODE, CODE.replace("(path: str) -> int", "(path)"))
    assert not changes_executable_code("a.py", CODE, CODE.replace("getsize(path)", "getsize(\n        path\n    )"))
    assert not changes_executable_code("a.py", CODE, CODE.replace('    """How big."""\n', ""))


def test_statements_syntax_errors_and_other_files_are():
    assert changes_executable_code("a.py", CODE, CODE.replace("import os\n", "import os\nimport sys\n"))
    assert changes_executable_code("a.py", CODE, CODE.replace("getsize", "getmtime"))
    assert changes_executable_code("a.py", CODE, CODE + "def broken(:\n")
    assert changes_executable_code("setup.cfg", "[a]\n", "[b]\n")
    assert any_executable_change([("a.py", CODE, CODE), ("b.py", "X = 1\n", "X = 2\n")])
    assert not any_executable_change([("a.py", CODE, CODE.replace("# a comment", "# another"))])


PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/calc.py": 'def double(x):\n    """Twice."""\n    return x * 2\n',
    "tests/test_calc.py": "from pkg.calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
}


def test_a_docstring_only_change_runs_heads_suite_without_the_tracer_and_keeps_base_coverage(make_trees):
    trees = make_trees(PACKAGE, {"pkg/calc.py": PACKAGE["pkg/calc.py"].replace("Twice.", "Twice the value.")})
    context = build_context(
        trees.base,
        trees.head,
        trees.changed_files,
        EvolveConfig(),
        changed_lines=trees.changed_lines,
        code_changed=False,
    )
    tests = TestsGate().evaluate(context)
    coverage = CoverageGate().evaluate(context)
    assert tests.status == "passed", tests.summary
    assert context.run_tests is not None and context.run_tests("head").coverage_percent is None  # no tracer on head
    assert coverage.status == "passed" and "No executable statement changed" in coverage.summary
    assert "line coverage stays 100.0%" in coverage.summary


def test_sysmon_only_where_python_and_coverage_support_it(tmp_path):
    evolves = coverage_core(sys.executable)
    assert evolves == ({"COVERAGE_CORE": "sysmon"} if sys.version_info >= (3, 12) else {})
    for python, coverage, expected in (("3.12", "7.6.1", True), ("3.13", "7.3.4", False), ("3.11", "7.6.1", False)):
        venv = tmp_path / f"py{python}-{coverage}"
        (venv / "bin").mkdir(parents=True)
        (venv / "lib" / f"python{python}" / "site-packages" / f"coverage-{coverage}.dist-info").mkdir(parents=True)
        assert bool(coverage_core(str(venv / "bin" / "python"))) is expected, (python, coverage)
