"""The codemods installed through the `evolve.codemods` entry-point group (built-ins register like any plugin).

Discovery, loading and the checks (duplicate ids, wrong classes, mismatched metadata) are the shared plugin
loader of evolve/plugins.py; this module adds what is particular to codemods: selection by `only`/`disabled`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from evolve.codemods.base import Codemod
from evolve.plugins import PluginKind, UnknownPluginError

CODEMODS: PluginKind[Codemod] = PluginKind(
    "evolve.codemods", "codemod", Codemod, lambda codemod: getattr(getattr(codemod, "metadata", None), "id", None)
)


@functools.cache
def available_codemods() -> dict[str, type[Codemod]]:
    """All installed codemod classes by id, in id order (cached; `available_codemods.cache_clear()` after installs)."""
    return CODEMODS.load_all()


def get_codemod(codemod_id: str) -> Codemod:
    """A fresh instance of the codemod with this id; UnknownPluginError naming the known ids otherwise."""
    codemods = available_codemods()
    if codemod_id not in codemods:
        raise UnknownPluginError("codemod", [codemod_id], codemods)
    return codemods[codemod_id]()


def select_codemods(only: Iterable[str] = (), disabled: Iterable[str] = ()) -> list[Codemod]:
    """The codemods to run, in id order: `only` (all when empty) minus `disabled`; unknown ids raise."""
    codemods = available_codemods()
    only, disabled = list(only), list(disabled)
    CODEMODS.check_names([*only, *disabled], codemods)
    chosen = [codemod_id for codemod_id in codemods if (not only or codemod_id in only) and codemod_id not in disabled]
    return [codemods[codemod_id]() for codemod_id in chosen]
