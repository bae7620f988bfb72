"""`evolve run`, as a user runs it, on a repository whose files and tool configuration reach for host files: a ruff
`extend` naming a host file, and links that escape through `h -> .` (`h/h/../../x`, lexically inside the tree).
Nothing of either host file reaches any output, the links are not exported, and the run ends with a clear result."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.repo_factory import SAMPLE_PACKAGE, make_repo, run_git

EXTEND_SECRET = "HOST-EXTEND-SECRET-41c7"
LINK_SECRET = "HOST-LINK-SECRET-93be"


def test_evolve_run_with_a_host_extend_and_dot_link_escapes(tmp_path):
    work = tmp_path / "work"  # EVOLVE_WORK_DIR: runs export base to work/<run-id>/base
    work.mkdir(mode=0o700)
    # base/h/h/../../x reads as base/x, but is work/x: a file beside the run directories.
    (work / "host-secret.toml").write_text(f"{LINK_SECRET}\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ruff-base.toml").write_text(f"{EXTEND_SECRET}\n")
    pyproject = SAMPLE_PACKAGE["pyproject.toml"]
    assert isinstance(pyproject, str)
    files = {
        **SAMPLE_PACKAGE,
        "pyproject.toml": pyproject
        + f'\n[tool.ruff]\nextend = "{outside / "ruff-base.toml"}"\n\n[tool.ruff.lint]\nselect = ["F"]\n',
    }
    repo = make_repo(tmp_path / "r", files, commit=False)
    os.symlink(".", repo / "h")
    os.symlink("h/h/../../host-secret.toml", repo / ".ruff.toml")  # ruff would discover and read this
    os.symlink("../h/h/../../host-secret.toml", repo / "sample" / "notes.txt")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "hostile")
    out_dir = tmp_path / "reports"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "EVOLVE_DATA_DIR": str(tmp_path / "data"),
        "EVOLVE_WORK_DIR": str(work),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "run", str(repo), "--json", "--focus=correctness", f"--output={out_dir}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document["status"] in ("succeeded", "failed", "no-change"), document
    report = (out_dir / "report.json").read_text(encoding="utf-8") + (out_dir / "report.md").read_text("utf-8")
    everything = done.stdout + done.stderr + report
    if document.get("branch"):
        everything += run_git(repo, "log", "-p", document["branch"])
    assert EXTEND_SECRET not in everything and LINK_SECRET not in everything
    # The refusal is said where the user looks: the report's account of the project's rules.
    assert "refused: ruff `extend` in pyproject.toml names a file outside the repository" in report
    assert "ruff (pyproject.toml)" in report  # the lint gate ran ruff, with Evolve's vetted settings
