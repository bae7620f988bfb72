"""Running gates for the engine: find and build the configured gates, give them a context, collect their results.

Built-in gates register through the `evolve.gates` entry-point group like any plugin; the core never imports them
by name. Discovery lists entry points without importing anything; loading imports one gate at a time and checks it.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from evolve.config import EvolveConfig, GatesConfig
from evolve.findings import ScanResult
from evolve.gate_api import Gate, GateContext, Which
from evolve.results import Errored, GateResult
from evolve.suites.runs import TestRun, run_test_suite

GROUP = "evolve.gates"
# Fields of GatesConfig that are not one gate's settings.
_NOT_GATE_SETTINGS = {"enabled", "plugins"}


class GateRegistryError(Exception):
    """The installed gates are inconsistent, or the configuration names a gate that does not exist."""


@dataclass(frozen=True)
class GateEntry:
    """A discovered gate, not yet imported: its name, its `module:Class` target and where it came from."""

    name: str
    target: str
    distribution: str | None = None

    def load(self) -> type[Gate]:
        """Import the gate class and check that it is a Gate whose `name` matches this entry."""
        try:
            loaded = EntryPoint(self.name, self.target, GROUP).load()
        except Exception as error:
            raise GateRegistryError(
                f"gate {self.name!r} ({self.target}) cannot be imported: {type(error).__name__}: {error}"
            ) from error
        if not (isinstance(loaded, type) and issubclass(loaded, Gate)):
            raise GateRegistryError(f"gate {self.name!r} ({self.target}) is not a subclass of evolve.gate_api.Gate")
        declared = getattr(loaded, "name", None)
        if declared != self.name:
            raise GateRegistryError(
                f"gate {self.name!r} ({self.target}) declares name {declared!r}; the entry point and the class must agree"
            )
        return loaded


def discover_gates(found: Iterable[EntryPoint] | None = None) -> tuple[GateEntry, ...]:
    """List the registered gates, sorted by name, without importing them. Conflicting names raise."""
    candidates = entry_points(group=GROUP) if found is None else found
    by_name: dict[str, GateEntry] = {}
    for point in candidates:
        dist = getattr(point, "dist", None)
        entry = GateEntry(point.name, point.value, getattr(dist, "name", None) if dist is not None else None)
        known = by_name.get(entry.name)
        if known is None:
            by_name[entry.name] = entry
        elif known.target != entry.target:
            raise GateRegistryError(
                f"two gates are registered as {entry.name!r}: {known.target} ({known.distribution or 'unknown'}) "
                f"and {entry.target} ({entry.distribution or 'unknown'}); uninstall or rename one"
            )
        # The same target seen twice (e.g. an editable install's metadata found twice) is one gate.
    return tuple(by_name[name] for name in sorted(by_name))


def available_gates(found: Iterable[EntryPoint] | None = None) -> tuple[str, ...]:
    """The names of every registered gate, sorted."""
    return tuple(entry.name for entry in discover_gates(found))


def gate_settings(config: EvolveConfig, name: str) -> Any:
    """The settings object of gate `name`: `config.gates.<name>` for built-ins, `config.gates.plugins[name]` otherwise."""
    if name in GatesConfig.model_fields and name not in _NOT_GATE_SETTINGS:
        return getattr(config.gates, name)
    return dict(config.gates.plugins.get(name, {}))


def build_gates(config: EvolveConfig, found: Iterable[EntryPoint] | None = None) -> list[Gate]:
    """Instantiate the gates named in `config.gates.enabled`, in that order, each with its settings."""
    entries = {entry.name: entry for entry in discover_gates(found)}
    unknown = [name for name in config.gates.enabled if name not in entries]
    if unknown:
        raise GateRegistryError(
            f"unknown gate(s) {', '.join(map(repr, unknown))} in gates.enabled; "
            f"known gates: {', '.join(sorted(entries)) or '(none installed)'}"
        )
    gates: list[Gate] = []
    for name in dict.fromkeys(config.gates.enabled):  # a name listed twice runs once
        gate_class = entries[name].load()
        gates.append(gate_class(gate_settings(config, name)))
    return gates


def evaluate_gates(gates: Sequence[Gate], context: GateContext) -> tuple[GateResult, ...]:
    """Run every gate in order. Never raises: a gate that raises or returns garbage becomes Errored."""
    results: list[GateResult] = []
    for gate in gates:
        name = str(getattr(gate, "name", type(gate).__name__))
        try:
            result = gate.evaluate(context)
        except (Exception, SystemExit) as error:
            results.append(
                Errored(
                    gate=name,
                    summary=f"The {name} gate crashed with {type(error).__name__}: {error}"[:300],
                    details="".join(traceback.format_exception(error)),
                )
            )
            continue
        if not isinstance(result, GateResult):
            result = Errored(
                gate=name, summary=f"The {name} gate returned {type(result).__name__} instead of a GateResult."
            )
        results.append(result)
    return tuple(results)


def build_context(
    base: Path,
    head: Path,
    changed_files: Sequence[str],
    config: EvolveConfig,
    *,
    changed_lines: Mapping[str, Sequence[int]] | None = None,
    with_coverage: bool | None = None,
    with_semgrep: bool | None = None,
) -> GateContext:
    """A GateContext whose scans (of the changed files) and test runs are computed lazily, once per tree.

    Coverage is measured when the coverage gate is enabled, so the tests and coverage gates share one run.
    """
    trees = {"base": Path(base), "head": Path(head)}
    paths = tuple(changed_files)
    if with_coverage is None:
        with_coverage = "coverage" in config.gates.enabled and config.gates.coverage.enabled
    if with_semgrep is None:
        with_semgrep = "security" in config.gates.enabled and config.gates.security.enabled

    @functools.cache
    def scan(which: Which) -> ScanResult:
        from evolve.research import scan_repository  # research is optional for gates that never scan

        present = [path for path in paths if (trees[which] / path).is_file()]  # deleted files have nothing to scan
        return scan_repository(trees[which], config, paths=present, with_semgrep=bool(with_semgrep))

    @functools.cache
    def run_tests(which: Which) -> TestRun:
        return run_test_suite(trees[which], config, with_coverage=bool(with_coverage))

    return GateContext(
        base=trees["base"],
        head=trees["head"],
        changed_files=paths,
        config=config,
        changed_lines={path: tuple(lines) for path, lines in (changed_lines or {}).items()},
        scan=scan,
        run_tests=run_tests,
    )
