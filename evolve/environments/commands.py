"""The command line's side of environments: `evolve env list|prune`, and the options `run`/`scan`/`plan`
share (`--python`, `--data-dir`, `--env-max-size`, `--index-url`, `--no-install-network`)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from evolve.environments.local_interpreter import local_venv, tracked_venv
from evolve.environments.model import EnvironmentSettings, default_cache_dir
from evolve.environments.store import DEFAULT_MAX_BYTES, EnvironmentStore, StoredEnvironment

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?\s*$", re.I)


def parse_size(text: str) -> int:
    """`5GiB`, `500M`, `1.5G`, `1000000` -> bytes (binary units)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 5GiB or 500M")
    power = " KMGT".index((match.group(2) or " ").upper())
    return int(float(match.group(1)) * 1024**power)


def human_size(size: int) -> str:
    """Bytes as `1.2 GiB`."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GiB"


def add_environment_options(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that run a repository's tests."""
    group = parser.add_argument_group("test environment")
    group.add_argument(
        "--python",
        help="run the tests with this interpreter as it is, probed and run only in the sandbox (default: the "
        "repository's own untracked .venv when it has one; a .venv git tracks is ignored), else an environment "
        "Evolve builds from the project's declared test dependencies)",
    )
    group.add_argument(
        "--build-env",
        action="store_true",
        help="build the environment from the project's declarations even when the repository has a .venv",
    )
    _add_store_options(group)
    group.add_argument(
        "--index-url",
        default=_first_set("EVOLVE_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"),
        help="package index for installs (default: EVOLVE_INDEX_URL, else UV_DEFAULT_INDEX, UV_INDEX_URL or "
        "PIP_INDEX_URL, else PyPI); installs reach only the indexes' hosts, through Evolve's egress proxy",
    )
    group.add_argument(
        "--extra-index-url",
        default=_first_set("EVOLVE_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"),
        help="further index (default: EVOLVE_EXTRA_INDEX_URL, else UV_EXTRA_INDEX_URL or PIP_EXTRA_INDEX_URL)",
    )
    group.add_argument(
        "--allow-test-network",
        action="store_true",
        default=os.environ.get("EVOLVE_TESTS_NETWORK", "").lower() in ("1", "true", "yes"),
        help="let the tests have network when the repository's config asks (gates.tests.allow_network): the "
        "package indexes through Evolve's egress proxy, never the host's network (env EVOLVE_TESTS_NETWORK)",
    )
    group.add_argument(
        "--no-install-network",
        action="store_true",
        default=os.environ.get("EVOLVE_INSTALL_NETWORK", "1").lower() in ("0", "false", "no"),
        help="install offline, from uv's cache only",
    )


def _add_store_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ["EVOLVE_ENV_DIR"]) if os.environ.get("EVOLVE_ENV_DIR") else None,
        help=f"where environments and uv's cache live (default {default_cache_dir()}; env EVOLVE_ENV_DIR)",
    )
    parser.add_argument(
        "--env-max-size",
        type=parse_size,
        default=parse_size(os.environ.get("EVOLVE_ENV_MAX_SIZE", ""))
        if os.environ.get("EVOLVE_ENV_MAX_SIZE")
        else None,
        help=f"size cap of the environment store, least recently used evicted first (default {human_size(DEFAULT_MAX_BYTES)})",
    )


def _first_set(*names: str) -> str | None:
    return next((os.environ[name] for name in names if os.environ.get(name, "").strip()), None)


COMMITTED_VENV = (
    "evolve: note: {venv}/ is committed to the repository (git tracks files in it), so it is not yours to run: "
    "it is ignored and an environment is built from the project's declarations instead"
)


def settings_from_args(args: argparse.Namespace, checkout: Path) -> EnvironmentSettings:
    """The CLI's environment settings: --python, else the checkout's own untracked .venv, else a built
    environment. The repository is the tenant: its own uv cache, its own environments."""
    identity = str(Path(checkout).resolve())
    settings = EnvironmentSettings(
        data_dir=getattr(args, "data_dir", None) or default_cache_dir(),
        max_bytes=getattr(args, "env_max_size", None) or DEFAULT_MAX_BYTES,
        install_network=not getattr(args, "no_install_network", False),
        index_url=getattr(args, "index_url", None),
        extra_index_url=getattr(args, "extra_index_url", None),
        tenant=identity,
        repository=identity,
        tests_network=bool(getattr(args, "allow_test_network", False)),
        egress_hosts=tuple(h.strip() for h in os.environ.get("EVOLVE_EGRESS_HOSTS", "").split(",") if h.strip()),
    )
    if getattr(args, "python", None):
        return _with_python(settings, args.python, "--python")
    own = None if getattr(args, "build_env", False) else local_venv(checkout)
    if own is None:
        return settings
    committed = tracked_venv(checkout, own)
    if committed is not None:
        print(COMMITTED_VENV.format(venv=committed), file=sys.stderr)
        return settings
    return _with_python(settings, own, "the repository's own virtualenv")


def _with_python(settings: EnvironmentSettings, python: str, origin: str) -> EnvironmentSettings:
    from dataclasses import replace

    return replace(settings, python=os.path.abspath(python), python_origin=origin)


def add_env_parser(sub: argparse._SubParsersAction) -> None:
    """`evolve env list|prune`."""
    env = sub.add_parser("env", help="list or prune the test environments Evolve built")
    actions = env.add_subparsers(dest="env_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="key, interpreter, size, last use and what each was built from")
    _add_store_options(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    prune = actions.add_parser("prune", help="remove environments: least recently used first down to a size")
    _add_store_options(prune)
    which = prune.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="remove every environment not being built right now")
    which.add_argument("--max-size", type=parse_size, help="evict least recently used until the store fits")
    which.add_argument("key", nargs="?", help="remove this environment")
    prune.add_argument("--json", action="store_true", help="print what was removed as JSON")
    prune.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def command_env(args: argparse.Namespace) -> int:
    """`evolve env list|prune`."""
    store = EnvironmentStore((args.data_dir or default_cache_dir()) / "envs", args.env_max_size or DEFAULT_MAX_BYTES)
    if args.env_command == "list":
        entries = store.entries()
        if args.json:
            print(json.dumps([_entry_dict(e) for e in entries], indent=2))
            return 0
        if not entries:
            print(f"no environments in {store.root}")
            return 0
        for entry in entries:
            used = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.last_used))
            print(f"{entry.key}  {human_size(entry.size_bytes):>10}  last used {used}  {entry.interpreter}")
            print(f"    built from: {entry.built_from}")
        total = sum(e.size_bytes for e in entries)
        print(f"{_environments(len(entries))}, {human_size(total)} in {store.root}")
        return 0
    if args.all:
        removed = [e.key for e in store.entries() if store.remove(e.key)]
    elif args.max_size is not None:
        removed = store.evict(max_bytes=args.max_size, now=float("inf"))
    else:
        if store.ready(args.key) is None:
            print(f"evolve: error: no environment {args.key!r} in {store.root}", file=sys.stderr)
            return 2
        removed = [args.key] if store.remove(args.key) else []
    store.sweep_staging()
    if args.json:
        print(json.dumps({"removed": removed}, indent=2))
    elif not args.quiet:
        print(f"removed {_environments(len(removed))}" + (": " + ", ".join(removed) if removed else ""))
    return 0


def _entry_dict(entry: StoredEnvironment) -> dict[str, object]:
    return {
        "key": entry.key,
        "path": str(entry.path),
        "size_bytes": entry.size_bytes,
        "last_used": entry.last_used,
        "interpreter": entry.interpreter,
        "built_from": entry.built_from,
        "install_commands": entry.metadata.get("install_commands", []),
    }


def _environments(count: int) -> str:
    """`1 environment`, `2 environments`."""
    return f"{count} environment{'' if count == 1 else 's'}"
