"""Configuration: one pydantic model from pyproject.toml or .github/evolve.yml, clear errors."""

import pytest

from evolve.config import ConfigError, EvolveConfig, load_config, parse_yaml_config


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
