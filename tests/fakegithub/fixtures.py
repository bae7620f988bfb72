"""pytest fixtures for the fake GitHub; import them into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
        "app_id": str(fake.app_id),
        "private_key": fake.private_key,
        "webhook_secret": "hooksecret",
        "github_url": fake.base_url,
        "data_dir": data_dir,
        **overrides,
    }
    return Settings(**values)


class BotWorld:
    """The real app wired to a running fake GitHub with one installation and one seeded repository."""

    INSTALLATION = 31337
    REPO_ID = 90210
    OWNER = "octo-org"

    def __init__(self, fake: FakeGitHub, client, settings, repo) -> None:  # type: ignore[no-untyped-def]
        self.fake = fake
        self.client = client
        self.settings = settings
        self.repo = repo

    @property
    def ctx(self):  # type: ignore[no-untyped-def]
        """The running app's BotContext."""
        return self.client.app.state.ctx

    def deliver(self, event: str, payload: dict, delivery_id: str | None = None):  # type: ignore[no-untyped-def]
        """POST a signed delivery to /webhook."""
        from tests.fakegithub.payloads import signed

        body, headers = signed(payload, event, self.settings.webhook_secret_value(), delivery_id)
        return self.client.post("/webhook", content=body, headers=headers)

    def drain(self, timeout: float = 240.0) -> None:
        """Wait until every delivery and run is processed."""
        self.client.portal.call(self.ctx.jobs.drain, timeout)

    def install(self, sender: str = "alice") -> None:
        """Deliver `installation.created` for the repository and wait for it."""
        from tests.fakegithub.payloads import installation_created

        response = self.deliver("installation", installation_created(self.fake, self.INSTALLATION, [self.repo], sender))
        assert response.status_code == 202, response.text
        self.drain()

    def comment(
        self, user: str, body: str, number: int | None = None, on_pull: bool = False, delivery_id: str | None = None
    ) -> dict:
        """A user comments on an issue (a new one by default); the delivery is sent and processed."""
        from tests.fakegithub.payloads import comment_created

        number = number if number is not None else self.fake.add_issue(self.repo)
        payload = comment_created(self.fake, self.repo, number, user, body, on_pull=on_pull)
        response = self.deliver("issue_comment", payload, delivery_id)
        assert response.status_code == 202, response.text
        self.drain()
        return payload


@pytest.fixture
def bot_world(tmp_path: Path, make_settings, app_factory) -> Iterator[BotWorld]:  # type: ignore[no-untyped-def]
    """Fake GitHub + the real app (`create_app`) configured for it; a reader `rita` and a writer `alice`."""
    from pydantic import SecretStr

    from tests.fakegithub.sample_repo import SAMPLE_FILES

    with FakeGitHub(tmp_path / "fakegithub") as fake:
        fake.add_installation(BotWorld.INSTALLATION, BotWorld.OWNER)
        repo = fake.add_repo(f"{BotWorld.OWNER}/sample", BotWorld.INSTALLATION, repo_id=BotWorld.REPO_ID)
        fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
        fake.set_permission(repo, "alice", "write")
        fake.set_permission(repo, "rita", "read")
        settings = make_settings(
            app_id=str(fake.app_id), private_key=SecretStr(fake.private_key), github_url=fake.base_url
        )
        client = app_factory(settings=settings)
        yield BotWorld(fake, client, settings, repo)
