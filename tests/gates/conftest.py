"""Fixtures for gate tests."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.gates.builders import Trees, build_trees


@pytest.fixture
def make_trees(tmp_path: Path) -> Callable[..., Trees]:
    """Build a base commit and a head worktree (base files plus `changes`) with real git."""
    return functools.partial(build_trees, tmp_path)
