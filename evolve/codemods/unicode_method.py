"""`def __unicode__(self)` -> `def __str__(self)` in Python-3-only projects (Python 3 never calls `__unicode__`).

On Python 2, `unicode(obj)` called `__unicode__`; Python 3's `str(obj)` calls `__str__` only, so a class that
defines its text in `__unicode__` prints as `<pkg.Thing object at 0x...>`. Changed, in a class that defines
`__unicode__`:
- no `__str__`: the method is renamed `__str__`;
- a `__str__` that only delegates to it (`return unicode(self)`, `return self.__unicode__()`, or either with
  `.encode(...)`, which returns bytes and makes `str(obj)` raise TypeError on Python 3): that `__str__` goes and
  `__unicode__` takes its name.
Left alone (and said why): a class whose `__str__` does something else, a module that names `__unicode__` anywhere
else (a call `Base.__unicode__(self)`, an assignment), a class under a decorator that makes the methods itself
(`python_2_unicode_compatible`). Projects that still declare Python 2 get nothing: there `str(obj)` must be bytes.
"""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "unicode-method"
UNICODE = "__unicode__"


def _methods(node: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {item.name: item for item in node.body if isinstance(item, ast.FunctionDef)}


def _delegates(method: ast.FunctionDef) -> bool:
    """Whether `__str__` only returns `unicode(self)` / `self.__unicode__()` (optionally `.encode(...)`d)."""
    body = method.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return False
    if not method.args.args:
        return False
    me = method.args.args[0].arg
    value = body[0].value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "encode":
        value = value.func.value
    if not isinstance(value, ast.Call) or value.keywords:
        return False
    func = value.func
    if (isinstance(func, ast.Name) and func.id in {"unicode", "text_type"}) or (
        isinstance(func, ast.Attribute) and func.attr == "text_type"
    ):
        return len(value.args) == 1 and isinstance(value.args[0], ast.Name) and value.args[0].id == me
    return (
        not value.args
        and isinstance(func, ast.Attribute)
        and func.attr == UNICODE
        and isinstance(func.value, ast.Name)
        and func.value.id == me
    )


def _other_mentions(tree: ast.Module, allowed: set[int]) -> set[int]:
    """Lines that read `__unicode__` (a call, an attribute, a string) outside the delegating `__str__`s in `allowed`."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        named = (
            (isinstance(node, ast.Attribute) and node.attr == UNICODE)
            or (isinstance(node, ast.Name) and node.id == UNICODE)
            or (isinstance(node, ast.Constant) and node.value == UNICODE)  # getattr(obj, "__unicode__")
        )
        if named:
            lines.add(node.lineno)  # type: ignore[attr-defined]
    return lines


def _classes(tree: ast.Module) -> tuple[list[tuple[ast.ClassDef, str]], list[tuple[ast.ClassDef, str]]]:
    """(classes to change with what happens, classes declined with the reason)."""
    change: list[tuple[ast.ClassDef, str]] = []
    declined: list[tuple[ast.ClassDef, str]] = []
    allowed: set[int] = set()
    candidates: list[tuple[ast.ClassDef, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        methods = _methods(node)
        if UNICODE not in methods:
            continue
        if any("unicode" in ast.unparse(d).lower() for d in node.decorator_list):
            declined.append((node, "a decorator makes the text methods"))
            continue
        text = methods.get("__str__")
        if text is not None and not _delegates(text):
            declined.append((node, "its `__str__` does more than call `__unicode__`"))
            continue
        allowed.add(id(methods[UNICODE]))
        if text is not None:
            allowed |= {id(n) for n in ast.walk(text)}
        candidates.append((node, "fold" if text is not None else "rename"))
    elsewhere = _other_mentions(tree, allowed)
    if elsewhere and candidates:
        lines = ", ".join(map(str, sorted(elsewhere)[:3]))
        declined += [(node, f"the module names `__unicode__` elsewhere (line {lines})") for node, _ in candidates]
        return [], declined
    change = candidates
    return change, declined


class UnicodeMethod(Codemod):
    """Give a class's text to `__str__`, the method Python 3 calls."""

    metadata = CodemodMetadata(
        id=ID,
        title="Rename `__unicode__` to `__str__` (Python 3 never calls `__unicode__`)",
        theme="deprecations",
        rationale="Python 3 calls `__str__`, never `__unicode__`: objects print as `<Thing object at 0x...>`, and a "
        "Python 2 `__str__` that returns `unicode(self).encode(...)` raises NameError or TypeError.",
        risk="low",
        benefit="defect",
        # pylint's bad-dunder-name (W3201) reports `__unicode__` as a dunder Python does not call; no ruff rule does.
        lint_codes=("pylint:bad-dunder-name",),
        min_target_python=(3, 0),
        review_guidance="The text the class meant to show is what `str(obj)` now returns. Classes whose `__str__` "
        "does more, or modules that call `__unicode__` by name, are left alone.",
        references=(
            "https://docs.python.org/3/howto/pyporting.html",
            "https://docs.djangoproject.com/en/2.0/topics/python3/#str-and-unicode-methods",
        ),
    )
    examples = (
        Example(
            "class Tag:\n    def __unicode__(self):\n        return self.name\n",
            "class Tag:\n    def __str__(self):\n        return self.name\n",
        ),
        Example(
            "class Tag(object):\n    def __unicode__(self):\n        return u'%s' % self.name\n\n"
            "    def __str__(self):\n        return unicode(self).encode('utf-8')\n",
            "class Tag(object):\n    def __str__(self):\n        return u'%s' % self.name\n",
        ),
        Example(
            "class Tag:\n    def __str__(self):\n        '''Text.'''\n        return self.__unicode__()\n\n"
            "    def __unicode__(self):\n        return self.name\n\n    def size(self):\n        return 1\n",
            "class Tag:\n    def __str__(self):\n        return self.name\n\n    def size(self):\n        return 1\n",
        ),
    )
    valid = (
        "class Tag:\n    def __unicode__(self):\n        return self.name\n\n    def __str__(self):\n"
        "        return 'Tag ' + self.name\n",
        "class Tag:\n    def __unicode__(self):\n        return self.name\n\nprint(Tag().__unicode__())\n",
        "@python_2_unicode_compatible\nclass Tag:\n    def __unicode__(self):\n        return self.name\n",
        "class Tag:\n    def __str__(self):\n        return self.name\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find classes whose `__unicode__` Python 3 would never call."""
        if UNICODE not in source:
            return []
        change, _ = _classes(tree)
        return [
            Occurrence(node.lineno, node.lineno, node.name, f"`{node.name}.__unicode__` is never called on Python 3")
            for node, _ in change
        ]

    def declines(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Classes with `__unicode__` left alone, with the reason."""
        if UNICODE not in source:
            return []
        _, declined = _classes(tree)
        return [
            Occurrence(node.lineno, node.lineno, node.name, f"`{node.name}.__unicode__` left alone: {why}")
            for node, why in declined
        ]

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Rename `__unicode__`, dropping a `__str__` that only delegated to it."""
        if UNICODE not in module.code:
            return module, []
        change, _ = _classes(ast.parse(module.code))
        if not change:
            return module, []
        names = {node.name for node, _ in change}
        return run_transformer(module, _Transformer(ID, context, names))


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, names: set[str]) -> None:
        super().__init__(codemod_id, context)
        self.names = names

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        if original_node.name.value not in self.names or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        statements = list(updated_node.body.body)
        defs = {s.name.value: i for i, s in enumerate(statements) if isinstance(s, cst.FunctionDef)}
        if UNICODE not in defs:
            return updated_node
        index = defs[UNICODE]
        method = statements[index]
        assert isinstance(method, cst.FunctionDef)
        renamed = method.with_changes(name=cst.Name("__str__"))
        if "__str__" in defs:
            first, second = sorted((index, defs["__str__"]))
            # The text method stands where the first of the two stood, with that one's leading blank lines.
            statements[first] = renamed.with_changes(leading_lines=getattr(statements[first], "leading_lines", ()))
            del statements[second]
            self.record(
                original_node, f"`{original_node.name.value}.__unicode__` replaces the `__str__` that called it"
            )
        else:
            statements[index] = renamed
            self.record(original_node, f"`{original_node.name.value}.__unicode__` renamed `__str__`")
        return updated_node.with_changes(body=updated_node.body.with_changes(body=statements))
