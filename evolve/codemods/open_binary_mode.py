"""`open(path)` of binary data -> `open(path, 'rb')` (and `'w'` -> `'wb'` for `pickle.dump`).

On Python 3 a file opened without `b` is text: `pickle.load(f)` raises TypeError ("a bytes-like object is
required"), `zipfile.ZipFile(f)` and `tarfile.open(fileobj=f)` fail, and reading a PNG decodes it (mostly
UnicodeDecodeError). Changed: a builtin `open` with no mode or `'r'`/`'rt'` (`'w'`/`'wt'` for `pickle.dump` and
`marshal.dump`), without `encoding`/`errors`/`newline`, whose file object goes to a consumer of bytes
(`pickle.load`/`Unpickler`, `marshal.load`, `zipfile.ZipFile`, `tarfile.open(fileobj=)`, `gzip.GzipFile(fileobj=)`,
`hashlib.md5(f.read())`, `h.update(f.read())`) directly, through `with ... as f`, or through `f = open(...)`; and a
read of a literal path with a binary extension (`.png .jpg .gif .gz .zip .pdf .pkl .pickle .bin .whl .tar`).

A file object that is also used as text (iterated, `readline()`, its `read()` split or joined with text, passed to
something else) is left alone, and the plan says so with the line. `'rb'` means the same on Python 2.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from evolve.codemods.ast_scan import bound_names, walk_with_symbol
from evolve.codemods.base import Change, Codemod, CodemodContext, CodemodMetadata, Example, Occurrence
from evolve.codemods.cst_edits import RecordingTransformer, run_transformer
from evolve.codemods.python2_scan import char_columns, char_position, cst_nodes_at

ID = "open-binary-mode"
BINARY_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".gz", ".zip", ".pdf", ".pkl", ".pickle", ".bin", ".whl", ".tar")
READ_MODES = {"r": "rb", "rt": "rb"}
WRITE_MODES = {"w": "wb", "wt": "wb"}
_TEXT_KEYWORDS = frozenset({"encoding", "errors", "newline"})
_PICKLES = frozenset({"pickle", "cPickle", "_pickle", "marshal"})
# (module, function) -> how it takes the file: an argument index, or a keyword.
_READERS = {
    ("pickle", "load"): 0,
    ("pickle", "Unpickler"): 0,
    ("marshal", "load"): 0,
    ("zipfile", "ZipFile"): 0,
    ("tarfile", "open"): "fileobj",
    ("tarfile", "TarFile"): "fileobj",
    ("gzip", "GzipFile"): "fileobj",
}
_WRITERS = {("pickle", "dump"): 1, ("pickle", "Pickler"): 0, ("marshal", "dump"): 1}
_HARMLESS = frozenset({"close", "seek", "tell", "flush", "fileno", "name", "closed"})


@dataclass(frozen=True)
class Site:
    """One `open` call to change: its node and the new mode; or a refusal with its reason."""

    node: ast.Call
    mode: str
    reason: str | None = None  # set: declined, and why


def _module_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> the module it is certainly bound to, for the modules whose functions take binary files."""
    bound: dict[str, set[str]] = {}
    others: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.alias):
            local = node.asname or node.name.split(".")[0]
            bound.setdefault(local, set()).add(node.name if node.asname else node.name.split(".")[0])
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            others.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            others.add(node.name)
        elif isinstance(node, ast.arg):
            others.add(node.arg)
    found: dict[str, str] = {}
    for local, modules in bound.items():
        if local in others:
            continue
        if modules <= {"pickle", "cPickle", "_pickle"}:
            found[local] = "pickle"
        elif len(modules) == 1 and next(iter(modules)) in {"marshal", "zipfile", "tarfile", "gzip", "hashlib"}:
            found[local] = next(iter(modules))
    return found


def _from_imports(tree: ast.Module, names: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Local name -> (module, function) for `from pickle import load` and the like."""
    found: dict[str, tuple[str, str]] = {}
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.alias):
            counts[node.asname or node.name] = counts.get(node.asname or node.name, 0) + 1
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            module = "pickle" if node.module in _PICKLES - {"marshal"} else node.module
            for alias in node.names:
                local = alias.asname or alias.name
                if (module, alias.name) in {**_READERS, **_WRITERS} and counts.get(local) == 1:
                    found[local] = (module, alias.name)
    return found


class _Consumers:
    """Which calls take a binary file object, and how."""

    def __init__(self, tree: ast.Module) -> None:
        self.modules = _module_names(tree)
        self.functions = _from_imports(tree, self.modules)
        self.hashers = self._hashers(tree)

    def _hashers(self, tree: ast.Module) -> set[str]:
        """Names every assignment of which is a `hashlib` call."""
        values: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        values.setdefault(target.id, []).append(node.value)
        return {name for name, found in values.items() if all(self.is_hashlib_call(v) for v in found)}

    def is_hashlib_call(self, value: ast.expr) -> bool:
        return (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and isinstance(value.func.value, ast.Name)
            and self.modules.get(value.func.value.id) == "hashlib"
        )

    def target(self, call: ast.Call) -> tuple[str, str] | None:
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = self.modules.get(func.value.id)
            return (module, func.attr) if module else None
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        return None

    def takes_file(self, call: ast.Call, node: ast.expr) -> str | None:
        """`"read"`/`"write"` when `call` passes `node` as the binary file it reads or writes."""
        target = self.target(call)
        for table, kind in ((_READERS, "read"), (_WRITERS, "write")):
            where = table.get(target) if target else None
            if where is None:
                continue
            if isinstance(where, int) and len(call.args) > where and call.args[where] is node:
                return kind
            if any(k.arg == where and k.value is node for k in call.keywords):
                return kind
        return None

    def hashes(self, call: ast.Call, node: ast.expr) -> bool:
        """Whether `call` hashes `node` (a `.read()` result): `hashlib.md5(x)`, `hashlib.new(n, x)`, `h.update(x)`."""
        if node not in call.args:
            return False
        func = call.func
        if self.is_hashlib_call(call):
            return True
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "update"
            and isinstance(func.value, ast.Name)
            and func.value.id in self.hashers
        )


def _mode(call: ast.Call) -> tuple[str | None, bool]:
    """(the mode an `open` call gives, None when it is not a literal; whether it names a text-only option)."""
    text_only = any(k.arg in _TEXT_KEYWORDS for k in call.keywords) or len(call.args) > 3
    mode: ast.expr | None
    if len(call.args) >= 2:
        mode = call.args[1]
    else:
        mode = next((k.value for k in call.keywords if k.arg == "mode"), None)
        if mode is None:
            return "r", text_only
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value, text_only
    return None, text_only


def _binary_path(call: ast.Call) -> bool:
    """Whether the path is a literal (or `os.path.join(..., literal)`) with a binary file extension."""
    if not call.args:
        return False
    path = call.args[0]
    if isinstance(path, ast.Call) and path.args and isinstance(path.func, ast.Attribute) and path.func.attr == "join":
        path = path.args[-1]
    return (
        isinstance(path, ast.Constant)
        and isinstance(path.value, str)
        and path.value.lower().endswith(BINARY_EXTENSIONS)
    )


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


class _Uses:
    """How one file object (the `open` call itself, or a name bound to it) is used."""

    def __init__(self, consumers: _Consumers, parents: dict[int, ast.AST]) -> None:
        self.consumers, self.parents = consumers, parents

    def judge(self, node: ast.expr, binary_path: bool) -> tuple[str | None, str | None]:
        """(`"read"`/`"write"` when this use hands the file to a consumer of bytes, the reason it is text else)."""
        parent = self.parents.get(id(node))
        if isinstance(parent, ast.Call):
            kind = self.consumers.takes_file(parent, node)
            if kind:
                return kind, None
            if binary_path and (node in parent.args or any(k.value is node for k in parent.keywords)):
                return "read", None
            return None, f"it is passed to `{ast.unparse(parent.func)}` (line {parent.lineno})"
        if isinstance(parent, ast.keyword):
            call = self.parents.get(id(parent))
            if isinstance(call, ast.Call):
                kind = self.consumers.takes_file(call, node)
                if kind:
                    return kind, None
                if binary_path:
                    return "read", None
            return None, f"it is passed on (line {node.lineno})"
        if isinstance(parent, ast.Attribute) and parent.value is node:
            if parent.attr in _HARMLESS:
                return "neutral", None
            if parent.attr == "read":
                return self._read(parent, binary_path)
            return None, f"its `.{parent.attr}` is used (line {parent.lineno})"
        if isinstance(parent, (ast.For, ast.comprehension)):
            return None, f"it is read line by line (line {node.lineno})"
        return None, f"it is used as `{ast.unparse(parent) if parent else node}` (line {node.lineno})"

    def _read(self, attribute: ast.Attribute, binary_path: bool) -> tuple[str | None, str | None]:
        call = self.parents.get(id(attribute))
        if not isinstance(call, ast.Call) or call.func is not attribute or call.keywords:
            return None, f"its `.read` is used (line {attribute.lineno})"
        outer = self.parents.get(id(call))
        if isinstance(outer, ast.Call) and self.consumers.hashes(outer, call):
            return "read", None
        if binary_path and not _used_as_text(call, outer):
            return "read", None
        return None, f"what it reads is used as text (line {call.lineno})"


def _used_as_text(read: ast.Call, outer: ast.AST | None) -> bool:
    """Whether a `.read()` result is worked on as text right there (a str method, `+`/`%` with text, a regex)."""
    if isinstance(outer, ast.Attribute):
        return outer.attr != "decode"
    if isinstance(outer, (ast.BinOp, ast.Compare, ast.JoinedStr, ast.FormattedValue)):
        return True
    return isinstance(outer, ast.Call) and isinstance(outer.func, ast.Attribute) and outer.func.attr in {"write"}


def _binding(call: ast.Call, parents: dict[int, ast.AST]) -> tuple[str | None, ast.AST | None]:
    """(the name `with open(...) as f` / `f = open(...)` binds, the statement whose scope holds its uses)."""
    parent = parents.get(id(call))
    if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
        return parent.optional_vars.id, parents.get(id(parent))
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
        and parent.value is call
    ):
        scope = parents.get(id(parent))
        while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            scope = parents.get(id(scope))
        return parent.targets[0].id, scope
    return None, None


def find_sites(tree: ast.Module) -> list[tuple[Site, str | None]]:
    """The `open` calls to change, and those declined with the reason, with their enclosing symbol."""
    bound, star = bound_names(tree)
    if star or "open" in bound:
        return []
    consumers = _Consumers(tree)
    parents = _parents(tree)
    uses = _Uses(consumers, parents)
    found: list[tuple[Site, str | None]] = []
    for node, symbol in walk_with_symbol(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"):
            continue
        mode, text_only = _mode(node)
        if mode not in READ_MODES and mode not in WRITE_MODES:
            continue
        binary_path = _binary_path(node) and mode in READ_MODES
        name, scope = _binding(node, parents)
        judged = [uses.judge(node, binary_path)] if name is None else _name_uses(name, scope, uses, binary_path)
        kinds = {kind for kind, _ in judged}
        wanted = "write" if mode in WRITE_MODES else "read"
        if wanted not in kinds:
            continue  # nothing marks the data as binary: not this codemod's business
        why = [reason for _, reason in judged if reason]
        if {"read", "write"} <= kinds:
            why.append("it is both read and written")
        if text_only:
            why.append("the call names a text-only option (encoding, errors, newline)")
        new = WRITE_MODES[mode] if wanted == "write" else READ_MODES[mode]
        found.append((Site(node, new, "; ".join(why) or None), symbol))
    return found


def _name_uses(name: str, scope: ast.AST | None, uses: _Uses, binary_path: bool) -> list[tuple[str | None, str | None]]:
    """What each use of the bound file object within its statement or function does (`read`, `write`, `neutral`,
    or None with the reason it is text)."""
    if scope is None:
        return [(None, "its uses cannot be followed")]
    judged: list[tuple[str | None, str | None]] = []
    stores = 0
    for node in ast.walk(scope):
        if not isinstance(node, ast.Name) or node.id != name:
            continue
        if not isinstance(node.ctx, ast.Load):
            stores += 1
            continue
        kind, reason = uses.judge(node, binary_path)
        judged.append((kind, f"`{name}`: {reason}" if reason else None))
    if stores > 1:
        judged.append((None, f"`{name}` is bound more than once"))
    return judged


class OpenBinaryMode(Codemod):
    """Open binary data in binary mode."""

    metadata = CodemodMetadata(
        id=ID,
        title="Open binary files in binary mode",
        theme="correctness",
        rationale="On Python 3 a file opened without `b` yields text: `pickle.load`, `zipfile`, `tarfile`, "
        "`hashlib` and image readers need bytes, so the call fails (TypeError, UnicodeDecodeError).",
        risk="low",
        benefit="defect",
        # No linter reports a text-mode file handed to pickle (mypy does, as arg-type); pylint's bad-open-mode is the
        # rule about open()'s mode, so a project that turned it off is not given this rewrite either.
        lint_codes=("pylint:bad-open-mode",),
        min_target_python=(2, 0),  # `'rb'` is the same on every Python
        review_guidance="Only files whose object goes to a reader of bytes (pickle, marshal, zipfile, tarfile, gzip, "
        "hashlib) or whose literal path has a binary extension change. A file object also used as text is left "
        "alone.",
        references=(
            "https://docs.python.org/3/library/functions.html#open",
            "https://docs.python.org/3/library/pickle.html#pickle.load",
        ),
    )
    examples = (
        Example(
            "import pickle\n\ndef load(path):\n    with open(path) as f:\n        return pickle.load(f)\n",
            "import pickle\n\ndef load(path):\n    with open(path, 'rb') as f:\n        return pickle.load(f)\n",
        ),
        Example(
            "import pickle\n\npickle.dump(model, open(target, 'w'))\n",
            "import pickle\n\npickle.dump(model, open(target, 'wb'))\n",
        ),
        Example(
            'import hashlib\n\ndef digest(path):\n    f = open(path, "r")\n    h = hashlib.md5()\n'
            "    h.update(f.read())\n    f.close()\n    return h.hexdigest()\n",
            'import hashlib\n\ndef digest(path):\n    f = open(path, "rb")\n    h = hashlib.md5()\n'
            "    h.update(f.read())\n    f.close()\n    return h.hexdigest()\n",
        ),
        Example(
            "logo = base64.b64encode(open('static/logo.png').read())\n",
            "logo = base64.b64encode(open('static/logo.png', 'rb').read())\n",
        ),
    )
    valid = (
        "import pickle\n\nwith open(path) as f:\n    header = f.readline()\n    data = pickle.load(f)\n",
        "import pickle\n\ndata = pickle.load(open(path, encoding='latin-1'))\n",
        "with open('notes.txt') as f:\n    text = f.read()\n",
        "with open('page.pdf') as f:\n    lines = f.read().splitlines()\n",
        "import json\n\ndata = json.load(open(path))\n",
        "def open(p):\n    return p\n\nimport pickle\npickle.load(open(p))\n",
    )

    def detect(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Find `open` calls whose file object is certainly binary data."""
        if "open(" not in source:
            return []
        return [
            Occurrence(site.node.lineno, site.node.end_lineno or site.node.lineno, symbol, "binary data opened as text")
            for site, symbol in find_sites(tree)
            if site.reason is None
        ]

    def declines(self, tree: ast.Module, source: str, context: CodemodContext) -> list[Occurrence]:
        """Binary data opened as text that is left alone, with the reason."""
        if "open(" not in source:
            return []
        return [
            Occurrence(
                site.node.lineno,
                site.node.end_lineno or site.node.lineno,
                symbol,
                f"`open` left in text mode: {site.reason}",
            )
            for site, symbol in find_sites(tree)
            if site.reason is not None
        ]

    def transform(self, module: cst.Module, context: CodemodContext) -> tuple[cst.Module, list[Change]]:
        """Give those calls their binary mode."""
        if "open(" not in module.code:
            return module, []
        sites = [site for site, _ in find_sites(ast.parse(module.code)) if site.reason is None]
        if not sites:
            return module, []
        lines = char_columns(module.code)
        calls = cst_nodes_at(module, [char_position(lines, site.node) for site in sites], cst.Call)
        return run_transformer(module, _Transformer(ID, context, sites, calls))


def _quote(module: cst.Module, call: cst.Call) -> str:
    """The quote the new mode string uses: the path's, else the first one the module uses, else `'`."""
    if call.args and isinstance(call.args[0].value, cst.SimpleString):
        return call.args[0].value.quote[-1]
    code = module.code
    found = [index for index in (code.find("'"), code.find('"')) if index >= 0]
    return code[min(found)] if found else "'"


class _Transformer(RecordingTransformer):
    def __init__(self, codemod_id: str, context: CodemodContext, sites: list[Site], calls: dict[int, int]) -> None:
        super().__init__(codemod_id, context)
        self.sites, self.calls = sites, calls
        self.module: cst.Module | None = None

    def visit_Module(self, node: cst.Module) -> None:
        self.module = node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        index = self.calls.get(id(original_node))
        if index is None or not (isinstance(updated_node.func, cst.Name) and updated_node.func.value == "open"):
            return updated_node
        mode = self.sites[index].mode
        args = list(updated_node.args)
        for position, arg in enumerate(args):
            is_mode = (position == 1 and arg.keyword is None) or (
                arg.keyword is not None and arg.keyword.value == "mode"
            )
            if is_mode and isinstance(arg.value, cst.SimpleString):
                old, quote, prefix = arg.value.value, arg.value.quote, arg.value.prefix
                new = f"{prefix}{quote}{mode}{quote}"
                args[position] = arg.with_changes(value=cst.SimpleString(new))
                self.record(original_node, f"mode `{old}` spelled `{new}`")
                return updated_node.with_changes(args=args)
        if not args or args[0].keyword is not None or (len(args) > 1 and args[1].keyword is None):
            return updated_node
        mark = _quote(self.module, updated_node) if self.module is not None else "'"
        first = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        mode_arg = cst.Arg(cst.SimpleString(f"{mark}{mode}{mark}"), comma=args[0].comma)
        self.record(original_node, f"opened with mode `{mode}`")
        return updated_node.with_changes(args=[first, mode_arg, *args[1:]])
