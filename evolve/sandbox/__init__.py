"""The sandbox zone: everything that executes repository code runs here, in bubblewrap.

A private copy of the tree (no `.git`), new user/PID/IPC/UTS/network/cgroup namespaces (the network's only exit,
when granted, Evolve's egress proxy to the package indexes), a read-only toolchain,
private size-capped tmpfs /tmp and HOME, a seccomp filter, whole-tree limits, capped output, and results only as
files Evolve asked for. See docs/sandbox.md.
"""

from evolve.sandbox.egress_policy import EgressPolicy, policy_for
from evolve.sandbox.environment import SANDBOX_PATH, scrubbed_environment
from evolve.sandbox.files import read_output_file
from evolve.sandbox.interpreter import interpreter_mounts, record_interpreter
from evolve.sandbox.runner import run_sandboxed
from evolve.sandbox.spec import (
    SANDBOX_HOME,
    SANDBOX_OUT,
    SANDBOX_REPO,
    Mount,
    ResourceLimits,
    SandboxRefused,
    SandboxResult,
    SandboxSpec,
    SandboxSupport,
)
from evolve.sandbox.support import require_sandbox, sandbox_support, unsandboxed_warning
from evolve.sandbox.trees import sweep_stale_sandboxes

__all__ = [
    "SANDBOX_HOME",
    "SANDBOX_OUT",
    "SANDBOX_PATH",
    "SANDBOX_REPO",
    "EgressPolicy",
    "Mount",
    "ResourceLimits",
    "SandboxRefused",
    "SandboxResult",
    "SandboxSpec",
    "SandboxSupport",
    "interpreter_mounts",
    "policy_for",
    "read_output_file",
    "record_interpreter",
    "require_sandbox",
    "run_sandboxed",
    "sandbox_support",
    "scrubbed_environment",
    "sweep_stale_sandboxes",
    "unsandboxed_warning",
]
