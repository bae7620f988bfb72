"""Whole-tree limits: a cgroup (v2, or v1 memory+pids) per run where one is writable, rlimits otherwise.

The cgroup also gives the one reliable way to find and kill every descendant at the end of a run.
"""

from __future__ import annotations

import os
import resource
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from evolve.sandbox.spec import ResourceLimits

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "evolve-sandbox-"
_KILL_ROUNDS = 50


@dataclass(frozen=True)
class RunCgroup:
    """The cgroup directories (one for v2, one per controller for v1) a run's processes are put in."""

    directories: tuple[Path, ...]
    description: str
    limits_memory: bool
    limits_processes: bool


def _own_cgroup_paths() -> dict[str, str]:
    """controller (or "" for the v2 hierarchy) -> this process's cgroup path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return paths
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value, encoding="ascii")
    except OSError:
        return False
    return True


def _run_name() -> str:
    return f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _cgroup_v2(limits: ResourceLimits, name: str) -> RunCgroup | None:
    if not (CGROUP_ROOT / "cgroup.controllers").is_file():
        return None
    parent = CGROUP_ROOT / _own_cgroup_paths().get("", "/").lstrip("/")
    try:
        enabled = (parent / "cgroup.subtree_control").read_text(encoding="ascii").split()
    except OSError:
        return None
    if "memory" not in enabled or "pids" not in enabled:
        return None
    directory = parent / name
    try:
        directory.mkdir()
    except OSError:
        return None
    if not (
        _write(directory / "memory.max", str(limits.memory_bytes))
        and _write(directory / "pids.max", str(limits.processes))
    ):
        remove_cgroup(RunCgroup((directory,), "", False, False))
        return None
    _write(directory / "memory.swap.max", "0")
    return RunCgroup((directory,), "cgroup v2 memory+pids", True, True)


def _cgroup_v1(limits: ResourceLimits, name: str) -> RunCgroup | None:
    own = _own_cgroup_paths()
    made: list[Path] = []
    for controller, files in (
        ("memory", {"memory.limit_in_bytes": limits.memory_bytes}),
        ("pids", {"pids.max": limits.processes}),
    ):
        hierarchy = CGROUP_ROOT / controller
        if controller not in own or not hierarchy.is_dir():
            continue
        directory = hierarchy / own[controller].lstrip("/") / name
        try:
            directory.mkdir()
        except OSError:
            continue
        if all(_write(directory / file, str(value)) for file, value in files.items()):
            made.append(directory)
            if controller == "memory":
                _write(directory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))  # no swap escape
        else:
            remove_cgroup(RunCgroup((directory,), "", False, False))
    if not made:
        return None
    controllers = [directory.parts[len(CGROUP_ROOT.parts)] for directory in made]
    return RunCgroup(
        tuple(made),
        "cgroup v1 " + "+".join(controllers),
        "memory" in controllers,
        "pids" in controllers,
    )


def create_cgroup(limits: ResourceLimits) -> RunCgroup | None:
    """A fresh cgroup for one run with `limits` written, or None when no cgroup is writable here."""
    name = _run_name()
    return _cgroup_v2(limits, name) or _cgroup_v1(limits, name)


def limits_description(cgroup: RunCgroup | None) -> str:
    """How the run's limits are enforced, for the report."""
    if cgroup is None:
        return "rlimits (per process)"
    if cgroup.limits_memory and cgroup.limits_processes:
        return cgroup.description
    return f"{cgroup.description} (other limits: rlimits per process)"


def enter_child_limits(limits: ResourceLimits, cgroup: RunCgroup | None) -> None:
    """Run in the forked child before exec: join the cgroup, set rlimits, start a new session.

    Only async-signal-safe calls (os.open/os.write, setrlimit): the parent may have threads.
    """
    os.setsid()
    for directory in cgroup.directories if cgroup else ():
        descriptor = os.open(str(directory / "cgroup.procs"), os.O_WRONLY)
        try:
            os.write(descriptor, b"0")
        finally:
            os.close(descriptor)
    rlimits = [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_size_bytes),
        (resource.RLIMIT_CORE, 0),
    ]
    if cgroup is None or not cgroup.limits_memory:
        rlimits.append((resource.RLIMIT_AS, limits.memory_bytes))
    if cgroup is None or not cgroup.limits_processes:
        # Counted per user across the host: only a fallback, the pids controller is the real limit.
        rlimits.append((resource.RLIMIT_NPROC, limits.processes))
    for which, value in rlimits:
        try:
            _soft, hard = resource.getrlimit(which)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (cap, cap))
        except (ValueError, OSError):
            pass


def _members(directory: Path) -> list[int]:
    try:
        return [int(pid) for pid in (directory / "cgroup.procs").read_text(encoding="ascii").split()]
    except (OSError, ValueError):
        return []


def kill_cgroup(cgroup: RunCgroup) -> None:
    """SIGKILL every process in the run's cgroup until it is empty (new forks included)."""
    for directory in cgroup.directories:
        if _write(directory / "cgroup.kill", "1"):
            continue
        for _round in range(_KILL_ROUNDS):
            members = _members(directory)
            if not members:
                break
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)


def remove_cgroup(cgroup: RunCgroup) -> None:
    """Kill what is left in the run's cgroup and remove its directories."""
    kill_cgroup(cgroup)
    for directory in cgroup.directories:
        for _attempt in range(100):
            try:
                directory.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)  # the last members are still being reaped


def stale_cgroups() -> list[RunCgroup]:
    """Cgroups of earlier runs whose evolve process is gone (a crash), for the start-up sweep."""
    found: list[RunCgroup] = []
    for controller, path in _own_cgroup_paths().items():
        base = CGROUP_ROOT / controller / path.lstrip("/") if controller else CGROUP_ROOT / path.lstrip("/")
        try:
            candidates = [entry for entry in base.iterdir() if entry.name.startswith(CGROUP_PREFIX)]
        except OSError:
            continue
        for entry in candidates:
            owner = entry.name[len(CGROUP_PREFIX) :].split("-", 1)[0]
            if owner.isdigit() and not _alive(int(owner)):
                found.append(RunCgroup((entry,), "stale", False, False))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
