"""flake8, mypy, pylint and isort settings from INI texts (`.flake8`, `setup.cfg`, `tox.ini`, `mypy.ini`, ...). Pure."""

from __future__ import annotations

import configparser
import re

from evolve.project_rules.model import (
    IsortRules,
    LinterRules,
    MypyOverride,
    MypyRules,
    PylintRules,
)
from evolve.project_rules.selectors import split_codes

FLAKE8_SELECT = ("E", "F", "W", "C90")
FLAKE8_IGNORE = ("E121", "E123", "E126", "E226", "E24", "E704", "W503", "W504")


class IniError(ValueError):
    """An INI file that configparser cannot read."""


def parse_ini(text: str, source: str) -> configparser.RawConfigParser:
    """Parse INI text without interpolation (values such as `%(here)s` stay literal)."""
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as error:
        raise IniError(f"{source}: not a valid INI file: {str(error).splitlines()[0]}") from None
    return parser


def _get(section: configparser.SectionProxy, *names: str) -> str | None:
    for name in names:
        for spelling in (name, name.replace("-", "_"), name.replace("_", "-")):
            if spelling in section:
                return section[spelling]
    return None


_TOKEN = re.compile(r"(?P<code>[A-Z]+[0-9]*(?=$|\s|,))|(?P<file>[^\s:,]+)|(?P<colon>:)|(?P<sep>[\s,]+)")


def flake8_per_file(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`per-file-ignores` entries (`path: codes`, one or several per line) as (glob, codes), tokenised as flake8 does."""
    entries: list[tuple[str, tuple[str, ...]]] = []
    files: list[str] = []
    codes: list[str] = []
    seen_colon = False
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "sep":
            continue
        if kind == "colon":
            seen_colon = True
        elif kind == "code" and seen_colon:
            codes.append(match.group())
        else:  # a file name (or a code-looking name before the colon)
            if seen_colon and codes:
                entries.extend((name, tuple(codes)) for name in files)
                files, codes, seen_colon = [], [], False
            files.append(match.group())
    if files and codes:
        entries.extend((name, tuple(codes)) for name in files)
    return tuple(entries)


def flake8_rules(parser: configparser.RawConfigParser, source: str) -> LinterRules | None:
    """flake8's LinterRules from a `[flake8]` section, or None when there is none."""
    if not parser.has_section("flake8"):
        return None
    section = parser["flake8"]
    select = _get(section, "select")
    ignore = _get(section, "ignore")
    line_length = _get(section, "max-line-length")
    return LinterRules(
        tool="flake8",
        source=source,
        select=(
            *(split_codes(select) if select else FLAKE8_SELECT),
            *split_codes(_get(section, "extend-select") or ""),
        ),
        ignore=(
            *(split_codes(ignore) if ignore is not None else FLAKE8_IGNORE),
            *split_codes(_get(section, "extend-ignore") or ""),
        ),
        per_file_ignores=flake8_per_file(_get(section, "per-file-ignores") or ""),
        exclude=split_codes(_get(section, "exclude") or "") + split_codes(_get(section, "extend-exclude") or ""),
        line_length=int(line_length) if line_length and line_length.strip().isdigit() else None,
        local_plugins=parser.has_section("flake8:local-plugins"),
    )


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def mypy_rules(parser: configparser.RawConfigParser, source: str) -> MypyRules | None:
    """mypy's settings from a `[mypy]` section and its `[mypy-pattern]` sections, or None."""
    if not parser.has_section("mypy"):
        return None
    main = parser["mypy"]
    overrides = []
    for name in parser.sections():
        if name.startswith("mypy-"):
            section = parser[name]
            overrides.append(
                MypyOverride(
                    modules=tuple(m.strip() for m in name[len("mypy-") :].split(",") if m.strip()),
                    ignore_errors=_flag(_get(section, "ignore_errors")),
                    disallow_untyped_defs=_flag(_get(section, "disallow_untyped_defs")),
                )
            )
    exclude = _get(main, "exclude")
    return MypyRules(
        source=source,
        files=split_codes(_get(main, "files") or ""),
        exclude=(exclude.strip(),) if exclude and exclude.strip() else (),
        strict=bool(_flag(_get(main, "strict"))),
        disallow_untyped_defs=bool(_flag(_get(main, "disallow_untyped_defs"))),
        plugins=split_codes(_get(main, "plugins") or ""),
        python_version=_get(main, "python_version"),
        overrides=tuple(overrides),
        python_executable=_get(main, "python_executable"),
    )


def pylint_rules(parser: configparser.RawConfigParser, source: str) -> PylintRules | None:
    """The messages pylint's `disable` option turns off, from `[MESSAGES CONTROL]` or `[pylint.messages_control]`."""
    disabled: set[str] = set()
    found = False
    for name in parser.sections():
        if name.lower().replace(" ", "_") in ("messages_control", "pylint.messages_control", "pylint"):
            found = True
            disabled.update(code.lower() for code in split_codes(_get(parser[name], "disable") or ""))
    return PylintRules(source=source, disabled=frozenset(disabled)) if found else None


def isort_rules(parser: configparser.RawConfigParser, source: str) -> IsortRules | None:
    """isort's profile and line length from `[isort]` or `[tool:isort]`, or None."""
    for name in ("isort", "tool:isort", "settings"):
        if parser.has_section(name):
            section = parser[name]
            line_length = _get(section, "line_length")
            return IsortRules(
                source=source,
                profile=_get(section, "profile"),
                line_length=int(line_length) if line_length and line_length.strip().isdigit() else None,
                skip=split_codes(_get(section, "skip") or ""),
            )
    return None
