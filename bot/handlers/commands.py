"""Comment commands: `/evolve <verb> [args]` or `@evolve-bot <verb> [args]`, parsed by a pure function.

A command must start a visible line of text. The comment is read as Markdown (markdown-it-py, the
CommonMark rules GitHub's renderer follows): block quotes, fenced and indented code blocks, inline
code, HTML blocks and inline HTML (comments above all) are skipped, so quoting an earlier command,
documenting one in code, or hiding one in `<!-- -->` where no reader sees it never triggers it.
The first command in a comment wins. Parsing never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from markdown_it import MarkdownIt
from markdown_it.token import Token

SLASH_PREFIX: Final = "/evolve"
VERBS: Final = ("run", "plan", "status", "retry", "rebase", "pause", "resume", "config", "help")
# Verbs that start work (plan clones and scans the repository), flip a switch or show the
# configuration need write access; `help` and `status` are answered for anyone.
WRITE_VERBS: Final = frozenset({"run", "plan", "retry", "rebase", "pause", "resume", "config"})
MAX_COMMENT_CHARS = 65_536  # GitHub's own limit on a comment body
# CommonMark (what GitHub's renderer builds on), with tables and strikethrough as GitHub has them;
# raw HTML is recognised (html=True) so that it can be skipped.
_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


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


def _visible_text(inline: Token) -> str:
    """The text a reader sees in one paragraph, inline HTML (comments above all) left out."""
    parts: list[str] = []
    for child in inline.children or ():
        if child.type == "text":
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "code_inline":
            parts.append(f"`{child.content}`")  # shown as code: a line starting with it is no command
        elif child.type in ("html_inline", "image"):
            parts.append("\x00")  # hidden (an HTML comment) or not text: never part of a command
    return "".join(parts)


def _command_lines(body: str) -> list[str]:
    """Visible lines of `body` outside block quotes, code and HTML, with leading whitespace removed."""
    lines: list[str] = []
    quote_depth = 0
    for token in _MARKDOWN.parse(body[:MAX_COMMENT_CHARS]):
        if token.type == "blockquote_open":
            quote_depth += 1
        elif token.type == "blockquote_close":
            quote_depth -= 1
        elif token.type == "inline" and quote_depth == 0:
            lines.extend(line.lstrip() for line in _visible_text(token).split("\n"))
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
    lowered = body[:MAX_COMMENT_CHARS].lower()
    if not any(prefix in lowered for prefix in prefixes):
        return None  # most comments: no need to read them as Markdown
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
