"""Add `-> None` to functions that can only return None (like `autotyping --none-return`).

Only in modules that already use annotations: there `-> None` completes the typing and opts the
function's body into type checking. In an unannotated module it is one lone annotation per function:
churn a maintainer did not ask for.
"""

from __future__ import annotations

import ast
import re

import libcst as cst
import libcst.matchers as m

from evolve.codemods.ast_scan import walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer

ID = "none-return"
_SKIP_DECORATORS = {"abstractmethod", "overload", "abstractproperty", "no_type_check", "hookspec"}
_TYPE_COMMENT = re.compile(r"#\s*type:")


class NoneReturn(Codemod):
    """Annotate functions without any value-returning `return` or `yield` as returning None."""

    metadata = CodemodMetadata(
        id=ID,
        title="Annotate functions that return nothing with `-> None`",
        theme="typing",
        rationale="Type checkers skip the bodies of unannotated functions; `-> None` opts them in and documents intent.",
        risk="low",
        benefit="cosmetic",
        review_guidance="Only in modules that already use annotations. Skipped: abstract methods, overloads, "
        "Protocol members, hook specifications, `__init__` with an annotated argument (type checkers already "
        "take it as returning None), stubs (`...` / docstring-only / raise-only bodies), "
        "functions with `# type:` comments, generators. Subclasses overriding these methods with a return value "
        "will now be flagged by a type checker.",
        references=(
            "https://peps.python.org/pep-0484/#the-meaning-of-annotations",
            "https://github.com/JelleZijlstra/autotyping",
        ),
        lint_codes=("ANN201", "ANN202", "ANN204", "ANN205", "ANN206"),
    )
    examples = (
        Example("def f(x: int):\n    print(x)\n", "def f(x: int) -> None:\n    print(x)\n"),
        Example(
            "class A:\n    x: int\n\n    def __init__(self):\n        self.x = 1\n",
            "class A:\n    x: int\n\n    def __init__(self) -> None:\n        self.x = 1\n",
        ),
        Example(
            "def f(x: str):\n    if x:\n        return\n    def g():\n        return 1\n    return None\n",
            "def f(x: str) -> None:\n    if x:\n        return\n    def g():\n        return 1\n    return None\n",
        ),
        Example(
            "def run() -> int: ...\nasync def main() :\n    await run()\n",
            "def run() -> int: ...\nasync def main() -> None :\n    await run()\n",
        ),
        Example(
            "def check(x: object):\n    if not x:\n        raise ValueError(x)\n",
            "def check(x: object) -> None:\n    if not x:\n        raise ValueError(x)\n",
        ),
        Example("@decorator\ndef f(*args: int, **kw): pass\n", "@decorator\ndef f(*args: int, **kw) -> None: pass\n"),
    )
    valid = (
        "def f(x):\n    print(x)\n",  # an unannotated module: a lone `-> None` would be churn
        "def f(x: int):\n    pass\ndef g(a):\n    pass\ndef h(b):\n    pass\n",  # mostly unannotated: churn too
        "@hookspec\ndef pytest_configure(config: object):\n    pass\n",
        "def hook(config: object):\n    '''Called at start-up; implementations may return a value.'''\n",
        "def f():  # noqa: ANN201\n    print()\n",
        "def f():\n    return 1\n",
        "def f() -> int:\n    print(1)\n",
        "def gen():\n    yield 1\n",
        "class A(ABC):\n    @abstractmethod\n    def f(self):\n        pass\n",
        "@overload\ndef f(x: int): ...\n",
        "@typing.overload\ndef f(x: int):\n    pass\n",
        "class P(Protocol):\n    def f(self):\n        pass\n",
        "def todo(self):\n    raise NotImplementedError\n",
        "def todo(self):\n    '''Subclasses implement this.'''\n    raise NotImplementedError('x')\n",
        "def stub(self):\n    ...\n",
        "def f(a):  # type: (int) -> None\n    print(a)\n",
        "f = lambda: None\n",
        # mypy and pyright already take this `__init__` as `-> None` (an argument is annotated): nothing to add
        "class A:\n    def __init__(self, x: int):\n        self.x = x\n",
        "class A:\n    def __init__(self, *, x: int = 0):\n        self.x = x\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find functions without a return annotation that never return a value."""
        # Annotations are the project's choice: none in a module that does not use them (a lone `-> None`
        # among untyped functions is churn), none where a `.pyi` stub is what type checkers read.
        if "def " not in source or context.has_stub or not _uses_annotations(tree):
            return []
        lines = source.splitlines()
        protocols = {
            id(stmt)
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and any(_dotted_tail(base) == "Protocol" for base in node.bases)
            for stmt in node.body
        }
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                or node.returns is not None
                or id(node) in protocols
            ):
                continue
            if any(_dotted_tail(d) in _SKIP_DECORATORS for d in node.decorator_list):
                continue
            if node.name == "__init__" and _annotated(node):
                continue  # an annotated argument already makes type checkers read `__init__` as `-> None`
            body_line = node.body[0].lineno
            header = lines[node.lineno - 1 : body_line if body_line == node.lineno else body_line - 1]
            if (
                any(_TYPE_COMMENT.search(line) for line in header)
                or _is_stub_ast(node.body)
                or _returns_value_ast(node)
            ):
                continue
            qualname = f"{symbol}.{node.name}" if symbol else node.name
            found.append(Occurrence(node.lineno, node.lineno, qualname, "function returns only None"))
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Add `-> None` to the functions found (in modules that use annotations)."""
        if context.has_stub or not _uses_annotations(ast.parse(module.code)):
            return module, []
        return run_transformer(module, _Transformer(ID, context))


def _uses_annotations(tree: ast.Module) -> bool:
    """Whether the module is annotated: at least half of its functions and annotated variables carry one."""
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    variables = sum(1 for node in ast.walk(tree) if isinstance(node, ast.AnnAssign))
    annotated = sum(1 for node in functions if _annotated(node)) + variables
    return annotated > 0 and 2 * annotated >= len(functions) + variables


def _annotated(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg, node.args.kwarg]
    return node.returns is not None or any(arg is not None and arg.annotation is not None for arg in arguments)


def _dotted_tail(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_stub_ast(body: list[ast.stmt]) -> bool:
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return all(
        isinstance(stmt, ast.Raise)
        or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis)
        for stmt in body
    )


def _returns_value_ast(function: ast.AST) -> bool:
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _cst_tail(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Subscript):
        node = node.value
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _is_stub_cst(body: cst.BaseSuite) -> bool:
    statements: list[cst.CSTNode] = []
    for stmt in body.body:
        statements.extend(stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt])
    if (
        statements
        and isinstance(statements[0], cst.Expr)
        and isinstance(statements[0].value, (cst.SimpleString, cst.ConcatenatedString))
    ):
        statements = statements[1:]
    return all(
        isinstance(s, cst.Raise) or (isinstance(s, cst.Expr) and isinstance(s.value, cst.Ellipsis)) for s in statements
    )


def _has_annotated_param(params: cst.Parameters) -> bool:
    every = [*params.posonly_params, *params.params, *params.kwonly_params, params.star_arg, params.star_kwarg]
    return any(isinstance(param, cst.Param) and param.annotation is not None for param in every)


def _has_type_comment(node: cst.FunctionDef) -> bool:
    body = node.body
    if isinstance(body, cst.IndentedBlock):
        comment = body.header.comment
    else:
        # A suite is either an indented block or the statements after the colon on the same line.
        assert isinstance(body, cst.SimpleStatementSuite)
        comment = body.trailing_whitespace.comment
    if comment is not None and _TYPE_COMMENT.search(comment.value):
        return True
    return bool(m.findall(node.params, m.Comment(value=m.MatchRegex(r"#\s*type:.*"))))


class _Transformer(RecordingTransformer):
    """One pass: frames track whether each function returns a value or yields; decisions happen on leave."""

    def __init__(self, codemod_id: str, context: CodemodContext) -> None:
        super().__init__(codemod_id, context)
        self.protocol_stack: list[bool] = []  # per enclosing class/function: is it a Protocol class body?
        self.frames: list[bool] = []  # per enclosing function/lambda/class: returns a value or yields?

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.protocol_stack.append(any(_cst_tail(base.value) == "Protocol" for base in node.bases))
        self.frames.append(False)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.protocol_stack.pop()
        self.frames.pop()
        return updated_node

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.frames.append(False)

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.Lambda:
        self.frames.pop()
        return updated_node

    def visit_Yield(self, node: cst.Yield) -> None:
        if self.frames:
            self.frames[-1] = True

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        if self.frames and value is not None and not (isinstance(value, cst.Name) and value.value == "None"):
            self.frames[-1] = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # A function directly in a Protocol body sees True below its own entry; nested functions see False.
        self.protocol_stack.append(False)
        self.frames.append(False)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.protocol_stack.pop()
        returns_value = self.frames.pop()
        if returns_value or updated_node.returns is not None or (self.protocol_stack and self.protocol_stack[-1]):
            return updated_node
        if any(_cst_tail(d.decorator) in _SKIP_DECORATORS for d in updated_node.decorators):
            return updated_node
        if _has_type_comment(updated_node) or _is_stub_cst(updated_node.body):
            return updated_node
        if updated_node.name.value == "__init__" and _has_annotated_param(updated_node.params):
            return updated_node
        self.record(original_node, f"`{updated_node.name.value}` annotated `-> None`")
        return updated_node.with_changes(returns=cst.Annotation(cst.Name("None")))
