"""`removed-stdlib-modules`: what it leaves alone says why, with the line; its private copies of removed functions
behave as the removed ones did (values recorded from Python 3.11's `cgi`, `distutils` and `imp`)."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from evolve.codemods.base import CodemodContext
from evolve.codemods.removed_modules_table import HELPERS
from evolve.codemods.removed_stdlib_modules import RemovedStdlibModules


def _declines(source: str, min_python: tuple[int, int] = (3, 8)) -> list[tuple[int, str, str]]:
    source = textwrap.dedent(source)
    found = RemovedStdlibModules().declines(ast.parse(source), source, CodemodContext(min_python=min_python))
    return [(d.line, d.name, d.reason) for d in found]


def _rewrite(source: str, min_python: tuple[int, int] = (3, 8)) -> str:
    module, _ = RemovedStdlibModules().transform(
        cst.parse_module(textwrap.dedent(source)), CodemodContext(min_python=min_python)
    )
    return module.code


def test_one_use_without_a_recipe_keeps_the_module_and_names_every_such_line_and_the_drop_in():
    source = """\
        from cgi import parse_header
        import cgi

        class Storage(cgi.FieldStorage):
            pass
        header = parse_header(value)
        """
    found = _declines(source)
    assert [(line, name) for line, name, _ in found] == [(4, "cgi.FieldStorage")]
    assert 'declare `legacy-cgi; python_version >= "3.13"`' in found[0][2]
    assert _rewrite(source) == textwrap.dedent(source)  # parse_header's copy alone would not make it import


def test_each_refusal_says_why():
    reasons = {
        "from distutils.version import LooseVersion\nok = LooseVersion(a) < LooseVersion(b)\n": "PEP 440",
        "import imp\nf, path, description = imp.find_module(name)\n": "find_spec",
        "import ssl\nssl.match_hostname(cert, host)\n": "check_hostname",
        "import asyncore\nasyncore.loop()\n": "pyasyncore",
        "from distutils.core import setup\nsetup(name='x')\n": "setuptools",
    }
    for source, words in reasons.items():
        found = _declines(source)
        assert found and words in found[0][2], (source, found)


def test_a_replacement_newer_than_the_declared_python_declines_with_both_versions():
    found = _declines("import imp\nmodule = imp.load_source('m', path)\n", min_python=(2, 7))
    assert found == [(2, "imp.load_source", "its replacement needs Python 3.5 and the project declares Python 2.7")]


def test_a_helper_name_the_module_already_uses_is_not_shadowed():
    source = "import distutils.util\n\ndef _strtobool(v):\n    return v\n\nflag = distutils.util.strtobool(v)\n"
    assert _declines(source) == [(6, "distutils.util.strtobool", "the module already defines `_strtobool`")]
    assert _rewrite(source) == source


def test_a_removed_module_imported_inside_a_block_leaves_a_valid_block():
    source = "import os\nif os.name == 'posix':\n    import pipes\n    quoted = pipes.quote(path)\n"
    assert _rewrite(source) == "import os\nimport shlex\n\nif os.name == 'posix':\n    quoted = shlex.quote(path)\n"
    assert _rewrite("import os\nif os.name:\n    import imp\n") == "import os\nif os.name:\n    pass\n"


def test_the_load_source_recipe_writes_its_copy_with_the_imports_it_needs():
    out = _rewrite("import imp\n\nconfig = imp.load_source('config', path)\n")
    assert out.startswith("import importlib.machinery\nimport importlib.util\nimport sys\n\n\ndef _load_source(")
    assert out.endswith("\n\n\nconfig = _load_source('config', path)\n")


def _helper(name: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(HELPERS[name], namespace)
    return namespace[name]


@pytest.mark.parametrize(
    ("line", "expected"),
    [  # cgi.parse_header's answers on Python 3.11
        ("text/html; charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        ('form-data; name="a;b"; filename="c\\"d.txt"', ("form-data", {"name": "a;b", "filename": 'c"d.txt'})),
        ("Text/Plain", ("Text/Plain", {})),
        ('attachment; FILENAME="x\\\\y"; flag', ("attachment", {"filename": "x\\y"})),
    ],
)
def test_the_parse_header_copy_answers_as_cgi_did(line: str, expected: tuple[str, dict[str, str]]) -> None:
    assert _helper("_parse_header")(line) == expected


def test_the_strtobool_copy_answers_as_distutils_did():
    strtobool = _helper("_strtobool")
    assert [strtobool(v) for v in ("YES", "on", "1", "f", "Off", "0")] == [1, 1, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="invalid truth value 'maybe'"):
        strtobool("Maybe")


def test_the_load_source_copy_loads_a_file_under_its_name(tmp_path: Path):
    path = tmp_path / "settings.conf"  # imp.load_source read any file name as source
    path.write_text("VALUE = 42\n", encoding="utf-8")
    namespace: dict[str, Any] = {}
    exec("import importlib.machinery, importlib.util, sys\n" + HELPERS["_load_source"], namespace)
    try:
        module = namespace["_load_source"]("evolve_loaded_settings", str(path))
        assert module.VALUE == 42 and sys.modules["evolve_loaded_settings"] is module
    finally:
        sys.modules.pop("evolve_loaded_settings", None)


def test_the_wrap_socket_copy_builds_a_client_context_that_verifies_nothing_by_default():
    import socket
    import ssl

    namespace: dict[str, Any] = {"ssl": ssl}
    exec(HELPERS["_wrap_socket"], namespace)
    with socket.socket() as raw:
        wrapped = namespace["_wrap_socket"](raw, do_handshake_on_connect=False)
        try:
            assert wrapped.context.verify_mode == ssl.CERT_NONE and not wrapped.context.check_hostname
            assert not wrapped.server_side
        finally:
            wrapped.detach()
    with socket.socket() as raw, pytest.raises(ValueError, match="certfile must be specified"):
        namespace["_wrap_socket"](raw, server_side=True)


def test_a_coroutine_left_alone_says_why_with_its_line():
    from evolve.codemods.asyncio_coroutine import AsyncioCoroutine

    source = (
        "from asyncio import coroutine\n\n\n@coroutine\ndef ready():\n    return True\n\n\n"
        "@coroutine\ndef tick():\n    yield\n"
    )
    codemod = AsyncioCoroutine()
    found = codemod.declines(ast.parse(source), source, CodemodContext(min_python=(3, 8)))
    assert [(d.line, d.reason.split(":")[0]) for d in found] == [(5, "not a generator")]
    module, _ = codemod.transform(cst.parse_module(source), CodemodContext(min_python=(3, 8)))
    # `tick` is converted; `ready` still needs the import, so it stays.
    assert module.code == (
        "import types\nfrom asyncio import coroutine\n\n\n@coroutine\ndef ready():\n    return True\n\n\n"
        "@types.coroutine\ndef tick():\n    yield\n"
    )
    # An older declared Python is said once, by the note every codemod gets (evolve/research/declines.py).
    assert codemod.declines(ast.parse(source), source, CodemodContext(min_python=(3, 4))) == []


def test_a_module_name_the_file_binds_otherwise_is_not_imported_over_it():
    """Paste's prints.py has a function named `html`: `import html` would be shadowed by it."""
    source = "import cgi\n\n\ndef html(v):\n    return cgi.escape(v)\n"
    assert _declines(source) == [
        (5, "cgi.escape", "the module binds `html` to something else, which would hide `import html`")
    ]
    assert _rewrite(source) == source
    parameter = "import pipes\n\n\ndef run(shlex):\n    return pipes.quote(shlex)\n"
    assert _rewrite(parameter) == parameter


def test_a_coroutine_module_with_its_own_types_name_is_left_alone():
    from evolve.codemods.asyncio_coroutine import AsyncioCoroutine

    source = "import asyncio\n\ntypes = ('a', 'b')\n\n\n@asyncio.coroutine\ndef f():\n    yield from g()\n"
    codemod = AsyncioCoroutine()
    assert codemod.transform(cst.parse_module(source), CodemodContext())[0].code == source
    assert "hide `import types`" in codemod.declines(ast.parse(source), source, CodemodContext())[0].reason
