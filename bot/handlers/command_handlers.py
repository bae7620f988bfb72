"""Comment commands: `issue_comment` created → parse → permission → reaction → act → reply.

Who may do what: `help` and `status` are answered for anyone (they reveal nothing the repository
page does not already show); `run`, `plan`, `retry`, `pause`, `resume` and `config` need write,
maintain or admin permission, asked of the API each time. Comments by bots, including our own,
are ignored. Work (run, plan, retry) is queued as a run; the run replies with its outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from bot.db import store
from bot.db.run_history import pr_codemods, pushed_commits
from bot.db.run_notes import RETRY_OF
from bot.db.run_request import RunRequest
from bot.github.run_target import BRANCH_PREFIX, RunTarget, theme_of_branch
from bot.handlers.commands import Command, UnknownCommand, parse_command
from bot.handlers.installations import ensure_repository
from bot.handlers.keep_current import queue_rebuild
from bot.handlers.repo_config import ConfigProblem, load_repo_config, load_repo_config_with_notes
from bot.handlers.write_once import reply
from bot.outcomes.acceptance import CodemodLearning, learning_table
from bot.routing import Event, Router, is_bot
from bot.templates import Markdown, block, cell, code, mention, render

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext
    from bot.db.models import Repository, Run
    from bot.github.client import ReactionContent

log = logging.getLogger(__name__)
router = Router()
QUEUED_REACTION: ReactionContent = "eyes"  # work was queued; the outcome comes as a reply
DONE_REACTION: ReactionContent = "+1"  # answered at once


def _reply_key(event: Event, comment_id: int) -> str:
    """A command's reply is posted once per delivery of its comment (other deliveries of it never act)."""
    return f"reply-{comment_id}-{event.delivery_id}"


def _body_before_edit(payload: Mapping[str, Any]) -> str | None:
    """The comment's body before an `edited` delivery's edit (GitHub's `changes.body.from`); None when the
    edit did not change the body."""
    changes = payload.get("changes")
    body = changes.get("body") if isinstance(changes, dict) else None
    before = body.get("from") if isinstance(body, dict) else None
    return before if isinstance(before, str) else None


@router.register("issue_comment", "created")
@router.register("issue_comment", "edited")
async def on_comment(event: Event, ctx: BotContext) -> None:
    """Answer a command in a new issue or PR comment, or one an edit put into a comment (once per edit; an
    edit that keeps the command the comment had is not a new command)."""
    payload = event.payload
    comment, issue = payload.get("comment"), payload.get("issue")
    if not isinstance(comment, dict) or not isinstance(issue, dict) or event.installation_id is None:
        return
    if is_bot(comment.get("user"), ctx.settings.bot_identity) or is_bot(
        payload.get("sender"), ctx.settings.bot_identity
    ):
        return
    command = parse_command(str(comment.get("body") or ""), ctx.settings.bot_identity)
    if command is None:
        return
    if event.action == "edited":
        before = _body_before_edit(payload)
        if before is None or parse_command(before, ctx.settings.bot_identity) == command:
            return  # the command was there before the edit and was answered then
    repo_row = await ensure_repository(ctx, event)
    number, comment_id = issue.get("number"), comment.get("id")
    if repo_row is None or not isinstance(number, int) or not isinstance(comment_id, int):
        return
    # Once per comment (and edit), whichever delivery brings it: a replayed or redelivered comment
    # under a new delivery id must not pause, resume or run again.
    edited_at = str(comment.get("updated_at") or comment.get("created_at") or "")
    verb = command.verb if isinstance(command, Command) else "unknown"
    if not (
        await asyncio.to_thread(
            store.claim_command_comment,
            ctx.db,
            comment_id,
            edited_at,
            event.delivery_id,
            repository_id=repo_row.id,
            verb=verb,
        )
    ):
        log.info("comment %s: its command was already handled; delivery %s ignored", comment_id, event.delivery_id)
        return
    owner, name = repo_row.full_name.split("/", 1)
    target = RunTarget(repo_row.id, event.installation_id, owner, name)
    user = str(comment["user"].get("login"))
    if isinstance(command, UnknownCommand):
        await _react(ctx, target, comment_id, "confused" if command.verb else DONE_REACTION)
        help_text = render("help")
        await reply(
            ctx,
            target,
            number,
            render("unknown_command", verb=code(command.verb), help=help_text) if command.verb else help_text,
            key=_reply_key(event, comment_id),
        )
        return
    if command.needs_write_access and not await ctx.github.can_write(target.installation_id, owner, name, user):
        await reply(
            ctx,
            target,
            number,
            render("refused", user=mention(user), verb=command.verb),
            key=_reply_key(event, comment_id),
        )
        return
    handler = VERB_HANDLERS[command.verb]
    await handler(ctx, event, target, command, number, comment_id, user)


def _run_key(event: Event, target: RunTarget, comment_id: int) -> str:
    """A comment queues one run; an edit that put a new command into it queues one more."""
    key = f"comment:{target.repository_id}:{comment_id}"
    if event.action == "edited":
        comment = event.payload.get("comment")
        key += f":{str(comment.get('updated_at') or '')[:40]}" if isinstance(comment, dict) else ""
    return key


async def _react(ctx: BotContext, target: RunTarget, comment_id: int, content: ReactionContent) -> None:
    await ctx.github.add_reaction(target.installation_id, target.owner, target.name, comment_id, content)


async def _enqueue(
    ctx: BotContext,
    event: Event,
    target: RunTarget,
    trigger: str,
    number: int,
    comment_id: int,
    user: str,
    focus: str | None = None,
    pr_number: int | None = None,
    notes: dict[str, Any] | None = None,
) -> None:
    await _react(ctx, target, comment_id, QUEUED_REACTION)
    await ctx.jobs.enqueue_run(
        RunRequest(
            target.repository_id,
            trigger,
            focus=focus,
            requested_by=user,
            comment_issue_number=number,
            idempotency_key=_run_key(event, target, comment_id),
            delivery_id=event.delivery_id,
            pr_number=pr_number,
            options=notes,
        )
    )


async def do_run(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`run [focus]`: queue a run."""
    await _enqueue(ctx, event, target, "comment", number, comment_id, user, focus=command.focus)


async def do_plan(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`plan`: queue a research-and-plan-only run; it replies with the plan."""
    await _enqueue(ctx, event, target, "plan", number, comment_id, user, focus=command.focus)


async def do_retry(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`retry` on a bot PR: run the same theme again on the latest base.

    An open PR is updated in place; a PR closed unmerged stays closed and the run opens a new one (the
    reply links it); a merged PR has nothing to retry.
    """
    info = None
    if _pull_of(event.payload.get("issue")):
        info = await ctx.github.get_pull(target.installation_id, target.owner, target.name, number)
    if info is None or not info.head_ref.startswith(BRANCH_PREFIX):
        await _react(ctx, target, comment_id, "confused")
        await reply(ctx, target, number, render("retry_not_bot_pr"), key=_reply_key(event, comment_id))
        return
    theme = (await asyncio.to_thread(pr_codemods, ctx.db, target.repository_id, number))[2] or theme_of_branch(
        info.head_ref
    )
    if info.merged:
        await _react(ctx, target, comment_id, "confused")
        await reply(
            ctx,
            target,
            number,
            render("retry_merged", pr_number=number, command=code(f"/evolve run {theme}" if theme else "/evolve run")),
            key=_reply_key(event, comment_id),
        )
        return
    if info.state == "open":
        await _enqueue(ctx, event, target, "retry", number, comment_id, user, focus=theme, pr_number=number)
    else:
        await _enqueue(ctx, event, target, "retry", number, comment_id, user, focus=theme, notes={RETRY_OF: number})


async def do_rebase(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`rebase` on an open Evolve PR: rebuild it on the latest base, unless someone else pushed to its branch."""
    info = None
    if _pull_of(event.payload.get("issue")):
        info = await ctx.github.get_pull(target.installation_id, target.owner, target.name, number)
    reason = None
    if info is None or not info.head_ref.startswith(BRANCH_PREFIX):
        reason = "this is not an open Evolve pull request."
    elif info.state != "open":
        reason = "the pull request is not open; `/evolve retry` opens a new one."
    elif info.head_sha not in await asyncio.to_thread(pushed_commits, ctx.db, target.repository_id):
        reason = "someone else pushed to its branch, and Evolve never overwrites that."
    if info is None or reason is not None:
        await _react(ctx, target, comment_id, "confused")
        await reply(ctx, target, number, render("rebase_refused", reason=reason), key=_reply_key(event, comment_id))
        return
    await _react(ctx, target, comment_id, QUEUED_REACTION)
    await queue_rebuild(ctx, target, info, f"asked for by {user}", _run_key(event, target, comment_id), user)


def _pull_of(issue: Any) -> Mapping[str, Any] | None:
    pull = issue.get("pull_request") if isinstance(issue, dict) else None
    return pull if isinstance(pull, dict) else None


async def do_pause(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`pause` / `resume`: flip the repository's switch."""
    paused = command.verb == "pause"
    await asyncio.to_thread(store.set_repository_paused, ctx.db, target.repository_id, paused)
    await _react(ctx, target, comment_id, DONE_REACTION)
    await reply(ctx, target, number, render("paused" if paused else "resumed"), key=_reply_key(event, comment_id))


async def do_config(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`config`: the effective configuration, or the errors in the file."""
    await _react(ctx, target, comment_id, DONE_REACTION)
    notes: tuple[str, ...] = ()
    try:
        config, source, notes = await load_repo_config_with_notes(ctx, target)
    except ConfigProblem as problem:
        from evolve.configuration.model import EvolveConfig

        config, source, errors = EvolveConfig(), "defaults, because the file is invalid", block(str(problem))
    else:
        errors = Markdown("")
    if notes:  # values above the operator's limits
        errors = Markdown(errors + "\n\nThe operator's limits apply:\n" + "\n".join(f"- {cell(n)}" for n in notes))
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    await reply(
        ctx,
        target,
        number,
        render("config_effective", source=Markdown(source), yaml=block(text, "yaml"), errors=errors),
        key=_reply_key(event, comment_id),
    )


def _status_reads(db: Any, repository_id: int) -> tuple[Repository | None, tuple[CodemodLearning, ...], list[Run]]:
    """What `status` shows from the database, in one session: the repository, what was learned there (cached
    per version of the repository row), its last runs."""
    with db() as session:
        repo_row = store.get_repository(session, repository_id)
        learning = learning_table(session, repository_id, version=repo_row.updated_at if repo_row else None)
        return repo_row, learning, store.recent_runs(session, repository_id, limit=5)


async def do_status(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`status`: pause state, open bot PRs and the last runs."""
    await _react(ctx, target, comment_id, DONE_REACTION)
    repo_row, learning, runs = await asyncio.to_thread(_status_reads, ctx.db, target.repository_id)
    pulls = await ctx.github.list_open_pulls(
        target.installation_id, target.owner, target.name, head_prefix=BRANCH_PREFIX
    )
    try:
        limit: Any = (await load_repo_config(ctx, target))[0].limits.max_open_prs
    except ConfigProblem:
        limit = "unknown: the config file is invalid"
    learned = "\n".join(
        f"| {cell(row.codemod)} | {row.proposed} | {row.merged} | {row.closed} | {row.approved} | {row.changes_requested} | "
        f"{row.acceptance:.2f} |"
        for row in learning
    )
    rows = "\n".join(
        f"| {r.id} | {cell(r.trigger)} | {cell(r.status)} | {cell(r.theme or '')} | {f'#{r.pr_number}' if r.pr_number else ''} | "
        f"{r.finished_at.strftime('%Y-%m-%d %H:%M') if r.finished_at else ''} |"
        for r in runs
    )
    await reply(
        ctx,
        target,
        number,
        render(
            "status",
            state="paused" if repo_row is not None and repo_row.paused else "active",
            open_count=len(pulls),
            limit=limit,
            pulls=Markdown("\n".join(f"- #{p.number} {cell(p.title, 200)}" for p in pulls) or "- none"),
            runs=Markdown(rows or "| – | | none yet | | | |"),
            learned=Markdown(learned or "| – | | | | | | none yet |"),
        ),
        key=_reply_key(event, comment_id),
    )


async def do_help(
    ctx: BotContext, event: Event, target: RunTarget, command: Command, number: int, comment_id: int, user: str
) -> None:
    """`help`: the command list."""
    await _react(ctx, target, comment_id, DONE_REACTION)
    await reply(ctx, target, number, render("help"), key=_reply_key(event, comment_id))


VERB_HANDLERS = {
    "run": do_run,
    "plan": do_plan,
    "retry": do_retry,
    "rebase": do_rebase,
    "pause": do_pause,
    "resume": do_pause,
    "config": do_config,
    "status": do_status,
    "help": do_help,
}
