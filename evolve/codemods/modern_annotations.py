"""PEP 585 / PEP 604 annotations: `List[int]` -> `list[int]`, `Optional[X]` -> `X | None`, `Union[A, B]` -> `A | B`."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import (
    bound_names,
    has_future_annotations,
    imported_from,
    module_aliases,
    walk_with_symbol,
)
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, dotted_name, has_comment, module_bindings, run_transformer
from evolve.codemods.cst_edits import has_future_annotations as cst_has_future_annotations
from evolve.codemods.unused_imports import remove_unused_imports

ID = "modern-annotations"
PEP585 = {"List": "list", "Dict": "dict", "Set": "set", "FrozenSet": "frozenset", "Tuple": "tuple", "Type": "type"}
PEP604 = frozenset({"Optional", "Union"})


def _allowed(context: CodemodContext, future: bool) -> tuple[bool, bool]:
    """Whether PEP 585 and PEP 604 forms may be used in annotations of this module."""
    return future or context.min_python >= (3, 9), future or context.min_python >= (3, 10)


class ModernAnnotations(Codemod):
    """Write annotations with builtin generics and `|` unions where the supported Pythons allow it."""

    metadata = CodemodMetadata(
        id=ID,
        title="Use builtin generics and `X | None` in annotations",
        theme="modernize",
        rationale="PEP 585 made the builtins generic (3.9) and PEP 604 added `X | Y` (3.10); the typing aliases are deprecated.",
        risk="medium",
        benefit="cosmetic",
        review_guidance="Only annotations change, and only where `requires-python` (or `from __future__ import annotations`) "
        "allows the new forms. With the future import on older Pythons, runtime evaluation of annotations "
        "(pydantic, `get_type_hints`) would fail: check such libraries are not used on those versions.",
        references=(
            "https://peps.python.org/pep-0585/",
            "https://peps.python.org/pep-0604/",
            "https://peps.python.org/pep-0563/",
        ),
        lint_codes=("UP006", "UP007", "UP035", "UP037", "UP045", "FA100", "pylint:consider-alternative-union-syntax"),
        # The same type, spelled anew, with the line's comments kept: a `# type: ignore` still means what it meant.
        tool_comments_protect=False,
    )
    examples = (
        Example(
            "from typing import Dict, List\ndef f(x: List[int]) -> Dict[str, int]:\n    return {}\n",
            "def f(x: list[int]) -> dict[str, int]:\n    return {}\n",
            (("min_python", (3, 9)),),
        ),
        Example(
            "from typing import Optional, Union\ndef f(a: Optional[int], b: Union[int, str, None] = None) -> None:\n    pass\n",
            "def f(a: int | None, b: int | str | None = None) -> None:\n    pass\n",
            (("min_python", (3, 10)),),
        ),
        Example(
            "from __future__ import annotations\nfrom typing import List, Optional\nx: Optional[List['Node']] = None\nAlias = List[int]\n",
            "from __future__ import annotations\nfrom typing import List\nx: list['Node'] | None = None\nAlias = List[int]\n",
        ),
        Example(
            "import typing\ndef f(x: typing.Tuple[int, ...], t: typing.Type[A]) -> None:\n    pass\n",
            "def f(x: tuple[int, ...], t: type[A]) -> None:\n    pass\n",
            (("min_python", (3, 9)),),
        ),
        Example(
            "from typing import List, Optional\ndef f(x: Optional[List[int]]) -> None:\n    pass\n",
            "from typing import Optional\ndef f(x: Optional[list[int]]) -> None:\n    pass\n",
            (("min_python", (3, 9)),),
        ),
        Example(
            "from typing import Optional, Union\ndef f(x: Optional[Union[int, str]]) -> None:\n    pass\n",
            "def f(x: int | str | None) -> None:\n    pass\n",
            (("min_python", (3, 10)),),
        ),
        # The stragglers of a file it touches: `cast`'s type (builtin generics only: it runs); the import it kept goes
        # with it. A module-level alias is a value other code may compare or introspect: it stays.
        Example(
            "from typing import Dict, List, cast\nJSON = Dict[str, int]\n"
            "def f(x: object) -> List[int]:\n    return cast(List[int], x)\n",
            "from typing import Dict, cast\nJSON = Dict[str, int]\n"
            "def f(x: object) -> list[int]:\n    return cast(list[int], x)\n",
            (("min_python", (3, 10)),),
        ),
        # A tool comment is no reason to skip a line: the comment stays.
        Example(
            "from typing import List, Optional\nx: Optional[int] = None  # type: ignore[assignment]\n"
            "def f(a: List[int]) -> None:  # pragma: no cover\n    pass\n",
            "x: int | None = None  # type: ignore[assignment]\n"
            "def f(a: list[int]) -> None:  # pragma: no cover\n    pass\n",
            (("min_python", (3, 10)),),
        ),
        # Prose and test data that mention a name do not keep its import; a forward reference does.
        Example(
            "import typing\nfrom typing import List\ndef f(x: List[int], y: 'typing.Tuple[int]') -> None:\n"
            "    check('x: List[int] = []')\n",
            "import typing\ndef f(x: list[int], y: 'typing.Tuple[int]') -> None:\n    check('x: List[int] = []')\n",
            (("min_python", (3, 9)),),
        ),
    )
    valid = (
        "from typing import Optional\nx: Optional[int] = None  # type: ignore[assignment]\n",
        "from typing import List\ndef f(x: List[int]) -> None:\n    pass\n",  # default min_python 3.8
        "from typing import List\nx = List[int]\n",
        "from typing import Optional\ny: 'Optional[int]' = None\n",
        "from typing import List\nclass A:\n    def list(self) -> None:\n        pass\n    def g(self) -> List[int]:\n        return []\n",
        "from typing import Dict\ndef f(x: Dict) -> None:\n    pass\n",  # 3.8: still needs typing.Dict
        "from __future__ import annotations\nfrom typing import List\nx: List[int] = []  # noqa: UP006\n",
        # An alias's value runs: `list[int]` needs 3.9 even where the future import covers annotations.
        "from __future__ import annotations\nfrom typing import List, cast\nAlias = List[int]\ny = cast(List[int], [])\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find typing aliases in annotations that the supported Pythons can write natively."""
        future = has_future_annotations(tree)
        pep585, pep604 = _allowed(context, future)
        if not (pep585 or pep604) or "typing" not in source:
            return []
        from_typing = {
            local: name for local, name in imported_from(tree, "typing").items() if name in PEP585 or name in PEP604
        }
        typing_modules = module_aliases(tree, "typing")
        bound, star = bound_names(tree)
        if star:
            return []

        def canonical(node: ast.expr) -> str | None:
            if isinstance(node, ast.Name):
                return from_typing.get(node.id)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in typing_modules:
                return node.attr
            return None

        def convertible(node: ast.expr) -> bool:
            target = node.value if isinstance(node, ast.Subscript) else node
            name = canonical(target)
            if name in PEP585:
                return pep585 and PEP585[name] not in bound
            if name in PEP604 and isinstance(node, ast.Subscript):
                members = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                if name == "Union" and len(members) < 2:
                    return False
                return pep604 and all(_member_ok_ast(member, future) for member in members)
            return False

        found = []
        for node, symbol in walk_with_symbol(tree):
            for annotation in _annotations(node):
                for inner in ast.walk(annotation):
                    if isinstance(inner, (ast.Subscript, ast.Name, ast.Attribute)) and convertible(inner):
                        found.append(
                            Occurrence(
                                inner.lineno, inner.end_lineno or inner.lineno, symbol, "typing alias in annotation"
                            )
                        )
                        break
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rewrite the annotations, then drop typing imports nothing uses any more."""
        future = cst_has_future_annotations(module)
        pep585, pep604 = _allowed(context, future)
        if not (pep585 or pep604):
            return module, []
        bindings = module_bindings(module)
        from_typing, typing_modules = _typing_bindings(bindings)
        transformer = _Transformer(
            ID, context, from_typing, typing_modules, (pep585, pep604, future), frozenset(bindings)
        )
        transformer.imported = _typing_imports(bindings)
        new_module, changes = run_transformer(module, transformer)
        if transformer.converted_locals:
            new_module, _ = remove_unused_imports(new_module, context, ID, frozenset(transformer.converted_locals))
        return new_module, changes


def _annotations(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        return [a.annotation for a in params if a is not None and a.annotation is not None] + (
            [node.returns] if node.returns else []
        )
    return []


def _member_ok_ast(node: ast.expr, future: bool) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return future
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)
    )


def _typing_bindings(bindings: dict[str, list[cst.CSTNode]]) -> tuple[dict[str, str], set[str]]:
    """Local names bound by `from typing import X` (-> X) and names bound to the typing module."""
    from_typing: dict[str, str] = {}
    modules: set[str] = set()
    for local, nodes in bindings.items():
        for node in nodes:
            if (
                isinstance(node, cst.ImportFrom)
                and node.module is not None
                and not node.relative
                and dotted_name(node.module) == "typing"
            ):
                for alias in () if isinstance(node.names, cst.ImportStar) else node.names:
                    if (alias.evaluated_alias or alias.evaluated_name) == local and alias.evaluated_name in (
                        PEP585.keys() | PEP604
                    ):
                        from_typing[local] = alias.evaluated_name
            elif isinstance(node, cst.Import) and any(
                dotted_name(a.name) == "typing" and (a.evaluated_alias or "typing") == local for a in node.names
            ):
                modules.add(local)
    return from_typing, modules


def _typing_imports(bindings: dict[str, list[cst.CSTNode]]) -> dict[str, str]:
    """Local name -> typing name, for every name bound only by `from typing import`."""
    found: dict[str, str] = {}
    for local, nodes in bindings.items():
        names = {
            alias.evaluated_name
            for node in nodes
            if isinstance(node, cst.ImportFrom)
            and node.module is not None
            and not node.relative
            and dotted_name(node.module) == "typing"
            and not isinstance(node.names, cst.ImportStar)
            for alias in node.names
            if (alias.evaluated_alias or alias.evaluated_name) == local
        }
        if len(names) == 1 and len(nodes) == 1:
            found[local] = names.pop()
    return found


_BIT_OR = cst.BitOr(whitespace_before=cst.SimpleWhitespace(" "), whitespace_after=cst.SimpleWhitespace(" "))


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id, context, from_typing, typing_modules, allowed, bound) -> None:
        super().__init__(codemod_id, context)
        self.from_typing, self.typing_modules = from_typing, typing_modules
        self.pep585, self.pep604, self.future = allowed
        self.bound = bound
        self.depth = 0  # > 0 inside an annotation
        # > 0 inside a type expression evaluated at run time: a module or class attribute's `Dict[str, List[int]]`,
        # `cast`'s type. Builtin generics go there too when every supported Python has them (3.9); `X | None` does
        # not (a `types.UnionType` is not the `typing.Union` that `get_origin` callers compare with).
        self.runtime = 0
        self.runtime_roots: set[int] = set()
        self.pep585_runtime = context.min_python >= (3, 9)
        self.functions = 0
        self.imported: dict[str, str] = {}  # every local name bound by `from typing import`, to its typing name
        self.safe_positions: set[int] = set()  # ids of nodes where `A | B` needs no parentheses
        self.converted_locals: set[str] = set()
        self.attribute_names: set[int] = set()  # `List` in `typing.List` is handled as the whole attribute

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.runtime_roots:
            self.runtime += 1
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        result = super().on_leave(original_node, updated_node)
        if id(original_node) in self.runtime_roots:
            self.runtime -= 1
        return result

    def _typing_expression(self, node: cst.BaseExpression) -> bool:
        """`List[int]`, `typing.Dict[...]`, `Union[...]`: a subscript of a name the typing module provides."""
        if not isinstance(node, cst.Subscript):
            return False
        base = node.value
        if isinstance(base, cst.Name):
            return base.value in self.imported
        return (
            isinstance(base, cst.Attribute)
            and isinstance(base.value, cst.Name)
            and base.value.value in self.typing_modules
        )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.functions -= 1
        return updated_node

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted_name(node.func)
        is_cast = self.imported.get(name) == "cast" or any(name == f"{module}.cast" for module in self.typing_modules)
        if is_cast and node.args and node.args[0].keyword is None and not node.args[0].star:
            self.runtime_roots.add(id(node.args[0].value))

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self.depth += 1
        self.safe_positions.add(id(node.annotation))

    def leave_Annotation(self, original_node: cst.Annotation, updated_node: cst.Annotation) -> cst.Annotation:
        self.depth -= 1
        return updated_node

    def visit_SubscriptElement(self, node: cst.SubscriptElement) -> None:
        if isinstance(node.slice, cst.Index):
            self.safe_positions.add(id(node.slice.value))

    def visit_Element(self, node: cst.Element) -> None:
        self.safe_positions.add(id(node.value))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attribute_names.add(id(node.attr))

    def visit_SimpleString(self, node: cst.SimpleString) -> bool:
        return False  # string annotations are not rewritten

    def _canonical(self, node: cst.BaseExpression) -> tuple[str | None, str | None]:
        """(typing name, local name bound by `from typing import`) for a Name/Attribute."""
        if isinstance(node, cst.Name) and node.value in self.from_typing:
            return self.from_typing[node.value], node.value
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value in self.typing_modules
        ):
            return node.attr.value, None
        return None, None

    def _builtin(self, original: cst.CSTNode, node: cst.BaseExpression) -> cst.BaseExpression | None:
        if not (self.depth or self.runtime):
            return None
        name, local = self._canonical(node)
        allowed = self.pep585 if self.depth else self.pep585_runtime
        if name not in PEP585 or not allowed or PEP585[name] in self.bound:
            return None
        if local:
            self.converted_locals.add(local)
        elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            self.converted_locals.add(node.value.value)  # `import typing` may be left unused too
        self.record(original, f"typing.{name} -> {PEP585[name]}")
        return cst.Name(PEP585[name], lpar=node.lpar, rpar=node.rpar)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if id(original_node) in self.attribute_names:
            return updated_node
        return self._builtin(original_node, updated_node) or updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._builtin(original_node, updated_node) or updated_node

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if not self.depth or not self.pep604:
            return updated_node
        name, local = self._canonical(updated_node.value)
        if name not in PEP604 or has_comment(updated_node):
            return updated_node
        members = [
            element.slice.value
            for element in updated_node.slice
            if isinstance(element.slice, cst.Index) and element.slice.star is None
        ]
        if len(members) != len(updated_node.slice) or not members or (name == "Union" and len(members) < 2):
            return updated_node
        if name == "Optional":
            if len(members) != 1:
                return updated_node
            members = [members[0], cst.Name("None")]
        if not all(self._member_ok(member) for member in members):
            return updated_node
        union: cst.BaseExpression = members[0].with_changes(lpar=[], rpar=[]) if _is_bitor(members[0]) else members[0]
        for member in members[1:]:
            union = cst.BinaryOperation(left=union, operator=_BIT_OR, right=member)
        if local:
            self.converted_locals.add(local)
        self.record(original_node, f"{name}[...] -> `|` union")
        if id(original_node) not in self.safe_positions:
            union = union.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return union

    def _member_ok(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return self.future
        return isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)) or _is_bitor(node)


def _is_bitor(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr)
