"""Fixtures: the fake Messages API, a small repository, and a provider pointed at the fake."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evolve.config_loading.loading import parse_config
from evolve.configuration.model import EvolveConfig
from evolve.llm import LLMProvider, RetryPolicy, build_provider
from tests.llm.fake_anthropic import FakeMessagesAPI

API_KEY = "sk-ant-api03-test-key-0123456789abcdef"
FAST_RETRY = RetryPolicy(attempts_per_model=3, base_delay=0.01, max_delay=0.02)

SHAPES = '''\
"""Shapes and their measurements."""

import math


def area(kind, a, b=0):
    if kind == "square":
        return a * a
    elif kind == "rect":
        return a * b
    elif kind == "circle":
        return math.pi * a * a
    elif kind == "triangle":
        return a * b / 2
    else:
        raise ValueError(kind)


def describe(kind, a, b=0):
    if a < 0 or b < 0:
        return "invalid"
    if kind == "square" and a == 0:
        return "point"
    if kind == "rect" and (a == 0 or b == 0):
        return "line"
    return kind


def perimeter(kind, a, b=0):
    return {"square": 4 * a, "rect": 2 * (a + b)}.get(kind, 0)


class Box:
    """A box with a width and a height.

    Args:
        width: horizontal size.
        height: vertical size.
    """

    def __init__(self, width, height):
        self.width = width
        self.height = height

    def scaled(self, factor):
        return Box(self.width * factor, self.height * factor)
'''

TESTS = """\
from pkg.shapes import area


def test_area_square():
    assert area("square", 3) == 9
"""


def write(root: Path, files: dict[str, str]) -> None:
    """Write files (relative path -> text) under root."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small git repository: pkg/shapes.py (undocumented and complex functions) and a test."""
    root = tmp_path / "repo"
    write(
        root,
        {
            "pkg/__init__.py": '"""The sample package."""\n',
            "pkg/shapes.py": SHAPES,
            "tests/test_shapes.py": TESTS,
            ".github/workflows/ci.yml": "name: ci\n",
        },
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture
def fake_api() -> Iterator[FakeMessagesAPI]:
    """A started fake Messages API."""
    api = FakeMessagesAPI().start()
    yield api
    api.stop()


@pytest.fixture
def llm_env(fake_api: FakeMessagesAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeMessagesAPI:
    """The process environment run_engine reads: key, the fake's URL, a private usage store."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("EVOLVE_LLM_USAGE_STORE", str(tmp_path / "usage.sqlite"))
    return fake_api


@pytest.fixture
def make_provider(fake_api: FakeMessagesAPI, tmp_path: Path) -> Callable[..., LLMProvider]:
    """Build a provider against the fake: make_provider(config_overrides={...}, env={...})."""

    def factory(llm: dict[str, Any] | None = None, env: dict[str, str] | None = None, **config: Any) -> LLMProvider:
        settings = {
            "llm": {"model": "claude-sonnet-5-5", "fallback_model": "claude-haiku-5-5", **(llm or {})},
            **config,
        }
        environment = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": fake_api.base_url, **(env or {})}
        provider = build_provider(parse_config(settings), environment, tmp_path / "usage.sqlite", retry=FAST_RETRY)
        assert provider is not None
        return provider

    return factory


def dedent(text: str) -> str:
    """textwrap.dedent, stripped of the leading newline."""
    return textwrap.dedent(text).lstrip("\n")


__all__ = ["API_KEY", "SHAPES", "EvolveConfig", "dedent", "write"]
