"""Bad input is reported as skipped files or an empty result, never a crash."""

from __future__ import annotations

from evolve.research import render_scan_table, scan_repository, validate_scan_json

GOOD = 'def ok():\n    """Fine."""\n    return 1\n'


def test_unparsable_binary_and_latin1_files_are_skipped(make_repo, tmp_path):
    repo = make_repo(
        {
            "good.py": GOOD,
            "broken.py": "def broken(:\n    pass\n",
            "blob.py": b"\x00\x01\x02binary",
            "legacy.py": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"),
        }
    )
    result = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert [f.path for f in result.files] == ["good.py"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert set(reasons) == {"blob.py", "broken.py", "legacy.py"}
    assert reasons["broken.py"].startswith("syntax error at line 1")
    assert "binary" in reasons["blob.py"]
    assert "UTF-8" in reasons["legacy.py"]
    assert not any(f.path in reasons for f in result.findings)
    validate_scan_json(result.to_dict())
    table = render_scan_table(result)
    assert "Skipped 3 files" in table and "broken.py" in table
    # Skipped files stay skipped from the cache.
    again = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert {s.path: s.reason for s in again.skipped} == reasons
    assert again.cache_misses == 0


def test_empty_repository(make_repo, tmp_path):
    repo = make_repo(commit=False)
    result = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert result.files == () and result.findings == () and result.skipped == ()
    assert result.totals.files == 0 and result.totals.docstring_coverage == 100.0
    validate_scan_json(result.to_dict())
    assert "No findings." in render_scan_table(result)


def test_repository_without_python_files(make_repo, tmp_path):
    repo = make_repo({"README.md": "# hi\n", "setup.cfg": "[metadata]\n"})
    result = scan_repository(repo, cache_dir=tmp_path / "cache")
    assert result.totals.files == 0 and result.cache_hits == result.cache_misses == 0
    validate_scan_json(result.to_dict())


def test_plain_directory_is_walked_and_excludes_apply(tmp_path):
    root = tmp_path / "tree"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text(GOOD)
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "x.py").write_text(GOOD)
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text(GOOD)
    result = scan_repository(root, cache_dir=tmp_path / "cache")
    assert [f.path for f in result.files] == ["pkg/a.py"]


def test_subdirectory_of_a_repository_and_symlinks(make_repo, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text(GOOD)
    repo = make_repo({"lib/a.py": GOOD, "other/b.py": GOOD})
    (repo / "lib" / "link.py").symlink_to(outside)
    result = scan_repository(repo / "lib", cache_dir=tmp_path / "cache")
    assert [f.path for f in result.files] == ["a.py"]
