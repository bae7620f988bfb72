"""`run_sandboxed`: copy the tree, start the command in bubblewrap under whole-tree limits, drain its output,
kill everything it started, clean up. Never raises for the command's own failure, timeout or crash; a run asked
to stop (`evolve.sandbox.cancellation`) has its command killed at once, and starts none (`RunCancelled`)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from evolve.sandbox.bubblewrap import bubblewrap_argv
from evolve.sandbox.cancellation import check as check_cancelled
from evolve.sandbox.cancellation import stop_requested
from evolve.sandbox.disk import DiskWatch
from evolve.sandbox.egress_proxy import EgressProxy
from evolve.sandbox.environment import scrubbed_environment
from evolve.sandbox.limits import (
    RunCgroup,
    create_cgroup,
    enter_child_limits,
    kill_cgroup,
    limits_description,
    remove_cgroup,
)
from evolve.sandbox.output import CappedCapture, drain
from evolve.sandbox.seccomp import seccomp_program
from evolve.sandbox.spec import (
    SANDBOX_EGRESS_PORT,
    SANDBOX_HOME,
    SANDBOX_OUT,
    SANDBOX_REPO,
    SANDBOX_TMP,
    SandboxRefused,
    SandboxResult,
    SandboxSpec,
)
from evolve.sandbox.support import sandbox_support, unsandboxed_refusal, unsandboxed_warning
from evolve.sandbox.trees import copy_tree, make_scratch_directory, remove_tree

logger = logging.getLogger(__name__)
DRAIN_AFTER_EXIT = 2.0  # seconds to collect output still in the pipes once the command is gone
START_FAILED = 127


NO_FORWARDER = (
    "the sandbox's egress route needs socat (Debian/Ubuntu package `socat`); install it to build environments"
)
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


def egress_environment() -> dict[str, str]:
    """What a sandboxed command with egress is told: every proxy variable points at the forwarder, none is bypassed."""
    url = f"http://127.0.0.1:{SANDBOX_EGRESS_PORT}"
    return {**dict.fromkeys(PROXY_VARIABLES, url), "NO_PROXY": "", "no_proxy": ""}


def _sandbox_environment(spec: SandboxSpec, home: str, tmp: str, proxied: bool = False) -> dict[str, str]:
    base = {"HOME": home, "TMPDIR": tmp, "XDG_CACHE_HOME": f"{home}/.cache", "USER": "sandbox", "LOGNAME": "sandbox"}
    return scrubbed_environment({**base, **spec.env, **(egress_environment() if proxied else {})})


def _seccomp_descriptor() -> int:
    descriptor = os.memfd_create("evolve-seccomp", 0)
    os.write(descriptor, seccomp_program())
    os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor


def _bare_paths(spec: SandboxSpec, scratch: Path, tree_copy: Path | None) -> dict[str, str]:
    """Without bubblewrap the fixed sandbox paths do not exist: map them onto the run's host directories."""
    mapping = {SANDBOX_HOME: str(scratch / "home"), SANDBOX_TMP: str(scratch / "tmp")}
    if tree_copy is not None:
        mapping[SANDBOX_REPO] = str(tree_copy)
    if spec.outputs is not None:
        mapping[SANDBOX_OUT] = str(spec.outputs)
    return mapping


def _rewrite(value: str, mapping: dict[str, str]) -> str:
    for sandbox_path, host_path in mapping.items():
        if sandbox_path != SANDBOX_TMP:
            value = value.replace(sandbox_path, host_path)
    return value


def _exited(pid: int) -> bool:
    """Whether `pid` has exited, without reaping it: the zombie keeps its process-group id from being reused
    until every survivor in the group has been killed."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _wait_unreaped(pid: int, deadline: float, watch: DiskWatch | None = None) -> bool:
    """Wait for the leader to exit (True) until `deadline` (False); stop early when the disk watch trips."""
    while not _exited(pid):
        if time.monotonic() >= deadline or (watch is not None and watch.over_limit()) or stop_requested():
            return False
        time.sleep(0.02)
    return True


def _kill_everything(pid: int, cgroup: RunCgroup | None) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # bwrap (or the bare command) leads its own process group
    except (ProcessLookupError, PermissionError):
        pass
    if cgroup is not None:
        kill_cgroup(cgroup)


def _failed_to_start(spec: SandboxSpec, message: str, isolation: str, limits: str) -> SandboxResult:
    return SandboxResult(
        argv=tuple(spec.argv),
        returncode=START_FAILED,
        timed_out=False,
        duration=0.0,
        stdout="",
        stderr=message,
        output_truncated=False,
        isolation=isolation,
        limits_enforced=limits,
        network_isolated=False,
    )


def run_sandboxed(spec: SandboxSpec) -> SandboxResult:
    """Run `spec.argv` as untrusted code and report what happened and how it was contained.

    Raises SandboxRefused when bubblewrap is unavailable and running bare is not allowed, and RunCancelled when
    the run was asked to stop before the command started.
    """
    check_cancelled()
    support = sandbox_support()
    if not support.available:
        refusal = unsandboxed_refusal()
        if refusal:
            raise SandboxRefused(refusal)
        logger.warning(unsandboxed_warning())  # every run; without logging set up this still reaches stderr
    scratch = make_scratch_directory()
    cgroup: RunCgroup | None = None
    seccomp_fd: int | None = None
    proxy: EgressProxy | None = None
    try:
        tree_copy = None
        if spec.tree is not None:
            tree_copy = scratch / "repo"
            copy_tree(spec.tree, tree_copy)
        cgroup = create_cgroup(spec.limits)
        workdir = spec.workdir if spec.tree is not None or spec.workdir != SANDBOX_REPO else SANDBOX_HOME
        if support.available:
            forwarder = None
            if spec.egress is not None:
                forwarder = shutil.which("socat")
                if forwarder is None:
                    return _failed_to_start(spec, NO_FORWARDER, "bubblewrap", limits_description(cgroup))
                proxy = EgressProxy(spec.egress, scratch / "egress.sock")
                proxy.start()
            seccomp_fd = _seccomp_descriptor()
            environment = _sandbox_environment(spec, SANDBOX_HOME, SANDBOX_TMP, proxied=proxy is not None)
            isolation = "bubblewrap"
            argv = bubblewrap_argv(
                support.bwrap,
                replace(spec, workdir=workdir),
                scratch=scratch,
                tree_copy=tree_copy,
                environment=environment,
                seccomp_fd=seccomp_fd,
                egress_socket=proxy.path if proxy is not None else None,
                forwarder=forwarder,
            )
            cwd = str(scratch)
        else:
            mapping = _bare_paths(spec, scratch, tree_copy)
            for directory in ("home", "tmp"):
                (scratch / directory).mkdir()
            environment = {
                name: _rewrite(value, mapping)
                for name, value in _sandbox_environment(spec, mapping[SANDBOX_HOME], mapping[SANDBOX_TMP]).items()
            }
            isolation = f"none: {support.reason}"
            argv = [_rewrite(arg, mapping) for arg in spec.argv]
            cwd = _rewrite(workdir, mapping)
        watch = DiskWatch((scratch, spec.outputs), spec.limits.disk_bytes)
        result = _run(spec, argv, cwd, environment, cgroup, seccomp_fd, isolation, watch, bubblewrap=support.available)
        return _with_refusals(result, proxy)
    except (OSError, ValueError) as error:
        return _failed_to_start(
            spec, f"cannot start the sandbox: {error}", f"none: {error}", limits_description(cgroup)
        )
    finally:
        if proxy is not None:
            with contextlib.suppress(OSError):
                proxy.close()
        if seccomp_fd is not None:
            os.close(seccomp_fd)
        if cgroup is not None:
            remove_cgroup(cgroup)
        remove_tree(scratch)


def _with_refusals(result: SandboxResult, proxy: EgressProxy | None) -> SandboxResult:
    """The result with what the egress proxy refused, also said at the end of stderr (where failures are read)."""
    if proxy is None or not proxy.refused:
        return result
    refused = tuple(proxy.refused)
    said = "\n".join(f"sandbox: the egress proxy refused: {reason}" for reason in refused)
    return replace(result, egress_refused=refused, stderr=f"{result.stderr}\n{said}".lstrip("\n"))


def _run(
    spec: SandboxSpec,
    argv: list[str],
    cwd: str,
    environment: dict[str, str],
    cgroup: RunCgroup | None,
    seccomp_fd: int | None,
    isolation: str,
    watch: DiskWatch,
    *,
    bubblewrap: bool,
) -> SandboxResult:
    limits = limits_description(cgroup)
    start = time.monotonic()
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={"PATH": environment["PATH"]} if bubblewrap else environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(seccomp_fd,) if seccomp_fd is not None else (),
            preexec_fn=lambda: enter_child_limits(spec.limits, cgroup),
        )
    except OSError as error:
        return _failed_to_start(spec, f"cannot start {argv[0]!r}: {error}", isolation, limits)
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = CappedCapture(spec.limits.output_bytes), CappedCapture(spec.limits.output_bytes)
    captures = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
    deadline = start + spec.timeout
    timed_out = False
    try:
        # Until the command exits: a descendant holding the pipes open must not stretch the run to its deadline.
        finished = drain(
            captures, deadline, stop=lambda: _exited(process.pid) or watch.over_limit() or stop_requested()
        )
        exited = _wait_unreaped(process.pid, deadline, watch)
        cancelled = not exited and stop_requested()
        timed_out = not watch.exceeded and not exited and not cancelled
        # Whatever is left (a detached descendant, a run past its time) dies now, then the pipes are emptied.
        _kill_everything(process.pid, cgroup)
        process.wait()
        if not finished:
            drain(captures, time.monotonic() + DRAIN_AFTER_EXIT)
    finally:
        if process.returncode is None:  # interrupted above: the leader is still unreaped, its group id ours
            _kill_everything(process.pid, cgroup)
            process.wait()
        elif cgroup is not None:
            kill_cgroup(cgroup)
        process.stdout.close()
        process.stderr.close()
    stderr_text = stderr.text()
    if watch.exceeded:
        stderr_text += f"\nsandbox: stopped: the run's files on disk passed the limit of {spec.limits.disk_bytes} bytes"
    if cancelled:
        stderr_text += "\nsandbox: stopped: the run was asked to stop"
    return SandboxResult(
        argv=tuple(spec.argv),
        returncode=-signal.SIGKILL if timed_out or watch.exceeded or cancelled else process.returncode,
        timed_out=timed_out,
        duration=time.monotonic() - start,
        stdout=stdout.text(),
        stderr=stderr_text,
        output_truncated=stdout.truncated or stderr.truncated,
        isolation=isolation,
        limits_enforced=limits,
        network_isolated=bubblewrap,  # never the host's namespace; egress, when granted, only through the proxy
        disk_exceeded=watch.exceeded,
        cancelled=cancelled,
    )
