"""Each config format parsed from its text, and rule selection resolved the way the tools resolve it."""

from __future__ import annotations

import sys
import textwrap

import pytest

from evolve.project_rules import ini_configs, pyproject_configs
from evolve.project_rules.model import ProjectRules
from evolve.project_rules.pre_commit import PreCommitError, apply_hook, parse_pre_commit, selection_args
from evolve.project_rules.reader import read_project_rules
from evolve.project_rules.ruff_config import DEFAULT_SELECT, merge_extended, ruff_rules
from evolve.project_rules.selectors import glob_covers, regex_excludes, resolve_code

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def toml(text: str) -> dict:
    return tomllib.loads(textwrap.dedent(text))


def ini(text: str):
    return ini_configs.parse_ini(textwrap.dedent(text), "setup.cfg")


def test_most_specific_selector_wins_and_ignore_wins_ties():
    assert resolve_code("E501", ["E"], ["E501"]) == (False, "E501")
    assert resolve_code("E711", ["E"], ["E501"]) == (True, "E")
    assert resolve_code("E501", ["E501"], ["E"]) == (True, "E501")
    assert resolve_code("RET505", ["ALL"], ["RET"]) == (False, "RET")
    assert resolve_code("RET505", ["RET"], ["RET"]) == (False, "RET")
    assert resolve_code("F401", ["E"], []) == (False, None)


def test_globs_cover_directories_names_and_nested_paths():
    assert glob_covers("testing/plugin.py", "testing/*")
    assert glob_covers("testing/sub/plugin.py", "testing/*")  # ruff's `*` crosses `/`
    assert glob_covers("src/pkg/__init__.py", "__init__.py")
    assert glob_covers("src/pkg/__init__.py", "**/__init__.py")
    assert glob_covers("docs/conf.py", "docs")
    assert glob_covers("docs/conf.py", "docs/")
    assert not glob_covers("src/docs_tools.py", "docs")
    assert regex_excludes("tests/data/big.py", r"/tests/data/")
    assert regex_excludes("build/x.py", "^build/")


def test_ruff_table_with_lint_subtable_and_per_file_ignores():
    table = toml(
        """
        [tool.ruff]
        line-length = 100
        extend-exclude = ["docs/_build"]
        [tool.ruff.lint]
        select = ["E", "F", "RET", "ANN"]
        ignore = ["RET505", "RET506", "RET507", "RET508"]
        [tool.ruff.lint.per-file-ignores]
        "testing/*" = ["ANN"]
        "docs/*" = ["ANN201"]
        """
    )["tool"]["ruff"]
    rules = ruff_rules(table, "pyproject.toml")
    assert rules.line_length == 100
    assert rules.code_state("RET505", "src/pkg/a.py")[0] == "disabled"
    assert rules.code_state("RET503", "src/pkg/a.py")[0] == "enforced"
    assert rules.code_state("ANN201", "testing/hooks.py") == (
        "disabled",
        "ruff ignores ANN201 in testing/* (pyproject.toml)",
    )
    assert rules.code_state("ANN201", "src/pkg/a.py")[0] == "enforced"
    assert rules.code_state("UP008", "src/pkg/a.py")[0] == "free"
    assert rules.excludes("docs/_build/x.py") == "docs/_build"


def test_ruff_legacy_top_level_keys_and_defaults():
    rules = ruff_rules(toml('extend-ignore = ["E711"]\nline-length = 79\n'), "ruff.toml")
    assert rules.select == DEFAULT_SELECT
    assert rules.code_state("E711", "a.py")[0] == "disabled"
    assert rules.code_state("E713", "a.py")[0] == "enforced"  # E7 is a default
    assert rules.code_state("UP004", "a.py")[0] == "free"


def test_ruff_extend_child_wins_and_extend_lists_accumulate():
    parent = toml('[lint]\nselect = ["E", "F"]\nextend-ignore = ["E501"]\n')
    child = toml('[lint]\nextend-ignore = ["F401"]\n')
    rules = ruff_rules(merge_extended(parent, child), "ruff.toml")
    assert rules.select == ("E", "F")
    assert set(rules.ignore) == {"E501", "F401"}


def test_flake8_section_defaults_extend_ignore_and_per_file_ignores():
    parser = ini(
        """
        [flake8]
        max-line-length = 120
        extend-ignore = E203, W503
        per-file-ignores =
            __init__.py: F401
            tests/*: S101,E501 docs/*: E711
        exclude = .git,build,docs/_build
        """
    )
    rules = ini_configs.flake8_rules(parser, "setup.cfg")
    assert rules is not None
    assert rules.line_length == 120
    assert rules.code_state("F401", "pkg/__init__.py")[0] == "disabled"
    assert rules.code_state("F401", "pkg/core.py")[0] == "enforced"
    assert rules.code_state("E711", "docs/conf.py")[0] == "disabled"
    assert rules.code_state("E226", "pkg/core.py")[0] == "disabled"  # flake8's default ignore list stays
    assert rules.excludes("docs/_build/a.py")
    assert ini_configs.flake8_rules(ini("[metadata]\nname = x\n"), "setup.cfg") is None


def test_flake8_explicit_ignore_replaces_the_default_list():
    rules = ini_configs.flake8_rules(ini("[flake8]\nignore = E501\n"), "tox.ini")
    assert rules is not None
    assert rules.code_state("E226", "a.py")[0] == "enforced"
    assert rules.code_state("E501", "a.py")[0] == "disabled"


def test_mypy_ini_and_pyproject_overrides_exempt_modules_from_annotations():
    parsed = ini_configs.mypy_rules(
        ini(
            """
            [mypy]
            strict = True
            plugins = pydantic.mypy
            exclude = ^build/
            [mypy-testing.*]
            disallow_untyped_defs = False
            [mypy-pkg.vendor.*,pkg.gen]
            ignore_errors = True
            """
        ),
        "mypy.ini",
    )
    assert parsed is not None and parsed.strict and parsed.plugins == ("pydantic.mypy",)
    assert parsed.exempts_annotations("testing/hooks.py") == "mypy allows untyped defs in testing.* (mypy.ini)"
    assert parsed.exempts_annotations("src/pkg/vendor/six.py")
    assert parsed.exempts_annotations("pkg/gen.py")
    assert parsed.exempts_annotations("build/lib.py")
    assert parsed.exempts_annotations("src/pkg/core.py") is None
    table = toml(
        """
        [tool.mypy]
        files = ["src"]
        disallow_untyped_defs = true
        [[tool.mypy.overrides]]
        module = ["docs.*", "testing.*"]
        disallow_untyped_defs = false
        """
    )["tool"]["mypy"]
    rules = pyproject_configs.mypy_rules(table, "pyproject.toml")
    assert rules.files == ("src",) and rules.disallow_untyped_defs
    assert rules.exempts_annotations("docs/conf.py")
    assert rules.exempts_annotations("src/pkg/a.py") is None


def test_black_isort_pyright_pylint_tables():
    tool = toml(
        """
        [tool.black]
        line-length = 100
        target-version = ["py39"]
        extend-exclude = '''
        /(
          generated
        )/
        '''
        [tool.isort]
        profile = "black"
        line_length = 100
        [tool.pyright]
        exclude = ["scripts"]
        typeCheckingMode = "strict"
        [tool.pylint."messages control"]
        disable = ["no-else-return", "C0114"]
        """
    )["tool"]
    black = pyproject_configs.black_rules(tool["black"], "pyproject.toml")
    assert black.line_length == 100 and black.target_versions == ("py39",)
    assert ProjectRules(black=black).excluded("pkg/generated/x.py")
    assert ProjectRules(black=black).excluded("pkg/core.py") is None
    isort = pyproject_configs.isort_rules(tool["isort"], "pyproject.toml")
    assert (isort.profile, isort.line_length) == ("black", 100)
    pyright = pyproject_configs.pyright_rules(tool["pyright"], "pyproject.toml")
    assert pyright.type_checking_mode == "strict" and pyright.exempts_annotations("scripts/run.py")
    pylint = pyproject_configs.pylint_rules(tool["pylint"], "pyproject.toml")
    assert pylint.disabled == {"no-else-return", "c0114"}
    ini_pylint = ini_configs.pylint_rules(ini("[MESSAGES CONTROL]\ndisable = R1705,\n  unused-import\n"), ".pylintrc")
    assert ini_pylint is not None and ini_pylint.disabled == {"r1705", "unused-import"}
    ini_isort = ini_configs.isort_rules(ini("[isort]\nprofile = google\n"), "setup.cfg")
    assert ini_isort is not None and ini_isort.profile == "google"


PRE_COMMIT = """
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.6.0
    hooks:
      - id: ruff
        args: [--fix, "--extend-ignore=RET505", --select, "E,F,RET"]
        exclude: ^docs/
      - id: ruff-format
  - repo: https://github.com/PyCQA/flake8
    rev: 7.0.0
    hooks:
      - id: flake8
        additional_dependencies: [flake8-bugbear]
"""


def test_pre_commit_hooks_and_their_selection_args():
    hooks = parse_pre_commit(textwrap.dedent(PRE_COMMIT))
    assert [h.id for h in hooks] == ["ruff", "ruff-format", "flake8"]
    assert hooks[2].additional_dependencies == ("flake8-bugbear",)
    assert selection_args(hooks[0].args) == {"ignore": ("RET505",), "select": ("E", "F", "RET")}
    ruff = apply_hook(ruff_rules({}, "pre-commit"), hooks[0])
    assert ruff.code_state("RET505", "a.py")[0] == "disabled"
    assert ruff.code_state("RET506", "a.py")[0] == "enforced"
    assert ruff.excludes("docs/conf.py")
    assert ruff.hook_args == ("--extend-ignore=RET505", "--select", "E,F,RET")
    with pytest.raises(PreCommitError, match="not valid YAML"):
        parse_pre_commit("repos: [\n")
    with pytest.raises(PreCommitError, match="repos"):
        parse_pre_commit("- a\n")


def test_reader_combines_files_and_reports_broken_ones(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ruff]\nextend = "base.toml"\n[tool.black]\nline-length = 99\n')
    (tmp_path / "base.toml").write_text('[lint]\nselect = ["E", "RET"]\nignore = ["RET505"]\n')
    (tmp_path / "setup.cfg").write_text("[mypy]\nstrict = true\n[flake8]\nmax-line-length = 99\n")
    (tmp_path / ".pre-commit-config.yaml").write_text(textwrap.dedent(PRE_COMMIT))
    (tmp_path / "pyrightconfig.json").write_text("{not json")
    rules = read_project_rules(tmp_path)
    assert rules.ruff is not None and rules.ruff.source == "pyproject.toml + pre-commit args"
    assert rules.ruff.code_state("RET505", "a.py")[0] == "disabled"
    assert rules.flake8 is not None and rules.flake8.line_length == 99
    assert rules.mypy is not None and rules.mypy.strict and rules.mypy.source == "setup.cfg"
    assert rules.black is not None and rules.black.line_length == 99
    assert rules.formatter == "ruff"  # pre-commit runs ruff-format
    assert rules.pyright is None
    assert any(p.startswith("pyrightconfig.json: not valid JSON") for p in rules.problems)


def test_reader_on_a_tree_without_config_and_with_broken_toml(tmp_path):
    assert read_project_rules(tmp_path) == ProjectRules()
    (tmp_path / "pyproject.toml").write_text("[tool.ruff\n")
    (tmp_path / "tox.ini").write_text("[flake8\n")
    rules = read_project_rules(tmp_path)
    assert rules.ruff is None and rules.flake8 is None
    assert len(rules.problems) == 2 and "not valid TOML" in rules.problems[0]


def test_rewriting_pre_commit_hooks_count_as_the_projects_linter():
    hooks = parse_pre_commit(
        textwrap.dedent(
            """
            repos:
              - repo: https://github.com/asottile/pyupgrade
                rev: v3.19.1
                hooks:
                  - id: pyupgrade
                    args: [--py39-plus]
              - repo: https://github.com/PyCQA/autoflake
                rev: v2.3.1
                hooks:
                  - id: autoflake
                    args: [--in-place, --remove-all-unused-imports]
            """
        )
    )
    rules = ProjectRules(pre_commit=hooks)
    assert rules.verdict(("UP008", "pylint:super-with-arguments"), "a.py").state == "enforced"
    assert rules.verdict(("F401",), "a.py").reason == "pre-commit hook autoflake already rewrites F401"
    assert rules.verdict(("UP007", "UP045"), "a.py").state == "free"  # needs --py310-plus
    assert hooks[0].fixed_codes == ("UP004", "UP008", "UP006", "UP035")


@pytest.mark.parametrize(
    "config",
    [
        'select = ["E"]\nignore = ["E7"]\nextend-select = ["E711"]\n',
        'select = ["E711"]\nignore = ["E"]\n',
        'select = ["ALL"]\nignore = ["E71"]\n',
        'extend-select = ["E"]\nignore = ["E713"]\n',
        'select = ["E7"]\nignore = ["E711"]\n[lint.per-file-ignores]\n"pkg/*" = ["E713"]\n',
    ],
)
def test_rule_selection_agrees_with_the_real_ruff(tmp_path, config):
    from evolve.project_rules.lint_run import run_ruff

    (tmp_path / "ruff.toml").write_text("[lint]\n" + config)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\nif x == None:\n    pass\nif not x in [1]:\n    pass\n")
    project = read_project_rules(tmp_path)
    rules = project.ruff
    assert rules is not None
    # ruff gets the settings as Evolve read them (--config): the same table the prediction comes from.
    found, error = run_ruff(tmp_path, ["pkg/a.py"], rules, config=project.ruff_config)
    assert error is None
    reported = {v.code for v in found} & {"E711", "E713"}
    predicted = {code for code in ("E711", "E713") if rules.code_state(code, "pkg/a.py")[0] == "enforced"}
    assert reported == predicted


def test_ruff_format_run_by_tox_or_a_workflow_makes_ruff_the_formatter(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ruff.lint]\nignore = ["UP031"]\n')
    assert read_project_rules(tmp_path).formatter is None
    (tmp_path / "tox.ini").write_text(
        "[testenv:ruff-format]\ndeps = ruff\ncommands = ruff format --diff -q {posargs}\n"
    )
    assert read_project_rules(tmp_path).formatter == "ruff"
    (tmp_path / "tox.ini").unlink()
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "lint.yml").write_text(
        "jobs:\n  l:\n    steps:\n      - run: uvx ruff format --check .\n"
    )
    assert read_project_rules(tmp_path).formatter == "ruff"
