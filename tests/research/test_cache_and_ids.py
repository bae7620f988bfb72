"""Finding ids survive line shifts; the cache makes re-scans cheap and re-analyses exactly what changed."""

from __future__ import annotations

from evolve.research import scan_repository
from evolve.research.cache import default_cache_path
from tests.research.conftest import git

HOT = "def hot(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12)) + "    return -1\n"
RISKY = "import subprocess\n\n\ndef shell(cmd):\n    return subprocess.call(cmd, shell=True)\n"


def _ids(result):
    return {(f.kind, f.rule, f.symbol): f.id for f in result.findings}


def test_ids_are_stable_across_a_line_shift(make_repo, tmp_path):
    repo = make_repo({"pkg/hot.py": HOT + "\n\n" + RISKY.replace("import subprocess\n", ""), "pkg/__init__.py": ""})
    before = scan_repository(repo, cache_dir=tmp_path / "cache")
    (repo / "pkg" / "hot.py").write_text(
        "import subprocess\n# a new comment\n\n\n" + (repo / "pkg" / "hot.py").read_text()
    )
    after = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert _ids(before) and _ids(before) == _ids(after)
    lines = {f.id: f.line for f in before.findings}
    assert all(f.line == lines[f.id] + 4 for f in after.findings if f.symbol)


def test_rescan_hits_the_cache_and_one_edit_is_one_miss(make_repo):
    files = {f"pkg/mod{i}.py": f'"""Module {i}."""\n\n\ndef f{i}(x):\n    return x + {i}\n' for i in range(6)}
    files["pkg/hot.py"] = HOT
    repo = make_repo(files)
    first = scan_repository(repo)
    assert (first.cache_hits, first.cache_misses) == (0, 7)
    second = scan_repository(repo)
    assert (second.cache_hits, second.cache_misses) == (7, 0)
    assert second.to_dict() | {"cache": None} == first.to_dict() | {"cache": None}

    (repo / "pkg" / "mod3.py").write_text('"""Module 3."""\n\n\ndef f3(x):\n    return x * 3 if x else 0\n')
    third = scan_repository(repo)
    assert (third.cache_hits, third.cache_misses) == (6, 1)
    assert third.file("pkg/mod3.py").functions[0].complexity == 2

    # The cache lives in the git common dir, never in the work tree.
    cache_file = default_cache_path(repo)
    assert cache_file == (repo / ".git" / "evolve" / "scan-cache.sqlite").resolve() and cache_file.exists()
    assert git(repo, "status", "--porcelain").splitlines() == [" M pkg/mod3.py"]


def test_worktrees_share_the_cache(make_repo):
    repo = make_repo({"a.py": HOT})
    scan_repository(repo)
    worktree = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(worktree))
    assert default_cache_path(worktree) == default_cache_path(repo)
    result = scan_repository(worktree)
    assert (result.cache_hits, result.cache_misses) == (1, 0)


def test_config_change_invalidates_and_use_cache_false_bypasses(make_repo, tmp_path):
    from evolve.config_loading.loading import parse_config

    repo = make_repo({"a.py": HOT})
    scan_repository(repo, cache_dir=tmp_path / "c")
    strict = parse_config({"gates": {"complexity": {"threshold": 20}}})
    result = scan_repository(repo, strict, cache_dir=tmp_path / "c")
    assert result.cache_misses == 1 and not [f for f in result.findings if f.kind == "complexity"]
    uncached = scan_repository(repo, cache_dir=tmp_path / "c", use_cache=False)
    assert (uncached.cache_hits, uncached.cache_misses) == (0, 1)


def test_unwritable_or_corrupt_cache_is_ignored(make_repo, tmp_path):
    repo = make_repo({"a.py": HOT})
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "scan-cache.sqlite").write_bytes(b"this is not sqlite" * 100)
    result = scan_repository(repo, cache_dir=tmp_path / "c")
    assert result.totals.files == 1 and result.cache_misses == 1


def test_paths_restrict_the_scan(make_repo, tmp_path):
    repo = make_repo({"a.py": HOT, "b.py": RISKY, "sub/c.py": HOT, "notes.txt": "x"})
    wanted = ["./b.py", str(repo / "sub" / "c.py"), "missing.py", "notes.txt"]
    result = scan_repository(repo, paths=wanted, cache_dir=tmp_path / "c")
    assert [f.path for f in result.files] == ["b.py", "sub/c.py"]
    assert {f.path for f in result.findings} <= {"b.py", "sub/c.py"}
    assert any(f.rule == "subprocess-shell-true" for f in result.findings)


def test_untracked_new_files_count_but_ignored_ones_do_not(make_repo, tmp_path):
    repo = make_repo({"a.py": HOT, ".gitignore": "generated/\n"})
    (repo / "new.py").write_text(HOT)
    (repo / "generated").mkdir()
    (repo / "generated" / "g.py").write_text(HOT)
    result = scan_repository(repo, cache_dir=tmp_path / "c")
    assert [f.path for f in result.files] == ["a.py", "new.py"]


def test_config_include_and_exclude(make_repo, tmp_path):
    from evolve.config_loading.loading import parse_config

    repo = make_repo({"src/a.py": HOT, "src/gen/b.py": HOT, "tests/test_a.py": HOT})
    config = parse_config({"include": ["src/**"], "exclude": ["src/gen/**"]})
    result = scan_repository(repo, config, cache_dir=tmp_path / "c")
    assert [f.path for f in result.files] == ["src/a.py"]
