"""Edits for the plan: choose the provider, ask it, and fall back to the catalog when the LLM stage gives nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit, ProviderOutcome
from evolve.engine.providers import CodemodProvider
from evolve.environments.model import Environment
from evolve.findings import ScanResult
from evolve.plan.tasks import Plan
from evolve.project_rules import ProjectRules
from evolve.runs import AttemptFeedback

from .mutant_tests import is_mutant_plan, prove_proposed_tests
from .planning import CodemodCatalog, deterministic_request, plan_from_scan, plan_request
from .values import Drafted, LlmStage, Proposal, Researched, RunSetup


def is_codemod_plan(plan: Plan) -> bool:
    """Whether every task of the plan is a codemod (no LLM task)."""
    return all(task.kind == "codemod" for task in plan.tasks)


def changed(outcome: ProviderOutcome) -> tuple[FileEdit, ...]:
    """The edits of an outcome that change their file."""
    return tuple(e for e in outcome.edits if e.changed)


@dataclass(frozen=True)
class TestProving:
    """What a `tests` plan's proposed tests are proven with: the configuration and base's test environment."""

    __test__ = False

    config: EvolveConfig
    environment: Environment | None = None


def propose(
    proposal: Proposal,
    workspace: Path,
    feedback: AttemptFeedback | None,
    scan: ScanResult,
    rules: ProjectRules,
    proving: TestProving | None = None,
) -> Proposal:
    """Ask the proposal's provider for edits (the LLM also gets the findings behind its tasks), styled by the
    project's formatter; the proposal with those edits and notes. For a plan of tests against surviving mutants
    (`proving` given), only the test files proven to kill one stay."""
    from evolve.project_rules.formatting import format_edits

    provider = proposal.provider
    if isinstance(provider, CodemodProvider):
        outcome = provider.propose(workspace, proposal.plan, feedback)
    else:
        outcome = provider.propose(workspace, proposal.plan, feedback, findings=scan.findings)
    edits, notes = format_edits(workspace, outcome.edits, rules)
    outcome = replace(outcome, edits=edits, notes=(*outcome.notes, *notes))
    if proving is not None and is_mutant_plan(proposal.plan):
        proved = prove_proposed_tests(
            workspace, proposal.plan, changed(outcome), scan.findings, proving.config, proving.environment
        )
        notes = (*outcome.notes, *proved.notes)
        return replace(proposal, edits=proved.edits, notes=notes, test_verdicts=proved.verdicts)
    return replace(proposal, edits=changed(outcome), notes=outcome.notes)


def first_proposal(setup: RunSetup, researched: Researched, llm: LlmStage) -> Drafted | None:
    """The first edits for the plan, timed; None when the plan needs the LLM stage and it is not configured."""
    from evolve.codemods.runner import repository_min_python

    plan = researched.plan
    codemod_plan = is_codemod_plan(plan)
    provider = (
        CodemodProvider(repository_min_python(setup.base), setup.config.codemods.plugin_settings)
        if codemod_plan
        else llm.provider
    )
    if provider is None:
        return None
    setup.say("editing", 0, len(plan.tasks))
    clock = time.monotonic()
    proving = TestProving(setup.config, researched.environment)
    proposal = propose(
        Proposal(plan, codemod_plan, provider, ()), setup.base, None, researched.scan, setup.rules, proving
    )
    basis = researched.basis.timed("edits", time.monotonic() - clock)
    drafted = Drafted(proposal, llm, basis)
    if codemod_plan or proposal.edits:
        return drafted
    return catalog_fallback(setup, researched, drafted)


def catalog_fallback(setup: RunSetup, researched: Researched, drafted: Drafted) -> Drafted:
    """The LLM stage produced nothing (API down, budget spent, every edit rejected): carry on deterministically."""
    from evolve.codemods.runner import repository_min_python

    catalog = CodemodCatalog.installed(setup.config)
    request = deterministic_request(plan_request(setup.config, setup.options, False), catalog)
    fallback = plan_from_scan(researched.scan, request, catalog, setup.rules)
    if fallback.empty:
        return drafted
    llm = drafted.llm.noted(
        f"the LLM stage produced no edits for `{researched.plan.theme}`; continuing with the deterministic catalog (`{fallback.theme}`)"
    )
    provider = CodemodProvider(repository_min_python(setup.base), setup.config.codemods.plugin_settings)
    proposal = propose(Proposal(fallback, True, provider, ()), setup.base, None, researched.scan, setup.rules)
    notes = (*drafted.proposal.notes, *proposal.notes)
    return Drafted(replace(proposal, notes=notes), llm, replace(drafted.basis, plan=fallback))
