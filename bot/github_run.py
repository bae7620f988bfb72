"""A run from GitHub: config and limits → mirror → engine in a thread → push → PR, labels, check run → reply.

`execute_run(ctx, run_id)` is what the job queue calls. It is idempotent and resumable: a finished run
is left alone; a run interrupted after pushing finds its PR again by branch (GitHub refuses a second
open PR for one head branch, and we look before creating), so a retry updates instead of duplicating.
Each step is one small function; the engine is `evolve.engine.run_engine`, shared with the CLI.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.acceptance import learned_acceptance
from bot.db import store
from bot.db.models import Run, utcnow
from bot.github_client import PLAN_PERMISSIONS, RUN_PERMISSIONS, GitHubError, PullInfo, RepoInfo, TokenScope
from bot.run_checks import ProgressCheck
from bot.run_notes import RETRY_OF, run_notes
from bot.templates import Markdown, block, cell, code, link_target, render
from bot.write_once import check_run_once, reply
from evolve.config import ConfigError, EvolveConfig, parse_yaml_config
from evolve.environments.model import EnvironmentSettings
from evolve.git import Credentials, GitError
from evolve.git.branches import choose_branch
from evolve.git.mirror import GitMirror
from evolve.operator_limits import apply_operator_limits
from evolve.run_status import FINISHED_STATUSES, RunStatus
from evolve.runs import RunOptions, RunReport
from evolve.untrusted_text import register_secret, untrusted_markdown

log = logging.getLogger(__name__)

CONFIG_PATHS = (".github/evolve.yml", ".github/evolve.yaml")
BRANCH_PREFIX = "evolve/"
FINISHED = FINISHED_STATUSES
LABEL_COLORS = {"evolve": "1d76db", "low": "c2e0c6", "medium": "fbca04", "high": "d93f0b"}
RISK_ORDER = ("low", "medium", "high")


@dataclass(frozen=True)
class RunTarget:
    """Where a run acts: the repository row's identity on GitHub."""

    repository_id: int
    installation_id: int
    owner: str
    name: str

    @property
    def full_name(self) -> str:
        """owner/name"""
        return f"{self.owner}/{self.name}"


class ConfigProblem(Exception):
    """`.github/evolve.yml` is invalid; the message names the field."""


async def load_repo_config(ctx: Any, target: RunTarget, ref: str | None = None) -> tuple[EvolveConfig, str]:
    """The repository's effective config (within the operator's limits) and where it came from;
    raises ConfigProblem."""
    config, source, _notes = await load_repo_config_with_notes(ctx, target, ref)
    return config, source


async def load_repo_config_with_notes(
    ctx: Any, target: RunTarget, ref: str | None = None
) -> tuple[EvolveConfig, str, tuple[str, ...]]:
    """Like :func:`load_repo_config`, with notes on the values the operator's limits lowered."""
    for path in CONFIG_PATHS:
        text = await ctx.github.get_file(target.installation_id, target.owner, target.name, path, ref)
        if text is not None:
            try:
                # In a thread: even a bounded hostile file can take a second to parse.
                config = await asyncio.to_thread(parse_yaml_config, text, path)
            except ConfigError as error:
                raise ConfigProblem(str(error)) from None
            limited, notes = apply_operator_limits(config, ctx.settings.operator)
            return limited, path, notes
    config, notes = apply_operator_limits(EvolveConfig(), ctx.settings.operator)
    return config, "defaults (no .github/evolve.yml)", notes


def risk_tier(report: RunReport) -> str:
    """The highest risk among the codemods applied; LLM edits count as medium."""
    risks = [str(meta.get("risk", "low")) for meta in report.codemods]
    if report.llm.get("edits") or report.llm.get("used"):
        risks.append("medium")
    known = [r for r in risks if r in RISK_ORDER] or ["low"]
    return max(known, key=RISK_ORDER.index)


def gate_rows(report: RunReport) -> tuple[bool, str]:
    """Whether the last attempt passed, and its gates as Markdown table rows."""
    if not report.attempts:
        return False, ""
    last = report.attempts[-1]
    rows = "\n".join(f"| {cell(g.gate)} | {cell(g.status)} | {cell(g.summary)} |" for g in last.gate_results)
    return last.passed, Markdown(rows)


def pr_codemods(ctx: Any, repository_id: int, pr_number: int) -> tuple[list[str], int | None, str | None]:
    """Codemod ids of the newest run that produced PR `pr_number`, that run's id and theme."""
    from sqlalchemy import select

    with ctx.db() as session:
        query = (
            select(Run)
            .where(Run.repository_id == repository_id, Run.pr_number == pr_number, Run.report.is_not(None))
            .order_by(Run.id.desc())
        )
        for run in session.scalars(query):
            codemods = [
                str(m["id"]) for m in (run.report or {}).get("codemods", []) if isinstance(m, dict) and m.get("id")
            ]
            if codemods or run.theme:
                return sorted(set(codemods)), run.id, run.theme
    return [], None, None


def theme_of_branch(branch: str) -> str | None:
    """`evolve/<theme>-<id>` → theme."""
    if not branch.startswith(BRANCH_PREFIX):
        return None
    rest = branch[len(BRANCH_PREFIX) :]
    theme, sep, _ = rest.rpartition("-")
    return theme if sep else rest


def find_theme_pull(ctx: Any, target: RunTarget, pulls: list[PullInfo], theme: str | None) -> PullInfo | None:
    """The open bot PR for `theme`, known from our runs or from its branch name."""
    if not theme:
        return None
    for pull in pulls:
        _, _, known = pr_codemods(ctx, target.repository_id, pull.number)
        if (known or theme_of_branch(pull.head_ref)) == theme:
            return pull
    return None


def _reply_key(run: Run) -> str:
    """A run replies once: its outcome, its skip or its error."""
    return f"run-{run.id}"


def _finish(ctx: Any, run_id: int, status: str, **fields: Any) -> None:
    store.finish_run(ctx.db, run_id, status, **fields)


async def _report_bad_config(ctx: Any, target: RunTarget, run: Run, repo: RepoInfo, error: str) -> None:
    if run.comment_issue_number is not None:
        await reply(
            ctx,
            target,
            run.comment_issue_number,
            render("config_invalid", branch=code(repo.default_branch), error=block(error)),
            key=_reply_key(run),
        )
        return
    mirror = await _sync_mirror(ctx, target, repo)
    sha = mirror.branch_sha(repo.default_branch)
    if sha:
        await check_run_once(
            ctx,
            target,
            name="evolve/config",
            head_sha=sha,
            external_id=f"run-{run.id}-config",
            status="completed",
            conclusion="failure",
            output={"title": "Invalid .github/evolve.yml", "summary": render("check_config", error=block(error))},
        )


async def _sync_mirror(ctx: Any, target: RunTarget, repo: RepoInfo) -> GitMirror:
    token = await ctx.github.installation_token(target.installation_id)
    mirror = GitMirror(Path(ctx.settings.workdir), target.full_name)
    await asyncio.to_thread(mirror.sync, repo.clone_url, Credentials(token))
    return mirror


def _runs_last_hour(ctx: Any, repository_id: int) -> int:
    """Runs of the last hour that were not turned away by a limit (this one included)."""
    from sqlalchemy import func, select

    since = utcnow() - timedelta(hours=1)
    with ctx.db() as session:
        query = (
            select(func.count())
            .select_from(Run)
            .where(
                Run.repository_id == repository_id,
                Run.created_at >= since,
                Run.status != RunStatus.CANCELLED,
                Run.trigger != "plan",
            )
        )
        return int(session.scalar(query) or 0)


def _limit_reason(ctx: Any, run: Run, config: EvolveConfig, repo_row: Any, open_pulls: list[PullInfo]) -> str | None:
    if not config.enabled:
        return "Evolve is disabled in `.github/evolve.yml` (`enabled: false`)."
    if repo_row.paused:
        return "Evolve is paused here; `/evolve resume` turns it back on."
    if _runs_last_hour(ctx, run.repository_id) > config.limits.runs_per_hour:
        return f"the limit of {config.limits.runs_per_hour} run(s) per hour is reached; try again later."
    if run.pr_number is None and len(open_pulls) >= config.limits.max_open_prs:
        return (
            f"{len(open_pulls)} Evolve pull request(s) are open, the limit is {config.limits.max_open_prs}. "
            "Merge or close one, or use `/evolve retry` on it."
        )
    return None


def _token_scope(ctx: Any, run: Run) -> TokenScope | None:
    """The run's tokens reach its one repository, with what a run (or a plan) needs."""
    repo_row = store.get_repository(ctx.db, run.repository_id)
    if repo_row is None:
        return None
    permissions = PLAN_PERMISSIONS if run.trigger == "plan" else RUN_PERMISSIONS
    return TokenScope(repositories=(repo_row.full_name.split("/", 1)[1],), permissions=permissions)


async def execute_run(ctx: Any, run_id: int) -> RunReport | None:
    """Execute one queued/claimed run end to end; returns the engine's report (None when it did not run).

    The run works with installation tokens of its own, revoked when it ends (best effort: a token that
    could not be revoked expires within the hour), so they are not usable after the run.
    """
    run = await asyncio.to_thread(store.get_run, ctx.db, run_id)
    if run is None or run.status in FINISHED:
        return None
    scoped = (
        ctx.github.scoped(await asyncio.to_thread(_token_scope, ctx, run)) if hasattr(ctx.github, "scoped") else None
    )
    replaceable = dataclasses.is_dataclass(ctx) and not isinstance(ctx, type)
    run_ctx = dataclasses.replace(ctx, github=scoped) if scoped is not None and replaceable else ctx
    try:
        return await _execute(run_ctx, run)
    finally:
        if scoped is not None and run_ctx is not ctx:
            try:
                await scoped.revoke_tokens()
            except Exception:  # never fail a run over the clean-up
                log.warning("could not revoke the tokens of run %s", run_id, exc_info=True)


async def _execute(ctx: Any, run: Run) -> RunReport | None:
    run_id = run.id
    repo_row = await asyncio.to_thread(store.get_repository, ctx.db, run.repository_id)
    if repo_row is None or repo_row.installation_id is None:
        await asyncio.to_thread(
            _finish, ctx, run_id, RunStatus.CANCELLED, message="the repository is no longer installed"
        )
        return None
    owner, name = repo_row.full_name.split("/", 1)
    target = RunTarget(repo_row.id, repo_row.installation_id, owner, name)
    repo = await ctx.github.get_repo(target.installation_id, owner, name)
    try:
        config, _source = await load_repo_config(ctx, target)
    except ConfigProblem as problem:
        await _report_bad_config(ctx, target, run, repo, str(problem))
        await asyncio.to_thread(_finish, ctx, run_id, RunStatus.FAILED, message=str(problem))
        return None
    if run.trigger == "plan":
        await _plan_only(ctx, target, run, repo, config)
        return None
    open_pulls = await ctx.github.list_open_pulls(target.installation_id, owner, name, head_prefix=BRANCH_PREFIX)
    reason = await asyncio.to_thread(_limit_reason, ctx, run, config, repo_row, open_pulls)
    if reason is not None:
        await reply(ctx, target, run.comment_issue_number, render("run_skipped", reason=reason), key=_reply_key(run))
        await asyncio.to_thread(_finish, ctx, run_id, RunStatus.CANCELLED, message=reason)
        return None
    try:
        return await _run_and_publish(ctx, target, run, repo, config, open_pulls)
    except (GitError, GitHubError) as error:  # messages are free of tokens; tell the user, then fail the run
        log.warning("run %s on %s failed: %s", run_id, target.full_name, error)
        await reply(ctx, target, run.comment_issue_number, render("run_error", message=str(error)), key=_reply_key(run))
        await asyncio.to_thread(_finish, ctx, run_id, RunStatus.ERROR, message=str(error)[:2000])
        return None


def environment_settings(settings: Any) -> EnvironmentSettings:
    """The operator's environment settings: store and uv cache under the data directory, network, mirror."""
    for url in (settings.index_url, settings.extra_index_url):
        password = urlsplit(url).password if url else None
        register_secret(password)  # a mirror's credentials never reach a log line or a reply
    return EnvironmentSettings(
        data_dir=Path(settings.data_dir),
        max_bytes=settings.env_max_bytes,
        install_network=settings.install_network,
        index_url=settings.index_url,
        extra_index_url=settings.extra_index_url,
    )


def _run_options(
    ctx: Any, run: Run, config: EvolveConfig, focus: str | None, branch: str | None, default_branch: str
) -> RunOptions:
    from bot.dashboard.collect import skipped_themes

    acceptance, blocked = learned_acceptance(ctx.db, run.repository_id, config.codemods.reenabled)
    # The LLM stage runs when the operator gave the bot a key and the repository has not turned it off.
    llm = config.llm.enabled and ctx.settings.operator.has_llm_key
    return RunOptions(
        focus=focus,
        llm=llm,
        branch_name=branch,
        run_id=f"gh-{run.id}",
        acceptance=acceptance,
        blocked_codemods=blocked,
        themes_to_skip=skipped_themes(ctx.db, run.repository_id),  # ticked "skip" boxes in the dashboard
        base_ref=f"refs/heads/{default_branch}",
        set_branch=False,  # the engine commits into the mirror; the push below publishes it
        work_dir=Path(ctx.settings.workdir) / "evolve-work",
        environment=environment_settings(ctx.settings),
        operator=ctx.settings.operator,
    )


def _commits_of_runs(ctx: Any, repository_id: int) -> frozenset[str]:
    """Every commit an Evolve run pushed to this repository."""
    from sqlalchemy import select

    with ctx.db() as session:
        query = select(Run.head_sha).where(Run.repository_id == repository_id, Run.head_sha.is_not(None))
        return frozenset(str(sha) for sha in session.scalars(query))


def _branch_to_push(
    ctx: Any, target: RunTarget, mirror: GitMirror, branch: str, base_sha: str
) -> tuple[str, str, bool]:
    """The branch to push to, a note when it is not `branch`, and whether it is `branch` (see choose_branch)."""
    choice = choose_branch(mirror.path, branch, base_sha, _commits_of_runs(ctx, target.repository_id))
    return choice.name, choice.note, choice.name == branch


async def _run_and_publish(
    ctx: Any, target: RunTarget, run: Run, repo: RepoInfo, config: EvolveConfig, open_pulls: list[PullInfo]
) -> RunReport:
    from evolve.engine import run_engine

    retried = next((p for p in open_pulls if p.number == run.pr_number), None) if run.pr_number else None
    focus = run.focus
    if retried is not None:
        focus = (
            focus
            or (await asyncio.to_thread(pr_codemods, ctx, target.repository_id, retried.number))[2]
            or theme_of_branch(retried.head_ref)
        )
    existing = retried or (await asyncio.to_thread(find_theme_pull, ctx, target, open_pulls, focus))
    mirror = await _sync_mirror(ctx, target, repo)
    progress = await ProgressCheck.start(ctx, target, run, mirror.branch_sha(repo.default_branch))
    try:
        options = _run_options(ctx, run, config, focus, existing.head_ref if existing else None, repo.default_branch)
        report = await asyncio.to_thread(run_engine, mirror.path, options, config)
        theme = report.plan.theme if report.plan else None
        await asyncio.to_thread(store.update_run, ctx.db, run.id, theme=theme, base_sha=report.base_sha)
        if report.status != RunStatus.SUCCEEDED or not report.branch or not report.commit:
            await _reply_without_pr(ctx, target, run, report, progress)
            await asyncio.to_thread(
                _finish, ctx, run.id, report.status if report.status in FINISHED else RunStatus.ERROR, report=report
            )
            return report
        # A run that made a commit started from a base commit: both SHAs are known from here on.
        assert report.base_sha is not None
        commit = report.commit
        existing = existing or (await asyncio.to_thread(find_theme_pull, ctx, target, open_pulls, theme))
        wanted = existing.head_ref if existing else report.branch
        # Someone else pushed to the branch: leave it (and its PR) alone and propose on a new branch.
        branch, note, same = await asyncio.to_thread(_branch_to_push, ctx, target, mirror, wanted, report.base_sha)
        if not same:
            existing = None
            report = replace(report, message=f"{report.message} Note: {note}; the change is on `{branch}` instead.")
        await asyncio.to_thread(
            store.update_run, ctx.db, run.id, branch=branch, head_sha=commit
        )  # before the push: a replay knows it
        token = await ctx.github.installation_token(target.installation_id)
        await asyncio.to_thread(
            mirror.push, commit, branch, repo.clone_url, Credentials(token), mirror.branch_sha(branch)
        )
        pull, created = await _open_or_update_pull(ctx, target, repo, branch, report, existing)
        await asyncio.to_thread(store.update_run, ctx.db, run.id, pr_number=pull.number)
        await _label_and_check(ctx, target, run, pull.number, report)
        title = report.plan.title if report.plan else branch
        await progress.proposed(pull.number, pull.html_url, title)
        if created:
            await asyncio.to_thread(
                store.record_proposed,
                ctx.db,
                target.repository_id,
                [str(m.get("id")) for m in report.codemods if m.get("id")],
            )
        retry_of = (await asyncio.to_thread(run_notes, ctx.db, run.id)).get(RETRY_OF)
        body: str  # rendered Markdown, then plain text appended
        if created and retry_of:
            body = render(
                "retry_reopened",
                pr_number=pull.number,
                pr_url=link_target(pull.html_url),
                title=title,
                branch=code(repo.default_branch),
            )
        else:
            body = render(
                "run_succeeded",
                action="opened" if created else "updated",
                pr_number=pull.number,
                title=title,
                attempts=len(report.attempts),
            )
        if note:  # names a person from git metadata: untrusted text
            body += f"\n\n{untrusted_markdown(note)}; the change is on `{branch}` instead."
        await reply(ctx, target, run.comment_issue_number, body, key=_reply_key(run))
        await asyncio.to_thread(
            _finish,
            ctx,
            run.id,
            RunStatus.SUCCEEDED,
            report=replace(report, branch=branch),
            pr_number=pull.number,
            branch=branch,
        )
        return report
    except BaseException as error:  # errors and crashes (even cancellation) must not leave it in progress
        await progress.stopped(error)
        raise


async def _open_or_update_pull(
    ctx: Any, target: RunTarget, repo: RepoInfo, branch: str, report: RunReport, existing: PullInfo | None
) -> tuple[PullInfo, bool]:
    gh, inst = ctx.github, target.installation_id
    title = report.plan.title if report.plan else f"Evolve: {branch}"
    if existing is None:  # a resumed run may have opened it before it was interrupted
        found = await gh.list_open_pulls(inst, target.owner, target.name, head_prefix=branch)
        existing = next((p for p in found if p.head_ref == branch), None)
    if existing is not None:
        pull = await gh.update_pull(inst, target.owner, target.name, existing.number, title=title, body=report.markdown)
        return pull, False
    pull = await gh.create_pull(
        inst, target.owner, target.name, head=branch, base=repo.default_branch, title=title, body=report.markdown
    )
    return pull, True


async def _label_and_check(ctx: Any, target: RunTarget, run: Run, number: int, report: RunReport) -> None:
    assert report.commit is not None  # labels and a check run only for a run that made a commit
    gh, inst = ctx.github, target.installation_id
    tier = risk_tier(report)
    await gh.add_labels(
        inst,
        target.owner,
        target.name,
        number,
        {"evolve": LABEL_COLORS["evolve"], f"evolve:risk-{tier}": LABEL_COLORS[tier]},
    )
    passed, rows = gate_rows(report)
    verdict = "Every gate passed." if passed else "Some gates did not pass."
    await check_run_once(
        ctx,
        target,
        name="evolve/gates",
        head_sha=report.commit,
        external_id=f"run-{run.id}-gates",
        status="completed",
        conclusion="success" if passed else "failure",
        output={"title": verdict, "summary": render("check_gates", verdict=verdict, rows=rows)},
    )


async def _reply_without_pr(ctx: Any, target: RunTarget, run: Run, report: RunReport, progress: ProgressCheck) -> None:
    number = run.comment_issue_number
    _, rows = gate_rows(report)
    gates = render("check_gates", verdict="Gates of the last attempt:", rows=rows) if rows else ""
    if report.status in (RunStatus.NOTHING_TO_DO, RunStatus.FAILED):
        await progress.without_pr(report.status, report.message, gates)
    else:
        await progress.finish(
            RunStatus.CANCELLED,
            "The run stopped with an error",
            render("check_stopped", message=report.message or report.status),
        )
    if report.status == RunStatus.NOTHING_TO_DO:
        await reply(ctx, target, number, render("run_nothing", message=report.message), key=_reply_key(run))
    elif report.status == RunStatus.FAILED:
        await reply(
            ctx,
            target,
            number,
            render("run_failed", attempts=len(report.attempts), message=report.message, gates=gates),
            key=_reply_key(run),
        )
    else:
        # The message may quote a builder's or a test runner's output (repository text): escaped, capped.
        message = untrusted_markdown(report.message, 3000) if report.message else report.status
        await reply(ctx, target, number, render("run_error", message=message), key=_reply_key(run))


async def _plan_only(ctx: Any, target: RunTarget, run: Run, repo: RepoInfo, config: EvolveConfig) -> None:
    from evolve.engine import plan_repository
    from evolve.plan_render import render_plan_markdown

    mirror = await _sync_mirror(ctx, target, repo)
    try:
        options = _run_options(ctx, run, config, run.focus, None, repo.default_branch)
        outcome = await asyncio.to_thread(plan_repository, mirror.path, options, config)
        markdown = render_plan_markdown(outcome.plan)
        await reply(
            ctx, target, run.comment_issue_number, render("plan", markdown=Markdown(markdown)), key=_reply_key(run)
        )
        await asyncio.to_thread(
            _finish,
            ctx,
            run.id,
            RunStatus.SUCCEEDED,
            theme=outcome.plan.theme,
            base_sha=outcome.base_sha,
            markdown=markdown,
            message="plan only",
        )
    except Exception as error:  # ConfigError, GitError, a scanner failing: tell the user, close the run
        log.exception("plan for %s failed", target.full_name)
        await reply(
            ctx,
            target,
            run.comment_issue_number,
            render("run_error", message=f"{type(error).__name__}: {error}"),
            key=_reply_key(run),
        )
        await asyncio.to_thread(_finish, ctx, run.id, RunStatus.ERROR, message=str(error)[:2000])
