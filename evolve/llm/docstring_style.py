"""Docstring style detection (Google, NumPy, reST, plain) and the filler check for proposed docstrings."""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

DocstringStyle = Literal["google", "numpy", "rest", "plain"]

_GOOGLE = re.compile(
    r"^\s*(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Attributes|Examples?|Notes?):\s*$", re.MULTILINE
)
_NUMPY = re.compile(
    r"^\s*(Parameters|Returns|Raises|Yields|Attributes|Examples|Notes|See Also)\s*\n\s*-{3,}\s*$", re.MULTILINE
)
_REST = re.compile(r"^\s*:(param|type|returns?|rtype|raises?|ivar|vartype)\b[^:\n]*:", re.MULTILINE)

STYLE_GUIDANCE: dict[str, str] = {
    "google": 'Google style: a one-line summary, a blank line, then sections such as "Args:", "Returns:", "Raises:" '
    "with indented entries.",
    "numpy": "NumPy style: a one-line summary, a blank line, then sections such as Parameters / Returns / Raises, "
    "each title underlined with dashes.",
    "rest": "reStructuredText style: a one-line summary, a blank line, then fields such as "
    '":param name: ...", ":returns: ...", ":raises Error: ...".',
    "plain": "plain prose: a one-line summary ending with a period, optionally followed by a blank line and a short "
    "paragraph; no section headings.",
}

FILLER = re.compile(
    r"\b(TODO|FIXME|XXX|TBD|lorem ipsum|placeholder|docstring here|add description|to be documented)\b", re.IGNORECASE
)
_STOPWORDS = {
    "a",
    "an",
    "the",
    "this",
    "that",
    "of",
    "to",
    "for",
    "and",
    "or",
    "in",
    "on",
    "is",
    "it",
    "by",
    "with",
    "as",
    "function",
    "method",
    "class",
    "object",
    "returns",
    "return",
    "get",
    "gets",
    "set",
    "sets",
    "value",
    "given",
}
MIN_WORDS = 4


def classify_docstring(text: str) -> DocstringStyle:
    """The style one docstring is written in."""
    if _NUMPY.search(text):
        return "numpy"
    if _REST.search(text):
        return "rest"
    if _GOOGLE.search(text):
        return "google"
    return "plain"


def dominant_style(docstrings: Iterable[str]) -> DocstringStyle:
    """The most common structured style among `docstrings`; plain when none uses sections."""
    counts = Counter(style for style in map(classify_docstring, docstrings) if style != "plain")
    if not counts:
        return "plain"
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]


def collect_docstrings(source: str) -> list[str]:
    """All module, class and function docstrings of one source text; empty when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                found.append(doc)
    return found


def detect_repository_style(root: Path, paths: Iterable[str], max_files: int = 200) -> DocstringStyle:
    """The dominant docstring style of the given repository files (relative paths), read at most `max_files`."""
    docstrings: list[str] = []
    for count, relative in enumerate(sorted(paths)):
        if count >= max_files:
            break
        try:
            docstrings.extend(collect_docstrings((root / relative).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return dominant_style(docstrings)


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9']*", text)]


def _name_words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.split(".")[-1]).replace("_", " ")
    return {w.lower() for w in spaced.split()}


def docstring_problem(docstring: str, symbol: str, repo_style: DocstringStyle) -> str | None:
    """Why a proposed docstring is filler or off-style, or None when it is acceptable."""
    text = docstring.strip()
    if not text:
        return "the docstring is empty"
    if FILLER.search(text):
        return "the docstring contains placeholder text (TODO/FIXME/placeholder); describe what the code does"
    if '"""' in text:
        return 'the docstring may not contain triple double quotes (""")'
    words = _words(text)
    if len(words) < MIN_WORDS:
        return f"the docstring is too short ({len(words)} words); describe behaviour, inputs and result in a sentence"
    summary = text.splitlines()[0]
    meaningful = set(_words(summary)) - _STOPWORDS - _name_words(symbol)
    if len(meaningful) < 2:
        return f"the summary line only restates the name {symbol!r}; say what it does, derived from the code"
    style = classify_docstring(text)
    if style != "plain" and repo_style != "plain" and style != repo_style:
        return f"the docstring uses {style} sections but this repository writes {repo_style} docstrings"
    if style != "plain" and repo_style == "plain":
        return "this repository writes plain-prose docstrings without sections; drop the section headings"
    return None
