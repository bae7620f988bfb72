"""Add `encoding="utf-8"` to text-mode `open()` calls that rely on the locale (PEP 597)."""

from __future__ import annotations

import ast

import libcst as cst

from evolve.codemods.ast_scan import bound_names, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, append_keyword_arg, module_bound_names, run_transformer
from evolve.codemods.open_binary_mode import find_sites as binary_opens
from evolve.codemods.python2_scan import char_columns, char_position, cst_nodes_at

ID = "open-encoding"
# Positional parameters of open(): file, mode, buffering, encoding, ...
_ENCODING_POSITION = 3


def _text_mode(mode: str) -> bool:
    return "b" not in mode


class OpenEncoding(Codemod):
    """Make text-mode `open()` independent of the machine's locale."""

    metadata = CodemodMetadata(
        id=ID,
        title='Open text files with `encoding="utf-8"`',
        theme="correctness",
        rationale="Without `encoding=`, `open()` uses the locale encoding, so the same code reads files differently "
        "on Windows or in a C locale; PEP 597 warns about it.",
        risk="medium",
        benefit="defect",
        review_guidance="On UTF-8 machines nothing changes. Check files that are deliberately in another encoding "
        "(legacy data, locale-dependent output). Binary modes and non-literal modes are left alone.",
        references=("https://peps.python.org/pep-0597/", "https://docs.python.org/3/library/functions.html#open"),
        lint_codes=("PLW1514", "pylint:unspecified-encoding", "pylint:W1514"),
    )
    examples = (
        Example(
            "with open(path) as f:\n    data = f.read()\n",
            'with open(path, encoding="utf-8") as f:\n    data = f.read()\n',
        ),
        Example("f = open(p, 'w')\n", "f = open(p, 'w', encoding=\"utf-8\")\n"),
        Example("f = open(p, mode='a+', newline='')\n", "f = open(p, mode='a+', newline='', encoding=\"utf-8\")\n"),
        Example(
            "with open(\n    os.path.join(here, 'README.rst'),\n    'rt',\n) as fh:\n    pass\n",
            "with open(\n    os.path.join(here, 'README.rst'),\n    'rt',\n    encoding=\"utf-8\",\n) as fh:\n    pass\n",
        ),
        Example(
            "text = open(name  # the file\n).read()\n", 'text = open(name, encoding="utf-8"  # the file\n).read()\n'
        ),
    )
    valid = (
        "data = open(path).read()  # deliberate: the locale encoding, as the shell would\n",
        "open(path, 'rb')\n",
        "open(path, mode='wb')\n",
        "open(path, mode)\n",  # mode not a literal
        "open(path, encoding='latin-1')\n",
        "open(path, 'r', -1, 'ascii')\n",  # encoding given positionally
        "open(path, **kwargs)\n",
        "from io import open as _o\nopen = _o\nopen(path)\n",
        "path.open()\n",
        "def f(open):\n    return open(p)\n",
        # binary data opened as text: an encoding would not fix it (open-binary-mode gives it 'rb')
        "import pickle\n\nwith open(path) as f:\n    data = pickle.load(f)\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find builtin `open()` calls in text mode without an encoding."""
        if "open(" not in source:
            return []
        bound, star = bound_names(tree)
        if "open" in bound or star:
            return []
        binary = {id(site.node) for site, _ in binary_opens(tree)}
        found = []
        for node, symbol in walk_with_symbol(tree):
            if (
                id(node) not in binary
                and isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "open"
                and _needs_encoding_ast(node)
            ):
                found.append(
                    Occurrence(node.lineno, node.end_lineno or node.lineno, symbol, "text-mode open() without encoding")
                )
        return found

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Append `encoding="utf-8"` to the calls."""
        bound, star = module_bound_names(module)
        if "open" in bound or star:
            return module, []
        binary = [site.node for site, _ in binary_opens(ast.parse(module.code))]
        lines = char_columns(module.code)
        skip = set(cst_nodes_at(module, [char_position(lines, node) for node in binary], cst.Call))
        return run_transformer(module, _Transformer(ID, context, skip))


def _needs_encoding_ast(call: ast.Call) -> bool:
    if any(isinstance(arg, ast.Starred) for arg in call.args) or len(call.args) > _ENCODING_POSITION or not call.args:
        return False
    if any(kw.arg is None or kw.arg == "encoding" for kw in call.keywords):
        return False
    modes = [call.args[1]] if len(call.args) > 1 else [kw.value for kw in call.keywords if kw.arg == "mode"]
    if not modes:
        return True
    mode = modes[0]
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and _text_mode(mode.value)


def _needs_encoding_cst(call: cst.Call) -> bool:
    positional = [arg for arg in call.args if arg.keyword is None]
    if any(arg.star for arg in call.args) or len(positional) > _ENCODING_POSITION or not positional:
        return False
    if any(arg.keyword is not None and arg.keyword.value == "encoding" for arg in call.args):
        return False
    modes = (
        [positional[1].value]
        if len(positional) > 1
        else [a.value for a in call.args if a.keyword and a.keyword.value == "mode"]
    )
    if not modes:
        return True
    mode = modes[0]
    if not isinstance(mode, cst.SimpleString):
        return False
    value = mode.evaluated_value
    return isinstance(value, str) and _text_mode(value)


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, skip: set[int]) -> None:
        super().__init__(codemod_id, context)
        self.skip = skip  # ids of the calls that open binary data (open-binary-mode's)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if id(original_node) in self.skip:
            return updated_node
        if not (isinstance(updated_node.func, cst.Name) and updated_node.func.value == "open"):
            return updated_node
        if not _needs_encoding_cst(updated_node):
            return updated_node
        self.record(original_node, 'open() given encoding="utf-8"')
        return append_keyword_arg(updated_node, "encoding", cst.SimpleString('"utf-8"'))
