"""One plugin loader for every entry-point group Evolve reads (`evolve.gates`, `evolve.codemods`).

Like flake8's plugin finder and pluggy: entry points are listed without importing anything, loaded in a second
step one at a time, sorted by name for determinism; a name registered twice with different targets, a class of the
wrong kind or a class whose declared name disagrees with its entry point fails loudly, naming the distributions.
Built-ins register through the same groups as third-party plugins.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict

PluginT = TypeVar("PluginT")
BUILT_IN_DISTRIBUTION = "evolve-bot"


class PluginError(Exception):
    """The installed plugins are inconsistent: a duplicate name, an import failure, a class of the wrong kind."""


class UnknownPluginError(PluginError):
    """Names that no installed plugin of a group answers to; the message lists the valid ones."""

    def __init__(self, noun: str, unknown: Iterable[str], known: Iterable[str], where: str = "") -> None:
        self.unknown = tuple(unknown)
        self.known = tuple(known)
        plural = f"{noun}s" if len(self.unknown) > 1 else noun
        place = f" in {where}" if where else ""
        super().__init__(
            f"unknown {plural} {', '.join(map(repr, self.unknown))}{place}; "
            f"known {noun}s: {', '.join(self.known) or '(none installed)'}"
        )


class NoSettings(BaseModel):
    """The settings model of a plugin that takes none: any key given to it is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class PluginEntry:
    """A registered plugin, not yet imported: its name, its `module:attribute` target and its distribution."""

    name: str
    target: str
    distribution: str | None = None


@dataclass(frozen=True)
class PluginKind(Generic[PluginT]):
    """One entry-point group: what its plugins must subclass and how a plugin class states its own name."""

    group: str
    noun: str  # "gate", "codemod": used in every message
    # The class plugins subclass; `type` rather than type[PluginT] because plugin bases are abstract.
    base: type
    declared_name: Callable[[type[PluginT]], object]

    def discover(self, found: Iterable[EntryPoint] | None = None) -> tuple[PluginEntry, ...]:
        """The registered plugins sorted by name, without importing them; a name registered twice raises."""
        points = _installed(self.group) if found is None else tuple(found)
        by_name: dict[str, PluginEntry] = {}
        for point in points:
            dist = getattr(getattr(point, "dist", None), "name", None)
            entry = PluginEntry(point.name, point.value, dist)
            known = by_name.get(entry.name)
            # The same target seen twice (an editable install's metadata found twice) is one plugin.
            if known is not None and known.target != entry.target:
                raise PluginError(
                    f"two {self.noun}s are registered as {entry.name!r}: {known.target} "
                    f"({known.distribution or 'unknown distribution'}) and {entry.target} "
                    f"({entry.distribution or 'unknown distribution'}); uninstall or rename one of them"
                )
            by_name.setdefault(entry.name, entry)
        return tuple(by_name[name] for name in sorted(by_name))

    def names(self, found: Iterable[EntryPoint] | None = None) -> tuple[str, ...]:
        """The names of every registered plugin of this group, sorted."""
        return tuple(entry.name for entry in self.discover(found))

    def load(self, entry: PluginEntry) -> type[PluginT]:
        """Import one plugin and check that it subclasses the group's base and declares the entry point's name."""
        try:
            loaded = EntryPoint(entry.name, entry.target, self.group).load()
        except Exception as error:
            raise PluginError(
                f"{self.noun} {entry.name!r} ({entry.target}) cannot be imported: {type(error).__name__}: {error}"
            ) from error
        if not (isinstance(loaded, type) and issubclass(loaded, self.base)):
            base = f"{self.base.__module__}.{self.base.__qualname__}"
            raise PluginError(f"{self.noun} {entry.name!r} ({entry.target}) is not a subclass of {base}")
        plugin = cast("type[PluginT]", loaded)
        declared = self.declared_name(plugin)
        if declared != entry.name:
            raise PluginError(
                f"{self.noun} {entry.name!r} ({entry.target}) declares the name {declared!r}; "
                "the entry point and the class must agree"
            )
        return plugin

    def load_all(self, found: Iterable[EntryPoint] | None = None) -> dict[str, type[PluginT]]:
        """Every registered plugin class by name, in name order."""
        return {entry.name: self.load(entry) for entry in self.discover(found)}

    def load_named(self, names: Iterable[str], found: Iterable[EntryPoint] | None = None) -> dict[str, type[PluginT]]:
        """The plugin classes of `names` (in that order, once each); unknown names raise UnknownPluginError."""
        entries = {entry.name: entry for entry in self.discover(found)}
        wanted = list(dict.fromkeys(names))
        self.check_names(wanted, entries)
        return {name: self.load(entries[name]) for name in wanted}

    def check_names(self, names: Iterable[str], known: Iterable[str] | None = None, where: str = "") -> None:
        """Raise UnknownPluginError naming every name not registered (and the registered ones)."""
        valid = tuple(sorted(self.names() if known is None else known))
        unknown = [name for name in dict.fromkeys(names) if name not in valid]
        if unknown:
            raise UnknownPluginError(self.noun, unknown, valid, where)

    def built_in_names(self) -> tuple[str, ...]:
        """The names registered by Evolve's own distribution (what a fresh install has)."""
        return tuple(entry.name for entry in self.discover() if entry.distribution == BUILT_IN_DISTRIBUTION)


def settings_model(plugin: type[Any]) -> type[BaseModel]:
    """The typed settings model a plugin class declares (`Settings`), or NoSettings."""
    model = getattr(plugin, "Settings", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return NoSettings


@functools.cache
def _installed(group: str) -> tuple[EntryPoint, ...]:
    return tuple(entry_points(group=group))


def refresh_installed_plugins() -> None:
    """Forget the cached entry-point listing, after installing or removing a plugin in this process."""
    _installed.cache_clear()
