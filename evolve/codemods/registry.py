"""Discover codemods through the `evolve.codemods` entry-point group (built-ins register the same way as plugins).

Like flake8's plugin finder: entry points are listed without importing anything, then loaded in a second
step, sorted by id for determinism; duplicate ids and mismatched metadata fail loudly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from evolve.codemods.base import Codemod

ENTRY_POINT_GROUP = "evolve.codemods"


class CodemodRegistryError(RuntimeError):
    """The installed codemod plugins are inconsistent (duplicate ids, wrong classes, mismatched metadata)."""


@dataclass(frozen=True)
class CodemodEntry:
    """One declared codemod, not yet imported: its id and `module:Class` reference."""

    id: str
    value: str
    distribution: str | None = None


def list_entries(eps: Iterable[EntryPoint] | None = None) -> list[CodemodEntry]:
    """The declared codemods sorted by id, without importing them; raises on an id declared twice differently."""
    if eps is None:
        eps = entry_points(group=ENTRY_POINT_GROUP)
    by_id: dict[str, CodemodEntry] = {}
    for ep in eps:
        dist = getattr(getattr(ep, "dist", None), "name", None)
        entry = CodemodEntry(ep.name, ep.value, dist)
        known = by_id.get(ep.name)
        # The same declaration seen twice (e.g. an editable install's metadata also on sys.path) is one entry.
        if known is not None and known.value != entry.value:
            raise CodemodRegistryError(
                f"codemod id {ep.name!r} is declared twice: {known.value} ({known.distribution or '?'}) "
                f"and {entry.value} ({entry.distribution or '?'}); uninstall or rename one of them"
            )
        by_id[ep.name] = entry
    return [by_id[name] for name in sorted(by_id)]


def load_entry(entry: CodemodEntry) -> type[Codemod]:
    """Import one declared codemod and check it is a Codemod whose metadata id matches its entry-point name."""
    try:
        loaded = EntryPoint(name=entry.id, value=entry.value, group=ENTRY_POINT_GROUP).load()
    except Exception as exc:
        raise CodemodRegistryError(f"codemod {entry.id!r} ({entry.value}) failed to import: {exc}") from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Codemod)):
        raise CodemodRegistryError(
            f"codemod {entry.id!r} ({entry.value}) is not a subclass of evolve.codemods.base.Codemod"
        )
    metadata = getattr(loaded, "metadata", None)
    if metadata is None or metadata.id != entry.id:
        found = getattr(metadata, "id", None)
        raise CodemodRegistryError(
            f"codemod {entry.id!r} ({entry.value}) declares metadata.id={found!r}; they must match"
        )
    return loaded


def load_codemods(entries: Sequence[CodemodEntry]) -> dict[str, type[Codemod]]:
    """Load every entry, keyed by id in id order."""
    return {entry.id: load_entry(entry) for entry in sorted(entries, key=lambda e: e.id)}


@functools.cache
def available_codemods() -> dict[str, type[Codemod]]:
    """All installed codemod classes by id (cached; call `available_codemods.cache_clear()` after installing)."""
    return load_codemods(list_entries())


def get_codemod(codemod_id: str) -> Codemod:
    """A fresh instance of the codemod with this id; ValueError naming the known ids otherwise."""
    codemods = available_codemods()
    if codemod_id not in codemods:
        raise ValueError(f"unknown codemod {codemod_id!r}; known codemods: {', '.join(codemods)}")
    return codemods[codemod_id]()


def select_codemods(only: Iterable[str] = (), disabled: Iterable[str] = ()) -> list[Codemod]:
    """The codemods to run, in id order: `only` (all when empty) minus `disabled`; unknown ids raise ValueError."""
    codemods = available_codemods()
    only, disabled = list(only), list(disabled)
    unknown = sorted({*only, *disabled} - codemods.keys())
    if unknown:
        raise ValueError(f"unknown codemod id(s) {', '.join(unknown)}; known codemods: {', '.join(codemods)}")
    chosen = [codemod_id for codemod_id in codemods if (not only or codemod_id in only) and codemod_id not in disabled]
    return [codemods[codemod_id]() for codemod_id in chosen]
