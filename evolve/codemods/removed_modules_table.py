"""What replaces each use of a standard-library module Python removed (`imp`, `distutils`, `cgi`, `pipes`, ...) or
of a removed function of a module that stays (`inspect.getargspec`, `ssl.wrap_socket`): a `Recipe` that writes the
replacement, or a `Refusal` that says why there is none a reviewer could accept as the same behaviour.

Sources: the "Removed" sections of What's New 3.8-3.13, PEP 594 and PEP 632 (distutils' migration table).
Helper functions copy the removed code (the Python Software Foundation's), spelled for every Python 2.7+ accepts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """A call `old(...)` becomes `template` (`{0}`, `{1}`: its positional arguments as written; `{args}`: all of
    them); `reference` is the spelling of the bare name where it is used as a value (pure renames only)."""

    template: str
    since: tuple[int, int]  # the oldest Python the new spelling runs on
    arity: int | None = None  # only calls with exactly this many positional arguments and no keywords
    imports: tuple[str, ...] = ()  # import lines the new spelling needs (`import shlex`)
    helper: str | None = None  # the name of a function from HELPERS the new spelling calls
    reference: str | None = None
    statement_only: bool = False  # the call's value must be unused (the new function returns something else)
    unpack: int | None = None  # or: only unpacked into this many names (`a, b, c, d = getargspec(f)`)
    fields: tuple[str, ...] = ()  # or: only read through these attributes (`getargspec(f).args`)
    otherwise: str = ""  # why a call outside those shapes is left alone
    with_true: str = ""  # the template for a call with one more positional argument, the literal `True`


@dataclass(frozen=True)
class Refusal:
    """No rewrite: why, in words a maintainer can act on."""

    reason: str


# Modules Python removed (all of their uses must be rewritten before the import can go), by top-level name.
REMOVED_MODULES: dict[str, tuple[int, int]] = {
    "imp": (3, 12),
    "distutils": (3, 12),
    "asyncore": (3, 12),
    "asynchat": (3, 12),
    "smtpd": (3, 12),
    **{
        name: (3, 13)
        for name in (
            "cgi",
            "cgitb",
            "pipes",
            "telnetlib",
            "aifc",
            "audioop",
            "chunk",
            "crypt",
            "imghdr",
            "mailcap",
            "msilib",
            "nis",
            "nntplib",
            "ossaudiodev",
            "sndhdr",
            "spwd",
            "sunau",
            "uu",
            "xdrlib",
            "lib2to3",
        )
    },
}

# The distribution on PyPI that is a copy of a removed module, for a maintainer who cannot port off it yet.
DROP_INS = {
    "cgi": "legacy-cgi",
    "cgitb": "legacy-cgi",
    "asyncore": "pyasyncore",
    "asynchat": "pyasynchat",
    "telnetlib": "standard-telnetlib",
    "pipes": "standard-pipes",
}

_ARGSPEC = "its value is an ArgSpec: getfullargspec's has seven fields and calls `keywords` `varkw`"

RECIPES: dict[str, Recipe | Refusal] = {
    # imp (3.12)
    "imp.reload": Recipe("importlib.reload({0})", (3, 4), 1, ("import importlib",), reference="importlib.reload"),
    "imp.new_module": Recipe("types.ModuleType({0})", (2, 2), 1, ("import types",), reference="types.ModuleType"),
    "imp.load_source": Recipe(
        "_load_source({0}, {1})",
        (3, 5),
        2,
        ("import importlib.machinery", "import importlib.util", "import sys"),
        helper="_load_source",
        otherwise="imp.load_source with an open file has no importlib spelling",
    ),
    "imp.cache_from_source": Recipe(
        "importlib.util.cache_from_source({args})",
        (3, 4),
        imports=("import importlib.util",),
        reference="importlib.util.cache_from_source",
    ),
    "imp.find_module": Refusal(
        "imp.find_module returns an open file and a description tuple that importlib does not: rewrite the lookup "
        "with importlib.util.find_spec by hand"
    ),
    "imp.load_module": Refusal(
        "imp.load_module takes imp.find_module's file and description: rewrite with "
        "importlib.util.spec_from_file_location and module_from_spec by hand"
    ),
    # distutils (3.12, PEP 632)
    "distutils.util.strtobool": Recipe("_strtobool({0})", (2, 7), 1, helper="_strtobool", reference="_strtobool"),
    "distutils.spawn.find_executable": Recipe(
        "shutil.which({0})",
        (3, 3),
        1,
        ("import shutil",),
        otherwise="find_executable's second argument is a search path: shutil.which takes it as `path=`",
    ),
    "distutils.dir_util.copy_tree": Recipe(
        "shutil.copytree({0}, {1}, dirs_exist_ok=True)",
        (3, 8),
        2,
        ("import shutil",),
        statement_only=True,
        otherwise="copy_tree returns the files it copied and takes options shutil.copytree spells differently",
    ),
    "distutils.sysconfig.get_python_lib": Recipe(
        "sysconfig.get_paths()['purelib']",
        (2, 7),
        0,
        ("import sysconfig",),
        otherwise="get_python_lib's arguments (platform, standard library, prefix) choose another sysconfig path",
    ),
    "distutils.sysconfig.get_python_inc": Recipe(
        "sysconfig.get_paths()['include']",
        (2, 7),
        0,
        ("import sysconfig",),
        otherwise="get_python_inc's arguments choose another sysconfig path",
    ),
    "distutils.sysconfig.get_config_var": Recipe(
        "sysconfig.get_config_var({args})", (2, 7), imports=("import sysconfig",), reference="sysconfig.get_config_var"
    ),
    "distutils.sysconfig.get_config_vars": Recipe(
        "sysconfig.get_config_vars({args})",
        (2, 7),
        imports=("import sysconfig",),
        reference="sysconfig.get_config_vars",
    ),
    "distutils.version.LooseVersion": Refusal(
        "LooseVersion orders any string; packaging.version.Version (its replacement) rejects versions that are not "
        "PEP 440 and orders pre-releases differently: declare `packaging` and choose by hand"
    ),
    "distutils.version.StrictVersion": Refusal(
        "StrictVersion's replacement, packaging.version.Version, accepts and orders more versions: declare "
        "`packaging` and choose by hand"
    ),
    "distutils.core": Refusal(
        "distutils.core (setup, Command, Extension) is setuptools' to replace (`setuptools.setup`); switching "
        "the build to setuptools is the maintainer's call (setuptools also provides `distutils` on Python 3.12+)"
    ),
    # cgi (3.13; cgi.escape 3.8, cgi.parse_qs 3.8)
    "cgi.escape": Recipe(
        "html.escape({0}, quote=False)",
        (3, 2),
        1,
        ("import html",),
        otherwise="cgi.escape's `quote` is not a literal True: html.escape(s, quote=True) also escapes `'`",
        with_true="html.escape({0}, quote=False).replace('\"', '&quot;')",  # exactly cgi.escape(s, True)
    ),
    "cgi.parse_header": Recipe("_parse_header({0})", (2, 7), 1, helper="_parse_header", reference="_parse_header"),
    "cgi.parse_qs": Recipe(
        "urllib.parse.parse_qs({args})", (3, 0), imports=("import urllib.parse",), reference="urllib.parse.parse_qs"
    ),
    "cgi.parse_qsl": Recipe(
        "urllib.parse.parse_qsl({args})", (3, 0), imports=("import urllib.parse",), reference="urllib.parse.parse_qsl"
    ),
    # pipes (3.13)
    "pipes.quote": Recipe("shlex.quote({0})", (3, 3), 1, ("import shlex",), reference="shlex.quote"),
    # removed functions of modules that stay
    "inspect.getargspec": Recipe(
        "inspect.getfullargspec({0})",
        (3, 0),
        1,
        ("import inspect",),
        unpack=4,
        fields=("args", "varargs", "defaults"),
        otherwise=_ARGSPEC,
    ),
    "inspect.formatargspec": Refusal(
        "str(inspect.signature(f)) differs from formatargspec for bound methods (no `self`) and annotated "
        "functions: rewrite by hand"
    ),
    "ssl.wrap_socket": Recipe(
        "_wrap_socket({args})", (3, 6), imports=("import ssl",), helper="_wrap_socket", reference="_wrap_socket"
    ),
    "ssl.match_hostname": Refusal(
        "ssl.match_hostname has no replacement function: an SSLContext with check_hostname=True checks the host "
        "name during the handshake; remove the call where the context does"
    ),
}

# Functions or modules that stay: only these names of theirs were removed.
SURVIVING = {"inspect", "ssl"}  # asyncio.coroutine: the asyncio-coroutine codemod


def recipe_for(dotted: str) -> tuple[str, Recipe | Refusal] | None:
    """The table entry for `dotted` (`distutils.util.strtobool`) or its longest prefix that has one."""
    parts = dotted.split(".")
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in RECIPES:
            return key, RECIPES[key]
    return None


def module_refusal(dotted: str) -> Refusal:
    """Why a use of a removed module with no entry of its own is left alone."""
    top = dotted.split(".")[0]
    version = ".".join(map(str, REMOVED_MODULES.get(top, (3, 12))))
    drop_in = DROP_INS.get(top)
    also = (
        f'; `{drop_in}` on PyPI is a copy of the module: declare `{drop_in}; python_version >= "{version}"`'
        if drop_in
        else ""
    )
    return Refusal(f"`{top}` was removed in Python {version} and this has no standard-library replacement{also}")


HELPERS: dict[str, str] = {
    "_strtobool": '''
def _strtobool(val):
    """distutils.util.strtobool (removed in Python 3.12): 1 for a true string, 0 for a false one."""
    val = val.lower()
    if val in ("y", "yes", "t", "true", "on", "1"):
        return 1
    if val in ("n", "no", "f", "false", "off", "0"):
        return 0
    raise ValueError("invalid truth value %r" % (val,))
''',
    "_parse_header": r'''
def _parse_header(line):
    """cgi.parse_header (removed in Python 3.13): a Content-type-like header's main value and its parameters."""

    def _params(s):
        while s[:1] == ";":
            s = s[1:]
            end = s.find(";")
            while end > 0 and (s.count('"', 0, end) - s.count('\\"', 0, end)) % 2:
                end = s.find(";", end + 1)
            if end < 0:
                end = len(s)
            yield s[:end].strip()
            s = s[end:]

    parts = _params(";" + line)
    key = next(parts)
    pdict = {}
    for p in parts:
        i = p.find("=")
        if i >= 0:
            name = p[:i].strip().lower()
            value = p[i + 1 :].strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
                value = value.replace("\\\\", "\\").replace('\\"', '"')
            pdict[name] = value
    return key, pdict
''',
    "_load_source": '''
def _load_source(name, path):
    """imp.load_source (removed in Python 3.12), with importlib: load the source file `path` as module `name`."""
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
''',
    "_wrap_socket": '''
def _wrap_socket(sock, keyfile=None, certfile=None, server_side=False, cert_reqs=None, ssl_version=None,
                 ca_certs=None, do_handshake_on_connect=True, suppress_ragged_eofs=True, ciphers=None):
    """ssl.wrap_socket (removed in Python 3.12), with the SSLContext it built."""
    if cert_reqs is None:
        cert_reqs = ssl.CERT_NONE
    if server_side and not certfile:
        raise ValueError("certfile must be specified for server-side operations")
    if keyfile and not certfile:
        raise ValueError("certfile must be specified")
    if ssl_version is None:
        ssl_version = ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT
    context = ssl.SSLContext(ssl_version)
    context.check_hostname = False
    context.verify_mode = cert_reqs
    if ca_certs:
        context.load_verify_locations(ca_certs)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    if ciphers:
        context.set_ciphers(ciphers)
    return context.wrap_socket(
        sock=sock,
        server_side=server_side,
        do_handshake_on_connect=do_handshake_on_connect,
        suppress_ragged_eofs=suppress_ragged_eofs,
    )
''',
}
