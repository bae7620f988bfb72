"""Comment command parsing: examples and properties (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.handlers.commands import VERBS, Command, UnknownCommand, parse_command


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/evolve run", Command("run")),
        ("/evolve run docstrings", Command("run", ("docstrings",))),
        ("@evolve-bot plan", Command("plan")),
        ("  /evolve   STATUS  ", Command("status")),
        ("Thanks!\n/evolve retry\nmore text", Command("retry")),
        ("/evolve help\n/evolve run", Command("help")),
        ("/evolve frobnicate now", UnknownCommand("frobnicate", ("now",))),
        ("/evolve", UnknownCommand("")),
        ("@Evolve-Bot Pause", Command("pause")),
        ("/evolved run", None),
        ("@evolve-bot2 run", None),
        ("please /evolve run", None),
        ("> /evolve run\nquoted only", None),
        ("```\n/evolve run\n```", None),
        ("~~~~\n/evolve run\n~~~\n~~~~\n/evolve plan", Command("plan")),
        ("```python\n/evolve run\n```\n/evolve status", Command("status")),
        ("", None),
    ],
)
def test_examples(body: str, expected: object) -> None:
    assert parse_command(body) == expected


def test_custom_bot_login_with_app_suffix() -> None:
    assert parse_command("@mybot[bot] run", bot_login="mybot[bot]") is None
    assert parse_command("@mybot run x", bot_login="mybot[bot]") == Command("run", ("x",))
    assert parse_command("@evolve-bot run", bot_login="mybot") is None


def test_command_properties() -> None:
    command = Command("run", ("complexity",))
    assert command.focus == "complexity"
    assert command.needs_write_access
    assert not Command("status").needs_write_access and not Command("help").needs_write_access
    assert Command("plan").focus is None
    assert command.render() == "/evolve run complexity"


_prefix_free = st.text().filter(lambda text: "/evolve" not in text.lower() and "@evolve-bot" not in text.lower())
_word = st.text(alphabet=st.characters(categories=("L", "N"), max_codepoint=0x2FF), min_size=1, max_size=12)


@given(_prefix_free)
def test_text_without_prefix_is_not_a_command(text: str) -> None:
    assert parse_command(text) is None


@given(st.text())
@settings(max_examples=300)
def test_never_raises(text: str) -> None:
    result = parse_command(text)
    assert result is None or isinstance(result, (Command, UnknownCommand))


@given(st.sampled_from(VERBS), st.lists(_word, max_size=3), st.sampled_from(["/evolve", "@evolve-bot"]))
def test_valid_verbs_round_trip(verb: str, args: list[str], prefix: str) -> None:
    command = Command(verb, tuple(args))
    assert parse_command(command.render(prefix)) == command


@given(st.sampled_from(VERBS), st.randoms(use_true_random=False))
def test_verb_is_case_insensitive(verb: str, rnd) -> None:  # type: ignore[no-untyped-def]
    mixed = "".join(c.upper() if rnd.random() < 0.5 else c for c in verb)
    assert parse_command(f"/evolve {mixed}") == Command(verb)


# Prose without Markdown syntax: a line of it never opens a block that could hide the next line.
_prose = st.text(
    alphabet=st.characters(categories=("L", "N", "Zs"), exclude_characters="\x0b\x0c") | st.sampled_from(".,;:?'\"()")
)


@given(st.sampled_from(VERBS), st.text(alphabet=" ", max_size=3), _prose)
def test_leading_whitespace_and_preceding_text(verb: str, indent: str, before: str) -> None:
    body = f"{before}\n{indent}/evolve {verb}"
    assert parse_command(body) == Command(verb)


@given(st.sampled_from(VERBS), st.text(alphabet=st.characters(exclude_characters="`~/@"), max_size=40))
def test_commands_inside_fences_and_quotes_are_ignored(verb: str, filler: str) -> None:
    assert parse_command(f"```\n{filler}\n/evolve {verb}\n```") is None
    assert parse_command(f"{filler}\n> /evolve {verb}") is None


@given(_word.filter(lambda w: w.lower() not in VERBS))
def test_unknown_verbs_are_reported(word: str) -> None:
    assert parse_command(f"/evolve {word}") == UnknownCommand(word)


@pytest.mark.parametrize(
    "body",
    [
        "<!-- /evolve pause -->",
        "<!--\n/evolve pause\n-->",
        "Looks good to me.\n<!--\n/evolve pause\n-->",
        "text <!-- hidden\n/evolve pause\n--> more",
        "    /evolve pause",
        "Some code:\n\n    /evolve pause",
        "`/evolve pause`",
        "> > /evolve pause",
        "> quoted\n/evolve pause",  # a lazy continuation line belongs to the quote
        "- item\n  > /evolve pause",
        "<details>\n/evolve pause\n</details>",
        "```\n/evolve pause",  # an unclosed fence runs to the end of the comment
        "![/evolve pause](x.png)",
    ],
    ids=[
        "html-comment",
        "multiline-comment",
        "comment-after-text",
        "inline-comment",
        "indented-code",
        "indented-code-after-text",
        "inline-code",
        "nested-quote",
        "lazy-quote",
        "quote-in-list",
        "html-block",
        "unclosed-fence",
        "image-alt",
    ],
)
def test_hidden_quoted_or_code_commands_are_ignored(body: str) -> None:
    assert parse_command(body) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # GitHub's "Quote reply" shape: the quoted command is ignored, the reply's own command counts.
        ("> /evolve pause\n\n/evolve resume", Command("resume")),
        ("<!-- /evolve pause -->\n/evolve status", Command("status")),
        ("- /evolve plan", Command("plan")),
        ("**/evolve run**", Command("run")),
        ("Thanks!\r\n\r\n/evolve run docstrings\r\n", Command("run", ("docstrings",))),
        ("| a |\n|---|\n| b |\n\n/evolve help", Command("help")),
    ],
)
def test_visible_commands_in_real_comment_shapes(body: str, expected: object) -> None:
    assert parse_command(body) == expected
