"""What a run from GitHub may do and with what: its token scope, the limits that turn it away, the engine's options.

Everything here is read from `Settings` (the operator), the repository's config and the store; no
environment variable is read and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.db.dashboard import skipped_themes
from bot.db.run_notes import CI_FEEDBACK
from bot.github.client import PLAN_PERMISSIONS, RUN_PERMISSIONS, TokenScope
from bot.outcomes.acceptance import learned_acceptance
from bot.settings import workdir
from evolve.configuration.model import EvolveConfig
from evolve.environments.model import EnvironmentSettings
from evolve.results import GateResult
from evolve.runs import CiFeedback, RunOptions
from evolve.untrusted_text import register_secret

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext
    from bot.db.models import Run
    from bot.settings import Settings


def token_scope(full_name: str, trigger: str, run_id: int | None = None) -> TokenScope:
    """A run's tokens reach its one repository, with what a run (or a plan) needs."""
    permissions = PLAN_PERMISSIONS if trigger == "plan" else RUN_PERMISSIONS
    return TokenScope(repositories=(full_name.split("/", 1)[1],), permissions=permissions, run_id=run_id)


def limit_reason(
    config: EvolveConfig, *, paused: bool, runs_last_hour: int, open_pulls: int, retry: bool
) -> str | None:
    """Why a run may not go ahead (disabled, paused, too many runs this hour, too many open PRs), else None.

    `runs_last_hour` counts this run; `retry` runs update an open PR, so the open-PR limit does not apply.
    """
    if not config.enabled:
        return "Evolve is disabled in `.github/evolve.yml` (`enabled: false`)."
    if paused:
        return "Evolve is paused here; `/evolve resume` turns it back on."
    if runs_last_hour > config.limits.runs_per_hour:
        return f"the limit of {config.limits.runs_per_hour} run(s) per hour is reached; try again later."
    if not retry and open_pulls >= config.limits.max_open_prs:
        return (
            f"{open_pulls} Evolve pull request(s) are open, the limit is {config.limits.max_open_prs}. "
            "Merge or close one, or use `/evolve retry` on it."
        )
    return None


def environment_settings(
    settings: Settings, installation_id: int | None = None, repository_id: int | None = None
) -> EnvironmentSettings:
    """The operator's environment settings: store under the data directory, a uv cache per installation (no
    tenant reads a cache another wrote), the repository in every environment's key, network, mirror."""
    for url in (settings.index_url, settings.extra_index_url):
        password = urlsplit(url).password if url else None
        register_secret(password)  # a mirror's credentials never reach a log line or a reply
    return EnvironmentSettings(
        data_dir=Path(settings.data_dir),
        max_bytes=settings.env_max_bytes,
        install_network=settings.install_network,
        index_url=settings.index_url,
        extra_index_url=settings.extra_index_url,
        egress_hosts=tuple(host.strip() for host in settings.egress_hosts.split(",") if host.strip()),
        tenant=f"installation-{installation_id}" if installation_id is not None else "app",
        repository=f"github-repository-{repository_id}" if repository_id is not None else "",
        tests_network=settings.operator.tests_network,
    )


def ci_feedback(run: Run) -> CiFeedback | None:
    """The CI failure a `ci-retry` run redoes the change against (its notes), else None."""
    notes = run.options if isinstance(run.options, dict) else {}
    raw = notes.get(CI_FEEDBACK)
    if not isinstance(raw, dict) or not isinstance(raw.get("result"), dict):
        return None
    return CiFeedback(GateResult.from_dict(raw["result"]), int(raw.get("attempts_used") or 0))


def run_options(
    ctx: BotContext,
    run: Run,
    config: EvolveConfig,
    focus: str | None,
    branch: str | None,
    default_branch: str,
    installation_id: int | None = None,
) -> RunOptions:
    """The engine's options for `run`: learned acceptance, skipped themes, the operator's limits (reads the store)."""
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
        set_branch=False,  # the engine commits into the mirror; the push publishes it
        work_dir=workdir(ctx.settings) / "evolve-work",
        environment=environment_settings(ctx.settings, installation_id, run.repository_id),
        operator=ctx.settings.operator,
        base_suites=ctx.settings.base_suites,
        test_gaps=ctx.settings.test_gaps,
        ci_feedback=ci_feedback(run),
        surface="app",
    )
