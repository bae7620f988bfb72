"""Runs inside the sandbox, with the project's interpreter: every mutant of a plan against its covering tests.

This file is copied into the sandbox's output directory and run as a script; it imports only the standard
library and pytest. It never re-imports the project per mutant: the parent collects the covering tests once (which
imports the test modules and the code under test), then forks one child per mutant, `workers` at a time. A child
swaps the mutated function's code object into the live function objects (every object sharing that code: methods,
decorated and registered copies) and runs `pytest.main` on the mutant's tests only, stopping at the first failure.
A mutant outside any function (module or class level) runs in a fresh interpreter whose import of that one module
reads the mutated source. Children run in their own process group and are killed at their timeout.

Results are written as JSON to the path given; they come from repository code and are read as untrusted data.
"""

import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import types

FRESH_BOOT = """
import importlib.machinery, sys
target, mutated = sys.argv[1], sys.argv[2]
with open(mutated, encoding="utf-8") as handle:
    source = handle.read()
class _Loader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname):
        return compile(source, self.path, "exec", dont_inherit=True)
class _Finder:
    @staticmethod
    def find_spec(name, path=None, target_module=None):
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.origin == target:
            spec.loader = _Loader(name, target)
            return spec
        return None
sys.meta_path.insert(0, _Finder)
import pytest
sys.exit(pytest.main(sys.argv[3:]))
"""

POLL = 0.005


def apply_mutation(source, start, end, replacement):
    """`source` with the span (1-based lines, character columns) replaced."""
    lines = source.splitlines(keepends=True)
    head = "".join(lines[: start[0] - 1]) + lines[start[0] - 1][: start[1]]
    tail = lines[end[0] - 1][end[1] :] + "".join(lines[end[0] :])
    return head + replacement + tail


def find_code(code, name, first_line):
    """The code object named `name` starting at `first_line`, anywhere below `code`."""
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            if constant.co_name == name and constant.co_firstlineno == first_line:
                return constant
            found = find_code(constant, name, first_line)
            if found is not None:
                return found
    return None


def index_functions(files):
    """Live function objects defined in `files`, by (file, name, first line)."""
    index: dict = {}
    for thing in gc.get_objects():
        if isinstance(thing, types.FunctionType):
            code = thing.__code__
            if code.co_filename in files:
                index.setdefault((code.co_filename, code.co_name, code.co_firstlineno), []).append(thing)
    return index


def quiet():
    """Send this process's output to /dev/null (pytest's reports are not read: its exit code is)."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)


def run_items(items, failed):
    """Run collected test items through pytest's protocol, in order; 1 at the first failure, else 0."""
    for position, item in enumerate(items):
        following = items[position + 1] if position + 1 < len(items) else None
        item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
        if failed:
            return 1
    return 0


def run_swapped(mutant, source, index, items, failed):
    """In a child: swap the mutated function's code into the live functions, run the tests; the exit code."""
    if not items:
        return 4  # none of its tests was collected: no verdict
    name, first_line = mutant["function"]
    path = mutant["file"]
    mutated = apply_mutation(source, mutant["start"], mutant["end"], mutant["replacement"])
    code = find_code(compile(mutated, path, "exec", dont_inherit=True), name, first_line)
    functions = index.get((path, name, first_line), [])
    if code is None or not functions:
        return None
    for function in functions:
        function.__code__ = code
    return run_items(items, failed)


def run_fresh(mutant, source, pytest_args):
    """In a child: a fresh interpreter whose import of the mutated module reads the mutated source."""
    mutated = apply_mutation(source, mutant["start"], mutant["end"], mutant["replacement"])
    handle, path = tempfile.mkstemp(prefix="evolve-mutant-", suffix=".py")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(mutated)
    argv = [sys.executable, "-c", FRESH_BOOT, mutant["file"], path, *pytest_args, *mutant["tests"]]
    return subprocess.call(argv, stdin=subprocess.DEVNULL)


def child(mutant, sources, index, pytest_args, items, failed):
    """The body of a forked child: never returns."""
    status = 3
    try:
        os.setpgid(0, 0)
        quiet()
        source = sources[mutant["file"]]
        code = run_swapped(mutant, source, index, items, failed) if mutant.get("function") else None
        if code is None:
            code = 100 + run_fresh(mutant, source, pytest_args)  # 100+: ran in a fresh interpreter
        status = code
    except BaseException:
        status = 99
    os._exit(status if 0 <= status < 256 else 98)


def classify(code):
    """A child's exit status -> (status, mode)."""
    mode = "fresh" if code >= 100 and code != 255 else "swap"
    pytest_code = code - 100 if mode == "fresh" else code
    if pytest_code == 0:
        return "survived", mode
    if pytest_code in (1, 2):  # tests failed, or interrupted by the mutant
        return "killed", mode
    return "error", mode


def fork_run(body):
    """Fork a child that runs `body()` and exits; the child's pid."""
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(97)
    return pid


def wait_all(pending, workers, deadline, timeout_of, start_child, results):
    """Run the pending mutants, `workers` children at a time, each within its timeout and all within `deadline`."""
    running: dict = {}
    pending = list(pending)
    while pending or running:
        now = time.monotonic()
        while pending and len(running) < workers and now < deadline:
            mutant = pending.pop(0)
            running[start_child(mutant)] = (mutant, now)
        if not running:
            break
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid in running:
            mutant, started = running.pop(pid)
            seconds = time.monotonic() - started
            if os.WIFSIGNALED(status):
                verdict, mode = "killed", "swap"  # a crash is noticed
            else:
                verdict, mode = classify(os.WEXITSTATUS(status))
            results[str(mutant["id"])] = {"status": verdict, "seconds": round(seconds, 4), "mode": mode}
            continue
        now = time.monotonic()
        for pid, (mutant, started) in list(running.items()):
            late = now - started > timeout_of(mutant)
            if late or now > deadline:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                running.pop(pid)
                verdict = "timeout" if late else "not-run"
                results[str(mutant["id"])] = {"status": verdict, "seconds": round(now - started, 4), "mode": "swap"}
        time.sleep(POLL)
    for mutant in pending:
        results[str(mutant["id"])] = {"status": "not-run", "seconds": 0.0, "mode": ""}


class MutationSession:
    """A pytest plugin whose run loop is the mutation run: the clean run, then every mutant, each in a child."""

    def __init__(self, plan, started):
        self.plan = plan
        self.started = started
        self.failed = []  # the failures a child's items report (a child sees only its own)
        self.report: dict = {"clean": {}, "mutants": {}}

    def pytest_runtest_logreport(self, report):
        """Note a failed setup, call or teardown."""
        if report.failed:
            self.failed.append(report.nodeid)

    def pytest_runtestloop(self, session):
        """Replace pytest's loop: run the clean items and the mutants in forked children."""
        import importlib

        for module in self.plan.get("modules", []):
            try:
                importlib.import_module(module)
            except BaseException:
                pass
        plan, report = self.plan, self.report
        sources = plan["files"]
        index = index_functions(set(sources))
        by_id = {item.nodeid: item for item in session.items}
        setup_seconds = time.monotonic() - self.started
        report["setup_seconds"] = round(setup_seconds, 4)
        mutants = plan["mutants"]

        def items_of(tests):
            # A node id, or a file or class whose items all count (a proposed test file is named by its path).
            wanted = set(tests)
            prefixes = tuple(f"{test}::" for test in tests)
            return [item for item in session.items if item.nodeid in wanted or item.nodeid.startswith(prefixes)]

        def clean_body():
            os.setpgid(0, 0)
            quiet()
            os._exit(run_items(session.items, self.failed))

        clean_started = time.monotonic()
        _, status = os.waitpid(fork_run(clean_body), 0)
        clean_seconds = time.monotonic() - clean_started
        clean_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        report["clean"] = {"code": clean_code, "seconds": round(clean_seconds, 4), "items": len(by_id)}
        if clean_code != 0:
            for mutant in mutants:
                report["mutants"][str(mutant["id"])] = {"status": "not-run", "seconds": 0.0, "mode": ""}
            return True
        floor, factor = float(plan["timeout_floor"]), float(plan["timeout_factor"])

        def timeout_of(mutant):
            swappable = mutant.get("function") and (mutant["file"], *mutant["function"]) in index
            # A fresh interpreter first imports what this session had imported: about the setup's time again.
            return floor + factor * clean_seconds + (0.0 if swappable else 5.0 + 4 * setup_seconds)

        pytest_args = list(plan["pytest_args"])

        def start_child(mutant):
            items = items_of(mutant["tests"])
            return fork_run(lambda: child(mutant, sources, index, pytest_args, items, self.failed))

        deadline = self.started + float(plan["budget_seconds"])
        wait_all(mutants, max(1, int(plan["workers"])), deadline, timeout_of, start_child, report["mutants"])
        return True


def main(plan_path, results_path):
    """Read the plan, run one pytest session whose loop runs the clean tests and every mutant, write the results."""
    started = time.monotonic()
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    tests = sorted({test for mutant in plan["mutants"] for test in mutant["tests"]})
    import pytest

    session = MutationSession(plan, started)
    saved = os.dup(1), os.dup(2)
    quiet()
    try:
        pytest.main([*plan["pytest_args"], "--continue-on-collection-errors", *tests], plugins=[session])
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
    session.report["seconds"] = round(time.monotonic() - started, 4)
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(session.report, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
