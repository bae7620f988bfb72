"""Where the bot acts: a repository's identity on GitHub, and how Evolve's branches are named."""

from __future__ import annotations

from dataclasses import dataclass

BRANCH_PREFIX = "evolve/"


@dataclass(frozen=True)
class RunTarget:
    """Where a run acts: the repository row's identity on GitHub."""

    repository_id: int
    installation_id: int
    owner: str
    name: str

    @property
    def full_name(self) -> str:
        """owner/name"""
        return f"{self.owner}/{self.name}"

    @classmethod
    def of(cls, repository_id: int, installation_id: int, full_name: str) -> RunTarget:
        """From a repository row's id, installation and `owner/name`."""
        owner, name = full_name.split("/", 1)
        return cls(repository_id, installation_id, owner, name)


def theme_of_branch(branch: str) -> str | None:
    """`evolve/<theme>-<id>` → theme."""
    if not branch.startswith(BRANCH_PREFIX):
        return None
    rest = branch[len(BRANCH_PREFIX) :]
    theme, sep, _ = rest.rpartition("-")
    return theme if sep else rest
