"""The lint and types gates on real trees with the real ruff, flake8 and mypy."""

from __future__ import annotations

import shutil

from evolve.configuration.model import EvolveConfig
from evolve.project_rules.violations import Violation, new_violations, parse_flake8, parse_mypy
from gates.lint_gate import LintGate, LintSettings
from gates.types_gate import TypesGate

CORE = """
import os


def size(path):
    if path == "":
        return 0
    return os.path.getsize(path)
"""
RUFF_RET = '[tool.ruff.lint]\nselect = ["E", "F"]\n'


def test_a_change_adding_e711_and_f401_fails_lint(make_trees):
    trees = make_trees(
        {"pyproject.toml": RUFF_RET, "pkg/core.py": CORE},
        {"pkg/core.py": CORE.replace('path == ""', "path == None").replace("import os\n", "import os\nimport sys\n")},
    )
    result = LintGate().evaluate(trees.context())
    assert result.status == "failed", result.summary
    assert {line.split(": ")[1].split()[0] for line in result.details.splitlines()} == {"E711", "F401"}
    assert result.blame == ("pkg/core.py",)
    assert "ruff (pyproject.toml)" in result.summary


def test_a_shifted_violation_is_not_new(make_trees):
    base = CORE.replace('path == ""', "path == None")
    trees = make_trees(
        {"pyproject.toml": RUFF_RET, "pkg/core.py": base},
        {"pkg/core.py": '"""Sizes."""\n\n' + base},
    )
    result = LintGate().evaluate(trees.context())
    assert result.status == "passed", result.details
    assert result.metrics[0].base == result.metrics[0].head == 1


def test_a_fix_passes_and_the_project_ignore_list_is_respected(make_trees):
    # the project ignores E711; adding one is not a violation of *its* rules, removing F401 is an improvement
    trees = make_trees(
        {"pyproject.toml": '[tool.ruff.lint]\nignore = ["E711"]\n', "pkg/core.py": CORE + "import sys\n"},
        {"pkg/core.py": CORE.replace('path == ""', "path == None")},
    )
    result = LintGate().evaluate(trees.context())
    assert result.status == "passed", result.details
    assert result.metrics[0].head < result.metrics[0].base


def test_flake8_config_is_run_with_its_line_length(make_trees):
    long_line = "    return os.path.getsize(path)  # " + "x" * 80 + "\n"
    trees = make_trees(
        {"setup.cfg": "[flake8]\nmax-line-length = 100\n", "pkg/core.py": CORE},
        {"pkg/core.py": CORE.replace("    return os.path.getsize(path)\n", long_line)},
    )
    result = LintGate().evaluate(trees.context())
    assert result.status == "failed"
    assert "E501" in result.details and "flake8 (setup.cfg, Evolve's flake8" in result.summary


def test_a_project_without_linter_config_gets_ruff_defaults(make_trees):
    trees = make_trees({"pkg/core.py": CORE}, {"pkg/core.py": CORE.replace('path == ""', "path == None")})
    result = LintGate().evaluate(trees.context())
    assert result.status == "failed" and "ruff defaults (no linter configured)" in result.summary


def test_a_broken_ruff_config_is_an_error_not_a_pass(make_trees):
    trees = make_trees(
        {"ruff.toml": "line-length = 'long'\n", "pkg/core.py": CORE}, {"pkg/core.py": CORE + "\nX = 1\n"}
    )
    result = LintGate().evaluate(trees.context())
    assert result.status == "errored" and "ruff could not check the files" in result.summary


def test_lint_gate_disabled_and_nothing_to_lint(make_trees):
    trees = make_trees({"README.md": "x\n", "pkg/core.py": CORE}, {"README.md": "y\n"})
    assert LintGate().evaluate(trees.context()).status == "skipped"
    disabled = EvolveConfig.model_validate({"gates": {"lint": {"enabled": False}}})
    assert LintGate(LintSettings(enabled=False)).evaluate(trees.context(disabled)).summary.endswith("configuration.")


TYPED = """
def double(x: int) -> int:
    return x * 2


def label(n: int) -> str:
    return "n=" + str(double(n))
"""


def test_a_mypy_error_introduced_fails_types(make_trees):
    trees = make_trees(
        {"mypy.ini": "[mypy]\nstrict = True\n", "pkg/__init__.py": "", "pkg/calc.py": TYPED},
        {"pkg/calc.py": TYPED.replace('"n=" + str(double(n))', '"n=" + double(n)')},
    )
    result = TypesGate().evaluate(trees.context())
    assert result.status == "failed", result.summary
    assert "operator" in result.details and result.blame == ("pkg/calc.py",)
    assert "mypy (mypy.ini, Evolve's mypy" in result.summary


def test_mypy_with_plugins_runs_in_the_sandbox(make_trees):
    trees = make_trees(
        {"setup.cfg": "[mypy]\nplugins = pydantic.mypy\nstrict = True\n", "pkg/__init__.py": "", "pkg/calc.py": TYPED},
        {"pkg/calc.py": TYPED.replace('"n=" + str(double(n))', '"n=" + double(n)')},
    )
    result = TypesGate().evaluate(trees.context())
    assert result.status == "failed", result.summary
    assert "plugins pydantic.mypy loaded in the sandbox" in result.summary and "operator" in result.details


def test_an_existing_mypy_error_that_moves_is_not_new(make_trees):
    broken = TYPED.replace('"n=" + str(double(n))', '"n=" + double(n)')
    trees = make_trees(
        {"pyproject.toml": "[tool.mypy]\nstrict = true\n", "pkg/__init__.py": "", "pkg/calc.py": broken},
        {"pkg/calc.py": '"""Calc."""\n\n' + broken},
    )
    result = TypesGate().evaluate(trees.context())
    assert result.status == "passed", result.details
    assert result.metrics[0].base == result.metrics[0].head >= 1


def test_types_is_skipped_without_a_type_checker(make_trees):
    trees = make_trees({"pkg/calc.py": TYPED}, {"pkg/calc.py": TYPED + "\nX = 1\n"})
    assert "no type checker" in TypesGate().evaluate(trees.context()).summary


def test_a_pyright_only_project_is_checked_by_pyright_or_told_why_not(make_trees):
    trees = make_trees({"pyrightconfig.json": "{}", "pkg/calc.py": TYPED}, {"pkg/calc.py": TYPED + "\nX = 1\n"})
    result = TypesGate().evaluate(trees.context())
    if shutil.which("node") is None:  # said plainly, never silently
        assert result.status == "skipped" and "pyright (pyrightconfig.json) was not run: Node.js" in result.summary
    else:
        assert result.status == "passed" and "pyright (pyrightconfig.json, Evolve's pyright" in result.summary


def test_a_broken_mypy_config_is_an_error(make_trees):
    trees = make_trees(
        {"mypy.ini": "[mypy]\nplugins = no_such_plugin_module\n", "pkg/calc.py": TYPED},
        {"pkg/calc.py": TYPED + "\nX = 1\n"},
    )
    result = TypesGate().evaluate(trees.context())
    assert result.status == "errored" and "mypy could not check the files" in result.summary


def test_output_parsers_and_matching_by_line_content(tmp_path):
    flake8 = parse_flake8("./pkg/a.py:3:10: E711 comparison to None\nnoise\n", tmp_path)
    assert flake8 == [Violation("flake8", "E711", "pkg/a.py", 3, "comparison to None")]
    mypy = parse_mypy(
        f'{tmp_path}/pkg/a.py:4: error: Name "x" already defined on line 2  [no-redef]\n'
        "pkg/a.py:5: note: See https://mypy.rtfd.io\n",
        tmp_path,
    )
    assert mypy == [Violation("mypy", "no-redef", "pkg/a.py", 4, 'Name "x" already defined on line N')]
    base = [Violation("ruff", "E711", "a.py", 1, "m"), Violation("ruff", "E711", "a.py", 2, "m")]
    head = [Violation("ruff", "E711", "a.py", 2, "m"), Violation("ruff", "E711", "a.py", 3, "m")]
    lines_base = {"a.py": ["x == None", "y == None"]}
    lines_head = {"a.py": ["# new", "x == None", "x == None"]}
    # one `x == None` moved down (not new); the second `x == None` is new; `y == None` was fixed
    assert new_violations(base, head, lines_base, lines_head) == [head[1]]
    # a line an edit only shortened keeps its violation (a name taken out of `import a, b, c`: E401 before and after)
    base = [Violation("ruff", "E401", "a.py", 1, "Multiple imports on one line")]
    head = [Violation("ruff", "E401", "a.py", 2, "Multiple imports on one line")]
    shortened = {"a.py": ["import types", "import base64, cgi, os"]}
    assert new_violations(base, head, {"a.py": ["import base64, cgi, imp, os"]}, shortened) == []
    # with no such violation in base, the edited line's is new
    assert new_violations([], head, {"a.py": ["import base64, cgi, imp, os"]}, shortened) == head


def test_a_line_number_in_the_message_shifts_with_the_code():
    # webob 1.7.4's tests/test_request.py defines test_host_port_ipv6 twice; four import lines added at the top
    # move both, and ruff's message names the first one's new line.
    base = [Violation("ruff", "F811", "t.py", 1948, "Redefinition of unused `f` from line 1939")]
    head = [Violation("ruff", "F811", "t.py", 1952, "Redefinition of unused `f` from line 1943")]
    lines_base = {"t.py": [""] * 1947 + ["def f():"]}
    lines_head = {"t.py": [""] * 1951 + ["def f():"]}
    assert new_violations(base, head, lines_base, lines_head) == []
    assert head[0].message.endswith("line 1943")  # what the reader sees keeps the real line


EVIL_PLUGIN = """
import pathlib

pathlib.Path(__file__).with_name("PWNED").write_text("flake8 imported repository code")


class Plugin:
    name = "evil"
    version = "1"

    def __init__(self, tree):
        self.tree = tree

    def run(self):
        return iter(())
"""


def test_flake8_local_plugins_are_imported_only_in_the_sandbox(make_trees):
    trees = make_trees(
        {
            "setup.cfg": "[flake8]\nmax-line-length = 100\n[flake8:local-plugins]\nextension =\n    X1 = evil_plugin:Plugin\npaths = ./\n",
            "evil_plugin.py": EVIL_PLUGIN,
            "pkg/core.py": CORE,
        },
        {"pkg/core.py": CORE.replace('path == ""', "path == None")},
    )
    result = LintGate().evaluate(trees.context())
    assert not (trees.base / "PWNED").exists() and not (trees.head / "PWNED").exists()
    assert result.status == "failed" and "E711" in result.details  # flake8 still ran, with the plugin, sandboxed


def test_mypy_python_executable_from_the_config_runs_only_in_the_sandbox(make_trees):
    evil = '#!/bin/sh\ntouch "$(dirname "$0")/PWNED"\nexit 1\n'
    trees = make_trees(
        {"mypy.ini": "[mypy]\npython_executable = ./evil.sh\n", "evil.sh": evil, "pkg/calc.py": TYPED},
        {"pkg/calc.py": TYPED + "\nX = 1\n"},
    )
    (trees.base / "evil.sh").chmod(0o755)
    (trees.head / "evil.sh").chmod(0o755)
    result = TypesGate().evaluate(trees.context())
    assert not (trees.base / "PWNED").exists() and not (trees.head / "PWNED").exists()
    assert result.status in ("errored", "passed", "failed")  # whatever mypy made of it, nothing ran outside


def test_a_violation_on_a_line_the_change_edited_is_bases():
    base = [Violation("ruff", "E701", "a.py", 2, "Multiple statements on one line (colon)")]
    head = [Violation("ruff", "E701", "a.py", 2, "Multiple statements on one line (colon)")]
    lines_base = {"a.py": ["if x: pass", "else: c = pickle.load(open(p, 'r'))"]}
    lines_head = {"a.py": ["if x: pass", "else: c = pickle.load(open(p, 'rb'))"]}
    assert new_violations(base, head, lines_base, lines_head) == []
    # a second one on another new line is still new
    head_more = [*head, Violation("ruff", "E701", "a.py", 3, "Multiple statements on one line (colon)")]
    lines_more = {"a.py": [*lines_head["a.py"], "while y: z = 1"]}
    assert new_violations(base, head_more, lines_base, lines_more) == [head_more[1]]
