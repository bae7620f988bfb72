"""pytest fixtures for the fake GitHub; import them into a test module to use them."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.fakegithub.server import FakeGitHub


@pytest.fixture
def fake_github(tmp_path: Path) -> Iterator[FakeGitHub]:
    """A running fake GitHub with an empty state."""
    with FakeGitHub(tmp_path / "fakegithub") as fake:
        yield fake


def app_settings(fake: FakeGitHub, data_dir: Path, **overrides: object):  # type: ignore[no-untyped-def]
    """`bot.settings.Settings` pointing at the fake, with the fake app's credentials."""
    from bot.settings import Settings

    values = {
        "app_id": str(fake.app_id), "private_key": fake.private_key, "webhook_secret": "hooksecret",
        "github_url": fake.base_url, "data_dir": data_dir, **overrides,
    }
    return Settings(**values)
