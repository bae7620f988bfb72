"""Fixtures for research tests: real temporary git repositories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

GIT = [
    "git",
    "-c",
    "user.name=Evolve Tests",
    "-c",
    "user.email=tests@evolve.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
]


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` and return its stdout."""
    done = subprocess.run([*GIT, "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Write text (UTF-8) or bytes files under `root`."""
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def commit_all(repo: Path, message: str = "change") -> None:
    """Stage everything and commit."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Create a git repository holding `files`, committed (unless `commit=False`)."""
    counter = {"n": 0}

    def make(files: Mapping[str, str | bytes] | None = None, *, commit: bool = True) -> Path:
        counter["n"] += 1
        repo = tmp_path / f"repo{counter['n']}"
        repo.mkdir()
        subprocess.run([*GIT, "init", "-q", str(repo)], check=True)
        write_files(repo, files or {})
        if commit and files:
            commit_all(repo, "initial")
        return repo

    return make
