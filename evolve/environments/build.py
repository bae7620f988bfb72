"""Building one environment with uv: `uv venv` (no repository code runs), then `uv pip install` in the
sandbox (build backends and setup.py are repository code), into a staging directory renamed into place."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evolve.environments.install_plan import InstallMode, InstallPlan, shell_line
from evolve.environments.model import Environment, EnvironmentFailure, EnvironmentSettings, one_line_cause
from evolve.environments.store import EnvironmentStore
from evolve.environments.uv_tool import uv_binary
from evolve.sandbox import (
    SANDBOX_PATH,
    Mount,
    SandboxRefused,
    SandboxResult,
    SandboxSpec,
    record_interpreter,
    run_sandboxed,
    sandbox_support,
)
from evolve.untrusted_text import cap_text, redacted

REASON_LIMIT = 3000
ARTIFACTS = "evolve-compiled"  # inside the environment: extension modules built into the tree's copy
# Runs the install, then keeps the extension modules it compiled into the sandbox's copy of the tree.
_KEEP_COMPILED = (
    'dest="$1"; shift; marker="${TMPDIR:-/tmp}/evolve-install-start"; : > "$marker"; "$@"; status=$?; '
    'if [ "$status" -eq 0 ]; then find . -type f \\( -name "*.so" -o -name "*.pyd" \\) -newer "$marker" '
    '| while IFS= read -r f; do mkdir -p "$dest/$(dirname "$f")" && cp -p "$f" "$dest/$f"; done; fi; '
    'exit "$status"'
)
VENV_TIMEOUT = 120.0
Runner = Callable[[SandboxSpec], SandboxResult]
_SYSTEM_PREFIXES = ("/usr", "/bin", "/lib", "/lib64")


def uv_environment(settings: EnvironmentSettings) -> dict[str, str]:
    """What uv is told: our cache, no repository or user config, no interpreter downloads, the operator's index."""
    env = {
        "UV_CACHE_DIR": str(settings.uv_cache_dir),
        "UV_NO_CONFIG": "1",  # a repository's uv.toml / [tool.uv] must not redirect the cache or the index
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_LINK_MODE": "copy",  # environments never share inodes with the cache another repository reads
        "UV_NO_PROGRESS": "1",
        "UV_HTTP_TIMEOUT": "60",
        "UV_SYSTEM_CERTS": "1",  # the machine's CA store: corporate proxies and private mirrors work as for pip
        "UV_NATIVE_TLS": "1",  # the same, for uv releases before the rename
    }
    if settings.index_url:
        env["UV_INDEX_URL"] = settings.index_url
    if settings.extra_index_url:
        env["UV_EXTRA_INDEX_URL"] = settings.extra_index_url
    if not settings.install_network:
        env["UV_OFFLINE"] = "1"
    return env


def _readonly(paths: list[str]) -> tuple[Mount, ...]:
    kept = [p for p in dict.fromkeys(paths) if not any(p == s or p.startswith(s + "/") for s in _SYSTEM_PREFIXES)]
    return tuple(Mount(Path(p), p, False) for p in kept)


def shown_environment(key: str) -> str:
    """How published text names an environment's directory: by its key, never the host path."""
    return f"envs/{key}"


def without_host_paths(text: str, replacements: dict[str, str]) -> str:
    """`text` with each host path replaced by what published text shows instead (longest first)."""
    for path in sorted(replacements, key=len, reverse=True):
        if path:
            text = text.replace(path, replacements[path])
    return text


def _host_paths(plan: InstallPlan, staged: Path, settings: EnvironmentSettings, uv: str) -> dict[str, str]:
    return {
        str(staged): shown_environment(plan.key),
        str(settings.uv_cache_dir): "<uv cache>",
        str(settings.data_dir): "<data dir>",
        str(Path(uv).parent) + "/": "",
        plan.interpreter.path: f"python{plan.interpreter.version_text}",
    }


def failure_reason(result: SandboxResult, hidden: dict[str, str] | None = None) -> str:
    """The builder's own words: the end of its error output (where uv and pip put the cause), capped, redacted,
    and with host paths replaced by names (`hidden`)."""
    text = (result.stderr.strip() or result.stdout.strip()) or f"exit code {result.returncode}"
    if result.timed_out:
        text = f"timed out after {result.duration:.0f}s\n{text}"
    return redacted(cap_text(without_host_paths(text, hidden or {}), REASON_LIMIT, keep="tail"))


def _create_venv(
    plan: InstallPlan, staged: Path, settings: EnvironmentSettings, uv: str, hidden: dict[str, str]
) -> str | None:
    """`uv venv`: runs only the chosen interpreter (to ask its version), never repository code. On the host, so
    with a uv cache of Evolve's own that no sandbox mounts (uv keeps interpreter facts there): a build's writes
    to its tenant's cache never steer what the host does."""
    argv = [uv, "venv", "--python", plan.interpreter.path, "--relocatable", "--no-project", "-q", str(staged)]
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(settings.data_dir),
        **uv_environment(settings),
        "UV_CACHE_DIR": str(settings.data_dir / "uv-host-cache"),
    }
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=VENV_TIMEOUT, cwd=settings.data_dir, env=env
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"uv venv failed: {error}"
    if done.returncode == 0:
        return None
    return redacted(cap_text(without_host_paths(done.stderr.strip(), hidden), REASON_LIMIT, keep="tail"))


def _modes(plan: InstallPlan) -> list[InstallMode]:
    """Editable where the sandbox keeps the tree's path at test time, then a regular install, then the declared
    requirements alone (the tree is on PYTHONPATH anyway): a CI service would stop earlier, but a suite that
    imports the tree often runs without its package being installed."""
    if not plan.install_self:
        return ["without-project"]
    # Without bubblewrap the tree is not at /work/repo at test time, so an editable install would point nowhere.
    first: list[InstallMode] = ["editable", "regular"] if sandbox_support().available else ["regular"]
    return [*first, "without-project"]


@dataclass(frozen=True)
class Installed:
    """What the install step did: the commands shown in the report, why it failed (None: it worked), notes, and
    why the project itself could not be installed when only its declared requirements were."""

    shown: list[str]
    reason: str | None
    notes: list[str]
    project_failure: str | None = None


def _install(
    root: Path, plan: InstallPlan, staged: Path, settings: EnvironmentSettings, uv: str, run: Runner
) -> Installed:
    """Run the install (editable first where the sandbox keeps the tree's path, then a regular install)
    and any configured commands."""
    python = str(staged / "bin" / "python")
    constraints = None
    if plan.constraints:
        constraints = str(staged / "evolve-constraints.txt")
        Path(constraints).write_text("\n".join(plan.constraints) + "\n", encoding="utf-8")
    mounts = (
        Mount(staged, str(staged), True),
        Mount(settings.uv_cache_dir, str(settings.uv_cache_dir), True),
        *_readonly([str(Path(uv).parent), plan.interpreter.prefix]),
    )
    env = uv_environment(settings)
    if not (root / "PKG-INFO").exists():
        # setuptools-scm / hatch-vcs read the version from git, and the sandbox's copy has no .git.
        env["SETUPTOOLS_SCM_PRETEND_VERSION"] = "0.0.0+evolve"
    hidden = _host_paths(plan, staged, settings, uv)
    tried: list[str] = []
    notes: list[str] = []
    reason = None
    project_failure = None
    for mode in _modes(plan):
        argv = plan.install_argv(uv, python, mode, constraints)
        tried.append(without_host_paths(shell_line(["uv", *argv[1:]]), hidden))
        wrapped = ("/bin/sh", "-c", _KEEP_COMPILED, "evolve-install", str(staged / ARTIFACTS), *argv)
        result = run(
            SandboxSpec(
                wrapped if mode == "editable" else tuple(argv),
                settings.build_timeout,
                tree=root,
                env=env,
                egress=settings.egress_policy if settings.install_network else None,
                mounts=mounts,
            )
        )
        if result.ok:
            if mode == "regular":
                notes.append("the project could not be installed editable; it was installed normally")
            elif mode == "without-project" and plan.install_self:
                project_failure = one_line_cause(reason or "")
                notes.append(
                    "the project itself could not be installed, so its tree is on PYTHONPATH and its own runtime "
                    f"requirements may be missing: {cap_text(reason or '', 600, keep='tail')}"
                )
            reason = None
            break
        reason = failure_reason(result, hidden)
    if reason is not None:
        return Installed(tried, reason, notes)
    shown = tried[-1:]  # the install that worked
    path = f"{staged}/bin:{Path(uv).parent}:{SANDBOX_PATH}"
    for command in plan.commands:
        shown.append(command)
        result = run(
            SandboxSpec(
                ("/bin/sh", "-c", command),
                settings.build_timeout,
                tree=root,
                env={**env, "PATH": path, "VIRTUAL_ENV": str(staged)},
                egress=settings.egress_policy if settings.install_network else None,
                mounts=mounts,
            )
        )
        if not result.ok:
            return Installed(shown, f"`{command}` failed: {failure_reason(result, hidden)}", notes, project_failure)
    return Installed(shown, None, notes, project_failure)


def environment_from(plan: InstallPlan, store: EnvironmentStore, record: dict, reused: bool) -> Environment:
    """The Environment value for a stored build, from Evolve's record of it (never from files inside it)."""
    path = store.path(plan.key)
    sources = tuple(record.get("sources", ()))
    origin = "; ".join(sources) if sources else "no declarations"
    version = str(record.get("python_version") or plan.interpreter.version_text)
    python = str(path / "bin" / "python")
    mounts = tuple(str(mount) for mount in record_interpreter(python, [str(m) for m in record.get("mounts", ())]))
    return Environment(
        python=python,
        kind="built",
        description=f"Python {version}, built by Evolve from {origin}",
        mounts=mounts,
        key=plan.key,
        install_commands=tuple(record.get("install_commands", ())),
        build_seconds=0.0 if reused else float(record.get("build_seconds", 0.0)),
        reused=reused,
        sources=sources,
        notes=tuple(record.get("notes", ())),
        compiled_artifacts=str(path / ARTIFACTS) if record.get("compiled_artifacts") else None,
        install_failure=record.get("install_failure"),
    )


def environment_record(plan: InstallPlan, store: EnvironmentStore, staged: Path) -> dict:
    """What Evolve records when it creates an environment: the interpreter it probed (path, version, prefix)
    and what a sandbox binds to run it (the environment and the interpreter's prefix), decided now."""
    final = store.path(plan.key)
    return {
        "key": plan.key,
        "python": str(final / "bin" / "python"),
        "python_version": plan.interpreter.version_text,
        "interpreter": plan.interpreter.describe(),
        "interpreter_path": plan.interpreter.path,
        "interpreter_prefix": plan.interpreter.prefix,
        "mounts": [m.source.as_posix() for m in _readonly([str(final), plan.interpreter.prefix])],
        "compiled_artifacts": (staged / ARTIFACTS).is_dir() and not (staged / ARTIFACTS).is_symlink(),
    }


def build_environment(
    root: Path, plan: InstallPlan, store: EnvironmentStore, settings: EnvironmentSettings, run: Runner = run_sandboxed
) -> Environment | EnvironmentFailure:
    """The environment of `plan`: reused when the store has it, else built once (other runs wait on the lock)."""
    found = store.ready(plan.key)
    if found is not None:
        store.touch(plan.key)
        return environment_from(plan, store, found, reused=True)
    uv = uv_binary()
    if uv is None:
        return EnvironmentFailure("uv is not installed (it ships with Evolve: reinstall evolve-bot)")
    settings.uv_cache_dir.mkdir(parents=True, exist_ok=True)
    with store.locked(plan.key):
        found = store.ready(plan.key)
        if found is not None:  # built by another run while we waited
            store.touch(plan.key)
            return environment_from(plan, store, found, reused=True)
        started = time.monotonic()
        staged = store.staging(plan.key)
        try:
            created = f"uv venv --python {plan.interpreter.version_text} {shown_environment(plan.key)}"
            failure = _create_venv(plan, staged, settings, uv, _host_paths(plan, staged, settings, uv))
            if failure is not None:
                return EnvironmentFailure(failure, (created,))
            try:
                installed = _install(root, plan, staged, settings, uv, run)
            except SandboxRefused as error:
                return EnvironmentFailure(str(error))
            seconds = time.monotonic() - started
            shown, notes = installed.shown, installed.notes
            if installed.reason is not None:
                return EnvironmentFailure(installed.reason, tuple(shown), seconds)
            metadata = {
                **environment_record(plan, store, staged),
                "sources": list(plan.sources),
                "install_commands": [created, *shown],
                "requirements": list(plan.requirements),
                "notes": [*plan.notes, *notes],
                "install_failure": installed.project_failure,
                "build_seconds": round(seconds, 3),
                "built_at": time.time(),
                "repository": settings.repository,
            }
            store.publish(plan.key, staged, metadata)
        finally:
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)
    store.evict(keep=frozenset({plan.key}))
    return environment_from(plan, store, metadata, reused=False)
