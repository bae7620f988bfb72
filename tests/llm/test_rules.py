"""Pure rules: allowed paths, docstring style and filler, redaction, prices, budgets, model defaults."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from evolve.config_loading.loading import parse_config
from evolve.configuration.globs import glob_match
from evolve.configuration.model import EvolveConfig, LLMConfig
from evolve.llm import DEFAULT_FALLBACK_MODEL, DEFAULT_MODEL, build_provider, choose_models
from evolve.llm.docstring_style import classify_docstring, docstring_problem, dominant_style
from evolve.llm.paths import edit_path_problem
from evolve.llm.pricing import deprecation_of, estimate_cost, installed_deprecations, price_of
from evolve.llm.redaction import REDACTED, new_token_like_strings, redact, secret_values
from evolve.llm.usage import Budget, DayUsage, RunUsage, UsageLedger


@pytest.mark.parametrize(
    "path, pattern, expected",
    [
        ("mod.py", "**/*.py", True),
        ("a/b/mod.py", "**/*.py", True),
        ("a/b/mod.txt", "**/*.py", False),
        ("build/x.py", "build/**", True),
        ("src/build/x.py", "build/**", False),
        ("a/node_modules/x.py", "**/node_modules/**", True),
        ("pkg/vendored/x.py", "pkg/vendored/**", True),
        ("pkg/mod.py", "pkg/*.py", True),
        ("pkg/sub/mod.py", "pkg/*.py", False),
    ],
)
def test_glob_match(path, pattern, expected):
    assert glob_match(path, pattern) is expected


@pytest.mark.parametrize(
    "path, fragment",
    [
        ("../x.py", "path traversal"),
        ("pkg/../../x.py", "path traversal"),
        ("/etc/x.py", "absolute"),
        ("C:/x.py", "absolute"),
        ("~/x.py", "absolute"),
        ("pkg\\x.py", "backslashes"),
        ("", "non-empty"),
        (".github/workflows/ci.yml", "protected"),
        (".github/workflows/x.py", "protected"),
        (".git/hooks/x.py", "protected"),
        ("README.md", "not a Python file"),
        ("build/x.py", "outside the paths"),
    ],
)
def test_forbidden_edit_paths(tmp_path, path, fragment):
    assert fragment in (edit_path_problem(tmp_path, path, EvolveConfig()) or "")


def test_allowed_paths_and_test_file_rules(tmp_path):
    config = EvolveConfig()
    assert edit_path_problem(tmp_path, "pkg/mod.py", config) is None
    assert edit_path_problem(tmp_path, "./pkg/mod.py", config) is None
    assert edit_path_problem(tmp_path, "tests/test_new.py", config, test_file=True) is None
    assert "under tests/" in edit_path_problem(tmp_path, "pkg/test_new.py", config, test_file=True)
    assert "under tests/" in edit_path_problem(tmp_path, "tests/helpers.py", config, test_file=True)
    only_src = parse_config({"include": ["src/**/*.py"]})
    assert "outside" in edit_path_problem(tmp_path, "pkg/mod.py", only_src)


def test_symlinks_out_of_the_repository_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link").symlink_to(outside)
    assert "symbolic link" in edit_path_problem(repo, "link/mod.py", EvolveConfig())


@pytest.mark.parametrize(
    "text, style",
    [
        ("Do it.\n\nArgs:\n    x: thing.\n\nReturns:\n    Stuff.", "google"),
        ("Do it.\n\nParameters\n----------\nx : int\n    Thing.", "numpy"),
        ("Do it.\n\n:param x: thing.\n:returns: stuff.", "rest"),
        ("Do it, and do it well.", "plain"),
    ],
)
def test_classify_docstring(text, style):
    assert classify_docstring(text) == style


def test_dominant_style_ignores_plain_docstrings():
    assert (
        dominant_style(
            ["One line.", "Two.\n\nArgs:\n    a: b", "Three.\n\n:param a: b"] + ["x"] * 9 + ["Q.\n\nReturns:\n    r"]
        )
        == "google"
    )
    assert dominant_style(["Only prose here."]) == "plain"


@pytest.mark.parametrize(
    "docstring, fragment",
    [
        ("", "empty"),
        ("TODO", "placeholder"),
        ("Parse it.", "too short"),
        ("Parse the config.", "too short"),
        ("Parse the config file here.", None),
        ("Get the user name for the user.", "restates"),
        ('Say """ hi there now.', "triple"),
        ("Load a file from disk.\n\nArgs:\n    path: where.", None),
    ],
)
def test_docstring_problem_for_google_repositories(docstring, fragment):
    problem = docstring_problem(docstring, "get_user_name" if "user" in docstring else "load_config", "google")
    assert (problem is None) if fragment is None else (fragment in (problem or ""))


def test_sections_in_a_plain_repository_are_refused():
    assert "plain-prose" in docstring_problem("Load a file from disk.\n\nArgs:\n    path: where.", "load", "plain")


def test_redaction_of_env_values_and_token_patterns():
    env = {
        "GITHUB_TOKEN": "ghs_abcdefghijklmnopqrstuvwxyz0123456789",
        "MY_PASSWORD": "hunter2hunter2",
        "SHORT_KEY": "abc",
        "PATH": "/usr/bin:/bin",
        "HOME": "/root",
    }
    secrets = secret_values(env)
    assert "abc" not in secrets and "/usr/bin:/bin" not in secrets and "hunter2hunter2" in secrets
    body = {
        "messages": [
            {
                "content": "pw=hunter2hunter2 key=AKIAIOSFODNN7EXAMPLE jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.sflKxwRJSMeKKF2QT4fw"
            },
            {"content": ["sk-ant-api03-abcdefghijklmnop", "github_pat_11ABCDEFG0123456789abcdefghij", "safe text"]},
        ]
    }
    redacted, count = redact(body, secrets)
    flat = str(redacted)
    assert count == 5 and "safe text" in flat and flat.count(REDACTED) == 5
    for leaked in ("hunter2hunter2", "AKIA", "eyJhbGci", "sk-ant", "github_pat"):
        assert leaked not in flat


def test_edits_may_not_add_token_like_strings():
    assert new_token_like_strings("x = 1\n", "x = 'ghp_abcdefghijklmnopqrstuvwxyz0123'\n")
    assert not new_token_like_strings(
        "x = 'ghp_abcdefghijklmnopqrstuvwxyz0123'\n", "y = 'ghp_abcdefghijklmnopqrstuvwxyz0123'\n"
    )


def test_prices_are_estimates_by_family_and_unknown_models_are_priced_high():
    assert price_of("claude-sonnet-5-5").input_per_mtok == 3.0
    assert price_of("claude-haiku-5-5").output_per_mtok == 5.0
    assert price_of("claude-opus-4-1").input_per_mtok == 15.0 and price_of("claude-opus-4-5").input_per_mtok == 5.0
    assert price_of("mystery-model").input_per_mtok == 15.0
    assert estimate_cost("claude-sonnet-5-5", 1_000_000, 100_000) == pytest.approx(4.5)


# Which models are deprecated is data the test controls: an SDK release that adds or drops a model changes nothing.
RETIRED = {"claude-retired-1": "January 1st, 2026"}


def test_a_model_is_deprecated_exactly_when_the_table_lists_it():
    assert deprecation_of("claude-retired-1", RETIRED) == "January 1st, 2026"
    assert deprecation_of(DEFAULT_MODEL, RETIRED) is None
    assert deprecation_of("claude-retired-1", {}) is None


def test_the_installed_sdks_table_is_read_as_model_to_date():
    # Whatever the installed SDK lists (its private data changes between releases): a plain str -> str mapping.
    table = installed_deprecations()
    assert all(isinstance(model, str) and isinstance(date, str) for model, date in table.items())


def test_deprecated_default_is_replaced_but_an_explicit_choice_is_honoured():
    models, notes = choose_models(EvolveConfig(), RETIRED)
    assert models == [DEFAULT_MODEL, DEFAULT_FALLBACK_MODEL] and notes == []
    # A default that the SDK marks deprecated is swapped for the current one, with a note.
    stale = LLMConfig.model_construct(_fields_set=set(), **{**LLMConfig().model_dump(), "model": "claude-retired-1"})
    models, notes = choose_models(EvolveConfig().model_copy(update={"llm": stale}), RETIRED)
    assert models[0] == DEFAULT_MODEL
    assert notes == [
        f"default model claude-retired-1 is deprecated (end of life January 1st, 2026); using {DEFAULT_MODEL}"
    ]
    explicit, notes = choose_models(
        parse_config({"llm": {"model": "claude-retired-1", "fallback_model": DEFAULT_FALLBACK_MODEL}}), RETIRED
    )
    assert explicit == ["claude-retired-1", DEFAULT_FALLBACK_MODEL]
    assert notes == [
        f"configured model claude-retired-1 is deprecated (end of life January 1st, 2026); consider {DEFAULT_MODEL}"
    ]


def test_without_a_deprecation_table_the_configured_models_are_used_as_they_are():
    config = parse_config({"llm": {"model": "claude-retired-1"}})
    assert choose_models(config, {}) == (["claude-retired-1", DEFAULT_FALLBACK_MODEL], [])


def test_build_provider_needs_a_key_and_the_setting(tmp_path):
    assert build_provider(EvolveConfig(), {}) is None
    assert build_provider(EvolveConfig(), {"ANTHROPIC_API_KEY": "  "}) is None
    off = parse_config({"llm": {"enabled": False}})
    assert build_provider(off, {"ANTHROPIC_API_KEY": "sk-ant-x"}) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        provider = build_provider(
            EvolveConfig(),
            {"ANTHROPIC_API_KEY": "sk-ant-x", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"},
            tmp_path / "u.sqlite",
        )
    assert provider is not None and str(provider.client.sdk.base_url).startswith("http://127.0.0.1:9")
    assert provider.client.sdk.max_retries == 0


def test_budget_checks_run_and_day_limits():
    budget = Budget(tokens_per_run=1000, tokens_per_day=5000, cost_per_run_usd=1.0, cost_per_day_usd=2.0)
    run = RunUsage()
    assert budget.exceeded(run, DayUsage(), 900, 0.1) is None
    assert "run token budget" in budget.exceeded(run, DayUsage(), 1001, 0.1)
    assert "run cost budget" in budget.exceeded(run, DayUsage(), 10, 1.5)
    assert "daily token budget" in budget.exceeded(run, DayUsage(tokens=4990), 100, 0.0)
    assert "daily cost budget" in budget.exceeded(run, DayUsage(cost_usd=1.99), 10, 0.02)


def test_usage_ledger_accumulates_per_repository_and_day(tmp_path):
    ledger = UsageLedger(tmp_path / "deep" / "usage.sqlite")
    ledger.record("repo-a", 100, 50, 0.25)
    ledger.record("repo-a", 10, 5, 0.05)
    ledger.record("repo-b", 1, 1, 0.01)
    assert ledger.day("repo-a") == DayUsage(tokens=165, cost_usd=pytest.approx(0.30), requests=2)
    assert ledger.day("repo-a", "1999-01-01") == DayUsage()
    broken = UsageLedger(Path("/proc/forbidden/usage.sqlite"))
    broken.record("repo", 1, 1, 0.0)
    assert broken.day("repo") == DayUsage() and broken.error


def test_usage_since_counts_only_the_requests_of_one_call():
    usage = RunUsage()
    usage.add("claude-sonnet-5-5", 100, 10)
    earlier = usage.snapshot()
    assert usage.since(earlier) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "estimated_cost_usd": 0.0,
        "models": [],
        "requests": 0,
    }
    usage.add("claude-haiku-5-5", 50, 5)
    usage.add("claude-sonnet-5-5", 50, 5)
    assert usage.since(earlier)["models"] == ["claude-haiku-5-5", "claude-sonnet-5-5"]
    assert usage.to_dict()["models"] == ["claude-sonnet-5-5", "claude-haiku-5-5"] and usage.to_dict()["requests"] == 3


def test_usage_store_location_follows_the_data_dir_rules(tmp_path):
    from evolve.llm import _store_from_env

    assert _store_from_env({"EVOLVE_LLM_USAGE_STORE": "/x/u.sqlite", "EVOLVE_DATA_DIR": "/d"}) == Path("/x/u.sqlite")
    assert _store_from_env({"EVOLVE_DATA_DIR": "/d"}) == Path("/d/llm-usage.sqlite")
    assert _store_from_env({"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/evolve/llm-usage.sqlite")
    assert _store_from_env({}) == Path("~/.local/share/evolve/llm-usage.sqlite").expanduser()
    provider = build_provider(EvolveConfig(), {"ANTHROPIC_API_KEY": "sk-ant-x", "EVOLVE_DATA_DIR": str(tmp_path)})
    assert provider.client.ledger.path == tmp_path / "llm-usage.sqlite"
