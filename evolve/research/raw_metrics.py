"""radon's raw metrics (`radon raw`: loc, lloc, sloc, comments, multi, blank) in linear time.

`radon.raw.analyze` finds each statement by re-tokenising a growing buffer one line at a time, which
is quadratic in the length of a statement: a 3,600-line dict literal (rich's `_emoji_codes.py`) takes
90 seconds. Here one streaming tokenisation of the same stripped lines is cut into statements, and the
counting is radon's own code, so the numbers are identical (the tests compare them on real files).
Anything unusual (error tokens, unterminated input) falls back to radon's line-by-line search.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Iterator

from radon.raw import Module, _get_all_tokens, _logical, is_single_token

_OPENING, _CLOSING = set("([{"), set(")]}")


_END = tokenize.TokenInfo(tokenize.ENDMARKER, "", (0, 0), (0, 0), "")


def _streamed_units(lines: list[str], done: list[int]) -> Iterator[tuple[list[tuple], list[str]]]:
    """Statements from one tokenisation of all lines; `done[0]` ends as the number of lines consumed.

    Each unit's tokens are the stream's tokens of that statement plus an end marker, which is what
    radon's per-statement tokenisation yields as far as its counting can tell.
    """
    feed = iter(line + "\n" for line in lines)
    depth = 0
    pending: list[tuple] = []
    try:
        for token in tokenize.generate_tokens(lambda: next(feed, "")):
            if token.type == tokenize.ERRORTOKEN:
                return
            if token.type == tokenize.ENDMARKER:
                break
            pending.append(token)
            if token.type == tokenize.OP:
                depth += token.string in _OPENING
                depth -= token.string in _CLOSING
            elif token.type in (tokenize.NEWLINE, tokenize.NL) and depth <= 0 and token.start[0] > done[0]:
                row = token.start[0]
                yield [*pending, _END], lines[done[0] : row]
                done[0] = row
                pending = []
    except (tokenize.TokenError, SyntaxError):
        return


def _units(lines: list[str]) -> Iterator[tuple[list[tuple], list[str]]]:
    """(tokens, lines) per statement, as radon's `_get_all_tokens` would produce them for counting."""
    done = [0]
    yield from _streamed_units(lines, done)
    rest = iter(lines[done[0] :])
    for line in rest:
        try:
            yield _get_all_tokens(line, rest)
        except StopIteration:
            raise SyntaxError(f"SyntaxError after line {done[0]}") from None


def analyze_raw(source: str) -> Module:
    """The same `Module` tuple as `radon.raw.analyze(source)`, computed in linear time."""
    lloc = comments = single_comments = multi = blank = sloc = 0
    lines = [line.strip() for line in io.StringIO(source).read().splitlines()]
    for tokens, parsed_lines in _units(lines):
        comments += sum(1 for t in tokens if t[0] == tokenize.COMMENT)
        if is_single_token(tokenize.COMMENT, tokens):
            single_comments += 1
        elif is_single_token(tokenize.STRING, tokens):
            _, _, (start_row, _), (end_row, _), _ = tokens[0]
            if end_row == start_row:
                single_comments += 1
            else:
                multi += sum(1 for line in parsed_lines if line)
                blank += sum(1 for line in parsed_lines if not line)
        else:
            for line in parsed_lines:
                if line:
                    sloc += 1
                else:
                    blank += 1
        lloc += _logical(tokens)
    loc = sloc + blank + multi + single_comments
    return Module(loc, lloc, sloc, comments, multi, blank, single_comments)
