"""The `evolve` command line's arguments: one sub-command per job, the same `--json`/`--quiet` everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from evolve import __version__
from evolve.cli.config_command import add_config_parser
from evolve.cli.exit_codes import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_RUN_FAILED
from evolve.environments.commands import add_env_parser, add_environment_options

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_RUN_FAILED", "build_parser"]

EPILOG = """exit codes:
  0  success (scan done, plan made, run succeeded, dry run, or nothing to do)
  1  run failed: no change passed every gate within the attempts
  2  bad input: not a git repository, no commits, invalid configuration, unknown focus or command;
     or the run cannot proceed: the test environment could not be built, or the suite does not start on base
  3  internal error (a bug: please report it with the output)
  130  stopped by Ctrl-C (the first one stops the run and its sandboxed tests; a second one quits at once)
"""


def _add_output_flags(parser: argparse.ArgumentParser, quiet: str = "no progress output on stderr") -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", type=Path, help="repository to work on (default: .)")
    _add_output_flags(parser)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="evolve",
        description="Research, plan and make small, proven improvements to a Python repository.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"evolve {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser(
        "scan",
        help="measure the code and list findings",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(scan)
    scan.add_argument(
        "--coverage", action="store_true", help="also run the repository's tests to measure line coverage (slow)"
    )
    scan.add_argument("--no-semgrep", action="store_true", help="skip the semgrep rules")
    scan.add_argument("--no-cache", action="store_true", help="ignore and do not update the scan cache")
    scan.add_argument("--limit", type=int, default=30, help="findings shown in the table (default 30)")
    add_environment_options(scan)

    plan = sub.add_parser(
        "plan",
        help="choose one PR-sized, single-theme set of tasks",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(plan)
    plan.add_argument("--focus", help="a theme or codemod id to plan for")
    plan.add_argument(
        "--base", default="HEAD", help="commit to plan for, as `evolve run --base` starts from it (default HEAD)"
    )
    plan.add_argument(
        "--working-tree",
        action="store_true",
        help="plan the files as they are on disk, uncommitted changes included (default: the committed tree, which "
        "is what `evolve run` changes)",
    )
    plan.add_argument("--markdown", action="store_true", help="print markdown with a Mermaid diagram")
    plan.add_argument("--llm", action="store_true", help="include LLM themes (needs ANTHROPIC_API_KEY)")
    plan.add_argument("--coverage", action="store_true", help="measure coverage first (enables the tests theme)")
    plan.add_argument(
        "--test-gaps",
        action="store_true",
        help="also sample mutants over the most important tested functions and list the test gaps "
        "(research.test_gaps; runs the tests with per-test coverage)",
    )
    plan.add_argument(
        "--no-base-suites",
        action="store_true",
        help="do not run base's tests first (on the newest declared, the oldest supported and the gates' Python)",
    )
    add_environment_options(plan)

    run = sub.add_parser(
        "run",
        help="make the change on a new branch, proven by the gates",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(run)
    run.add_argument("--focus", help="a theme or codemod id to work on")
    run.add_argument("--dry-run", action="store_true", help="print the diff; make no branch or commit")
    run.add_argument(
        "--llm",
        action="store_true",
        help="use Claude for docstrings/complexity/tests/security (needs ANTHROPIC_API_KEY)",
    )
    run.add_argument("--coverage", action="store_true", help="measure coverage during research")
    run.add_argument(
        "--test-gaps",
        action="store_true",
        help="also sample mutants over the most important tested functions and list the test gaps "
        "(research.test_gaps; runs the tests with per-test coverage)",
    )
    run.add_argument(
        "--no-base-suites",
        action="store_true",
        help="do not run base's tests first (on the newest declared, the oldest supported and the gates' Python)",
    )
    run.add_argument(
        "--output", type=Path, help="directory for report.json and report.md (default: .git/evolve/runs/<id>)"
    )
    run.add_argument("--base", default="HEAD", help="commit to start from (default HEAD)")
    add_environment_options(run)

    codemods = sub.add_parser("codemods", help="list the codemod catalog (installed plugins included)")
    _add_output_flags(codemods)

    feedback = sub.add_parser("feedback", help="teach the local learning store that a change was merged or closed")
    feedback.add_argument("path", type=Path, help="repository the change was for")
    feedback.add_argument("outcome", choices=["merged", "closed"])
    feedback.add_argument("--codemod", action="append", required=True, help="codemod id (repeatable)")
    _add_output_flags(feedback, quiet="print nothing on success")

    add_config_parser(sub, EPILOG)
    add_env_parser(sub)

    serve = sub.add_parser(
        "serve",
        help="run the GitHub App web server and worker",
        description="Run the GitHub App. Settings come from EVOLVE_* environment variables (docs/github-app.md); "
        "logs are text lines on stderr (EVOLVE_LOG_FORMAT=json: one JSON object per line), so serve takes neither "
        "--json nor --quiet.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--role",
        choices=["all", "web", "worker"],
        default="all",
        help="which parts to run: the web server (holds the App's key and mints workers' tokens), the worker "
        "(no key: needs EVOLVE_TOKEN_SERVICE_URL and EVOLVE_INTERNAL_SECRET), or both",
    )
    serve.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="with --role web: N web processes sharing the port (SO_REUSEPORT); EVOLVE_INTAKE_WRITER=process puts "
        "one delivery writer process behind them",
    )
    return parser
