"""Loading a configuration: a file or mapping validated into `EvolveConfig`, then checked against the installed plugins.

Kept apart from the model: the plugin check needs the plugin registries, which need the model.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from evolve.config_loading.plugin_settings import plugin_problems
from evolve.configuration.model import MAX_LISTED_ERRORS, EvolveConfig
from evolve.configuration.suggestions import clip, unknown_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib
from evolve.configuration.yaml_file import ConfigError, check_depth, load_untrusted_yaml

MESSAGE_WIDTH = 800  # a message quotes what the file says: capped, and cut between words


def _format_problems(source: str, problems: list[tuple[str, str]]) -> str:
    lines = [f"{source}: invalid evolve configuration"]
    for where, message in problems[:MAX_LISTED_ERRORS]:
        lines.append(f"  {clip(where, 200) or '(top level)'}: {clip(message, MESSAGE_WIDTH)}")
    if len(problems) > MAX_LISTED_ERRORS:
        lines.append(f"  … and {len(problems) - MAX_LISTED_ERRORS} more")
    return "\n".join(lines)


def _format_validation_error(source: str, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden" and item["loc"]:
            message = _unknown_key_message(item["loc"])
        problems.append((where, message))
    return _format_problems(source, problems)


def _unknown_key_message(loc: tuple[int | str, ...]) -> str:
    """`unknown key 'attempt'; did you mean 'attempts'? valid keys: …` for a key no model at `loc` has."""
    model = _model_at(EvolveConfig, loc[:-1])
    name = str(loc[-1])
    if model is None:
        return f"unknown key {name!r}"
    return unknown_key(name, model.model_fields)


def _model_at(model: type[BaseModel], path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The configuration model found at `path` under `model` (fields only), or None."""
    for part in path:
        field = model.model_fields.get(str(part))
        found = _model_in(field.annotation) if field is not None else None
        if found is None:
            return None
        model = found
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):  # `Model | None`
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def parse_config(raw: Any, source: str = "configuration") -> EvolveConfig:
    """Validate a mapping into :class:`EvolveConfig`, raising :class:`ConfigError` naming each bad field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of settings, got {type(raw).__name__}")
    check_depth(raw, source)
    try:
        config = EvolveConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(source, error)) from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to read") from None
    problems = plugin_problems(config)
    if problems:
        raise ConfigError(_format_problems(source, problems))
    return config


def parse_yaml_config(text: str, source: str = ".github/evolve.yml") -> EvolveConfig:
    """Parse the text of an `evolve.yml` file (untrusted: no aliases, bounded size and depth)."""
    return parse_config(load_untrusted_yaml(text, source), source)


CONFIG_FILES = (".github/evolve.yml", ".github/evolve.yaml", "pyproject.toml")


def _config_file(repo: Path) -> Path | None:
    """The configuration file that applies (evolve.yml, evolve.yaml, else pyproject.toml), not followed if a link.

    A symbolic link (the file or `.github`) is refused: following it could read, and an error message
    quote, a file outside the repository."""
    for relative in CONFIG_FILES:
        path = repo / relative
        for part in (repo / ".github", path) if relative.startswith(".github/") else (path,):
            if part.is_symlink():
                raise ConfigError(
                    f"{part.relative_to(repo)} is a symbolic link; Evolve reads its configuration only from a "
                    "regular file in the repository and does not follow links. Replace the link with the file."
                )
        if path.is_file() and not os.path.realpath(path).startswith(os.path.realpath(repo) + os.sep):
            raise ConfigError(f"{relative} leads outside the repository; Evolve reads its configuration only from it")
        if path.is_file() and (relative != "pyproject.toml" or _has_tool_evolve(path)):
            return path
    return None


def _has_tool_evolve(pyproject: Path) -> bool:
    try:
        return "evolve" in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"pyproject.toml: cannot be read: {error}") from None
    except RecursionError:
        raise ConfigError("pyproject.toml: nested too deeply to read") from None


def config_source(repo: Path) -> str:
    """Which file configures `repo` (for `config: ...` lines), or that defaults apply."""
    path = _config_file(repo)
    if path is None:
        return "defaults (no .github/evolve.yml)"
    return str(path.relative_to(repo)) + (" [tool.evolve]" if path.name == "pyproject.toml" else "")


def load_config(repo: Path) -> EvolveConfig:
    """Load the repository's configuration: `.github/evolve.yml` wins over `[tool.evolve]`; defaults otherwise."""
    path = _config_file(repo)
    if path is None:
        return EvolveConfig()
    source = str(path.relative_to(repo))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{source}: cannot be read: {error.__class__.__name__}") from None
    if path.name != "pyproject.toml":
        return parse_yaml_config(text, source)
    section = tomllib.loads(text).get("tool", {}).get("evolve")
    return parse_config(section, "pyproject.toml [tool.evolve]")
