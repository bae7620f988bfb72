"""Which tree `evolve plan` and `evolve run` work on, said before they start (pure: the lines to print)."""

from __future__ import annotations

from evolve.git.uncommitted import Uncommitted

HOW_TO_INCLUDE = {
    "plan": "`evolve plan --working-tree` plans the files as they are on disk",
    "run": "commit them to include them (a run changes committed code only)",
}


def tree_notice(command: str, ref: str, sha: str, working_tree: bool, uncommitted: Uncommitted) -> list[str]:
    """The lines that name the tree `command` reads and, when they are left out, the uncommitted Python files."""
    if working_tree:
        included = "" if uncommitted.empty else f": {uncommitted.describe()} included"
        return [f"tree: the working tree, uncommitted changes included{included}"]
    lines = [f"tree: {ref} ({sha[:12]}), committed files only"]
    if not uncommitted.empty:
        lines.append(f"evolve: note: uncommitted changes left out: {uncommitted.describe()}; {HOW_TO_INCLUDE[command]}")
    return lines
