"""Configuration errors a user can act on: the misspelt key or name, what it probably meant, and the valid ones,
listed whole (never cut inside a name)."""

from __future__ import annotations

import re

import pytest

from evolve.codemods.registry import available_codemods
from evolve.config_loading.loading import parse_yaml_config
from evolve.configuration.model import ConfigError
from evolve.configuration.suggestions import clip, did_you_mean, name_list


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_yaml_config(text)
    return str(raised.value)


def test_a_misspelt_top_level_key_gets_a_suggestion_and_the_valid_keys():
    message = _error("attempt: 2\n")
    assert "attempt: unknown key 'attempt'; did you mean 'attempts'? valid keys: enabled, include," in message
    assert "Extra inputs are not permitted" not in message


def test_a_misspelt_key_of_gates_names_the_keys_of_gates_as_well_as_the_gates():
    message = _error("gates: {enabeld: [tests]}\n")
    assert "gates.enabeld: unknown key or gate 'enabeld'; did you mean 'enabled'?" in message
    assert "gates takes the keys enabled, extra, disabled, and `gates.<gate>: {...}`" in message
    assert "coverage, docstrings" in message


def test_a_misspelt_nested_key_is_checked_against_its_own_model():
    assert "gates.tests.comand: unknown key 'comand'; did you mean 'command'? valid keys: command, timeout" in _error(
        "gates: {tests: {comand: pytest}}\n"
    )
    assert "llm.modle: unknown key 'modle'; did you mean 'model'?" in _error("llm: {modle: x}\n")
    assert "codemods.disable: unknown key or codemod 'disable'; did you mean 'disabled'?" in _error(
        "codemods: {disable: [not-in]}\n"
    )


def test_misspelt_gate_codemod_and_focus_names_get_suggestions():
    assert "unknown gate 'test'; did you mean 'tests' or 'types'?" in _error("gates: {enabled: [test]}\n")
    assert "unknown codemod 'none-comparision'; did you mean 'none-comparison'" in _error(
        "codemods: {disabled: [none-comparision]}\n"
    )
    assert "unknown theme or codemod 'corectness'; did you mean 'correctness'?" in _error("focus: corectness\n")
    assert "did you mean" not in _error("gates: {enabled: [zzzzzz]}\n")


def test_the_list_of_valid_codemods_holds_whole_names_only():
    message = _error("codemods: {only: [x]}\n")
    listed = message.split("valid codemods: ", 1)[1]
    names = re.sub(r", and \d+ more.*", "", listed).split(", ")
    assert names and set(names) <= set(available_codemods())
    assert "yaml-safe-load" in names  # the last one too: the built-in list fits


def test_name_lists_are_cut_between_names_and_count_the_rest():
    names = [f"codemod-{number:02}" for number in range(40)]
    text = name_list(names, width=60, more="`evolve codemods` lists them")
    shown = text.split(", and ")[0].split(", ")
    assert all(name in names for name in shown) and len(", ".join(shown)) <= 60
    assert text.endswith(f", and {40 - len(shown)} more (`evolve codemods` lists them)")
    assert name_list([]) == "(none installed)"
    assert name_list(["a", "b"]) == "a, b"


def test_clip_cuts_at_a_space_and_suggestions_need_a_close_name():
    assert clip("alpha beta gamma delta", 14) == "alpha beta …"
    assert clip("short", 14) == "short"
    assert did_you_mean("atempts", ["attempts", "schedule"]) == "did you mean 'attempts'? "
    assert did_you_mean("xyz", ["attempts"]) == ""
