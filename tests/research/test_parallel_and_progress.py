"""The process pool gives the same answer as the serial path; progress is reported step by step."""

from __future__ import annotations

from evolve.research import scan_repository, workers

MODULE = """def f{i}(x, y=None):
    if x == None:
        return [{i}]
    for item in range(x):
        if item and y:
            return item
    return []
"""


def test_pool_and_serial_scans_agree(make_repo, tmp_path, monkeypatch):
    count = workers.PARALLEL_MIN_FILES + 6
    repo = make_repo({f"pkg/m{i:02d}.py": MODULE.format(i=i) for i in range(count)})
    pooled = scan_repository(repo, with_semgrep=False, use_cache=False)
    monkeypatch.setattr(workers, "PARALLEL_MIN_FILES", 10**6)
    serial = scan_repository(repo, with_semgrep=False, use_cache=False)
    assert pooled.to_dict() == serial.to_dict()
    assert pooled.totals.files == count
    assert sum(1 for f in pooled.findings if f.kind == "codemod") >= count  # detectors ran in the workers too


def test_progress_reports_each_step(make_repo, tmp_path):
    repo = make_repo({"a.py": MODULE.format(i=1), "b.py": MODULE.format(i=2)})
    events = []
    scan_repository(
        repo, cache_dir=tmp_path / "c", progress=lambda step, done, total: events.append((step, done, total))
    )
    steps = [step for step, _, _ in events]
    assert steps[0] == "list" and steps[-1] == "done"
    assert {"read", "analyse", "semgrep"} <= set(steps)
    assert ("analyse", 2, 2) in events
    assert all(0 <= done <= total for _, done, total in events)
