"""`evolve config schema` and `evolve config check`: the configuration's JSON Schema, and a file checked exactly as
a run would check it (same loader, same messages)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evolve.cli.exit_codes import EXIT_BAD_INPUT, EXIT_OK
from evolve.config_loading.json_schema import config_json_schema, render_schema
from evolve.config_loading.loading import load_config, parse_config, parse_yaml_config, tomllib
from evolve.configuration.model import ConfigError, EvolveConfig
from evolve.git import GitError
from evolve.git.trust import open_repository
from evolve.plugins import PluginError


def add_config_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], epilog: str) -> None:
    """The `config` command and its two sub-commands."""
    config = sub.add_parser("config", help="print the configuration's JSON Schema, or check a configuration file")
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    schema = actions.add_parser("schema", help="print the JSON Schema of .github/evolve.yml (for editors)")
    schema.add_argument("-o", "--output", type=Path, help="write the schema to this file instead of stdout")
    schema.add_argument(
        "--built-ins-only", action="store_true", help="leave out installed third-party plugins (the shipped file)"
    )
    schema.add_argument("--json", action="store_true", help="accepted for symmetry: the schema is always JSON")
    schema.add_argument("-q", "--quiet", action="store_true", help="no confirmation on stderr when writing a file")
    check = actions.add_parser(
        "check",
        help="validate a configuration as a run would (exit 0 valid, 2 invalid)",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "path",
        nargs="?",
        default=Path("."),
        type=Path,
        help="an evolve.yml, a pyproject.toml, or a repository (its .github/evolve.yml or [tool.evolve]; default .)",
    )
    check.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing when the file is valid")


def command_config(args: argparse.Namespace) -> int:
    """`evolve config schema|check`."""
    if args.config_command == "schema":
        text = render_schema(config_json_schema(built_ins_only=args.built_ins_only))
        if args.output is None:
            sys.stdout.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
            if not args.quiet:
                print(f"evolve: wrote {args.output}", file=sys.stderr)
        return EXIT_OK
    return _check(args.path, as_json=args.json, quiet=args.quiet)


def load_config_file(path: Path) -> EvolveConfig:
    """Load one configuration file (YAML, or a pyproject.toml's [tool.evolve]) or a repository's configuration."""
    if path.is_dir():
        repository = open_repository(path)  # a GitError (exit 2) for a directory that is not a repository
        return load_config(repository.work_tree or path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from None
    if path.suffix != ".toml":
        return parse_yaml_config(text, str(path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from None
    section = data.get("tool", {}).get("evolve")
    if section is None:
        raise ConfigError(f"{path}: has no [tool.evolve] section")
    return parse_config(section, f"{path} [tool.evolve]")


def _check(path: Path, *, as_json: bool, quiet: bool) -> int:
    try:
        load_config_file(path)
    except (ConfigError, GitError, PluginError) as error:
        if as_json:
            print(json.dumps({"path": str(path), "valid": False, "error": str(error)}, indent=2))
        else:
            print(f"evolve: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if as_json:
        print(json.dumps({"path": str(path), "valid": True, "error": None}, indent=2))
    elif not quiet:
        print(f"{path}: valid evolve configuration")
    return EXIT_OK
