"""Running untrusted code (the repository's tests): scrubbed environment, own HOME, timeout, rlimits."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Any variable whose name contains one of these words is never passed to untrusted code.
from evolve.untrusted_text import SECRET_NAME

# Only these variables are passed through from the parent; everything else is dropped.
PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "VIRTUAL_ENV", "PYTHONHASHSEED")


@dataclass(frozen=True)
class ResourceLimits:
    """Limits applied to the untrusted process tree (per process, via setrlimit)."""

    cpu_seconds: int = 1800
    memory_bytes: int = 4 * 1024**3
    processes: int = 512
    file_size_bytes: int = 1 * 1024**3


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one untrusted command."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool
    network_isolated: bool = False

    @property
    def ok(self) -> bool:
        """Whether the command exited 0 within its time."""
        return self.returncode == 0 and not self.timed_out


def scrubbed_environment(
    extra: Mapping[str, str] | None = None, parent: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Build the environment for untrusted code: an allow-list of harmless variables, no secrets."""
    parent = os.environ if parent is None else parent
    env = {name: parent[name] for name in PASSTHROUGH if name in parent and not SECRET_NAME.search(name)}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PIP_NO_INPUT"] = "1"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["CI"] = "true"
    for name, value in (extra or {}).items():
        if SECRET_NAME.search(name):
            raise ValueError(f"refusing to pass a secret-looking variable {name!r} to untrusted code")
        env[name] = value
    return env


@lru_cache(maxsize=1)
def network_isolation_prefix() -> tuple[str, ...]:
    """A command prefix that runs a program in a new network namespace with only its own loopback up.

    Empty when the platform does not allow it (no `unshare`/`ip`, no namespaces); probed once per process.
    """
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip:
        return ()
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    prefix = (unshare, *flags, "sh", "-c", f'{ip} link set lo up 2>/dev/null; exec "$@"', "evolve-sandbox")
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ()
    return prefix if probe.returncode == 0 else ()


def _limit_resources(limits: ResourceLimits) -> None:
    os.setsid()  # own process group, so a timeout kills the whole tree
    for which, value in (
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
    ):
        try:
            _soft, hard = resource.getrlimit(which)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (cap, cap))
        except (ValueError, OSError):
            pass


def _tail(text: str, limit: int = 200_000) -> str:
    return text if len(text) <= limit else "…(truncated)…\n" + text[-limit:]


def run_untrusted(
    argv: Sequence[str],
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    limits: ResourceLimits = ResourceLimits(),
    isolate_network: bool = True,
) -> CommandResult:
    """Run `argv` in `cwd` as untrusted code. Never raises for the command's own failure or timeout.

    With `isolate_network`, the command gets a network namespace of its own (loopback only) where the
    platform allows it; `CommandResult.network_isolated` says whether it did.
    """
    prefix = network_isolation_prefix() if isolate_network else ()
    home = Path(tempfile.mkdtemp(prefix="evolve-home-"))
    tmp = home / "tmp"
    tmp.mkdir()
    environment = scrubbed_environment(
        {"HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(home / ".cache"), **(env or {})}
    )
    start = time.monotonic()
    if shutil.which(argv[0], path=environment["PATH"]) is None:
        shutil.rmtree(home, ignore_errors=True)
        return CommandResult(tuple(argv), 127, "", f"cannot start {argv[0]!r}: not found on PATH", 0.0, False)
    try:
        process = subprocess.Popen(
            [*prefix, *argv],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: _limit_resources(limits),
        )
    except OSError as error:
        shutil.rmtree(home, ignore_errors=True)
        return CommandResult(tuple(argv), 127, "", f"cannot start {argv[0]!r}: {error}", 0.0, False)
    timed_out = False
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = process.communicate()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return CommandResult(
        argv=tuple(argv),
        returncode=process.returncode if not timed_out else -9,
        stdout=_tail(out.decode("utf-8", "replace")),
        stderr=_tail(err.decode("utf-8", "replace")),
        duration=time.monotonic() - start,
        timed_out=timed_out,
        network_isolated=bool(prefix),
    )
