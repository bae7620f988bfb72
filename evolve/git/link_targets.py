"""Where a symbolic link of a tree really leads, resolved through the tree's own links. Pure.

The check is not lexical: `h -> .` then `x -> h/h/../../etc/passwd` normalises to `etc/passwd` inside the tree,
but the kernel reads `h/h` as the tree's root and `../..` as two levels above it. Here every component is looked
up in the tree's links as the kernel would, and a path that climbs above the root at any step, names an absolute
target, or takes more than `MAX_HOPS` links (a loop) leaves the tree. A component that is not a link is taken as
a directory: a real lookup could only fail there, never leave the tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

MAX_HOPS = 40  # Linux's own limit on links followed while resolving one path


def resolve_in_tree(start: str, target: str, links: Mapping[str, str]) -> str | None:
    """The tree-relative path that the link target `target`, read from the directory `start`, resolves to;
    None when it leaves the tree. `links` maps each link's tree-relative path to its target."""
    if target.startswith("/") or "\0" in target:
        return None
    current: list[str] = [part for part in start.split("/") if part not in ("", ".")]
    pending: list[str] = list(reversed(target.split("/")))
    hops = 0
    while pending:
        part = pending.pop()
        if part in ("", "."):
            continue
        if part == "..":
            if not current:
                return None
            current.pop()
            continue
        candidate = "/".join([*current, part])
        if candidate in links:
            hops += 1
            link = links[candidate]
            if hops > MAX_HOPS or link.startswith("/") or "\0" in link:
                return None
            pending.extend(reversed(link.split("/")))
            continue
        current.append(part)
    return "/".join(current)


def escaping_links(links: Mapping[str, str]) -> set[str]:
    """The links (tree-relative paths) whose target leaves the tree, resolving through every link of `links`.

    A link reached through one that escapes escapes too; so judging with every link present never keeps a link
    that would escape once the escaping ones are dropped."""
    return {path for path, target in links.items() if resolve_in_tree(_parent(path), target, links) is None}


def _parent(path: str) -> str:
    parent = PurePosixPath(path).parent.as_posix()
    return "" if parent == "." else parent
