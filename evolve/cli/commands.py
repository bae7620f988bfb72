"""The `evolve` command line: scan, plan and run on any git checkout; serve the GitHub App."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evolve.cli.config_command import command_config
from evolve.cli.exit_codes import EXIT_INTERRUPTED
from evolve.cli.interrupt import Interrupted, run_interruptible
from evolve.cli.parser import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_RUN_FAILED, build_parser
from evolve.cli.progress import StepProgress
from evolve.cli.tree_notice import tree_notice
from evolve.config_loading.loading import load_config
from evolve.configuration.model import ConfigError
from evolve.configuration.operator_limits import OperatorLimits
from evolve.configuration.process_secrets import CLI_SEALED_VARIABLES, environment_secret, sealed_environment
from evolve.environments.commands import command_env, settings_from_args
from evolve.environments.model import EnvironmentFailure
from evolve.environments.prepare import prepare_environment
from evolve.git import GitError
from evolve.plugins import PluginError
from evolve.run_status import RunStatus
from evolve.sandbox import sweep_stale_sandboxes

if TYPE_CHECKING:
    from evolve.plan.learning import LearningStore
    from evolve.runs import RunOptions

NO_LLM_KEY = (
    "evolve: note: --llm needs ANTHROPIC_API_KEY in the environment; it is not set, "
    "so the plan uses the deterministic codemod catalog only"
)


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"evolve: error: {message}", file=sys.stderr)
    return code


def _operator_limits(args: argparse.Namespace) -> OperatorLimits:
    """The CLI user is the operator: their environment's limits, with `--allow-test-network` granting network."""
    limits = OperatorLimits.from_environment()
    if getattr(args, "allow_test_network", False):
        limits = limits.model_copy(update={"tests_network": True})
    return limits


def _repo_key(path: Path) -> str:
    return str(path.resolve())


def _require_repository(path: Path) -> Path:
    """The work tree at or above `path`; a GitError (exit 2) when `path` is not in a git repository."""
    from evolve.git.trust import open_repository

    repository = open_repository(path)
    return repository.work_tree or path


def command_scan(args: argparse.Namespace) -> int:
    """`evolve scan`."""
    from evolve.research import render_scan_table, scan_repository

    _require_repository(args.path)
    config = load_config(args.path)
    progress = StepProgress(enabled=not args.quiet)
    environment = None
    try:
        if args.coverage:
            prepared = run_interruptible(
                lambda: prepare_environment(args.path, config, settings_from_args(args, args.path)),
                say=progress.interrupt,
            )
            if isinstance(prepared, EnvironmentFailure):
                progress.close()
                return _fail(prepared.message)
            environment = prepared
            if not args.quiet and not args.json:
                print(f"evolve: tests run with {environment.description}", file=sys.stderr)
        result = run_interruptible(
            lambda: scan_repository(
                args.path,
                config,
                with_coverage=args.coverage,
                with_semgrep=not args.no_semgrep,
                use_cache=not args.no_cache,
                progress=progress,
                environment=environment,
            ),
            say=progress.interrupt,
        )
    finally:
        progress.close()
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(render_scan_table(result, limit=args.limit), end="")
    return EXIT_OK


def _announce_sources(args: argparse.Namespace, command: str, working_tree: bool = False) -> None:
    """Say which configuration file applies (`plan` and `run` both read the working tree's) and which tree the
    command works on: the commit (`--base`, default HEAD), saying which uncommitted Python files it leaves out,
    or, for `plan --working-tree`, the files on disk."""
    from evolve.config_loading.loading import config_source
    from evolve.engine import resolve_base
    from evolve.git.trust import open_repository
    from evolve.git.uncommitted import Uncommitted, uncommitted_python_files

    if args.quiet or args.json:
        return
    repository = open_repository(args.path)
    if repository.work_tree is None:
        return
    print(f"config: {config_source(repository.work_tree)} (working tree)", file=sys.stderr)
    sha = resolve_base(repository, args.base)
    uncommitted = uncommitted_python_files(repository.work_tree) if args.base == "HEAD" else Uncommitted()
    for line in tree_notice(command, args.base, sha, working_tree, uncommitted):
        print(line, file=sys.stderr)


def _focus_problem(focus: str | None, llm: bool) -> str | None:
    """Why `--focus` cannot be planned (checked before any work, so nothing runs and no report is written)."""
    from evolve.config_loading.plugin_settings import codemod_focuses, known_focuses, unknown_focus
    from evolve.plan.planner import LLM_THEMES

    if focus is None:
        return None
    valid = known_focuses()
    if focus not in valid:
        return f"--focus: {unknown_focus(focus, valid)}"
    if focus in LLM_THEMES and focus not in codemod_focuses() and not llm:
        return f"--focus {focus}: a theme only the LLM stage works on; add --llm (needs ANTHROPIC_API_KEY)"
    return None


def _run_options(args: argparse.Namespace, store: LearningStore, key: str, **extra: Any) -> RunOptions:
    """The engine's options from the flags `plan` and `run` share, with what this repository's reviews taught."""
    from evolve.runs import RunOptions

    return RunOptions(
        focus=args.focus,
        llm=args.llm,
        with_coverage=args.coverage,
        base_suites=not args.no_base_suites,
        test_gaps=args.test_gaps,
        base_ref=args.base,
        acceptance=store.acceptance(key),
        blocked_codemods=store.blocked(key),
        environment=settings_from_args(args, args.path),
        operator=_operator_limits(args),
        **extra,
    )


def command_plan(args: argparse.Namespace) -> int:
    """`evolve plan`."""
    from evolve.engine import plan_repository
    from evolve.plan.learning import LearningStore
    from evolve.plan.render import render_plan_markdown, render_plan_table

    focus_problem = _focus_problem(args.focus, args.llm)
    if focus_problem:
        return _fail(focus_problem)
    store = LearningStore()
    key = _repo_key(args.path)
    options = _run_options(args, store, key)
    _announce_sources(args, "plan", working_tree=args.working_tree)
    if args.llm and not args.quiet and not (environment_secret("ANTHROPIC_API_KEY") or "").strip():
        print(NO_LLM_KEY, file=sys.stderr)
    progress = StepProgress(enabled=not args.quiet)
    try:
        outcome = run_interruptible(
            lambda: plan_repository(args.path, options, progress=progress, working_tree=args.working_tree),
            progress.interrupt,
        )
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
    from evolve.plan.learning import LearningStore

    focus_problem = _focus_problem(args.focus, args.llm)
    if focus_problem:
        return _fail(focus_problem)
    store = LearningStore()
    key = _repo_key(args.path)
    options = _run_options(args, store, key, dry_run=args.dry_run, output_dir=args.output)
    try:
        _announce_sources(args, "run")
    except (ConfigError, GitError):
        pass  # the engine reports it, in the report too
    progress = StepProgress(enabled=not args.quiet)
    try:
        report = run_interruptible(lambda: run_engine(args.path, options, progress=progress), progress.interrupt)
    finally:
        progress.close()
    if not args.json and not args.quiet:
        for note in (report.llm or {}).get("notes", []):
            print(f"evolve: note: {note}", file=sys.stderr)
        if report.environment.get("description"):
            print(f"evolve: tests ran with {report.environment['description']}", file=sys.stderr)
    if report.status == RunStatus.SUCCEEDED:
        store.record(key, [meta["id"] for meta in report.codemods], "proposed")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.status == RunStatus.ERROR:
        print(f"evolve: error: {report.message}", file=sys.stderr)
    elif report.status == RunStatus.DRY_RUN:
        print(report.diff, end="")
        print(f"\n{report.message}", file=sys.stderr)
    else:
        print(report.message)
        if report.branch:
            print(f"branch: {report.branch}  commit: {report.commit[:12] if report.commit else '-'}")
        if report.report_dir:
            print(f"report: {report.report_dir}/report.md")
    if report.status == RunStatus.ERROR:
        return EXIT_INTERNAL if report.message.startswith("internal error") else EXIT_BAD_INPUT
    if report.status == RunStatus.FAILED:
        return EXIT_RUN_FAILED
    if (
        report.status == RunStatus.NOTHING_TO_DO
        and report.plan
        and any(n.startswith("unknown focus") for n in report.plan.notes)
    ):
        return EXIT_BAD_INPUT
    return EXIT_OK


def command_codemods(args: argparse.Namespace) -> int:
    """`evolve codemods`: the catalog."""
    from evolve.codemods.registry import available_codemods
    from evolve.plugins import settings_model

    catalog = available_codemods()  # --quiet changes nothing: the catalog is the output
    # Each codemod's settings with their defaults, as `codemods.<id>: {...}` takes them ({} for none).
    defaults = {cid: settings_model(cls)().model_dump(mode="json") for cid, cls in catalog.items()}
    if args.json:
        print(
            json.dumps(
                [{**cls.metadata.to_dict(), "settings": defaults[cid]} for cid, cls in catalog.items()], indent=2
            )
        )
        return EXIT_OK
    width = max(len(cid) for cid in catalog)
    for cid, cls in catalog.items():
        meta = cls.metadata
        print(f"{cid.ljust(width)}  {meta.theme:<11} {meta.risk:<6} {meta.title}")
        if defaults[cid]:
            print(f"{'':{width}}  settings: " + ", ".join(f"{key}={value!r}" for key, value in defaults[cid].items()))
    return EXIT_OK


def command_feedback(args: argparse.Namespace) -> int:
    """`evolve feedback`: record a review outcome locally."""
    from evolve.codemods.registry import CODEMODS, available_codemods
    from evolve.plan.learning import LearningStore

    _require_repository(args.path)
    CODEMODS.check_names(args.codemod, available_codemods(), where="--codemod")
    store = LearningStore()
    store.record(_repo_key(args.path), args.codemod, args.outcome)
    recorded = [stats for stats in store.stats(_repo_key(args.path)) if stats.codemod in args.codemod]
    if args.json:
        print(json.dumps([dataclasses.asdict(stats) for stats in recorded], indent=2))
    elif not args.quiet:
        for stats in recorded:
            print(f"{stats.codemod}: merged {stats.merged}, closed {stats.closed}, acceptance {stats.acceptance:.2f}")
    return EXIT_OK


def command_serve(args: argparse.Namespace) -> int:
    """`evolve serve`: the GitHub App."""
    from pydantic import ValidationError

    from bot.service.server import StartupRefused, serve

    try:
        serve(host=args.host, port=args.port, role=args.role, processes=args.processes)
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
    "config": command_config,
    "serve": command_serve,
    "env": command_env,
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
        # No child (the sandbox included) and no /proc reader sees the LLM key while the command runs.
        with sealed_environment(CLI_SEALED_VARIABLES):
            return COMMANDS[args.command](args)
    except (ConfigError, GitError, PluginError) as error:
        return _fail(str(error))
    except BrokenPipeError:
        return _reader_went_away()
    except Interrupted:  # Ctrl-C during the work: "stopping…" is said, the sandboxed child is killed
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:  # Ctrl-C outside the work (starting up, printing)
        print("evolve: stopped", file=sys.stderr)
        return EXIT_INTERRUPTED


def _reader_went_away() -> int:
    """`evolve ... --json | head`: the reader closed the pipe. Not an error; say nothing and exit 0."""
    # Point stdout at /dev/null so the interpreter's final flush does not raise again at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
