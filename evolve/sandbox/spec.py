"""The values of the sandbox: what to run and under which limits (`SandboxSpec`), and what happened (`SandboxResult`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evolve.sandbox.egress_policy import EgressPolicy

# Where the sandboxed command sees things. Fixed paths, so reports and configuration files can name them.
SANDBOX_REPO = "/work/repo"
SANDBOX_OUT = "/work/out"
SANDBOX_HOME = "/home/sandbox"
SANDBOX_TMP = "/tmp"
SANDBOX_USER = "sandbox"
SANDBOX_UID = 1000
SANDBOX_GID = 1000
# The egress route: the proxy's Unix socket as the sandbox sees it, and the loopback port of the forwarder to it.
SANDBOX_EGRESS_SOCKET = "/run/evolve/egress.sock"
SANDBOX_EGRESS_PORT = 3128


@dataclass(frozen=True)
class Mount:
    """An extra bind mount: a host path seen at `target` inside the sandbox, read-only unless `writable`."""

    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class ResourceLimits:
    """Limits for the whole tree of processes a sandboxed command starts."""

    memory_bytes: int = 4 * 1024**3
    processes: int = 512
    file_size_bytes: int = 1024**3
    tmp_bytes: int = 1024**3
    cpu_seconds: int = 1800
    output_bytes: int = 16 * 1024**2
    disk_bytes: int = 4 * 1024**3  # the tree copy plus the output directory, on the host's disk


@dataclass(frozen=True)
class SandboxSpec:
    """One command to run as untrusted code, with the tree it may see and write (a private copy)."""

    argv: tuple[str, ...]
    timeout: float
    tree: Path | None = None  # copied (no .git, no symlink followed) and mounted read-write at SANDBOX_REPO
    workdir: str = SANDBOX_REPO
    env: Mapping[str, str] = field(default_factory=dict)  # added to the scrubbed environment
    # Always a network namespace of its own (loopback only). With a policy, its one way out is Evolve's egress
    # proxy (evolve.sandbox.egress_proxy) to the policy's hosts, at http://127.0.0.1:SANDBOX_EGRESS_PORT.
    egress: EgressPolicy | None = None
    mounts: tuple[Mount, ...] = ()
    outputs: Path | None = None  # host directory mounted writable at SANDBOX_OUT
    limits: ResourceLimits = ResourceLimits()


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed command did, and how well it was contained."""

    argv: tuple[str, ...]
    returncode: int
    timed_out: bool
    duration: float
    stdout: str
    stderr: str
    output_truncated: bool
    isolation: str  # "bubblewrap" or "none: <why>"
    limits_enforced: str  # e.g. "cgroup v1 memory+pids", "rlimits (per process)"
    network_isolated: bool
    disk_exceeded: bool = False  # stopped because the tree copy and outputs passed `ResourceLimits.disk_bytes`
    cancelled: bool = False  # killed because the run was asked to stop (`evolve.sandbox.cancellation`)
    egress_refused: tuple[str, ...] = ()  # what the egress proxy turned away (host:port and why)

    @property
    def ok(self) -> bool:
        """Whether the command exited 0 within its time."""
        return self.returncode == 0 and not self.timed_out


@dataclass(frozen=True)
class SandboxSupport:
    """Whether bubblewrap works on this machine, and if not, why."""

    available: bool
    mechanism: str  # "bubblewrap" or "none"
    reason: str = ""
    bwrap: str = ""  # the bwrap binary probed


class SandboxRefused(RuntimeError):
    """Raised instead of running repository code unsandboxed when the operator has not allowed it."""
