"""The single place that runs a repository's tests, as untrusted code, optionally measuring line coverage."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from evolve.configuration.model import EvolveConfig
from evolve.configuration.path_kinds import COVERAGE_OMIT
from evolve.environments.model import Environment
from evolve.environments.test_commands import TestCommand, detect_test_command
from evolve.sandbox import (
    SANDBOX_OUT,
    SANDBOX_PATH,
    SANDBOX_REPO,
    EgressPolicy,
    Mount,
    ResourceLimits,
    SandboxResult,
    SandboxSpec,
    interpreter_mounts,
    read_output_file,
    run_sandboxed,
)
from evolve.sandbox.trees import make_scratch_directory, remove_tree
from evolve.suites.live_progress import PLUGIN_MODULE, PROGRESS_FILE, ProgressWatcher, TestProgress, install_plugin
from evolve.suites.reports import (
    TestReport,
    blamed_files,
    frame_paths,
    read_junit,
    read_unittest_output,
    relative_source_path,
    with_runner_counts,
)
from evolve.suites.runner_counts import COUNTS_FILE, install_counts_plugin, parse_counts
from evolve.suites.runner_counts import PLUGIN_MODULE as COUNTS_PLUGIN
from evolve.suites.test_contexts import (
    CONTEXTS_PLUGIN,
    DURATIONS_FILE,
    DURATIONS_LIMIT,
    contexts_from_coverage,
    install_contexts_plugin,
    read_durations,
)
from evolve.suites.unittest_contexts import UNITTEST_RUNNER, install_unittest_runner
from evolve.untrusted_text import cap_text, redacted

__all__ = ["TestCommand", "TestRun", "coverage_rcfile", "detect_test_command", "run_test_suite"]

PYTEST_NO_TESTS = 5  # pytest's (and, since 3.12, unittest's) exit code for "no tests collected"
DETAILS_LIMIT = 20_000
OUTPUT_TAIL_LIMIT = 4_000
TEST_ID_LIMIT = 500
FAILING_TESTS_LIMIT = 500
JUNIT_LIMIT = 32 * 1024**2
COVERAGE_JSON_LIMIT = 64 * 1024**2
DATA_FILE = f"{SANDBOX_OUT}/coverage.data"


@dataclass(frozen=True)
class TestRun:
    """What one run of a repository's test suite showed. A value: picklable, JSON-ready via `to_dict`."""

    __test__ = False

    command: tuple[str, ...]
    returncode: int
    timed_out: bool
    duration: float
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0  # as the runner reports them: never folded into skipped or passed
    xpassed: int = 0
    subtests_passed: int = 0
    subtests_failed: int = 0
    subtests_skipped: int = 0
    failing_tests: tuple[str, ...] = ()
    failure_details: str = ""
    blamed_files: tuple[str, ...] = ()
    no_tests: bool = False
    coverage_percent: float | None = None
    covered_lines: dict[str, list[int]] = field(default_factory=dict, hash=False)
    executable_lines: dict[str, list[int]] = field(default_factory=dict, hash=False)
    output_tail: str = ""
    isolation: str = ""  # "bubblewrap" or "none: <why>"
    limits_enforced: str = ""  # e.g. "cgroup v1 memory+pids"
    # The files coverage measured when limited to them (None: every file); `coverage_from_base` once the other
    # files' lines were completed from base's run (see evolve/suites/coverage_scope.py).
    coverage_scope: tuple[str, ...] | None = None
    coverage_from_base: bool = False
    # Test file -> its tests that passed (`Class.test_x`): a changed line inside one counts as executed.
    passed_tests: dict[str, list[str]] = field(default_factory=dict, hash=False)
    # Which tests ran each line (`TestContexts.to_dict()`), when the run recorded per-test contexts.
    test_contexts: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def ok(self) -> bool:
        """Whether the suite finished in time without failures (an empty suite counts as ok)."""
        return not self.timed_out and (self.returncode == 0 or self.no_tests)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TestRun:
        """Rebuild from :meth:`to_dict` output."""
        values = dict(raw)
        for key in ("command", "failing_tests", "blamed_files"):
            values[key] = tuple(values.get(key, ()))
        if values.get("coverage_scope") is not None:
            values["coverage_scope"] = tuple(values["coverage_scope"])
        return cls(**values)


def run_test_suite(
    root: Path,
    config: EvolveConfig,
    *,
    with_coverage: bool,
    timeout: float | None = None,
    python: str | None = None,
    limits: ResourceLimits = ResourceLimits(),
    environment: Environment | None = None,
    progress: TestProgress | None = None,
    coverage_paths: Sequence[str] | None = None,
    with_contexts: bool = False,
) -> TestRun:
    """Run the tests of a copy of `root` in the sandbox, with `environment`'s interpreter (else `python`, else
    Evolve's own). Never raises for failing, crashing or hanging tests (only SandboxRefused, when there is no
    sandbox and running without one is not allowed). `progress` hears (tests done, total) of a pytest suite.
    `coverage_paths` limits line coverage to those files (see evolve/suites/coverage_scope.py). `with_contexts`
    (pytest or unittest, with coverage) records which tests run each line (see evolve/suites/test_contexts.py)."""
    root = Path(root)
    python = environment.python if environment is not None else (python or sys.executable)
    command = detect_test_command(root, config.gates.tests.command)
    if command is None:
        return TestRun(
            command=(),
            returncode=0,
            timed_out=False,
            duration=0.0,
            no_tests=True,
            output_tail="No tests found (no test files, tests directory or conftest.py).",
        )
    budget = float(timeout if timeout is not None else config.gates.tests.timeout)
    outputs = make_scratch_directory()  # swept at start-up if this process dies before removing it
    try:
        mounts = environment.mounts if environment is not None else ()
        compiled = environment.compiled_artifacts if environment is not None else None
        return _run_in(
            root,
            command,
            outputs,
            budget,
            with_coverage,
            python,
            config,
            limits,
            mounts,
            progress,
            compiled,
            coverage_paths=tuple(coverage_paths) if coverage_paths is not None else None,
            egress=environment.egress if environment is not None else None,
            with_contexts=with_contexts,
        )
    finally:
        remove_tree(outputs)


def coverage_rcfile(contexts: bool = False) -> str:
    """Our coverage configuration: line coverage of the repository's own code (its tests, virtualenvs and
    build tooling omitted). The measured tree and the data file are given on the command line. `contexts`: the
    JSON report names the tests that ran each line."""
    omit = "\n    ".join(COVERAGE_OMIT)
    return (
        f"[run]\nbranch = False\nomit =\n    {omit}\n[report]\nignore_errors = True\n"
        f"[json]\nshow_contexts = {contexts}\n"
    )


def pytest_cov_installed(python: str) -> bool:
    """Whether the interpreter's environment has pytest-cov (read from the file system, never by running it)."""
    prefix = Path(python).parent.parent
    return any(prefix.glob("lib/python3*/site-packages/pytest_cov"))


SYSMON_PYTHON = (3, 12)  # sys.monitoring: coverage's low-overhead core for line coverage
SYSMON_COVERAGE = (7, 4)  # the first coverage.py that reads COVERAGE_CORE=sysmon


# Per-test contexts need a tracer core. sys.monitoring reports a line once and then disables it, so under sysmon a
# line is recorded for the first test that runs it only (coverage 7.15.3+ warns `no-sysmon-context`): on boltons,
# 3,780 (line, test) pairs instead of 28,496 (benchmarks/bench_context_core.py). Python 3.14 makes sysmon coverage's
# default, so the C tracer is asked for by name (coverage < 7.4 ignores the variable and uses it anyway).
CONTEXTS_CORE = {"COVERAGE_CORE": "ctrace"}


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit()) if part[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _environment_versions(python: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(Python version, coverage.py version) of the venv `python` belongs to, read from its files: the
    `lib/python3.X` directory and coverage's dist-info name (running it would run the venv's `.pth` files)."""
    if os.path.realpath(Path(python).parent.parent) == os.path.realpath(sys.prefix):
        try:
            coverage = _version(importlib.metadata.version("coverage"))
        except importlib.metadata.PackageNotFoundError:
            coverage = ()
        return tuple(sys.version_info[:2]), coverage
    prefix = Path(python).parent.parent
    for site in sorted(prefix.glob("lib/python3*/site-packages")):
        python_version = _version(site.parent.name.removeprefix("python"))
        found = sorted(site.glob("coverage-*.dist-info"))
        coverage = _version(found[0].name[len("coverage-") : -len(".dist-info")]) if found else ()
        return python_version, coverage
    return (), ()


def coverage_core(python: str) -> dict[str, str]:
    """`COVERAGE_CORE=sysmon` where the interpreter (3.12+) and its coverage.py (7.4+) support it: line coverage
    through sys.monitoring costs a fraction of the C tracer's time. Empty otherwise (the default core)."""
    python_version, coverage = _environment_versions(python)
    return {"COVERAGE_CORE": "sysmon"} if python_version >= SYSMON_PYTHON and coverage >= SYSMON_COVERAGE else {}


def _argv(
    command: TestCommand, python: str, rcfile: str | None, coverage_paths: tuple[str, ...] | None = None
) -> list[str]:
    if command.runner == "other":
        return list(command.args)
    # `--include` measures only the named files (coverage ignores it beside `--source`, so it replaces it).
    measured = (
        f"--include={','.join(f'{SANDBOX_REPO}/{path}' for path in coverage_paths)}"
        if coverage_paths is not None
        else f"--source={SANDBOX_REPO}"
    )
    coverage = ["-m", "coverage", "run", f"--rcfile={rcfile}", measured, f"--data-file={DATA_FILE}"]
    prefix = [python, *coverage] if rcfile else [python]
    if command.runner == "pytest":
        return [
            *prefix,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={SANDBOX_OUT}/junit.xml",
            # One module that fails to import (PyJWT 1.5.3's tests/test_utils.py, marks in parametrize values)
            # must not stop the others: it counts as one failing module, on base and head alike.
            "--continue-on-collection-errors",
            # pytest-cov (a project's addopts may ask for it) would replace our tracer: the coverage is ours.
            *(["--no-cov"] if rcfile and pytest_cov_installed(python) else []),
            *command.args,
        ]
    return [*prefix, "-m", "unittest", *command.args]


def _with_coverage_report(argv: list[str], python: str, rcfile: str) -> list[str]:
    """Run the tests, then (in the same sandbox, on the same copy) turn coverage data into JSON;
    the exit status stays the tests'."""
    report = [
        python,
        "-m",
        "coverage",
        "json",
        f"--rcfile={rcfile}",
        f"--data-file={DATA_FILE}",
        "-o",
        f"{SANDBOX_OUT}/coverage.json",
        "-q",
    ]
    script = f'"$@"; status=$?; {" ".join(report)} >/dev/null 2>&1; exit $status'
    return ["/bin/sh", "-c", script, "evolve-tests", *argv]


def with_compiled_artifacts(argv: tuple[str, ...], compiled_artifacts: str | None) -> tuple[str, ...]:
    """`argv` preceded by copying the environment's compiled extension modules into the tree (see below)."""
    return _with_compiled(argv, compiled_artifacts)


def _with_compiled(argv: tuple[str, ...], compiled_artifacts: str | None) -> tuple[str, ...]:
    """First copy the extension modules the environment's build compiled into the tree (they live in the
    read-only environment) into this run's copy, so an in-tree import finds them as after `pip install -e`."""
    if not compiled_artifacts:
        return argv
    script = 'cp -R "$1"/. ./ 2>/dev/null; shift; exec "$@"'
    return ("/bin/sh", "-c", script, "evolve-compiled", compiled_artifacts, *argv)


def _run_in(
    root: Path,
    command: TestCommand,
    outputs: Path,
    budget: float,
    with_coverage: bool,
    python: str,
    config: EvolveConfig,
    limits: ResourceLimits,
    extra_mounts: tuple[str, ...] = (),
    progress: TestProgress | None = None,
    compiled_artifacts: str | None = None,
    *,
    coverage_paths: tuple[str, ...] | None = None,
    egress: EgressPolicy | None = None,
    with_contexts: bool = False,
) -> TestRun:
    measure = with_coverage and command.runner != "other"
    contexts = measure and with_contexts and command.runner in ("pytest", "unittest")
    rcfile = None
    if measure:
        rcfile = f"{SANDBOX_OUT}/coveragerc"
        (outputs / "coveragerc").write_text(coverage_rcfile(contexts), encoding="utf-8")
    scope = coverage_paths if measure else None
    argv = _argv(command, python, rcfile, scope)
    try:
        mounts = interpreter_mounts(python) if command.runner != "other" else interpreter_mounts(sys.executable)
        # A built environment names its own read-only mounts (its venv and interpreter): a venv whose python
        # links to the same binary as Evolve's must not be mistaken for Evolve's.
        mounts += tuple(Mount(Path(path), path) for path in extra_mounts if all(m.target != path for m in mounts))
    except ValueError as error:
        return TestRun(command=tuple(argv), returncode=127, timed_out=False, duration=0.0, output_tail=str(error))
    env = {**import_path_environment(root), "PATH": f"{Path(python).parent}:{SANDBOX_PATH}"}
    if rcfile and not contexts:
        env.update(coverage_core(python))
    if contexts:
        env.update(CONTEXTS_CORE)
    if contexts:
        argv = _with_contexts_plugin(argv, outputs, env)
    watched = progress is not None and command.runner == "pytest"
    if command.runner == "pytest":
        install_counts_plugin(outputs)
        if f":{SANDBOX_OUT}" not in env["PYTHONPATH"]:
            env["PYTHONPATH"] += f":{SANDBOX_OUT}"
        env["EVOLVE_COUNTS_FILE"] = f"{SANDBOX_OUT}/{COUNTS_FILE}"
        at = argv.index("pytest") + 1
        argv = [*argv[:at], "-p", COUNTS_PLUGIN, *argv[at:]]
    if watched:
        install_plugin(outputs)
        env["EVOLVE_PROGRESS_FILE"] = f"{SANDBOX_OUT}/{PROGRESS_FILE}"
        at = argv.index("pytest") + 1
        argv = [*argv[:at], "-p", PLUGIN_MODULE, *argv[at:]]
    spec = SandboxSpec(
        argv=_with_compiled(tuple(_with_coverage_report(argv, python, rcfile) if rcfile else argv), compiled_artifacts),
        timeout=budget,
        tree=root,
        env=env,
        egress=egress if config.gates.tests.allow_network else None,
        mounts=mounts,
        outputs=outputs,
        limits=limits,
    )
    if watched and progress is not None:
        with ProgressWatcher(outputs, progress):
            result = run_sandboxed(spec)
    else:
        result = run_sandboxed(spec)
    report = _read_report(command, result, outputs, root)
    files = _coverage_files(outputs) if measure and not result.timed_out else None
    coverage = _read_coverage(files, root) if files is not None else None
    if coverage is not None and scope is not None:
        coverage = _with_unimported(coverage, root, scope)
    run = _assemble(command, argv, result, report, coverage, root)
    if contexts and files is not None:
        run = replace(run, test_contexts=_read_test_contexts(files, outputs, root))
    return replace(run, coverage_scope=scope) if scope is not None and coverage is not None else run


def _with_contexts_plugin(argv: list[str], outputs: Path, env: dict[str, str]) -> list[str]:
    """Load the per-test contexts plugin into a pytest run (its module in the output directory); a unittest run
    goes through Evolve's unittest runner instead of `-m unittest` (see evolve/suites/unittest_contexts.py)."""
    env["EVOLVE_DURATIONS_FILE"] = f"{SANDBOX_OUT}/{DURATIONS_FILE}"
    if "pytest" not in argv:
        install_unittest_runner(outputs)
        at = argv.index("unittest")
        return [*argv[: at - 1], f"{SANDBOX_OUT}/{UNITTEST_RUNNER}", *argv[at + 1 :]]
    install_contexts_plugin(outputs)
    if f":{SANDBOX_OUT}" not in env["PYTHONPATH"]:
        env["PYTHONPATH"] += f":{SANDBOX_OUT}"
    at = argv.index("pytest") + 1
    return [*argv[:at], "-p", CONTEXTS_PLUGIN, *argv[at:]]


def _coverage_files(outputs: Path) -> dict[str, Any] | None:
    """The `files` table of the sandbox's coverage JSON (untrusted data), read and parsed once per run."""
    raw = read_output_file(outputs, "coverage.json", COVERAGE_JSON_LIMIT)
    try:
        document = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    files = document.get("files") if isinstance(document, dict) else None
    return files if isinstance(files, dict) else None


def _read_test_contexts(files: dict[str, Any], outputs: Path, root: Path) -> dict[str, Any]:
    """Which tests ran each line, from the coverage JSON's files and the plugin's durations (both untrusted data)."""
    relative = {str(name): path for name in files if (path := relative_source_path(str(name), root)) is not None}
    durations = read_durations(read_output_file(outputs, DURATIONS_FILE, DURATIONS_LIMIT))
    return contexts_from_coverage(files, relative, durations).to_dict()


def _with_unimported(coverage: tuple[LineMap, LineMap], root: Path, scope: tuple[str, ...]) -> tuple[LineMap, LineMap]:
    """A scoped file no test imported is absent from coverage's data (only `--source` reports unexecuted files):
    its statements, as coverage.py parses them (read as text, never run), all missed."""
    covered, executable = dict(coverage[0]), dict(coverage[1])
    for path in scope:
        if path in executable or not (root / path).is_file():
            continue
        statements = executable_statements((root / path).read_text(encoding="utf-8", errors="replace"))
        if statements is not None:
            covered[path], executable[path] = [], statements
    return covered, executable


def executable_statements(source: str) -> list[int] | None:
    """The lines coverage.py counts as statements in `source` (default exclusions applied), or None when it
    cannot parse it."""
    from coverage.config import DEFAULT_EXCLUDE
    from coverage.misc import join_regex
    from coverage.parser import PythonParser

    try:
        parser = PythonParser(text=source, exclude=join_regex(DEFAULT_EXCLUDE))
        parser.parse_source()
    except Exception:  # coverage's own NotPython and whatever its parser raises on hostile text
        return None
    return sorted(parser.statements)


def import_path_environment(root: Path) -> dict[str, str]:
    """PYTHONPATH so the copy's own code is imported without installing it (`src/` layouts too)."""
    entries = [f"{SANDBOX_REPO}/src"] if (root / "src").is_dir() else []
    entries.append(SANDBOX_REPO)
    return {"PYTHONPATH": ":".join(entries)}


def _read_report(command: TestCommand, result: SandboxResult, outputs: Path, root: Path) -> TestReport | None:
    if command.runner == "pytest":
        junit = read_output_file(outputs, "junit.xml", JUNIT_LIMIT)
        report = read_junit(junit.decode("utf-8", "replace"), root) if junit is not None else None
        return with_runner_counts(report, parse_counts(read_output_file(outputs, COUNTS_FILE, 64 * 1024)))
    if command.runner == "unittest":
        return read_unittest_output(result.stderr + "\n" + result.stdout)
    return None


LineMap = dict[str, list[int]]


def _read_coverage(files: dict[str, Any], root: Path) -> tuple[LineMap, LineMap]:
    """Turn the coverage JSON's files (untrusted data) into per-file covered and executable lines."""
    covered: LineMap = {}
    executable: LineMap = {}
    for name, lines in sorted(files.items()):
        path = relative_source_path(str(name), root)
        if path is None or not isinstance(lines, dict):
            continue
        executed = sorted({line for line in lines.get("executed_lines", ()) if isinstance(line, int)})
        missing = {line for line in lines.get("missing_lines", ()) if isinstance(line, int)}
        covered[path] = executed
        executable[path] = sorted(set(executed) | missing)
    return covered, executable


def _untrusted(text: str, limit: int, keep: str = "head") -> str:
    """Text from repository code: redacted (secrets, token-shaped strings), then capped.

    Redacting a generous cut first keeps it cheap; capping again afterwards drops any secret cut in half."""
    return cap_text(redacted(cap_text(text, 4 * limit, keep=keep)), limit, keep=keep)


def _assemble(
    command: TestCommand,
    argv: list[str],
    result: SandboxResult,
    report: TestReport | None,
    coverage: tuple[LineMap, LineMap] | None,
    root: Path,
) -> TestRun:
    output = (result.stdout + ("\n" if result.stdout and result.stderr else "") + result.stderr).strip()
    tail = _untrusted(output, OUTPUT_TAIL_LIMIT, keep="tail")
    # Exit code 5 means "no tests collected" only from runners we know; `make test` may use it for anything.
    no_tests = (result.returncode == PYTEST_NO_TESTS and command.runner != "other") or (
        report is not None and report.tests == 0 and result.returncode == 0
    )
    failures = report.failures[:FAILING_TESTS_LIMIT] if report else ()
    failing = tuple(_untrusted(f.test_id, TEST_ID_LIMIT) for f in failures)
    details = "\n\n".join(f"____ {test_id} ____\n{f.text}" for test_id, f in zip(failing, failures))
    if not failing and not result.timed_out and result.returncode != 0 and not no_tests:
        # The runner failed without naming a test (usage error, crash, missing plugin): one synthetic id,
        # so base and head can still be compared.
        failing = (f"<test run exited with code {result.returncode}>",)
        details = tail
    details = _untrusted(details, DETAILS_LIMIT)
    covered, executable = coverage if coverage else ({}, {})
    total = sum(len(lines) for lines in executable.values())
    percent = (100.0 * sum(len(lines) for lines in covered.values()) / total if total else 100.0) if coverage else None
    return TestRun(
        command=tuple(argv),
        returncode=result.returncode,
        timed_out=result.timed_out,
        duration=result.duration,
        passed=report.passed if report else 0,
        failed=report.failed if report else 0,
        errors=report.errors if report else 0,
        skipped=report.skipped if report else 0,
        xfailed=report.xfailed if report else 0,
        xpassed=report.xpassed if report else 0,
        subtests_passed=report.subtests_passed if report else 0,
        subtests_failed=report.subtests_failed if report else 0,
        subtests_skipped=report.subtests_skipped if report else 0,
        passed_tests={path: list(names) for path, names in report.passed_tests.items()} if report else {},
        failing_tests=failing,
        failure_details=details,
        blamed_files=blamed_files(failures, root) if failures else tuple(sorted(frame_paths(details, root))),
        no_tests=no_tests and not failing,
        coverage_percent=percent,
        covered_lines=covered,
        executable_lines=executable,
        output_tail=tail,
        isolation=result.isolation,
        limits_enforced=result.limits_enforced,
    )
