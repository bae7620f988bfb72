"""Comment commands: `/evolve <verb> [args]` or `@evolve-bot <verb> [args]`, parsed by a pure function.

A command must start a line (leading spaces allowed). Quoted lines (`> ...`) and fenced code blocks
are ignored so that quoting an earlier command, or documenting one in a code block, never triggers
it. The first command in a comment wins. Parsing never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

SLASH_PREFIX: Final = "/evolve"
VERBS: Final = ("run", "plan", "status", "retry", "pause", "resume", "config", "help")
# Verbs that start work (plan clones and scans the repository), flip a switch or show the
# configuration need write access; `help` and `status` are answered for anyone.
WRITE_VERBS: Final = frozenset({"run", "plan", "retry", "pause", "resume", "config"})
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Command:
    """A recognised command: its verb (lower case) and the words after it."""

    verb: str
    args: tuple[str, ...] = ()

    @property
    def focus(self) -> str | None:
        """For `run`: the theme or codemod id to focus on, if one was given."""
        return self.args[0] if self.args else None

    @property
    def needs_write_access(self) -> bool:
        """Whether only collaborators with write, maintain or admin permission may issue it."""
        return self.verb in WRITE_VERBS

    def render(self, prefix: str = SLASH_PREFIX) -> str:
        """The command as a user would type it."""
        return " ".join((prefix, self.verb, *self.args))


@dataclass(frozen=True)
class UnknownCommand:
    """The prefix was there but the verb is not one we know (empty when no verb was given)."""

    verb: str
    args: tuple[str, ...] = ()


def _mention(bot_login: str) -> str:
    login = bot_login.strip().lstrip("@")
    if login.lower().endswith("[bot]"):
        login = login[: -len("[bot]")]
    return "@" + login


def _command_lines(body: str) -> list[str]:
    """Lines of `body` outside fenced code blocks and block quotes, with leading whitespace removed."""
    lines: list[str] = []
    fence: str | None = None
    for line in body.splitlines():
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            continue
        if match:
            fence = match.group(1)
            continue
        stripped = line.lstrip()
        if stripped.startswith(">"):
            continue
        lines.append(stripped)
    return lines


def _split_prefix(line: str, prefixes: tuple[str, ...]) -> list[str] | None:
    """The words after a command prefix at the start of `line`, or None when the line has no prefix."""
    for prefix in prefixes:
        if line[: len(prefix)].lower() == prefix:
            rest = line[len(prefix) :]
            if rest and not rest[0].isspace():
                continue  # `/evolved`, `@evolve-bot2`: a different word
            return rest.split()
    return None


def parse_command(body: str, bot_login: str = "evolve-bot") -> Command | UnknownCommand | None:
    """Find the first command in a comment body; None when the comment holds no command."""
    if not isinstance(body, str) or not body:
        return None
    prefixes = (SLASH_PREFIX, _mention(bot_login).lower())
    for line in _command_lines(body):
        words = _split_prefix(line, prefixes)
        if words is None:
            continue
        if not words:
            return UnknownCommand(verb="")
        verb, args = words[0].lower(), tuple(words[1:])
        if verb in VERBS:
            return Command(verb=verb, args=args)
        return UnknownCommand(verb=words[0], args=args)
    return None
