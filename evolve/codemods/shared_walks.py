"""One `ast.walk` per node shared by every codemod's `detect` on a file, instead of one walk per codemod.

Most detectors start with `ast.walk(tree)` over the same parsed module (and many walk each function again), so
the catalog used to walk a file fifteen times or more. Within `walks_shared()`, `ast.walk(node)` returns the
nodes the first walk of that node produced, in the same order; outside it (and in other threads) it is the
standard library's own. The results are the same objects in the same order, so a detector cannot tell.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_STANDARD_WALK = ast.walk
_local = threading.local()


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`, answered from this thread's memo while a `walks_shared()` block is open."""
    memo: dict[int, tuple[ast.AST, tuple[ast.AST, ...]]] | None = getattr(_local, "memo", None)
    if memo is None:
        return _STANDARD_WALK(node)
    entry = memo.get(id(node))
    if entry is None or entry[0] is not node:
        entry = memo[id(node)] = (node, tuple(_STANDARD_WALK(node)))  # the entry keeps the node (and its id) alive
    return iter(entry[1])


@contextmanager
def walks_shared() -> Iterator[None]:
    """Within the block, walks of the same node in this thread are computed once. Blocks do not nest."""
    ast.walk = _walk  # installed once for good: outside a block it defers to the standard walk
    _local.memo = {}
    try:
        yield
    finally:
        _local.memo = None
