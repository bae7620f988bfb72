"""The codemods installed through the `evolve.codemods` entry-point group (built-ins register like any plugin).

Discovery, loading and the checks (duplicate ids, wrong classes, mismatched metadata) are the shared plugin
loader of evolve/plugins.py; this module adds what is particular to codemods: selection by `only`/`disabled`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from evolve.codemods.base import Codemod
from evolve.plugins import NoSettings, PluginKind, UnknownPluginError, settings_model

# Codemod id -> the settings written for it (`codemods.<id>: {...}`), as plain data.
WrittenSettings = Mapping[str, Any]

CODEMODS: PluginKind[Codemod] = PluginKind(
    "evolve.codemods", "codemod", Codemod, lambda codemod: getattr(getattr(codemod, "metadata", None), "id", None)
)


@functools.cache
def available_codemods() -> dict[str, type[Codemod]]:
    """All installed codemod classes by id, in id order (cached; `available_codemods.cache_clear()` after installs)."""
    return CODEMODS.load_all()


def configured(codemod: type[Codemod], written: Any = None) -> Codemod:
    """An instance of `codemod` with its settings validated from `written`, plain data or the model itself (its
    defaults when nothing is written).

    Raises pydantic's ValidationError for bad settings; a configuration that loaded has been checked already."""
    model = settings_model(codemod)
    if written is None or model is NoSettings:
        return codemod()
    return codemod(model.model_validate(written))


def declared_settings(codemod: Codemod) -> BaseModel | None:
    """The settings of a codemod whose class declares a settings model; None for one without knobs."""
    return getattr(codemod, "settings", None) if settings_model(type(codemod)) is not NoSettings else None


def get_codemod(codemod_id: str, settings: WrittenSettings | None = None) -> Codemod:
    """A fresh instance of the codemod with this id, configured from `settings` (id -> what is written for it);
    UnknownPluginError naming the known ids otherwise."""
    codemods = available_codemods()
    if codemod_id not in codemods:
        raise UnknownPluginError("codemod", [codemod_id], codemods)
    return configured(codemods[codemod_id], (settings or {}).get(codemod_id))


def select_codemods(
    only: Iterable[str] = (), disabled: Iterable[str] = (), settings: WrittenSettings | None = None
) -> list[Codemod]:
    """The codemods to run, in id order: `only` (all when empty) minus `disabled`, each configured from
    `settings` (id -> what is written for it); unknown ids raise."""
    codemods = available_codemods()
    only, disabled = list(only), list(disabled)
    CODEMODS.check_names([*only, *disabled], codemods)
    chosen = [codemod_id for codemod_id in codemods if (not only or codemod_id in only) and codemod_id not in disabled]
    return [configured(codemods[codemod_id], (settings or {}).get(codemod_id)) for codemod_id in chosen]
