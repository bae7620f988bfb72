"""The App's environment settings per run: a uv cache per installation, the repository in every key, the
operator's egress and test-network choices (read from Settings only)."""

from __future__ import annotations

from bot.runs.options import environment_settings
from bot.settings import Settings
from evolve.configuration.operator_limits import OperatorLimits


def test_each_installation_has_its_own_cache_and_each_repository_its_own_environments(tmp_path):
    settings = Settings(data_dir=tmp_path, egress_hosts="files.mirror.example.com:443, 10.0.0.1:80")
    first = environment_settings(settings, installation_id=1, repository_id=11)
    same_installation = environment_settings(settings, installation_id=1, repository_id=12)
    other = environment_settings(settings, installation_id=2, repository_id=21)
    assert first.uv_cache_dir == same_installation.uv_cache_dir != other.uv_cache_dir
    assert first.uv_cache_dir.parent == tmp_path / "uv-cache"
    assert first.repository != same_installation.repository
    assert first.store_dir == other.store_dir == tmp_path / "envs"  # keys differ by repository, not directories
    hosts = first.egress_policy.hosts
    assert ("files.mirror.example.com", 443) in hosts and ("pypi.org", 443) in hosts
    assert not any(host == "10.0.0.1" for host, _ in hosts)
    assert first.tests_network is False


def test_test_network_follows_the_operator(tmp_path):
    settings = Settings(data_dir=tmp_path, operator=OperatorLimits(tests_network=True))
    assert environment_settings(settings, 1, 1).tests_network is True


def test_the_app_runs_base_suites_first_by_default_within_a_time_budget(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    assert settings.base_suites is True and settings.base_suites_seconds == 900
    monkeypatch.setenv("EVOLVE_BASE_SUITES", "false")
    monkeypatch.setenv("EVOLVE_BASE_SUITES_SECONDS", "120")
    operator = Settings(data_dir=tmp_path)
    assert operator.base_suites is False and operator.base_suites_seconds == 120
