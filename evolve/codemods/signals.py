"""The code's own signals that a line is deliberate, and which lines they protect from a codemod.

A line is left alone when it carries `# noqa` (bare, or naming one of the codemod's lint codes),
`# nosec`, `# type: ignore`, a coverage `# pragma: ...`, or a comment saying the construct is deliberate
("deliberate", "intentional", "on purpose", "by design", "do not change", "side effect", ...). A
deliberate comment on a line of its own also protects the statement below it. Every codemod's `detect`
drops occurrences on protected lines (evolve/codemods/base.py) and every `run_transformer` leaves
protected statements byte-for-byte as they were (evolve/codemods/cst_edits.py).

A codemod that only respells what a line already says (`List[int]` -> `list[int]`) and keeps the line's comments
sets `CodemodMetadata.tool_comments_protect = False`: a tool comment (`# type: ignore`, a bare `# noqa` or one for
other codes, `# pragma: no cover`, `# pylint: disable=...`, `# fmt: skip`) is then no reason to skip the line; only
a `# noqa` or pylint disable naming one of its own codes, or a comment saying the code is deliberate, stops it.
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
from collections.abc import Iterable, Sequence

_NOQA = re.compile(r"#\s*noqa\b(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)
_ALWAYS = re.compile(r"#\s*(?:nosec\b|type:\s*ignore\b|pragma:|pylint:\s*disable|fmt:\s*(?:off|skip))", re.IGNORECASE)
_PYLINT_DISABLE = re.compile(r"#\s*pylint:\s*disable(?:-next)?\s*=\s*([\w\-, ]+)", re.IGNORECASE)
_DELIBERATE = re.compile(
    r"(?i)\b(?:deliberate(?:ly)?|intentional(?:ly)?|on\s+purpose|by\s+design|purposely|purposefully|"
    r"do\s+not\s+(?:change|remove|touch|edit|simplify)|don'?t\s+(?:change|remove|touch|edit|simplify)|"
    r"side[-\s]effects?|must\s+stay|keep\s+(?:this|as\s+is)|needed\s+for|required\s+for|"
    r"unsafe\s+on\s+purpose|re-?exports?(?:ed)?|registers?\b)"
)
_QUICK = re.compile(
    r"(?i)noqa|nosec|type:\s*ignore|pragma:|pylint:|fmt:|deliberate|intentional|purpose|design|do\s*n.?o?t|"
    r"side[-\s]effect|must\s+stay|keep\s|needed|required|export|register"
)
# An occurrence longer than this is a whole definition: only its first line speaks for it.
_SHORT_SPAN = 10


@functools.lru_cache(maxsize=4)
def _comments(source: str) -> tuple[tuple[int, str, bool], ...]:
    """(line, comment text, whether the comment stands on a line of its own) for every comment.

    Remembered for the last few sources: every codemod's detect and transform asks about the same file."""
    return tuple(_iter_comments(source))


def _iter_comments(source: str) -> Iterable[tuple[int, str, bool]]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        for number, line in enumerate(source.splitlines(), 1):
            if "#" in line:
                yield number, line[line.index("#") :], line.lstrip().startswith("#")
        return
    for token in tokens:
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string, not token.line[: token.start[1]].strip()


def _noqa_matches(comment: str, codes: Sequence[str]) -> bool:
    for match in _NOQA.finditer(comment):
        listed = match.group("codes")
        if not listed:
            return True  # a bare noqa comment silences everything on its line
        named = [code.upper() for code in re.split(r"[\s,]+", listed) if code]
        if any(code.upper().startswith(prefix) for code in codes for prefix in named):
            return True
    return False


def _names_own_code(comment: str, codes: Sequence[str]) -> bool:
    """A `# noqa: X` or `# pylint: disable=x` that names one of `codes` (a bare noqa names none)."""
    if any(match.group("codes") and _noqa_matches(match.group(0), codes) for match in _NOQA.finditer(comment)):
        return True
    disabled = _PYLINT_DISABLE.search(comment)
    if disabled is None:
        return False
    named = {name.strip().lower() for name in disabled.group(1).split(",")}
    return any(code.startswith("pylint:") and code[len("pylint:") :].lower() in named for code in codes)


def protects(comment: str, codes: Sequence[str] = (), tool_comments: bool = True) -> bool:
    """Whether one comment marks its line as off limits for a codemod with these lint codes (`tool_comments`:
    whether tool comments for other purposes do too, see the module docstring)."""
    if not tool_comments:
        return bool(_DELIBERATE.search(comment) or _names_own_code(comment, codes))
    return bool(_ALWAYS.search(comment) or _DELIBERATE.search(comment) or _noqa_matches(comment, codes))


def protected_lines(source: str, codes: Sequence[str] = (), tool_comments: bool = True) -> frozenset[int]:
    """The 1-based lines a codemod with these lint codes must leave alone."""
    if not _QUICK.search(source):
        return frozenset()
    lines = source.splitlines()
    protected: set[int] = set()
    for number, comment, standalone in _comments(source):
        if not protects(comment, codes, tool_comments):
            continue
        protected.add(number)
        if standalone and _DELIBERATE.search(comment):
            following = number + 1  # the statement the comment sits above
            while following <= len(lines) and (
                not lines[following - 1].strip() or lines[following - 1].lstrip().startswith("#")
            ):
                following += 1
            protected.add(following)
    return frozenset(protected)


def span_is_protected(line: int, end_line: int, protected: frozenset[int]) -> bool:
    """Whether an occurrence spanning these lines touches a protected line (long spans: only the first line)."""
    if not protected:
        return False
    last = end_line if end_line - line <= _SHORT_SPAN else line
    return any(number in protected for number in range(line, last + 1))
