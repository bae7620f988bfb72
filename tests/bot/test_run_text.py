"""The pure parts of a run from GitHub: where it acts, what may stop it, its token scope, and what it says."""

from __future__ import annotations

from bot.github.run_target import RunTarget, theme_of_branch
from bot.publish.run_text import reply_key, reply_without_pr, risk_labels, risk_tier
from bot.runs.options import limit_reason, token_scope
from bot.settings import Settings
from evolve.configuration.model import EvolveConfig
from evolve.run_status import RunStatus
from evolve.runs import RunReport


def test_run_target_and_branch_names() -> None:
    target = RunTarget.of(5, 31, "octo-org/sample")
    assert (target.owner, target.name, target.full_name) == ("octo-org", "sample", "octo-org/sample")
    assert theme_of_branch("evolve/modernize-12") == "modernize"
    assert theme_of_branch("evolve/docstrings") == "docstrings"
    assert theme_of_branch("feature/x-1") is None


def test_limits_in_order_of_what_the_user_can_do() -> None:
    config = EvolveConfig()
    assert limit_reason(config, paused=False, runs_last_hour=1, open_pulls=0, retry=False) is None
    paused = limit_reason(config, paused=True, runs_last_hour=1, open_pulls=0, retry=False)
    assert paused is not None and "/evolve resume" in paused
    busy = limit_reason(config, paused=False, runs_last_hour=config.limits.runs_per_hour + 1, open_pulls=0, retry=False)
    assert busy is not None and "per hour" in busy
    full = config.limits.max_open_prs
    assert "retry" in (limit_reason(config, paused=False, runs_last_hour=1, open_pulls=full, retry=False) or "")
    assert limit_reason(config, paused=False, runs_last_hour=1, open_pulls=full, retry=True) is None
    off = config.model_copy(update={"enabled": False})
    assert "disabled" in (limit_reason(off, paused=True, runs_last_hour=99, open_pulls=99, retry=False) or "")


def test_token_scope_is_one_repository() -> None:
    run = token_scope("octo-org/sample", "comment")
    plan = token_scope("octo-org/sample", "plan")
    assert run.repositories == plan.repositories == ("sample",)
    assert run.permissions["contents"] == "write" and plan.permissions["contents"] == "read"
    assert "pull_requests" not in plan.permissions


def test_labels_and_replies() -> None:
    report = RunReport("gh-1", RunStatus.ERROR, "octo-org/sample", None, None, message="boom | <b>x</b> @alice")
    assert risk_tier(report) == "low" and set(risk_labels(report)) == {"evolve", "evolve:risk-low"}
    text = reply_without_pr(report)
    assert "@alice" not in text and "<b>" not in text  # repository text is escaped: no mention, no HTML
    assert reply_key(42) == "run-42"


def test_one_bot_identity() -> None:
    assert Settings().bot_identity == "evolve-bot[bot]"
    assert Settings(app_slug="acme-evolve").bot_identity == "acme-evolve[bot]"  # named by /setup
    assert Settings(app_slug="acme-evolve", bot_login="other[bot]").bot_identity == "other[bot]"
