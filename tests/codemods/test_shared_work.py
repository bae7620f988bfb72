"""The work the catalog shares between codemods on one file: statement lines from one light codegen pass, one
`ast.walk` per node, one tokenization per source, and the code of a module generated at most once."""

from __future__ import annotations

import ast
import threading

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from evolve.codemods import cst_edits
from evolve.codemods.shared_walks import walks_shared

SOURCE = '''\
import os  # noqa: F401
x = [
    1,  # deliberate
    2,
]


class Box(Base):  # type: ignore[misc]
    """A box."""

    def put(self, item):
        if item:
            return 1
        elif item is None:  # pragma: no cover
            raise ValueError(
                "none"
            )
        else:
            pass
        try:
            a = 1; b = 2
        except (OSError, ValueError):
            return b
        finally:
            del a
        while True: break
        match item:
            case 1:
                pass


def tail(): return 1
'''


def test_statement_lines_match_libcsts_position_provider():
    module = cst.parse_module(SOURCE)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    spans = cst_edits._with_spans(module).spans
    assert spans is not None
    checked = 0
    for node in cst_edits.iter_nodes(module):
        if cst_edits._is_statement_part(node) and not isinstance(node, cst.Module):
            where = positions[node]
            assert spans[id(node)] == (where.start.line, where.end.line), type(node).__name__
            checked += 1
    assert checked > 30


def test_protected_statements_are_the_statements_on_signalled_lines():
    module = cst.parse_module(SOURCE)
    protected = cst_edits.protected_statements(module, ("F401",))
    named = {
        type(node).__name__
        + (f":{node.name.value}" if hasattr(node, "name") and isinstance(node.name, cst.Name) else "")
        for node in cst_edits.iter_nodes(module)
        if id(node) in protected
    }
    # `import os` (noqa), `x = [...]` (deliberate inside it), the class (type: ignore on its header), the `if`
    # (its `elif` header carries a pragma); not `def put` nor `def tail`.
    assert named == {"SimpleStatementLine", "ClassDef:Box", "If"}
    assert (
        sum(isinstance(node, cst.SimpleStatementLine) for node in cst_edits.iter_nodes(module) if id(node) in protected)
        == 2
    )


def test_a_module_is_generated_once_and_a_transform_without_edits_returns_the_same_tree():
    module = cst.parse_module(SOURCE)
    cst_edits.remember_code(module, SOURCE)
    assert cst_edits.module_code(module) is SOURCE
    transformer = cst_edits.RecordingTransformer("nothing", cst_edits.CodemodContext())
    same, changes = cst_edits.run_transformer(module, transformer)
    assert same is module and changes == []
    other = cst.parse_module("y = 2\n")
    assert cst_edits.module_code(other) == "y = 2\n"


def test_walks_are_shared_within_a_block_and_standard_outside_it():
    tree = ast.parse(SOURCE)
    with walks_shared():
        first, second = list(ast.walk(tree)), list(ast.walk(tree))
        assert first == second and all(a is b for a, b in zip(first, second))
        inner = tree.body[2]
        assert [type(n) for n in ast.walk(inner)] == [type(n) for n in list(ast.iter_child_nodes(tree))[2:3]] + [
            type(n) for n in list(ast.walk(inner))[1:]
        ]
    outside = ast.walk(tree)
    assert not isinstance(outside, type(iter(()))) and list(outside) == first  # the standard generator again

    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(len(list(ast.walk(tree)))))
    with walks_shared():
        worker.start()
        worker.join()
    assert seen == [len(first)]
