"""The plan follows the project's rules: disabled codes are not proposed, excluded paths are not touched."""

from __future__ import annotations

from evolve.codemods.registry import available_codemods
from evolve.engine import plan_repository
from evolve.project_rules.model import ProjectRules
from evolve.project_rules.planning import filter_findings
from evolve.project_rules.reader import read_project_rules
from evolve.research.priorities import make_finding
from evolve.runs import RunOptions
from tests.repo_factory import make_repo

REDUNDANT_ELSE = """
    def sign(x):
        if x < 0:
            return -1
        else:
            return 1
"""
# An annotated module with one function missing its return annotation: what none-return proposes.
UNANNOTATED = """
    def name_of(hook: object) -> str:
        return str(hook)


    def count(hooks: list[object]) -> int:
        return len(hooks)


    def register(hook: object):
        print(hook)
"""


def planned(plan) -> set[tuple[str | None, str]]:
    return {(task.codemod, task.path) for task in plan.tasks}


def test_every_codemod_declares_its_lint_codes():
    missing = [cid for cid, cls in available_codemods().items() if not cls.metadata.lint_codes]
    assert missing == []


def test_a_project_ignoring_ret505_to_ret508_gets_no_redundant_else(tmp_path):
    files = {"pkg/__init__.py": "", "pkg/core.py": REDUNDANT_ELSE}
    plain = make_repo(tmp_path / "plain", {**files, "pyproject.toml": '[project]\nname = "p"\n'})
    assert ("redundant-else", "pkg/core.py") in planned(plan_repository(plain, RunOptions(focus="cleanup")).plan)
    ruled = make_repo(
        tmp_path / "ruled",
        {
            **files,
            "pyproject.toml": '[tool.ruff.lint]\nextend-select = ["RET"]\nignore = ["RET505", "RET506", "RET507", "RET508"]\n',
        },
    )
    plan = plan_repository(ruled, RunOptions(focus="cleanup")).plan
    assert plan.empty
    assert any("redundant-else: ruff ignores RET505 (pyproject.toml)" in note for note in plan.notes)


def test_a_project_exempting_testing_gets_no_none_return_there(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/hooks.py": UNANNOTATED,
            "testing/hookspec.py": UNANNOTATED,
            "docs/conf_helpers.py": UNANNOTATED,
            "pyproject.toml": """
                [project]
                name = "p"
                [tool.ruff.lint.per-file-ignores]
                "testing/*" = ["ANN"]
                [[tool.mypy.overrides]]
                module = ["docs.*"]
                disallow_untyped_defs = false
            """,
        },
    )
    tasks = planned(plan_repository(repo, RunOptions(focus="none-return")).plan)
    assert ("none-return", "pkg/hooks.py") in tasks
    assert ("none-return", "testing/hookspec.py") not in tasks
    assert ("none-return", "docs/conf_helpers.py") not in tasks


def test_codes_the_projects_linter_checks_are_left_to_it_unless_asked_for(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/core.py": "def f(x):\n    return x == None\n",
            "ruff.toml": 'exclude = ["generated"]\n',
            "generated/models.py": "class A(object):\n    pass\n",
        },
    )
    default = plan_repository(repo, RunOptions(focus="correctness")).plan
    assert default.empty and any("ruff already checks E711" in note for note in default.notes)
    asked = plan_repository(repo, RunOptions(focus="none-comparison")).plan
    assert planned(asked) == {("none-comparison", "pkg/core.py")}
    # object-base (UP004) is not in ruff's defaults, but ruff excludes generated/: nothing is proposed there
    modernize = plan_repository(repo, RunOptions(focus="object-base")).plan
    assert modernize.empty and any("ruff excludes generated" in note for note in modernize.notes)
    assert read_project_rules(repo).ruff is not None


def test_filter_keeps_everything_for_a_project_without_rules():
    finding = make_finding("codemod", "redundant-else", "pkg/a.py", 3, 5, "f", "low", 0.5, 0.7, "else")
    kept = filter_findings([finding], ProjectRules(), {"redundant-else": ("RET505",)})
    assert kept.kept == (finding,) and kept.notes == ()
