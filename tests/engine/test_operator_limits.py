"""Operator-owned limits: a repository's configuration may only lower them."""

from __future__ import annotations

from evolve.config_loading.loading import parse_yaml_config
from evolve.configuration.operator_limits import (
    DEFAULT_FALLBACK_MODEL,
    DEFAULT_MODEL,
    OperatorLimits,
    apply_operator_limits,
)
from evolve.llm import pricing

GREEDY = """
llm:
  model: claude-opus-4-5
  fallback_model: claude-opus-4-5
  tokens_per_day: 900000000
  cost_per_day_usd: 100000
  cost_per_run_usd: 500
  max_tokens: 64000
limits:
  max_open_prs: 50
  max_files: 200
gates:
  tests:
    timeout: 7200
"""


def test_a_repository_cannot_raise_models_budgets_or_limits():
    operator = OperatorLimits(llm_cost_per_day_usd=5.0, max_open_prs=3, tests_timeout_seconds=600)
    config, notes = apply_operator_limits(parse_yaml_config(GREEDY), operator)
    assert (config.llm.model, config.llm.fallback_model) == (DEFAULT_MODEL, DEFAULT_FALLBACK_MODEL)
    assert config.llm.cost_per_day_usd == 5.0 and config.llm.cost_per_run_usd == 2.0
    assert config.llm.tokens_per_day == 2_000_000 and config.llm.max_tokens == 4096
    assert config.limits.max_open_prs == 3 and config.limits.max_files == 50
    assert config.gates.tests.timeout == 600
    assert any("llm.model claude-opus-4-5 is not one the operator allows" in note for note in notes)
    assert any("llm.cost_per_day_usd 100000.0 is above the operator's limit; using 5.0" in n for n in notes)


def test_a_repository_may_lower_and_choose_an_allowed_model():
    operator = OperatorLimits(llm_allowed_models="claude-haiku-4-5, claude-opus-4-5")
    text = "llm:\n  model: claude-opus-4-5\n  cost_per_day_usd: 1.5\nlimits:\n  max_open_prs: 1\n"
    config, notes = apply_operator_limits(parse_yaml_config(text), operator)
    assert config.llm.model == "claude-opus-4-5" and config.llm.cost_per_day_usd == 1.5
    assert config.limits.max_open_prs == 1
    assert notes == ()


def test_unset_values_are_the_operators():
    operator = OperatorLimits(llm_model="claude-haiku-5-5", llm_cost_per_run_usd=0.5, llm_tokens_per_run=5000)
    config, notes = apply_operator_limits(parse_yaml_config(""), operator)
    assert config.llm.model == "claude-haiku-5-5"
    assert (config.llm.cost_per_run_usd, config.llm.tokens_per_run) == (0.5, 5000)
    assert notes == ()
    assert apply_operator_limits(config, operator) == (config, ())  # idempotent


def test_limits_come_from_the_environment_with_the_key_and_url():
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-from-env",
        "EVOLVE_ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        "EVOLVE_LLM_COST_PER_DAY_USD": "3.5",
        "EVOLVE_LLM_ALLOWED_MODELS": "a,b",
        "EVOLVE_MAX_OPEN_PRS": "1",
    }
    limits = OperatorLimits.from_environment(env)
    assert limits.has_llm_key and limits.anthropic_api_key.get_secret_value() == "sk-ant-from-env"
    assert limits.anthropic_base_url == "http://127.0.0.1:9"
    assert (limits.llm_cost_per_day_usd, limits.llm_allowed_models, limits.max_open_prs) == (3.5, ("a", "b"), 1)
    assert "sk-ant-from-env" not in repr(limits)
    assert not OperatorLimits.from_environment({}).has_llm_key


def test_defaults_match_the_pricing_defaults():
    assert (DEFAULT_MODEL, DEFAULT_FALLBACK_MODEL) == (pricing.DEFAULT_MODEL, pricing.DEFAULT_FALLBACK_MODEL)


def test_network_for_tests_is_the_operators_to_grant_and_the_repositorys_only_to_refuse():
    asks = parse_yaml_config("gates:\n  tests:\n    allow_network: true\n")
    refused, notes = apply_operator_limits(asks, OperatorLimits())
    assert refused.gates.tests.allow_network is False
    assert any("allow_network" in note and "EVOLVE_TESTS_NETWORK" in note for note in notes)
    granting = OperatorLimits.from_environment({"EVOLVE_TESTS_NETWORK": "true"})
    assert apply_operator_limits(asks, granting)[0].gates.tests.allow_network is True
    declines = parse_yaml_config("gates:\n  tests:\n    allow_network: false\n")
    assert apply_operator_limits(declines, granting)[0].gates.tests.allow_network is False
