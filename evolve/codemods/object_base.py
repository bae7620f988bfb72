"""`class A(object):` -> `class A:` (every Python 3 class is new-style)."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import bound_names, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, has_comment, module_bound_names, run_transformer

ID = "object-base"


class ObjectBase(Codemod):
    """Drop the redundant explicit `object` base class."""

    metadata = CodemodMetadata(
        id=ID,
        title="Drop redundant `object` base class",
        theme="modernize",
        rationale="In Python 3 every class derives from `object`; listing it is Python 2 residue.",
        risk="low",
        benefit="cosmetic",
        review_guidance="No behaviour change: the MRO is identical. Skipped when the module rebinds the name `object`.",
        references=(
            "https://docs.python.org/3/reference/compound_stmts.html#class-definitions",
            "https://github.com/asottile/pyupgrade#rewrites-class-declaration",
        ),
        lint_codes=("UP004", "pylint:useless-object-inheritance", "pylint:R0205"),
    )
    examples = (
        Example("class A(object):\n    pass\n", "class A:\n    pass\n"),
        Example("class A(object, metaclass=Meta):\n    x = 1\n", "class A(metaclass=Meta):\n    x = 1\n"),
        Example(
            "def f():\n    class Local(object): pass\n    return Local\n",
            "def f():\n    class Local: pass\n    return Local\n",
        ),
        Example("class A(  object  ):  # note\n    pass\n", "class A:  # note\n    pass\n"),
    )
    valid = (
        "class A(object):  # noqa: UP004\n    pass\n",
        "class A:\n    pass\n",
        "class A(Base, object):\n    pass\n",  # object is not the only base: MRO question, left alone
        "object = MyBase\nclass A(object):\n    pass\n",  # rebound name
        "class A(\n    object  # py2 compat\n):\n    pass\n",  # comment inside the bases: left alone
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find classes whose only base is `object`."""
        if "object" not in source:
            return []
        bound, star = bound_names(tree)
        if "object" in bound or star:
            return []
        lines = source.splitlines()
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                isinstance(node, ast.ClassDef)
                and len(node.bases) == 1
                and isinstance(node.bases[0], ast.Name)
                and node.bases[0].id == "object"
            ):
                header_end = node.body[0].lineno - 1
                if any("#" in line for line in lines[node.lineno - 1 : header_end - 1]):
                    continue  # comment inside a multi-line class header
                found.append(
                    Occurrence(
                        node.lineno,
                        node.lineno,
                        f"{symbol}.{node.name}" if symbol else node.name,
                        "explicit `object` base",
                    )
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Remove the `object` base."""
        bound, star = module_bound_names(module)
        if "object" in bound or star:
            return module, []
        return run_transformer(module, _Transformer(ID, context))


class _Transformer(RecordingTransformer):
    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        bases = updated_node.bases
        if (
            len(bases) != 1
            or not (isinstance(bases[0].value, cst.Name) and bases[0].value.value == "object")
            or bases[0].star
        ):
            return updated_node
        header = [*bases, *updated_node.keywords, updated_node.lpar, updated_node.rpar]
        if any(isinstance(part, cst.CSTNode) and has_comment(part) for part in header):
            return updated_node
        self.record(original_node, f"class {updated_node.name.value} no longer lists `object`")
        if updated_node.keywords:
            return updated_node.with_changes(bases=[])
        return updated_node.with_changes(
            bases=[],
            lpar=cst.MaybeSentinel.DEFAULT,
            rpar=cst.MaybeSentinel.DEFAULT,
            whitespace_before_colon=cst.SimpleWhitespace(""),
        )
