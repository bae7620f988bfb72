"""Configuration against the installed plugins: names checked and plugin settings typed when the config loads."""

from __future__ import annotations

import pytest

from evolve.cli import EXIT_BAD_INPUT, main
from evolve.config_loading.loading import parse_config, parse_yaml_config
from evolve.configuration.model import DEFAULT_GATES, ConfigError
from evolve.gating.running import build_gates
from evolve.testing import plugins_installed
from tests.plugins.plugin_gates import EchoSettings
from tests.repo_factory import make_repo

ECHO = {"evolve.gates": {"echo": "tests.plugins.plugin_gates:EchoGate"}}
DEFAULTS = DEFAULT_GATES


def test_an_installed_plugin_enabled_by_name_runs_after_the_built_ins():
    with plugins_installed(ECHO):
        config = parse_yaml_config("gates:\n  extra: [echo]\n  echo: {level: 3}\n")
        gates = build_gates(config)
    assert config.gates.selected == (*DEFAULTS, "echo")
    assert [gate.name for gate in gates] == [*DEFAULTS, "echo"]
    assert gates[-1].settings == EchoSettings(level=3)


def test_plugin_settings_are_validated_against_the_plugins_model():
    with plugins_installed(ECHO), pytest.raises(ConfigError) as error:
        parse_yaml_config("gates:\n  extra: [echo]\n  echo: {level: high, colour: red}\n", "x.yml")
    message = str(error.value)
    assert message.startswith("x.yml: invalid evolve configuration")
    assert "gates.echo.level: Input should be a valid integer" in message
    assert "gates.echo.colour: unknown key 'colour'; valid keys: level" in message


def test_the_older_plugins_table_still_configures_a_plugin():
    with plugins_installed(ECHO):
        config = parse_config({"gates": {"enabled": ["echo"], "plugins": {"echo": {"level": 2}}}})
        [gate] = build_gates(config)
    assert gate.settings.level == 2


def test_built_in_gate_settings_are_typed_by_the_gate_files():
    with pytest.raises(ConfigError, match=r"gates\.coverage\.tolerance: Input should be a valid number"):
        parse_config({"gates": {"coverage": {"tolerance": "lots"}}})
    with pytest.raises(
        ConfigError,
        match=r"gates\.security\.enable: unknown key 'enable'; did you mean 'enabled'\? valid keys: enabled",
    ):
        parse_config({"gates": {"security": {"enable": False}}})
    assert [
        g.settings.floor
        for g in build_gates(parse_config({"gates": {"docstrings": {"floor": 80}}}))
        if g.name == "docstrings"
    ] == [80]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"gates": {"enabled": ["syntax", "typo"]}},
            "gates.enabled: unknown gate 'typo'; did you mean 'types'? valid gates: complexity, coverage",
        ),
        ({"gates": {"extra": ["typo"]}}, "gates.extra: unknown gate 'typo'"),
        ({"gates": {"disabled": ["typo"]}}, "gates.disabled: unknown gate 'typo'"),
        ({"gates": {"typo": {"level": 1}}}, "gates.typo: unknown key or gate 'typo'"),
        (
            {"codemods": {"disabled": ["nope"]}},
            "codemods.disabled: unknown codemod 'nope'; valid codemods: asyncio-coroutine, bare-except, collections-abc, datetime-utcnow",
        ),
        ({"codemods": {"only": ["nope"]}}, "codemods.only: unknown codemod 'nope'"),
        ({"focus": "speed"}, "focus: unknown theme or codemod 'speed'; valid: asyncio-coroutine, bare-except, cleanup"),
    ],
)
def test_unknown_names_fail_when_the_config_loads(raw, expected):
    with pytest.raises(ConfigError) as error:
        parse_config(raw)
    assert expected in str(error.value)


def test_the_cli_exits_2_naming_the_bad_gate_and_the_valid_ones(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EVOLVE_DATA_DIR", str(tmp_path / "data"))
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n", ".github/evolve.yml": "gates:\n  extra: [mygate]\n"})
    assert main(["plan", str(repo), "--quiet"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert ".github/evolve.yml" in err and "gates.extra: unknown gate 'mygate'" in err
    assert (
        "valid gates: complexity, coverage, docstrings, lint, maintainability, mutation, security, syntax, tests, types"
        in err
    )


def test_codemod_settings_are_validated_against_the_codemods_model_naming_the_bad_key():
    config = parse_yaml_config("codemods:\n  requests-timeout: {timeout_seconds: 10}\n")
    assert config.codemods.plugin_settings == {"requests-timeout": {"timeout_seconds": 10}}
    with pytest.raises(ConfigError) as error:
        parse_yaml_config(
            "codemods:\n  requests-timeout: {timeout_seconds: 0, timeout: 5}\n  not-in: {x: 1}\n  typo-mod: {}\n",
            "x.yml",
        )
    message = str(error.value)
    assert "codemods.requests-timeout.timeout_seconds: Input should be greater than or equal to 1" in message
    assert (
        "codemods.requests-timeout.timeout: unknown key 'timeout'; did you mean 'timeout_seconds'? "
        "valid keys: timeout_seconds"
    ) in message
    assert "codemods.not-in.x: unknown key 'x': this takes no settings" in message  # a codemod without knobs
    assert "codemods.typo-mod: unknown key or codemod 'typo-mod'; codemods takes the keys only, disabled" in message


def test_codemod_settings_reach_the_codemod_that_runs(tmp_path):
    from evolve.codemods.registry import get_codemod, select_codemods
    from evolve.codemods.runner import apply_codemods
    from evolve.engine.providers import CodemodProvider

    written = parse_yaml_config("codemods:\n  requests-timeout: {timeout_seconds: 7}\n").codemods.plugin_settings
    assert get_codemod("requests-timeout", written).settings.timeout_seconds == 7
    assert get_codemod("requests-timeout").settings.timeout_seconds == 30
    [codemod] = select_codemods(["requests-timeout"], settings=written)
    sources = {f"m{i}.py": "import requests\nrequests.get(u)\n" for i in range(10)}
    for name, text in sources.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    # Workers get the settings too: ten files go to a process pool.
    result = apply_codemods(tmp_path, sorted(sources), [codemod], (3, 8), workers=2)
    assert len(result.edits) == 10 and all("timeout=7)" in edit.after for edit in result.edits)
    assert CodemodProvider((3, 8), written).settings == written
