"""Checks of a configuration against the installed plugins: every gate, codemod and theme it names exists, and
each plugin's settings (`gates.<name>: {...}`, `codemods.<id>: {...}`) validate against the typed model that plugin declares.

The problems come back as (location, message) pairs, so a run, `evolve config check` and the App report them in
the same words as a schema error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from evolve.configuration.suggestions import did_you_mean, name_list, unknown_key
from evolve.plugins import settings_model

if TYPE_CHECKING:
    from evolve.configuration.model import EvolveConfig

Problem = tuple[str, str]


def plugin_problems(config: EvolveConfig) -> list[Problem]:
    """Every unknown plugin name and invalid plugin setting in `config`, as (location, message)."""
    return [*_gate_problems(config), *_codemod_problems(config), *_focus_problems(config)]


SEE_ALL = {"gate": "`evolve config schema` lists them", "codemod": "`evolve codemods` lists them"}


def _unknown(where: str, noun: str, names: Iterable[str], known: Iterable[str]) -> list[Problem]:
    valid = sorted(known)
    return [
        (
            where,
            f"unknown {noun} {name!r}; {did_you_mean(name, valid)}"
            f"valid {noun}s: {name_list(valid, more=SEE_ALL.get(noun, ''))}",
        )
        for name in dict.fromkeys(names)
        if name not in valid
    ]


def _unknown_key(section: str, noun: str, name: str, keys: Iterable[str], known: Iterable[str]) -> Problem:
    """`gates.<name>` / `codemods.<name>` that is neither a key of the section nor an installed plugin."""
    keys, valid = list(keys), sorted(known)
    return (
        f"{section}.{name}",
        f"unknown key or {noun} {name!r}; {did_you_mean(name, [*keys, *valid])}"
        f"{section} takes the keys {', '.join(keys)}, and `{section}.<{noun}>: {{...}}` for the settings of a {noun} "
        f"({name_list(valid, more=SEE_ALL.get(noun, ''))})",
    )


def _section_keys(model: type[BaseModel]) -> list[str]:
    """The section's own keys: not a plugin's settings (`gates.tests: {...}`), nor the older `plugins` spelling."""
    return [
        name
        for name, field in model.model_fields.items()
        if name != "plugins" and not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel))
    ]


def _gate_problems(config: EvolveConfig) -> list[Problem]:
    from evolve.configuration.model import CORE_GATE_SETTINGS
    from evolve.gating.running import GATES

    known = GATES.names()
    gates = config.gates
    problems = [
        *_unknown("gates.enabled", "gate", gates.enabled, known),
        *_unknown("gates.extra", "gate", gates.extra, known),
        *_unknown("gates.disabled", "gate", gates.disabled, known),
    ]
    written = gates.plugin_settings
    problems += [
        _unknown_key("gates", "gate", name, _section_keys(type(gates)), known) for name in written if name not in known
    ]
    for name in sorted(set(written) & set(known)):
        if name in CORE_GATE_SETTINGS:
            continue  # already validated by the core's own model
        gate = GATES.load_named([name])[name]
        problems += _settings_problems(f"gates.{name}", settings_model(gate), written[name])
    return problems


def _settings_problems(where: str, model: type[BaseModel], written: Any) -> list[Problem]:
    """What is wrong with `written` as settings of `model`, each at its key under `where`."""
    try:
        model.model_validate(written)
    except ValidationError as error:
        return [
            (
                where + "".join(f".{part}" for part in item["loc"]),
                unknown_key(str(item["loc"][-1]), model.model_fields)
                if item["type"] == "extra_forbidden" and len(item["loc"]) == 1
                else item["msg"],
            )
            for item in error.errors()
        ]
    return []


def _codemod_problems(config: EvolveConfig) -> list[Problem]:
    from evolve.codemods.registry import CODEMODS

    known = CODEMODS.names()
    codemods = config.codemods
    problems = [
        *_unknown("codemods.only", "codemod", codemods.only, known),
        *_unknown("codemods.disabled", "codemod", codemods.disabled, known),
        *_unknown("codemods.reenabled", "codemod", codemods.reenabled, known),
    ]
    written = codemods.plugin_settings
    problems += [
        _unknown_key("codemods", "codemod", name, _section_keys(type(codemods)), known)
        for name in written
        if name not in known
    ]
    for name in sorted(set(written) & set(known)):
        codemod = CODEMODS.load_named([name])[name]
        problems += _settings_problems(f"codemods.{name}", settings_model(codemod), written[name])
    return problems


def _focus_problems(config: EvolveConfig) -> list[Problem]:
    if config.focus is None:
        return []
    valid = known_focuses()
    if config.focus in valid:
        return []
    return [("focus", unknown_focus(config.focus, valid))]


def unknown_focus(focus: str, valid: Iterable[str]) -> str:
    """The message for a focus that names no theme or codemod: a did-you-mean and the valid names."""
    return f"unknown theme or codemod {focus!r}; {did_you_mean(focus, valid)}valid: {name_list(valid)}"


def known_focuses() -> list[str]:
    """Every theme and codemod id a focus may name: codemod themes and ids, and the LLM themes."""
    from evolve.plan.planner import LLM_THEMES

    return sorted({*codemod_focuses(), *LLM_THEMES})


def codemod_focuses() -> set[str]:
    """The focuses the codemod catalog serves without the LLM: codemod ids and their themes."""
    from evolve.codemods.registry import available_codemods

    codemods = available_codemods()
    return {*codemods, *(cls.metadata.theme for cls in codemods.values())}
