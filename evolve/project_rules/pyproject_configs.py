"""black, isort, mypy, pyright and pylint settings from TOML tables (`[tool.*]`, `pyrightconfig.json`). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evolve.project_rules.model import BlackRules, IsortRules, MypyOverride, MypyRules, PylintRules, PyrightRules
from evolve.project_rules.selectors import split_codes


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return ()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def black_rules(table: Mapping[str, Any], source: str) -> BlackRules:
    """Black's settings from `[tool.black]`."""
    excludes = tuple(
        str(table[key]) for key in ("exclude", "extend-exclude", "force-exclude") if isinstance(table.get(key), str)
    )
    return BlackRules(
        source=source,
        line_length=_int(table.get("line-length")) or 88,
        target_versions=_strings(table.get("target-version")),
        excludes=excludes,
        skip_string_normalization=bool(table.get("skip-string-normalization", False)),
    )


def isort_rules(table: Mapping[str, Any], source: str) -> IsortRules:
    """isort's settings from `[tool.isort]`."""
    profile = table.get("profile")
    return IsortRules(
        source=source,
        profile=str(profile) if profile is not None else None,
        line_length=_int(table.get("line_length")) or _int(table.get("line-length")),
        skip=_strings(table.get("skip")),
    )


def mypy_rules(table: Mapping[str, Any], source: str) -> MypyRules:
    """mypy's settings from `[tool.mypy]` and its `[[tool.mypy.overrides]]`."""
    overrides = []
    for raw in table.get("overrides", ()) or ():
        if isinstance(raw, Mapping):
            overrides.append(
                MypyOverride(
                    modules=_strings(raw.get("module")),
                    ignore_errors=_bool(raw.get("ignore_errors")),
                    disallow_untyped_defs=_bool(raw.get("disallow_untyped_defs")),
                )
            )
    version = table.get("python_version")
    return MypyRules(
        source=source,
        files=_strings(table.get("files")),
        exclude=_strings(table.get("exclude")),
        strict=bool(table.get("strict", False)),
        disallow_untyped_defs=bool(table.get("disallow_untyped_defs", False)),
        plugins=_strings(table.get("plugins")),
        python_version=str(version) if version is not None else None,
        overrides=tuple(overrides),
        python_executable=str(table["python_executable"]) if "python_executable" in table else None,
    )


def pyright_rules(table: Mapping[str, Any], source: str) -> PyrightRules:
    """pyright's settings from `[tool.pyright]` or `pyrightconfig.json`."""
    mode = table.get("typeCheckingMode")
    return PyrightRules(
        source=source,
        include=_strings(table.get("include")),
        exclude=_strings(table.get("exclude")),
        ignore=_strings(table.get("ignore")),
        type_checking_mode=str(mode) if mode is not None else None,
    )


def pylint_rules(table: Mapping[str, Any], source: str) -> PylintRules:
    """The messages `[tool.pylint."messages control"]` (or `[tool.pylint.messages_control]`) disables."""
    disabled: set[str] = set()
    for key, section in table.items():
        if isinstance(section, Mapping) and key.lower().replace(" ", "_") == "messages_control":
            value = section.get("disable", ())
            codes = split_codes(value) if isinstance(value, str) else _strings(value)
            disabled.update(code.lower() for code in codes)
    return PylintRules(source=source, disabled=frozenset(disabled))
