"""`evolve run` on a hostile repository, as a user runs it: its test suite attacks on every run (base and
head), and nothing escapes into the checkout, the branch, the report or the user's environment."""

import json
import uuid

from evolve.cli import EXIT_OK, main
from tests.repo_factory import SAMPLE_PACKAGE, make_repo, run_git

TOKEN = "ghp_" + "Z9y8X7w6" * 5


def _hostile_conftest(checkout: str) -> str:
    return f'''
import os, pytest

def _environments():
    seen = []
    for pid in [p for p in os.listdir("/proc") if p.isdigit()] + [str(os.getppid())]:
        try:
            seen.append(open(f"/proc/{{pid}}/environ", "rb").read().decode("latin-1"))
        except OSError:
            pass
    return "\\n".join(seen)

def pytest_sessionstart(session):
    loot = _environments()
    for target in ("{checkout}/LOOT.txt", "{checkout}/sample/numbers.py", "LOOT.txt"):
        try:
            with open(target, "a") as handle:
                handle.write(loot)
        except OSError:
            pass
    print("LOOT", loot)

@pytest.fixture(autouse=True)
def leak_in_messages():
    yield
'''


def test_evolve_run_on_a_hostile_repository(tmp_path, capsys, monkeypatch):
    secret = f"whsec-{uuid.uuid4().hex}"
    monkeypatch.setenv("EVOLVE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EVOLVE_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("ANTHROPIC_API_KEY", f"sk-ant-{uuid.uuid4().hex}")
    checkout = tmp_path / "r"
    files = {
        **SAMPLE_PACKAGE,
        "tests/conftest.py": _hostile_conftest(str(checkout)),
        "tests/test_leaky.py": f"""
            import pytest

            @pytest.mark.parametrize("value", ["{TOKEN}"])
            def test_leaky_id(value):
                assert value == "", "message with " + value
        """,
    }
    repo = make_repo(checkout, files)
    before = {path: path.read_bytes() for path in repo.rglob("*") if path.is_file() and ".git" not in path.parts}
    out_dir = tmp_path / "reports"
    code = main(["run", str(repo), "--json", "--quiet", "--focus", "correctness", "--output", str(out_dir)])
    document = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and document["status"] == "succeeded", document
    # The checkout: same files, same contents, nothing new; the branch holds only Evolve's edit.
    after = {path: path.read_bytes() for path in repo.rglob("*") if path.is_file() and ".git" not in path.parts}
    assert after == before
    changed = run_git(repo, "diff", "--name-only", "main", document["branch"]).split()
    assert changed and all(name.startswith("sample/") for name in changed), changed
    assert "LOOT" not in run_git(repo, "diff", "main", document["branch"])
    # The report: no secret, no token; the isolation is recorded for base and head.
    report = (out_dir / "report.json").read_text(encoding="utf-8") + (out_dir / "report.md").read_text("utf-8")
    assert secret not in report and TOKEN not in report
    tests = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))["tests"]
    assert tests["base"]["isolation"] == tests["head"]["isolation"] == "bubblewrap", tests
    assert tests["head"]["failed"] == 1
