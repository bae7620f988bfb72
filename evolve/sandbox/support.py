"""Whether bubblewrap can run here (probed once), and what to do when it cannot: refuse, or warn and run bare."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

from evolve.sandbox.bubblewrap import ISOLATION_FLAGS
from evolve.sandbox.seccomp import seccomp_supported
from evolve.sandbox.spec import SandboxSupport

ALLOW_UNSANDBOXED_VARIABLE = "EVOLVE_ALLOW_UNSANDBOXED"
BWRAP_VARIABLE = "EVOLVE_BWRAP"  # another bwrap binary (tests use it to simulate a machine without one)
PROBE_TIMEOUT = 20.0
NOT_ISOLATED = (
    "the repository's code runs with the evolve process's user, filesystem, /proc, Unix sockets and network; "
    "only its environment is scrubbed, its tree is a copy and its resources are limited"
)
_required = False


@lru_cache(maxsize=1)
def sandbox_support() -> SandboxSupport:
    """Probe once whether bwrap works here with the namespaces and filter the sandbox uses."""
    bwrap = os.environ.get(BWRAP_VARIABLE) or shutil.which("bwrap") or ""
    if not bwrap or not os.access(bwrap, os.X_OK):
        return SandboxSupport(False, "none", "bubblewrap (bwrap) is not installed", bwrap)
    if not seccomp_supported():
        return SandboxSupport(False, "none", f"no seccomp filter for this architecture ({os.uname().machine})", bwrap)
    probe = [
        bwrap,
        *ISOLATION_FLAGS,
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        "true",
    ]
    try:
        result = subprocess.run(probe, capture_output=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as error:
        return SandboxSupport(False, "none", f"bwrap could not start: {error}", bwrap)
    if result.returncode != 0:
        why = result.stderr.decode("utf-8", "replace").strip()[:300] or f"exit code {result.returncode}"
        return SandboxSupport(False, "none", f"bwrap is not permitted here: {why}", bwrap)
    return SandboxSupport(True, "bubblewrap", "", bwrap)


def require_sandbox(required: bool) -> None:
    """Make every later run refuse (True) or warn and run bare (False) when bubblewrap is unavailable."""
    global _required
    _required = required


def unsandboxed_refusal() -> str | None:
    """Why running without a sandbox is refused now, or None when it is allowed (with a warning)."""
    if not _required or os.environ.get(ALLOW_UNSANDBOXED_VARIABLE, "") == "1":
        return None
    reason = sandbox_support().reason
    return (
        f"refusing to run repository code without a sandbox: {reason}. Install bubblewrap and allow user "
        f"namespaces (see docs/sandbox.md), or set {ALLOW_UNSANDBOXED_VARIABLE}=1 to accept the risk"
    )


def unsandboxed_warning() -> str:
    """The warning printed on every run without a sandbox."""
    return f"WARNING: no sandbox ({sandbox_support().reason}): {NOT_ISOLATED}."
