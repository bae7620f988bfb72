"""The planner: single theme, size limits, learned acceptance, focus, blocked codemods."""

from evolve.configuration.model import LimitsConfig
from evolve.findings import Finding, stable_finding_id
from evolve.plan.planner import PlanningInput, make_plan
from evolve.plan.render import render_plan_markdown, render_plan_table

THEMES = {
    "none-comparison": "correctness",
    "not-in": "correctness",
    "object-base": "modernize",
    "super-call": "modernize",
}


def finding(
    rule: str, path: str, line: int = 1, priority: float = 0.5, kind: str = "codemod", symbol: str | None = None
) -> Finding:
    return Finding(
        id=stable_finding_id(kind, rule, path, symbol, str(line)),
        kind=kind,
        rule=rule,
        path=path,
        line=line,
        end_line=line,
        symbol=symbol,
        severity="low",
        priority=priority,
        message=rule,
    )


def test_one_theme_is_chosen_and_tasks_group_by_codemod_and_file():
    findings = (
        finding("none-comparison", "a.py", 1, 0.6),
        finding("none-comparison", "a.py", 5, 0.4),
        finding("not-in", "b.py", 2, 0.5),
        finding("object-base", "c.py", 3, 0.2),
    )
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES))
    assert plan.theme == "correctness"
    assert {(t.codemod, t.path) for t in plan.tasks} == {("none-comparison", "a.py"), ("not-in", "b.py")}
    grouped = next(t for t in plan.tasks if t.path == "a.py")
    assert len(grouped.finding_ids) == 2 and grouped.estimated_lines == 4
    assert plan.alternatives and plan.alternatives[0][0] == "modernize"


def test_size_limits_drop_tasks_beyond_max_files():
    findings = tuple(finding("none-comparison", f"m{i}.py", priority=0.5 + i / 100) for i in range(5))
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, limits=LimitsConfig(max_files=2)))
    assert len(plan.files) == 2 and plan.dropped == 3
    assert plan.files == ("m3.py", "m4.py")  # the highest priorities win


def test_changed_line_limit_is_respected():
    findings = tuple(finding("not-in", "a.py", line) for line in range(1, 40))
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, limits=LimitsConfig(max_changed_lines=10)))
    assert plan.empty  # one task of ~78 lines does not fit in 10


def test_learned_acceptance_changes_the_ranking():
    findings = (finding("none-comparison", "a.py", priority=0.5), finding("object-base", "b.py", priority=0.45))
    neutral = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES))
    learned = make_plan(
        PlanningInput(findings=findings, codemod_themes=THEMES, acceptance={"none-comparison": 0.2, "object-base": 0.9})
    )
    assert neutral.theme == "correctness"
    assert learned.theme == "modernize"


def test_blocked_and_disabled_codemods_are_not_proposed():
    findings = (finding("none-comparison", "a.py"), finding("object-base", "b.py"))
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, blocked=frozenset({"none-comparison"})))
    assert plan.codemod_ids == ("object-base",)
    plan = make_plan(
        PlanningInput(findings=findings, codemod_themes=THEMES, enabled_codemods=frozenset({"none-comparison"}))
    )
    assert plan.codemod_ids == ("none-comparison",)


def test_focus_on_a_codemod_or_theme_and_unknown_focus():
    findings = (finding("none-comparison", "a.py", priority=0.9), finding("object-base", "b.py", priority=0.1))
    assert make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, focus="object-base")).codemod_ids == (
        "object-base",
    )
    assert make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, focus="modernize")).theme == "modernize"
    unknown = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, focus="nope"))
    assert unknown.empty and "unknown focus" in unknown.notes[0] and "object-base" in unknown.notes[0]


def test_llm_themes_only_when_enabled_and_security_left_to_codemods_is_skipped():
    findings = (
        finding("missing-docstring", "a.py", kind="docstring", symbol="f", priority=0.7),
        finding("eval", "a.py", 9, kind="security", priority=0.8),
        finding("yaml", "b.py", 3, kind="security", priority=0.8),
        finding("none-comparison", "b.py", 3, priority=0.1),
    )
    without = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES))
    assert without.theme == "correctness"
    with_llm = make_plan(
        PlanningInput(findings=findings, codemod_themes=THEMES, llm_themes=frozenset({"security-fixes", "docstrings"}))
    )
    assert with_llm.theme == "security-fixes"
    assert [(t.kind, t.path) for t in with_llm.tasks] == [("security", "a.py")]


def test_no_findings_gives_an_empty_plan_with_a_reason():
    plan = make_plan(PlanningInput(findings=(), codemod_themes=THEMES))
    assert plan.empty and plan.notes == ("no actionable findings",)
    assert "Nothing to do" in render_plan_table(plan)


def test_renderers_show_tasks_and_a_mermaid_diagram():
    findings = (finding("none-comparison", "pkg/a.py"), finding("not-in", "pkg/b.py"))
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES))
    table = render_plan_table(plan)
    assert "pkg/a.py" in table and "none-comparison" in table
    markdown = render_plan_markdown(plan)
    assert "```mermaid" in markdown and "flowchart LR" in markdown
    assert "theme --> t_none_comparison" in markdown and "f_pkg_a_py" in markdown


def test_llm_tasks_never_target_test_code():
    findings = (
        finding("missing-docstring", "tests/test_a.py", kind="docstring", symbol="test_x", priority=0.9),
        finding("missing-docstring", "pkg/conftest.py", kind="docstring", symbol="fixture", priority=0.9),
        finding("missing-docstring", "pkg/a.py", kind="docstring", symbol="f", priority=0.2),
    )
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=THEMES, llm_themes=frozenset({"docstrings"})))
    assert [(t.path, t.symbol) for t in plan.tasks] == [("pkg/a.py", "f")]


def _codemod_finding(rule: str, path: str, priority: float) -> Finding:
    return Finding(f"{rule}-{path}", "codemod", rule, path, 3, 3, None, "low", priority, "m")


def test_a_red_removal_fix_brings_the_other_removal_recipes_everywhere():
    # webob 1.7.4 on Python 3.11: `collections.MutableMapping` stops every test module from importing; once it is
    # fixed, the tests' `Thread.isAlive` (removed in 3.9) fails next. Both are removed names: one plan.
    findings = (
        _codemod_finding("collections-abc", "webob/headers.py", 0.6),
        _codemod_finding("removed-stdlib-names", "tests/test_in_wsgiref.py", 0.6),
        _codemod_finding("object-base", "webob/request.py", 0.05),
    )
    themes = {"collections-abc": "deprecations", "removed-stdlib-names": "deprecations", "object-base": "modernize"}
    red = {("collections-abc", "webob/headers.py"): ("3.11.7: tests/test_request.py",)}
    removal = frozenset({"collections-abc", "removed-stdlib-names", "unittest-aliases"})
    plan = make_plan(PlanningInput(findings=findings, codemod_themes=themes, red=red, removal_recipes=removal))
    assert plan.files == ("tests/test_in_wsgiref.py", "webob/headers.py")
    assert make_plan(PlanningInput(findings=findings, codemod_themes=themes, red=red)).files == ("webob/headers.py",)
    # Without a red fix, a removal recipe stays out of test modules (the default scope).
    calm = make_plan(PlanningInput(findings=findings, codemod_themes=themes, removal_recipes=removal))
    assert "tests/test_in_wsgiref.py" not in calm.files


def test_the_removal_recipes_are_the_ones_research_names():
    from evolve.research.removed_names import removal_recipes

    assert {"collections-abc", "removed-stdlib-names", "unittest-aliases"} <= removal_recipes()
