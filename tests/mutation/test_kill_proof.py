"""Proposed tests proven for real in the sandbox: surviving mutants found on a weak suite, then each proposed file
run three times on base and against the mutants."""

from __future__ import annotations

from pathlib import Path

from evolve.configuration.model import EvolveConfig
from evolve.mutation.kill_proof import prove_tests
from evolve.mutation.survivors import mutant_of, sample_survivors, survivor_finding
from evolve.suites.runs import run_test_suite
from evolve.suites.test_contexts import TestContexts
from tests.gates.builders import write_files

WEAK = {
    "pkg/__init__.py": "",
    "pkg/ages.py": """
        def is_adult(age):
            return age >= 18
    """,
    "tests/__init__.py": "",
    "tests/test_ages.py": """
        from pkg.ages import is_adult


        def test_grown_up():
            assert is_adult(30) and not is_adult(3)
    """,
}

# Each kills `>=` -> `>` on its own; run in one session, the first leaves a variable the second refuses.
FIRST = """
import os

from pkg.ages import is_adult


def test_eighteen():
    os.environ["EVOLVE_FIXTURE_SEEN"] = "1"
    assert is_adult(18)
"""
SECOND = """
import os

from pkg.ages import is_adult


def test_eighteen_in_a_clean_process():
    assert "EVOLVE_FIXTURE_SEEN" not in os.environ
    assert is_adult(18)
"""
BROKEN = """
from pkg.ages import is_adult


def test_wrong():
    assert is_adult(17)
"""


def test_survivors_are_found_and_tests_that_disturb_each_other_are_still_judged_one_by_one(tmp_path: Path):
    root = tmp_path / "repo"
    write_files(root, WEAK)
    config = EvolveConfig()
    run = run_test_suite(root, config, with_coverage=True, with_contexts=True)
    contexts = TestContexts.from_dict(run.test_contexts)
    assert contexts is not None
    sample = sample_survivors(root, config, contexts)
    assert [(m.location, m.mutation.before, m.mutation.after) for m in sample.survivors] == [
        ("pkg/ages.py:2", ">=", ">")
    ]
    finding = survivor_finding(sample.survivors[0])
    mutant = mutant_of(finding, 0)
    assert mutant is not None

    files = {"tests/test_a_first.py": FIRST, "tests/test_b_second.py": SECOND, "tests/test_c_broken.py": BROKEN}
    verdicts = {v.path: v for v in prove_tests(root, files, [mutant], config)}

    assert verdicts["tests/test_a_first.py"].kept and verdicts["tests/test_b_second.py"].kept
    assert verdicts["tests/test_a_first.py"].kills == ("no test distinguishes `>=` from `>` at `pkg/ages.py:2`",)
    broken = verdicts["tests/test_c_broken.py"]
    assert broken.decision == "fails-on-base" and broken.base_runs == (1, 1, 1) and "assert" in broken.output
    assert not (root / "tests/test_a_first.py").exists()  # proposed files never touch the tree they are judged on
