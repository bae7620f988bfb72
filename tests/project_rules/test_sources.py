"""The report's line per rule source, and the run report/PR body carrying them."""

from __future__ import annotations

from evolve.engine import run_engine
from evolve.project_rules.model import BlackRules, LinterRules, MypyRules, PreCommitHook, ProjectRules
from evolve.project_rules.sources import describe_rule_sources, render_rules_section
from evolve.runs import RunOptions
from tests.repo_factory import make_repo, run_git


def test_one_line_per_rule_source():
    rules = ProjectRules(
        ruff=LinterRules("ruff", "pyproject.toml", ("E", "F"), ignore=("RET505",), line_length=100),
        black=BlackRules("pyproject.toml", line_length=88),
        mypy=MypyRules("setup.cfg", strict=True, plugins=("pydantic.mypy",)),
        pre_commit=(PreCommitHook("https://github.com/psf/black", "black"),),
        problems=("tox.ini: not a valid INI file",),
    )
    assert describe_rule_sources(rules) == (
        "follows ruff settings from pyproject.toml (line-length 100; ignores RET505)",
        "formats changed lines with black, line-length 88 (pyproject.toml)",
        "mypy from setup.cfg (strict, plugins pydantic.mypy) for the types gate, run in the sandbox",
        "pre-commit runs black",
        "could not read: tox.ini: not a valid INI file",
    )
    assert describe_rule_sources(ProjectRules()) == (
        "no linter configured: the lint gate checks ruff's default rules (E4, E7, E9, F)",
    )


def test_the_section_escapes_text_from_config_files():
    section = render_rules_section(["follows ruff settings from ruff.toml (ignores <img src=x>, @admin)"])
    assert section.startswith("### The project's rules")
    assert "<img" not in section and "@admin" not in section
    assert render_rules_section([]) == ""


def test_a_run_formats_its_edit_with_the_projects_black_and_reports_the_rules(tmp_path):
    rest = 'def other(b: int) -> int:\n    return b\n\n\nNAMES = ["a", "b"]\n'
    repo = make_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": '[project]\nname = "pkg"\n[tool.black]\nline-length = 40\n',
            "pkg/__init__.py": "",
            "pkg/hooks.py": "def register(hook: object, reg: dict):\n    reg[0] = hook\n\n\n" + rest,
        },
    )
    report = run_engine(repo, RunOptions(focus="none-return"))
    assert report.status == "succeeded", report.message
    assert "formats changed lines with black, line-length 40 (pyproject.toml)" in report.rules
    assert "### The project's rules" in report.markdown
    changed = run_git(repo, "show", f"{report.branch}:pkg/hooks.py")
    # black wrapped the signature `-> None` made too long for the project's 40 columns; the rest is untouched
    assert changed == "def register(\n    hook: object, reg: dict\n) -> None:\n    reg[0] = hook\n\n\n" + rest
