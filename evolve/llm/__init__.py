"""The optional Claude stage: on only when the operator gave an API key and `llm.enabled` is true.

The model proposes structured edits through tool use; LibCST applies them; the gates decide.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.configuration.operator_limits import OperatorLimits
from evolve.llm.api import MessagesClient, RetryPolicy
from evolve.llm.pricing import DEFAULT_FALLBACK_MODEL, DEFAULT_MODEL, deprecation_of, installed_deprecations
from evolve.llm.provider import LLMProvider
from evolve.llm.redaction import secret_values
from evolve.llm.usage import Budget, UsageLedger

__all__ = ["DEFAULT_FALLBACK_MODEL", "DEFAULT_MODEL", "LLMProvider", "RetryPolicy", "build_provider", "choose_models"]

DEFAULT_BASE_URL = "https://api.anthropic.com"  # the same as evolve.configuration.operator_limits.DEFAULT_BASE_URL


def choose_models(config: EvolveConfig, deprecations: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The models to use (primary, fallback) and notes about the choice.

    A model listed in `deprecations` (model -> end of life; default: the installed SDK's table) is replaced by the
    current default unless the repository chose it explicitly.
    """
    deprecations = installed_deprecations() if deprecations is None else deprecations
    llm = config.llm
    chosen: list[str] = []
    notes: list[str] = []
    for field, default in (("model", DEFAULT_MODEL), ("fallback_model", DEFAULT_FALLBACK_MODEL)):
        model = getattr(llm, field)
        end_of_life = deprecation_of(model, deprecations)
        if end_of_life and field not in llm.model_fields_set:
            notes.append(f"default {field} {model} is deprecated (end of life {end_of_life}); using {default}")
            model = default
        elif end_of_life:
            notes.append(f"configured {field} {model} is deprecated (end of life {end_of_life}); consider {default}")
        if model and model not in chosen:
            chosen.append(model)
    return chosen, notes


def _store_from_env(env: Mapping[str, str]) -> Path:
    """$EVOLVE_LLM_USAGE_STORE, else llm-usage.sqlite next to the learning store (same data-dir rules)."""
    explicit = (env.get("EVOLVE_LLM_USAGE_STORE") or "").strip()
    if explicit:
        return Path(explicit)
    data_dir = (env.get("EVOLVE_DATA_DIR") or "").strip()
    if not data_dir:
        xdg = (env.get("XDG_DATA_HOME") or "").strip()
        data_dir = str(Path(xdg) / "evolve") if xdg else "~/.local/share/evolve"
    return Path(data_dir).expanduser() / "llm-usage.sqlite"


def build_provider(
    config: EvolveConfig,
    env: Mapping[str, str] | None = None,
    usage_store_path: Path | None = None,
    *,
    retry: RetryPolicy | None = None,
    limits: OperatorLimits | None = None,
) -> LLMProvider | None:
    """The LLM provider, or None unless the operator gave an API key and llm is enabled.

    Key, base URL, models and upper budgets are the operator's: `limits` (the service passes what its
    Settings read), else read from `env` (default os.environ); the repository's config may only lower them.
    Per-day usage is kept in `usage_store_path`, else in $EVOLVE_LLM_USAGE_STORE, else in
    llm-usage.sqlite under $EVOLVE_DATA_DIR, $XDG_DATA_HOME/evolve or ~/.local/share/evolve.
    """
    import anthropic  # imported here so that runs without a key never pay for it

    from evolve.configuration.operator_limits import apply_operator_limits

    limits = limits or OperatorLimits.from_environment(env)  # env None: os.environ and what serve sealed
    env = os.environ if env is None else env
    if not limits.has_llm_key or not config.enabled or not config.llm.enabled:
        return None
    config, limit_notes = apply_operator_limits(config, limits)
    llm = config.llm
    models, notes = choose_models(config)
    notes = [*limit_notes, *notes]
    assert limits.anthropic_api_key is not None  # has_llm_key
    sdk = anthropic.Anthropic(
        api_key=limits.anthropic_api_key.get_secret_value().strip(),
        base_url=limits.anthropic_base_url.strip() or DEFAULT_BASE_URL,
        max_retries=0,  # retries are ours (RetryPolicy), so the report can say what happened
        timeout=llm.timeout_seconds,
    )
    client = MessagesClient(
        sdk=sdk,
        models=models,
        max_tokens=llm.max_tokens,
        budget=Budget(llm.tokens_per_run, llm.tokens_per_day, llm.cost_per_run_usd, llm.cost_per_day_usd),
        ledger=UsageLedger(usage_store_path or _store_from_env(env)),
        secrets=secret_values({**os.environ, **env}),
        retry=retry or RetryPolicy(),
    )
    return LLMProvider(config, client, notes)
