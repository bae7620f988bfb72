"""Untrusted text in the bot's replies and check runs goes through `evolve.untrusted_text`, escaped by default."""

from __future__ import annotations

from markdown_it import MarkdownIt

from bot.templates import Markdown, block, cell, code, link_target, mention, render
from evolve.plan.render import render_plan_markdown
from evolve.plan.tasks import Plan, Task

HOSTILE = "x,@octocat,#1,**bold**.py"
ZWSP = "\u200b"


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_every_template_value_is_escaped_unless_marked_markdown():
    reply = render("run_error", message=HOSTILE)
    assert reply == f"The run stopped with an error: x,@{ZWSP}octocat,\\#{ZWSP}1,\\*\\*bold\\*\\*\\.py\n"
    assert "<strong>" not in _html(reply)
    assert render("run_error", message=Markdown("**trusted**")) == "The run stopped with an error: **trusted**\n"


def test_html_links_and_newlines_are_inert():
    reply = render("run_skipped", reason="<img src=x onerror=alert(1)>\n# Heading\n[click](https://evil.example)")
    html = _html(reply)
    assert "<img" not in html and "<h1>" not in html and "<a " not in html


def test_fenced_values_cannot_close_their_fence():
    error = "line\n```\n@octocat **out of the fence**\n```"
    reply = render("config_invalid", branch=code("main"), error=block(error))
    html = _html(reply)
    assert "<strong>" not in html
    assert html.count("<pre>") == 1 and "@octocat **out of the fence**" in html


def test_code_and_mentions_and_links():
    assert code("a`b") == "``a`b``"
    assert mention("octo-cat") == "@octo-cat"
    assert mention("x @y") == f"@{ZWSP}x @{ZWSP}y"  # not a login: no live mention at all
    assert link_target("https://github.com/o/r/pull/3") == "https://github.com/o/r/pull/3"
    assert link_target("javascript:alert(1)") == "#" and link_target("https://x/)[y](z") == "#"
    assert cell("a | b\n@c") == f"a \\| b @{ZWSP}c"


def test_plan_reply_escapes_hostile_file_names():
    plan = Plan(
        theme="docstrings",
        title="Add docstrings",
        tasks=(Task(kind="codemod", path="x,@octocat,#1,**bold**|`.py", codemod="add-docstrings"),),
        score=1.0,
    )
    markdown = render_plan_markdown(plan)
    html = _html(markdown)
    assert "<strong>" not in html
    row = next(line for line in markdown.splitlines() if line.startswith("| 1 |"))
    assert row.count(" | ") == 4  # the pipe in the name did not add a cell
    mermaid = markdown.split("```mermaid", 1)[1].split("```", 1)[0]
    assert "`" not in mermaid and "#1" not in mermaid
