"""The `evolve` command line: scan, plan and run on any git checkout; serve the GitHub App."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from evolve import __version__
from evolve.config import ConfigError, load_config
from evolve.git import GitError
from evolve.plugins import PluginError
from evolve.progress import StepProgress
from evolve.sandbox import sweep_stale_sandboxes

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

EPILOG = """exit codes:
  0  success (scan done, plan made, run succeeded, dry run, or nothing to do)
  1  run failed: no change passed every gate within the attempts
  2  bad input: not a git repository, no commits, invalid configuration, unknown focus or command
  3  internal error (a bug: please report it with the output)
"""


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", type=Path, help="repository to work on (default: .)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output on stderr")


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

    plan = sub.add_parser(
        "plan",
        help="choose one PR-sized, single-theme set of tasks",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(plan)
    plan.add_argument("--focus", help="a theme or codemod id to plan for")
    plan.add_argument("--markdown", action="store_true", help="print markdown with a Mermaid diagram")
    plan.add_argument("--llm", action="store_true", help="include LLM themes (needs ANTHROPIC_API_KEY)")
    plan.add_argument("--coverage", action="store_true", help="measure coverage first (enables the tests theme)")

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
        "--output", type=Path, help="directory for report.json and report.md (default: .git/evolve/runs/<id>)"
    )
    run.add_argument("--base", default="HEAD", help="commit to start from (default HEAD)")

    codemods = sub.add_parser("codemods", help="list the codemod catalog")
    codemods.add_argument("--json", action="store_true", help="print JSON")

    feedback = sub.add_parser("feedback", help="teach the local learning store that a change was merged or closed")
    feedback.add_argument("path", type=Path, help="repository the change was for")
    feedback.add_argument("outcome", choices=["merged", "closed"])
    feedback.add_argument("--codemod", action="append", required=True, help="codemod id (repeatable)")

    serve = sub.add_parser("serve", help="run the GitHub App web server and worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--role", choices=["all", "web", "worker"], default="all", help="which parts to run (default all)"
    )
    return parser


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"evolve: error: {message}", file=sys.stderr)
    return code


def _repo_key(path: Path) -> str:
    return str(path.resolve())


def command_scan(args: argparse.Namespace) -> int:
    """`evolve scan`."""
    from evolve.research import render_scan_table, scan_repository

    if not args.path.is_dir():
        return _fail(f"{args.path} is not a directory")
    config = load_config(args.path)
    progress = StepProgress(enabled=not args.quiet)
    try:
        result = scan_repository(
            args.path,
            config,
            with_coverage=args.coverage,
            with_semgrep=not args.no_semgrep,
            use_cache=not args.no_cache,
            progress=progress,
        )
    finally:
        progress.close()
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(render_scan_table(result, limit=args.limit), end="")
    return EXIT_OK


def _announce_config(path: Path, quiet: bool) -> None:
    """Say which configuration file applies: `evolve plan` and `evolve run` both read the working tree's."""
    from evolve.config import config_source
    from evolve.git.trust import open_repository

    repository = open_repository(path)
    if not quiet and repository.work_tree is not None:
        print(f"config: {config_source(repository.work_tree)} (working tree)", file=sys.stderr)


def command_plan(args: argparse.Namespace) -> int:
    """`evolve plan`."""
    from evolve.engine import plan_repository
    from evolve.learn import LearningStore
    from evolve.plan_render import render_plan_markdown, render_plan_table
    from evolve.runs import RunOptions

    store = LearningStore()
    key = _repo_key(args.path)
    options = RunOptions(
        focus=args.focus,
        llm=args.llm,
        with_coverage=args.coverage,
        acceptance=store.acceptance(key),
        blocked_codemods=store.blocked(key),
    )
    _announce_config(args.path, args.quiet or args.json)
    progress = StepProgress(enabled=not args.quiet)
    try:
        outcome = plan_repository(args.path, options, progress=progress)
    finally:
        progress.close()
    plan = outcome.plan
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2))
    elif args.markdown:
        print(render_plan_markdown(plan), end="")
    else:
        print(render_plan_table(plan), end="")
    if plan.empty and any(note.startswith("unknown focus") for note in plan.notes):
        return EXIT_BAD_INPUT
    return EXIT_OK


def command_run(args: argparse.Namespace) -> int:
    """`evolve run`."""
    from evolve.engine import run_engine
    from evolve.learn import LearningStore
    from evolve.runs import RunOptions

    store = LearningStore()
    key = _repo_key(args.path)
    options = RunOptions(
        focus=args.focus,
        dry_run=args.dry_run,
        llm=args.llm,
        with_coverage=args.coverage,
        output_dir=args.output,
        base_ref=args.base,
        acceptance=store.acceptance(key),
        blocked_codemods=store.blocked(key),
    )
    try:
        _announce_config(args.path, args.quiet or args.json)
    except (ConfigError, GitError):
        pass  # the engine reports it, in the report too
    progress = StepProgress(enabled=not args.quiet)
    try:
        report = run_engine(args.path, options, progress=progress)
    finally:
        progress.close()
    if not args.json and not args.quiet:
        for note in (report.llm or {}).get("notes", []):
            print(f"evolve: note: {note}", file=sys.stderr)
    if report.status == "succeeded":
        store.record(key, [meta["id"] for meta in report.codemods], "proposed")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.status == "error":
        print(f"evolve: error: {report.message}", file=sys.stderr)
    elif report.status == "dry-run":
        print(report.diff, end="")
        print(f"\n{report.message}", file=sys.stderr)
    else:
        print(report.message)
        if report.branch:
            print(f"branch: {report.branch}  commit: {report.commit[:12] if report.commit else '-'}")
        if report.report_dir:
            print(f"report: {report.report_dir}/report.md")
    if report.status == "error":
        return EXIT_INTERNAL if report.message.startswith("internal error") else EXIT_BAD_INPUT
    if report.status == "failed":
        return EXIT_RUN_FAILED
    if (
        report.status == "nothing-to-do"
        and report.plan
        and any(n.startswith("unknown focus") for n in report.plan.notes)
    ):
        return EXIT_BAD_INPUT
    return EXIT_OK


def command_codemods(args: argparse.Namespace) -> int:
    """`evolve codemods`: the catalog."""
    from evolve.codemods.registry import available_codemods

    catalog = available_codemods()
    if args.json:
        print(json.dumps([cls.metadata.to_dict() for cls in catalog.values()], indent=2))
        return EXIT_OK
    width = max(len(cid) for cid in catalog)
    for cid, cls in catalog.items():
        meta = cls.metadata
        print(f"{cid.ljust(width)}  {meta.theme:<11} {meta.risk:<6} {meta.title}")
    return EXIT_OK


def command_feedback(args: argparse.Namespace) -> int:
    """`evolve feedback`: record a review outcome locally."""
    from evolve.codemods.registry import available_codemods
    from evolve.learn import LearningStore

    unknown = sorted(set(args.codemod) - set(available_codemods()))
    if unknown:
        return _fail(f"unknown codemod(s): {', '.join(unknown)}")
    store = LearningStore()
    store.record(_repo_key(args.path), args.codemod, args.outcome)
    for stats in store.stats(_repo_key(args.path)):
        if stats.codemod in args.codemod:
            print(f"{stats.codemod}: merged {stats.merged}, closed {stats.closed}, acceptance {stats.acceptance:.2f}")
    return EXIT_OK


def command_serve(args: argparse.Namespace) -> int:
    """`evolve serve`: the GitHub App."""
    from pydantic import ValidationError

    from bot.server import StartupRefused, serve

    try:
        serve(host=args.host, port=args.port, role=args.role)
    except StartupRefused as refused:
        return _fail(str(refused))
    except ValidationError as error:
        problems = "; ".join(f"EVOLVE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        return _fail(f"invalid settings: {problems}")
    return EXIT_OK


COMMANDS = {
    "scan": command_scan,
    "plan": command_plan,
    "run": command_run,
    "codemods": command_codemods,
    "feedback": command_feedback,
    "serve": command_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `evolve` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_BAD_INPUT
    sweep_stale_sandboxes()  # scratch copies and cgroups a crashed earlier run left behind
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, GitError, PluginError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
