"""Value first: ranking a synthetic findings set built by research's own priority formula and the real catalog."""

from __future__ import annotations

from evolve.codemods.registry import available_codemods
from evolve.configuration.model import LimitsConfig
from evolve.plan.planner import PlanningInput, file_importance, make_plan, theme_score
from evolve.research.codemod_findings import codemod_findings

CATALOG = available_codemods()
METADATA = {cid: cls.metadata for cid, cls in CATALOG.items()}
THEMES = {cid: meta.theme for cid, meta in METADATA.items()}


def findings_of(codemod: str, path: str, count: int = 1):
    occurrences = [
        {"codemod": codemod, "line": 10 * i + 1, "end_line": 10 * i + 1, "symbol": f"f{i}", "description": codemod}
        for i in range(count)
    ]
    return codemod_findings(path, occurrences, METADATA)


def plan_for(*groups, **kwargs):
    findings = tuple(f for group in groups for f in group)
    return make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, **kwargs))


def test_one_defect_outranks_many_cosmetic_rewrites():
    cosmetic = [findings_of("none-return", f"pkg/mod{i}.py", 8) for i in range(12)]
    defect = findings_of("none-comparison", "pkg/zeta.py")
    plan = plan_for(*cosmetic, defect)
    assert plan.theme == "correctness"
    assert [t.codemod for t in plan.tasks] == ["none-comparison"]
    assert dict(plan.alternatives)["typing"] < plan.score


def test_security_first_then_defects_then_cleanup_then_cosmetic():
    benefits = {cid: meta.benefit for cid, meta in METADATA.items()}
    ordered = ["yaml-safe-load", "mutable-default-args", "datetime-utcnow", "unused-imports", "object-base"]
    assert [benefits[c] for c in ordered] == ["security", "defect", "deprecation", "cleanup", "cosmetic"]
    priorities = [findings_of(c, "pkg/a.py")[0].priority for c in ordered]
    assert priorities[1:] == sorted(priorities[1:], reverse=True) and priorities[0] >= priorities[1]
    assert priorities[-2] > priorities[-1]


def test_library_outranks_tests_which_are_out_of_scope_by_default():
    in_tests = [findings_of("none-comparison", f"tests/test_{i}.py", 5) for i in range(5)]
    library = findings_of("none-comparison", "pkg/core.py")
    plan = plan_for(*in_tests, library)
    assert [t.path for t in plan.tasks] == ["pkg/core.py"]
    widened = plan_for(*in_tests, library, include_kinds=("library", "tests"))
    assert {t.path for t in widened.tasks} == {"pkg/core.py", *(f"tests/test_{i}.py" for i in range(5))}
    assert not plan_for(*in_tests).tasks


def test_ties_go_to_public_shallow_modules_not_to_path_order():
    groups = [findings_of("none-comparison", path) for path in ("a/_private/x.py", "a/_compat.py", "z/api.py")]
    plan = plan_for(*groups, limits=LimitsConfig(max_files=1))
    assert [t.path for t in plan.tasks] == ["z/api.py"]
    assert file_importance("pkg/__init__.py") < file_importance("pkg/_impl.py")
    assert file_importance("pkg/api.py") < file_importance("pkg/sub/deep/api.py")


def test_learned_acceptance_adjusts_within_a_value_class():
    groups = [findings_of("none-comparison", "pkg/a.py"), findings_of("open-encoding", "pkg/b.py")]
    plan = plan_for(*groups, acceptance={"none-comparison": 0.05, "open-encoding": 0.9})
    assert plan.tasks[0].codemod == "open-encoding"


def test_theme_score_counts_the_best_task_fully_and_the_rest_a_little():
    assert theme_score([]) == 0.0
    assert theme_score([0.2, 0.6]) == 0.6 + 0.1 * 0.2


def test_a_default_plan_of_only_cosmetic_rewrites_is_not_made_but_a_focus_or_merged_history_makes_it():
    cosmetic = [findings_of("object-base", f"pkg/m{i}.py", 3) for i in range(4)]
    plan = plan_for(*cosmetic)
    assert not plan.tasks and "only cosmetic rewrites found (object-base)" in plan.notes[0]
    assert "--focus" in plan.notes[0]
    assert plan_for(*cosmetic, focus="object-base").tasks
    assert plan_for(*cosmetic, focus="modernize").tasks
    assert plan_for(*cosmetic, acceptance={"object-base": 1.0}).tasks  # the project merges these


def test_the_catalogs_fixes_where_ruff_stops_rank_as_defects_and_deprecations_above_cosmetic_rewrites():
    defects = ["unittest-aliases", "implicit-optional", "late-binding-closures"]
    deprecations = ["logging-warn", "pkg-resources-version"]
    assert {METADATA[c].benefit for c in defects} == {"defect"}
    assert {METADATA[c].benefit for c in deprecations} == {"deprecation"}
    cosmetic = [findings_of("modern-annotations", f"pkg/m{i}.py", 10) for i in range(10)]
    for codemod in defects + deprecations:
        plan = plan_for(*cosmetic, findings_of(codemod, "pkg/zeta.py"))
        assert [t.codemod for t in plan.tasks] == [codemod], codemod
    typed = plan_for(findings_of("none-return", "pkg/a.py", 30), findings_of("implicit-optional", "pkg/b.py"))
    assert [t.codemod for t in typed.tasks] == ["implicit-optional"]
    assert typed.title == "Fix and complete type annotations"


def test_a_codemod_whose_fix_lives_in_tests_is_planned_there_by_default_and_others_are_not():
    aliases = findings_of("unittest-aliases", "tests/test_core.py", 3)
    comparison = findings_of("none-comparison", "tests/test_core.py")
    kinds = {cid: meta.also_in_kinds for cid, meta in METADATA.items() if meta.also_in_kinds}
    assert kinds == {"unittest-aliases": ("tests",)}
    plan = plan_for(aliases, comparison, codemod_kinds=kinds)
    assert [(t.codemod, t.path) for t in plan.tasks] == [("unittest-aliases", "tests/test_core.py")]
    assert not plan_for(aliases, comparison).tasks
