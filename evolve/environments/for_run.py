"""One run's environments: base's prepared once (built or reused), head's only when the change edits a file
that decides it (otherwise head shares base's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.environments.model import Environment, EnvironmentFailure, EnvironmentSettings
from evolve.environments.prepare import prepare_environment

Progress = Callable[[str, int, int], None]


class RunEnvironments:
    """Prepares and remembers the environments of one run; `report()` is what report.json says about them."""

    def __init__(self, settings: EnvironmentSettings, config: EvolveConfig, progress: Progress | None = None) -> None:
        self.settings = settings
        self.config = config
        self.progress = progress
        self.prepared: Environment | EnvironmentFailure | None = None
        self.heads: list[Environment | EnvironmentFailure] = []

    def base(self, tree: Path) -> Environment | EnvironmentFailure:
        """Base's environment, prepared on first use."""
        if self.prepared is None:
            if self.progress:
                self.progress("preparing the test environment", 0, 1)
            self.prepared = prepare_environment(tree, self.config, self.settings)
        return self.prepared

    def head(self, tree: Path) -> Environment | EnvironmentFailure:
        """Head's own environment (the change edits a dependency file); reused from the store when unchanged."""
        found = prepare_environment(tree, self.config, self.settings)
        self.heads.append(found)
        return found

    def report(self) -> dict[str, Any]:
        """For RunReport.environment: base's environment (or its failure) and head's, when it had its own."""
        prepared = self.prepared
        if prepared is None:
            return {}
        if isinstance(prepared, EnvironmentFailure):
            return {
                "failure": prepared.reason,
                "install_commands": list(prepared.install_commands),
                "build_seconds": round(prepared.build_seconds, 3),
            }
        document = prepared.to_dict()
        heads = [h.to_dict() if isinstance(h, Environment) else {"failure": h.reason} for h in self.heads]
        if heads:
            document["head"] = heads[-1]
        return document
