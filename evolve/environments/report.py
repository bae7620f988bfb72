"""How a report and a PR body say which environment the suite ran in and what was installed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evolve.untrusted_text import untrusted_block, untrusted_markdown

SECTION = "### Test environment\n\n{lines}\n\n"
COMMANDS_LIMIT = 4000


def render_environment_section(environment: Mapping[str, Any] | None) -> str:
    """A Markdown section naming the interpreter, where the environment came from, and the install commands."""
    if not environment:
        return ""
    if environment.get("failure"):
        lines = [f"- could not be built: {untrusted_markdown(str(environment['failure']), 1500)}"]
    else:
        reuse = "reused" if environment.get("reused") else f"built in {environment.get('build_seconds', 0):.1f}s"
        lines = [f"- {untrusted_markdown(str(environment.get('description', '')), 600)}"]
        if environment.get("kind") == "built":
            lines.append(f"- environment `{environment.get('key', '')}`, {reuse}")
    for note in environment.get("notes", [])[:10]:
        lines.append(f"- note: {untrusted_markdown(str(note), 300)}")
    commands = environment.get("install_commands") or []
    text = "\n".join(lines)
    if commands:
        text += "\n\nInstalled with:\n\n" + untrusted_block("\n".join(commands), COMMANDS_LIMIT)
    return SECTION.format(lines=text)
