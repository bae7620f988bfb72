"""`scripts/demo_app.py`, the documented local demo of the App, end to end: it starts the fake GitHub and the App,
sends a signed `/evolve run`, prints where to look, and ends by itself with nothing left running."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text() and Path(f"/proc/{pid}").exists()
    except OSError:
        return False


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_the_demo_shows_the_reply_the_pr_the_dashboard_and_the_status_pages_then_stops(tmp_path):
    output = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "demo_app.py"), "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    text = done.stdout
    assert done.returncode == 0, text + done.stderr
    assert "Traceback" not in text + done.stderr
    reply = re.search(r"Done: opened #(\d+) — \*\*(.+?)\*\* \(attempt 1, every gate passed\)", text)
    assert reply, text
    number = re.search(r"The pull request #(\d+): (.+)", text)
    assert number and "labels: evolve, evolve:risk-" in text and "evolve/gates success" in text
    # The reply names the PR as the PR names itself: one title, from the edits made.
    assert (reply.group(1), reply.group(2).replace("\\", "")) == (number.group(1), number.group(2).strip())  # unescaped
    body = (output / f"pull-{number.group(1)}.md").read_text(encoding="utf-8")
    assert "### Quality gates" in body
    assert re.search(r"The dashboard issue #\d+: Evolve dashboard", text)
    token = re.search(r"one-time operator token: (\S+)", text)
    assert token and len(token.group(1)) >= 32
    queue = (output / "status-queue.html").read_text(encoding="utf-8")
    assert "Queue" in queue and 'data-deliveries="processed"' in queue  # signed in with the token: operator view
    # It ended by itself, and nothing it started runs any more.
    app_pid = int(re.search(r"evolve serve, pid (\d+)", text).group(1))
    assert not _running(app_pid)
    work = re.search(r"log (/\S+)/app\.log", text)
    assert work and not _processes_mentioning(work.group(1))
    assert "nothing is left running" in text
