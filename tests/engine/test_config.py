"""Configuration: one pydantic model from pyproject.toml or .github/evolve.yml, clear errors."""

import pytest

from evolve.config_loading.loading import load_config, parse_yaml_config
from evolve.configuration.model import ConfigError, EvolveConfig


def test_defaults_without_any_file(tmp_path):
    config = load_config(tmp_path)
    assert config == EvolveConfig()
    assert config.gates.maintainability.floor == 65
    assert config.attempts == 3 and config.limits.max_open_prs == 2


def test_pyproject_section(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.evolve]\nattempts = 2\n[tool.evolve.gates.complexity]\nthreshold = 7\n", encoding="utf-8"
    )
    config = load_config(tmp_path)
    assert config.attempts == 2 and config.gates.complexity.threshold == 7


def test_yaml_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.evolve]\nattempts = 2\n", encoding="utf-8")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "evolve.yml").write_text("attempts: 1\nlimits:\n  max_files: 3\n", encoding="utf-8")
    config = load_config(tmp_path)
    assert config.attempts == 1 and config.limits.max_files == 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("attempts: 7\n", "attempts"),
        ("gates:\n  maintainability:\n    floor: high\n", "gates.maintainability.floor"),
        ("limits:\n  max_filez: 3\n", "limits.max_filez"),
        ("schedule: weekly\n", "schedule"),
        ("- a\n- b\n", "expected a mapping"),
        ("attempts: [1\n", "not valid YAML"),
    ],
)
def test_broken_yaml_names_the_field(text, expected):
    with pytest.raises(ConfigError) as error:
        parse_yaml_config(text)
    assert expected in str(error.value)
    assert ".github/evolve.yml" in str(error.value)


def test_broken_pyproject_is_a_clear_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.evolve\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="pyproject.toml"):
        load_config(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.evolve]\nattempts = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="attempts"):
        load_config(tmp_path)


# A 464-byte file of anchors under gates.plugins once expanded into a 24 MB configuration.
ALIAS_BOMB = """gates:
  plugins:
    a: &a [x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


def test_yaml_aliases_are_refused_with_a_clear_message():
    with pytest.raises(ConfigError, match=r"\.github/evolve\.yml: YAML aliases \(\*name\) are not allowed \(line 4\)"):
        parse_yaml_config(ALIAS_BOMB)


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000, "gates: " + "[" * 5000 + "]" * 5000, "{a: " * 3000, "- " * 3000 + "x"],
    ids=["brackets", "balanced", "mappings", "block-sequence"],
)
def test_deep_nesting_is_a_config_error_not_a_recursion_error(text):
    with pytest.raises(ConfigError, match="nested more than 20 levels deep"):
        parse_yaml_config(text)


def test_oversized_config_is_refused_before_parsing():
    with pytest.raises(ConfigError, match="at most 65,536 are read"):
        parse_yaml_config("# padding\n" * 10_000)


def test_deep_pyproject_section_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.evolve.gates.plugins]\nx = " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(ConfigError, match="pyproject.toml"):
        load_config(tmp_path)


def test_long_error_lists_are_capped():
    text = "\n".join(f"unknown{i}: 1" for i in range(100))
    with pytest.raises(ConfigError) as caught:
        parse_yaml_config(text)
    assert str(caught.value).count("unknown key 'unknown") == 20
    assert "and 80 more" in str(caught.value)


def test_an_anchor_without_alias_is_harmless():
    assert parse_yaml_config("limits: &l\n  max_files: 3\n").limits.max_files == 3
