"""Where bubblewrap is missing: refused when the sandbox is required (evolve serve), otherwise run bare with a
warning on every run, and the result says what isolation there was."""

import logging
import sys

import pytest

from evolve.configuration.model import EvolveConfig
from evolve.sandbox import SandboxRefused, SandboxSpec, interpreter_mounts, require_sandbox, run_sandboxed
from evolve.sandbox.support import sandbox_support
from evolve.suites.runs import run_test_suite


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path):
    monkeypatch.setenv("EVOLVE_BWRAP", str(tmp_path / "no-such-bwrap"))
    monkeypatch.delenv("EVOLVE_ALLOW_UNSANDBOXED", raising=False)
    sandbox_support.cache_clear()
    yield
    require_sandbox(False)
    sandbox_support.cache_clear()


def _spec(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    (tree / "mod.py").write_text("VALUE = 1\n")
    code = "import os; print(os.getcwd()); open('mod.py', 'w').write('VALUE = 2')"
    return SandboxSpec(
        argv=(sys.executable, "-c", code), timeout=30, tree=tree, mounts=interpreter_mounts(sys.executable)
    )


def test_required_sandbox_refuses_to_run(no_bwrap, tmp_path):
    require_sandbox(True)
    with pytest.raises(SandboxRefused, match="EVOLVE_ALLOW_UNSANDBOXED=1"):
        run_sandboxed(_spec(tmp_path))


def test_the_operator_opt_out_runs_bare_with_a_warning_every_time(no_bwrap, tmp_path, monkeypatch, caplog):
    require_sandbox(True)
    monkeypatch.setenv("EVOLVE_ALLOW_UNSANDBOXED", "1")
    with caplog.at_level(logging.WARNING, logger="evolve.sandbox.runner"):
        first = run_sandboxed(_spec(tmp_path))
        second = run_sandboxed(_spec(tmp_path))
    assert first.ok and second.ok, first.stderr
    assert first.isolation.startswith("none: bubblewrap (bwrap) is not installed")
    assert not first.network_isolated
    warnings = [record.message for record in caplog.records if "no sandbox" in record.message]
    assert len(warnings) == 2 and "filesystem" in warnings[0]
    # Still a copy: the original tree is untouched, and the command ran in the copy, not at /work/repo.
    assert (tmp_path / "tree" / "mod.py").read_text() == "VALUE = 1\n"
    assert "/work/repo" not in first.stdout


def test_the_cli_default_runs_a_suite_bare_and_records_it(no_bwrap, tmp_path):
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "pkg.py").write_text("def one():\n    return 1\n")
    (root / "tests" / "test_pkg.py").write_text("from pkg import one\n\ndef test_one():\n    assert one() == 1\n")
    run = run_test_suite(root, EvolveConfig(), with_coverage=True, timeout=120)
    assert run.ok and run.passed == 1, run.output_tail
    assert run.isolation.startswith("none:")
    assert run.covered_lines == {"pkg.py": [1, 2]}
