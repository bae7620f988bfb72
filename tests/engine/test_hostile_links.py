"""Hostile symbolic links in a commit: the export keeps a link only when its resolved target stays in the tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from evolve.git.link_targets import escaping_links, resolve_in_tree
from evolve.git.trees import export_tree
from tests.repo_factory import GIT_ENV, make_repo, run_git


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, input=stdin, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _blob(repo: Path, text: str) -> str:
    return _git(repo, "hash-object", "-w", "--stdin", stdin=text)


def _commit_entries(repo: Path, entries: dict[str, tuple[str, str]]) -> str:
    """A commit whose tree holds exactly `entries` (path -> (mode, content)), nested trees built with mktree,
    so shapes `git add` refuses (a link and a directory of the same name) can be made."""

    def tree(prefix: str) -> str:
        lines = []
        names: dict[str, None] = {}
        for path in entries:
            if path.startswith(prefix):
                names.setdefault(path[len(prefix) :].split("/", 1)[0], None)
        for name in names:
            full = prefix + name
            if full in entries:
                mode, content = entries[full]
                lines.append(f"{mode} blob {_blob(repo, content)}\t{name}")
            if any(p.startswith(full + "/") for p in entries):
                lines.append(f"040000 tree {tree(full + '/')}\t{name}")
        return _git(repo, "mktree", "--missing", stdin="".join(line + "\n" for line in lines))

    return _git(repo, "commit-tree", tree(""), "-m", "hostile")


def _export(tmp_path: Path, entries: dict[str, tuple[str, str]]):
    repo = make_repo(tmp_path / "repo", {})
    commit = _commit_entries(repo, entries)
    return export_tree(repo / ".git", commit, tmp_path / "run" / "base")


FILE = "100644"
LINK = "120000"


def test_the_lexical_escape_through_a_dot_link_is_resolved_and_dropped(tmp_path):
    secret = tmp_path / "run" / "secret.txt"
    secret.parent.mkdir(parents=True)
    secret.write_text("SECRET-LINK-ESCAPE\n")
    tree = _export(
        tmp_path,
        {
            "a.py": (FILE, "x = 1\n"),
            "h": (LINK, "."),
            # normalised as text: base/secret.txt (inside); resolved: base -> base -> run/secret.txt (outside)
            "x": (LINK, "h/h/../secret.txt"),
            "deep": (LINK, "h/h/h/h/../../../../../../../../etc/passwd"),
            "ok": (LINK, "h/h/a.py"),
        },
    )
    assert os.readlink(tree.path / "h") == "."
    assert (tree.path / "ok").read_text() == "x = 1\n"
    assert not os.path.lexists(tree.path / "x") and not os.path.lexists(tree.path / "deep")
    assert {"x", "deep"} <= set(tree.skipped)
    for entry in tree.path.rglob("*"):
        if entry.is_symlink():
            real = os.path.realpath(entry)
            assert real == os.path.realpath(tree.path) or real.startswith(os.path.realpath(tree.path) + "/")


def test_chains_loops_and_links_through_dropped_links_are_dropped(tmp_path):
    tree = _export(
        tmp_path,
        {
            "pkg/mod.py": (FILE, "y = 2\n"),
            "up": (LINK, ".."),  # the run directory
            "via": (LINK, "up/base/pkg"),  # comes back in by name: depends on the host's layout, dropped
            "abs": (LINK, "/etc"),
            "through": (LINK, "abs/passwd"),
            "loop1": (LINK, "loop2"),
            "loop2": (LINK, "loop1"),
            "pkg/here": (LINK, "../pkg/./mod.py"),
            "pkg/sub": (LINK, "."),
            "pkg/chain": (LINK, "sub/sub/sub/../mod.py"),  # pkg/sub = pkg: pkg/.. = the root, then mod.py: none
        },
    )
    kept = {p.name for p in tree.path.rglob("*") if p.is_symlink()}
    assert kept == {"here", "sub", "chain"}
    assert {"up", "via", "abs", "through", "loop1", "loop2"} <= set(tree.skipped)
    assert (tree.path / "pkg" / "here").read_text() == "y = 2\n"


def test_a_link_that_collides_with_a_directory_or_sits_below_a_link_is_dropped(tmp_path):
    tree = _export(
        tmp_path,
        {
            "d/file.py": (FILE, "z = 3\n"),
            "d": (LINK, "/tmp"),  # same name as the directory git also lists
            "l": (LINK, "."),
            "l/x": (LINK, "../../../etc"),  # would be created through `l`
        },
    )
    assert (tree.path / "d").is_dir() and not (tree.path / "d").is_symlink()
    assert (tree.path / "d" / "file.py").read_text() == "z = 3\n"
    assert "d" in tree.skipped and "l/x" in tree.skipped


@pytest.mark.parametrize(
    ("start", "target", "expected"),
    [
        ("", "a.py", "a.py"),
        ("", "h/h/../a.py", None),  # h = the root: h/h/.. is above it
        ("pkg", "../a.py", "a.py"),
        ("pkg", "../../a.py", None),
        ("", "/etc/passwd", None),
        ("", "h/./h/a.py", "a.py"),
        ("", "loop", None),
    ],
)
def test_resolution_follows_the_trees_links_like_the_kernel(start, target, expected):
    links = {"h": ".", "loop": "loop"}
    assert resolve_in_tree(start, target, links) == expected


def test_escaping_links_judges_each_link_from_its_own_directory():
    links = {"h": ".", "pkg/up": "..", "pkg/out": "../..", "x": "h/h/../x"}
    assert escaping_links(links) == {"pkg/out", "x"}


def test_an_ordinary_checkout_with_inside_links_exports_unchanged(tmp_path):
    repo = make_repo(tmp_path / "r", {"src/pkg/a.py": "x = 1\n", "docs/readme.md": "hi\n"})
    os.symlink("../docs/readme.md", repo / "src" / "README.md")
    os.symlink("src/pkg", repo / "pkg")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "links")
    tree = export_tree(repo / ".git", run_git(repo, "rev-parse", "HEAD").strip(), tmp_path / "out")
    assert tree.skipped == ()
    assert (tree.path / "pkg" / "a.py").read_text() == "x = 1\n"
    assert (tree.path / "src" / "README.md").read_text() == "hi\n"
