"""The values the rest of Evolve sees: settings for building, the environment a suite runs in, a failure."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evolve.environments.store import DEFAULT_MAX_BYTES
from evolve.sandbox import EgressPolicy, policy_for

EnvironmentKind = Literal["built", "local", "evolve"]
BUILD_FAILED = "could not build the test environment: {reason}"
CAUSE_WIDTH = 500  # characters of a builder's words in a one-line message
# What uv and pip print around the cause: where they install, progress, the `error:`/`cause:` labels.
_NOISE = re.compile(r"^(Using Python .*|Using CPython .*|Resolved .*|Prepared .*|Installed .*|Audited .*|[+~-] .*)$")
_LABEL = re.compile(r"^(error|cause|hint|  ×|×|╰─▶)\s*:?\s*", re.I)


def one_line_cause(words: str, width: int = CAUSE_WIDTH) -> str:
    """A builder's error output as one line: the cause (uv's `No solution found …: Because …`), without the
    lines around it, labels dropped, whitespace folded, at most `width` characters."""
    kept = []
    for line in words.splitlines():
        line = line.strip()
        if not line or _NOISE.match(line):
            continue
        kept.append(_LABEL.sub("", line))
    if len(kept) > 1 and not kept[0].endswith((".", ":", ";")):
        kept[0] += ":"  # uv's headline, then its cause
    text = " ".join(" ".join(kept).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/evolve`, or `~/.cache/evolve`: the CLI's environment store and uv cache."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "evolve"


@dataclass(frozen=True)
class EnvironmentSettings:
    """How environments are built and kept: an operator's (App) or a user's (CLI) choice, never a repository's."""

    data_dir: Path = field(default_factory=default_cache_dir)  # envs/ and uv-cache/ live here
    max_bytes: int = DEFAULT_MAX_BYTES
    install_network: bool = True  # False: uv installs offline, from its cache only
    index_url: str | None = None  # a private mirror, passed to uv as UV_INDEX_URL
    extra_index_url: str | None = None
    egress_hosts: tuple[str, ...] = ()  # further `host:port` the egress proxy allows (a mirror's file host)
    # Who the environment is for. `tenant` owns a uv cache (App: the installation; CLI: the repository);
    # `repository` is part of every environment's key, so no repository reuses another's environment.
    tenant: str = "local"
    repository: str = ""
    tests_network: bool = False  # the operator lets tests have the installs' egress when the repository asks
    build_timeout: float = 1800.0
    python: str | None = None  # run the suite with this interpreter as-is (CLI --python); build nothing
    python_origin: str = "--python"  # how the user chose it, for the report
    use_local_venv: bool = False  # CLI: a repository's own .venv, when it has one, is used as-is
    build: bool = True  # False: run with Evolve's own interpreter (today's behaviour, for tests and opt-out)

    @property
    def store_dir(self) -> Path:
        """Where built environments are kept."""
        return self.data_dir / "envs"

    @property
    def uv_cache_dir(self) -> Path:
        """uv's wheel and download cache of this tenant only: a build writes it, so no other tenant reads it."""
        return self.data_dir / "uv-cache" / tenant_directory(self.tenant)

    @property
    def egress_policy(self) -> EgressPolicy:
        """The hosts installs may reach through the egress proxy: the configured indexes (default: PyPI's)."""
        return policy_for(self.index_url, self.extra_index_url, self.egress_hosts)


def tenant_directory(tenant: str) -> str:
    """A directory name for a tenant: readable where it can be, always unique (a hash of the whole name)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", tenant).strip(".-")[:40] or "tenant"
    return f"{readable}-{hashlib.sha256(tenant.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class Environment:
    """The interpreter a suite runs with, and everything a report says about where it came from."""

    python: str
    kind: EnvironmentKind
    description: str  # one line for humans: "Python 3.12.1, built from pyproject.toml [dependency-groups] test"
    mounts: tuple[str, ...] = ()  # host paths the sandbox binds read-only at the same path (env, interpreter)
    key: str | None = None
    install_commands: tuple[str, ...] = ()
    build_seconds: float = 0.0
    reused: bool = False
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # dropped declarations, fallbacks (editable -> regular install)
    # Extension modules the project's own build compiled into its tree (an editable install puts them there,
    # in the build's copy): copied into each test run's copy of the tree, relative paths preserved.
    compiled_artifacts: str | None = None
    # Why the project itself could not be installed (uv's cause, one line) when the environment holds only its
    # declared test requirements: the reason a suite then fails to import the project's own dependencies.
    install_failure: str | None = None
    # The egress a test run may have when the (operator-limited) config asks for network: None, never granted.
    egress: EgressPolicy | None = None

    @property
    def shown_python(self) -> str:
        """The interpreter as published text names it: a built one by its key, never a host path (the data
        directory, the service user's home); the user's own (CLI) by its path."""
        if self.kind == "built" and self.key:
            return f"envs/{self.key}/bin/python"
        return self.python if self.kind == "local" else "python (Evolve's own)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for report.json (and so the App's stored reports): no host path of a built environment."""
        return {
            "python": self.shown_python,
            "kind": self.kind,
            "description": self.description,
            "key": self.key,
            "install_commands": list(self.install_commands),
            "build_seconds": round(self.build_seconds, 3),
            "reused": self.reused,
            "sources": list(self.sources),
            "notes": list(self.notes),
            "install_failure": self.install_failure,
        }


@dataclass(frozen=True)
class EnvironmentFailure:
    """The environment could not be built: the builder's own words, capped and redacted, said once."""

    reason: str
    install_commands: tuple[str, ...] = ()
    build_seconds: float = 0.0

    @property
    def message(self) -> str:
        """`could not build the test environment: <reason>` on one line (the whole reason is in `reason`)."""
        return BUILD_FAILED.format(reason=one_line_cause(self.reason))
