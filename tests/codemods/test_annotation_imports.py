"""An annotation rewrite finishes what it starts: the imports it left unused go, the ones still used stay, and a tool
comment on a line is no reason to skip it."""

from __future__ import annotations

import pytest

from evolve.codemods.base import CodemodContext
from evolve.codemods.registry import get_codemod
from evolve.codemods.signals import protected_lines, protects
from evolve.testing.codemods import apply_codemod

CODES = ("UP006", "UP007", "pylint:consider-alternative-union-syntax")
AT_310 = CodemodContext(path="pkg/module.py", min_python=(3, 10))


@pytest.mark.parametrize(
    "comment",
    ["# type: ignore[arg-type]", "# noqa", "# pragma: no cover", "# pylint: disable=line-too-long", "# fmt: skip"],
)
def test_a_tool_comment_for_something_else_does_not_protect_a_respelling(comment: str) -> None:
    assert protects(comment, CODES)  # what every other codemod sees
    assert not protects(comment, CODES, tool_comments=False)


@pytest.mark.parametrize(
    "comment",
    ["# noqa: UP006", "# noqa: E501, UP007", "# pylint: disable=consider-alternative-union-syntax", "# deliberate"],
)
def test_a_comment_naming_its_own_rule_or_saying_deliberate_still_does(comment: str) -> None:
    assert protects(comment, CODES, tool_comments=False)


def test_protected_lines_follow_the_flag() -> None:
    source = "a: List[int]  # type: ignore\nb: List[int]  # noqa: UP006\n"
    assert protected_lines(source, CODES) == {1, 2}
    assert protected_lines(source, CODES, tool_comments=False) == {2}


def run(source: str, context: CodemodContext = AT_310) -> str:
    return apply_codemod(get_codemod("modern-annotations"), source, context)[0]


def test_every_annotation_in_the_file_is_converted_and_the_imports_only_they_used_go() -> None:
    source = (
        "from typing import Dict, List, Optional\n"
        "Table = Dict[str, List[int]]\n"
        "def f(a: Optional[int] = None) -> List[int]:  # type: ignore[override]\n"
        "    x: Dict[str, int] = {}  # noqa\n"
        "    return []\n"
    )
    assert run(source) == (  # a module-level alias is a value other code may compare: it keeps its spelling
        "from typing import Dict, List\n"
        "Table = Dict[str, List[int]]\n"
        "def f(a: int | None = None) -> list[int]:  # type: ignore[override]\n"
        "    x: dict[str, int] = {}  # noqa\n"
        "    return []\n"
    )


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        pytest.param(  # re-exported
            "from typing import List\n__all__ = ['List', 'f']\ndef f(x: List[int]) -> None:\n    pass\n",
            "from typing import List\n",
            id="all",
        ),
        pytest.param(  # still used where the rewrite does not reach (a function's local alias)
            "from typing import List\ndef f(x: List[int]) -> None:\n    alias = List[str]\n",
            "from typing import List\n",
            id="used-elsewhere",
        ),
        pytest.param(  # a forward reference in a string is a use
            "from typing import TYPE_CHECKING, List\nif TYPE_CHECKING:\n    from typing import Dict\n"
            "def f(x: List[int], y: 'Dict[str, int]') -> None:\n    pass\n",
            "    from typing import Dict\n",
            id="type-checking-still-used",
        ),
        pytest.param(  # a doctest runs in the module's namespace
            "from typing import List\ndef f(x: List[int]) -> None:\n    '''\n    >>> List[int]\n    '''\n",
            "from typing import List\n",
            id="doctest",
        ),
    ],
)
def test_an_import_still_needed_stays(source: str, kept: str) -> None:
    after = run(source)
    assert after != source and kept in after


def test_an_import_that_was_unused_before_is_not_this_codemods_to_remove() -> None:
    source = "from typing import List, Set\ndef f(x: List[int]) -> None:\n    pass\n"
    assert run(source) == "from typing import Set\ndef f(x: list[int]) -> None:\n    pass\n"


def test_test_data_that_mentions_exec_does_not_make_the_module_dynamic() -> None:
    """black's tests hold `py3_only = "exec(x, end=y)"`: data, so the typing imports the rewrite emptied still go."""
    source = "from typing import List\ndef f(x: List[int]) -> None:\n    check('exec(x, end=y)')\n"
    assert run(source) == "def f(x: list[int]) -> None:\n    check('exec(x, end=y)')\n"


def test_a_real_eval_keeps_every_import() -> None:
    source = "from typing import List\ndef f(x: List[int], name: str) -> None:\n    eval(name)\n"
    assert run(source) == "from typing import List\ndef f(x: list[int], name: str) -> None:\n    eval(name)\n"
