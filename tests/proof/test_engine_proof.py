"""The engine proves behaviour per hunk and caches base's test run across runs (real git, real pytest)."""

import json
import os
import re
from pathlib import Path

from evolve.engine import run_engine
from evolve.runs import RunOptions
from tests.repo_factory import make_repo, run_git

COVERED = '''
    """Covered by the tests."""
    import json
    import os


    def sign(x):
        """The sign of x."""
        if x < 0:
            return -1
        else:
            return 1 if x else 0


    def dump(x):
        """JSON."""
        return json.dumps(x)
'''
DEMO = '''
    """A demo no test imports."""
    import json
    import os


    def pick(x):
        """Pick."""
        if x:
            return "yes"
        else:
            return json.dumps("no")
'''


def _repo(tmp_path):
    files = {
        "pyproject.toml": '[project]\nname = "sample"\nversion = "0.1"\nrequires-python = ">=3.10"\n',
        "sample/__init__.py": '"""Sample."""\n',
        "sample/covered.py": COVERED,
        "sample/demo.py": DEMO,
        # Each session of the suite prints a fresh nonce: the sandbox lets nothing else out.
        "tests/conftest.py": """
            import uuid


            def pytest_terminal_summary(terminalreporter):
                terminalreporter.write_line(f"suite-session {uuid.uuid4().hex}")
        """,
        "tests/test_covered.py": """
            from sample.covered import dump, sign


            def test_sign():
                assert (sign(-3), sign(0), sign(2)) == (-1, 0, 1)
                assert dump(1) == "1"
        """,
    }
    return make_repo(tmp_path / "sample", files)


def _cached_sessions(cache_dir):
    entries = [json.loads(path.read_text()) for path in sorted((cache_dir / "base-results").glob("*.json"))]
    return [re.findall(r"suite-session (\w+)", entry["run"]["output_tail"]) for entry in entries]


def test_an_unexecuted_risky_hunk_is_dropped_and_base_runs_once_across_runs(tmp_path):
    repo = _repo(tmp_path)
    cache_dir = Path(os.environ["EVOLVE_CACHE_DIR"])
    report = run_engine(repo, RunOptions(focus="unused-imports"))
    assert report.status == "succeeded", report.message
    # Tested: the covered module loses its unused import; no test runs the demo, so its import stays.
    assert "import os" not in run_git(repo, "show", f"{report.branch}:sample/covered.py")
    assert "import os" in run_git(repo, "show", f"{report.branch}:sample/demo.py")
    proof = report.attempts[-1].proof
    verdicts = {h["path"]: h["verdict"] for h in proof["hunks"]}
    assert verdicts == {"sample/covered.py": "tested", "sample/demo.py": "dropped"}
    # An import removal is no statement that needs executing: the figure says so (and the hunk that its line ran).
    assert proof["executed_share"] is None and proof["changed_lines"]["executable"] == 0
    assert "none needs executing" in report.markdown
    assert "left out because no test runs it" in report.markdown
    (first,) = _cached_sessions(cache_dir)  # base ran once, and its result is cached
    assert len(first) == 1 and not report.tests["base_from_cache"]

    again = run_engine(repo, RunOptions(focus="unused-imports"))
    assert again.status == "succeeded", again.message
    assert _cached_sessions(cache_dir) == [first]  # base did not run again: same session, no new entry
    assert again.tests["base_from_cache"] and again.tests["head"]["passed"] == 1
    assert again.attempts[-1].proof == proof


def test_an_unexecuted_equivalent_hunk_is_kept_and_labelled(tmp_path):
    repo = _repo(tmp_path)
    report = run_engine(repo, RunOptions(focus="redundant-else"))
    assert report.status == "succeeded", report.message
    assert "else:" not in run_git(repo, "show", f"{report.branch}:sample/demo.py")
    verdicts = {h["path"]: h["verdict"] for h in report.attempts[-1].proof["hunks"]}
    assert verdicts == {"sample/covered.py": "equivalent", "sample/demo.py": "equivalent"}
    executions = {h["path"]: h["execution"] for h in report.attempts[-1].proof["hunks"]}
    assert executions == {"sample/covered.py": "executed", "sample/demo.py": "not-executed"}
    assert (
        "proven equivalent" in report.markdown and "The lines no test runs are in: `sample/demo.py`" in report.markdown
    )
