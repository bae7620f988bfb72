"""Standard-library names that Python removed or renamed, from the "Removed" sections of What's New 3.8-3.13.

One entry per name: where it lived (a module, or the type whose method it was), the release that removed it, the
recipe (codemod id) that rewrites it, and what replaces it. A traceback's last line is matched against the
three shapes these removals take (`module 'm' has no attribute 'n'`, `cannot import name 'n' from 'm'`,
`No module named 'm'`, and `'T' object has no attribute 'n'` for methods).
"""

from __future__ import annotations

from dataclasses import dataclass

from evolve.codemods.collections_abc import ABCS
from evolve.codemods.removed_modules_table import REMOVED_MODULES
from evolve.codemods.unittest_aliases import ALIASES


@dataclass(frozen=True)
class RemovedName:
    """One removal: `owner.name` (a module attribute, a method of `owner`, or the module `owner` itself when
    `name` is empty), gone since `removed_in`; `recipe` is the codemod that rewrites it (None: no safe rewrite)."""

    owner: str
    name: str
    removed_in: tuple[int, int]
    replacement: str
    recipe: str | None = None

    @property
    def label(self) -> str:
        """`collections.Mapping`, `Thread.isAlive`, or the module `imp`."""
        return f"{self.owner}.{self.name}" if self.name else self.owner


# The aliases the unittest-aliases codemod rewrites, plus one it cannot (its replacement is not a rename).
_UNITTEST_ALIASES = {**ALIASES, "assertDictContainsSubset": "assertLessEqual(subset.items(), dict.items())"}

REMOVED: tuple[RemovedName, ...] = (
    *(RemovedName("collections", abc, (3, 10), f"collections.abc.{abc}", "collections-abc") for abc in sorted(ABCS)),
    *(
        RemovedName("TestCase", alias, (3, 12), f"TestCase.{new}", "unittest-aliases")
        for alias, new in _UNITTEST_ALIASES.items()
    ),
    # 3.8
    RemovedName("time", "clock", (3, 8), "time.perf_counter() or time.process_time(), whichever it measured"),
    RemovedName("cgi", "escape", (3, 8), "html.escape(s, quote=False)", "removed-stdlib-modules"),
    RemovedName("platform", "linux_distribution", (3, 8), "the `distro` package"),
    RemovedName("platform", "dist", (3, 8), "the `distro` package"),
    RemovedName("os", "errno", (3, 7), "import errno"),
    # 3.9
    RemovedName("Thread", "isAlive", (3, 9), "Thread.is_alive()", "removed-stdlib-names"),
    RemovedName("Element", "getchildren", (3, 9), "list(element)", "removed-stdlib-names"),
    RemovedName("Element", "getiterator", (3, 9), "element.iter()", "removed-stdlib-names"),
    RemovedName("ElementTree", "getiterator", (3, 9), "tree.iter()", "removed-stdlib-names"),
    RemovedName("base64", "encodestring", (3, 9), "base64.encodebytes", "removed-stdlib-names"),
    RemovedName("base64", "decodestring", (3, 9), "base64.decodebytes", "removed-stdlib-names"),
    RemovedName("array.array", "tostring", (3, 9), "array.tobytes()", "removed-stdlib-names"),
    RemovedName("array.array", "fromstring", (3, 9), "array.frombytes()", "removed-stdlib-names"),
    RemovedName("fractions", "gcd", (3, 9), "math.gcd (which never returns a negative number)"),
    RemovedName("sys", "getcheckinterval", (3, 9), "sys.getswitchinterval"),
    RemovedName("sys", "setcheckinterval", (3, 9), "sys.setswitchinterval"),
    RemovedName("xml.etree", "cElementTree", (3, 9), "xml.etree.ElementTree", "removed-stdlib-names"),
    RemovedName("HTMLParser", "unescape", (3, 9), "html.unescape"),
    # 3.10
    RemovedName("formatter", "", (3, 10), "nothing: vendor the module"),
    RemovedName("parser", "", (3, 10), "ast"),
    RemovedName("symbol", "", (3, 10), "ast"),
    # 3.11
    RemovedName(
        "inspect", "getargspec", (3, 11), "inspect.getfullargspec or inspect.signature", "removed-stdlib-modules"
    ),
    RemovedName("inspect", "formatargspec", (3, 11), "str(inspect.signature(f))", "removed-stdlib-modules"),
    RemovedName("inspect", "getmoduleinfo", (3, 11), "inspect.getmodulename"),
    RemovedName("asyncio", "coroutine", (3, 11), "`async def`", "asyncio-coroutine"),
    RemovedName("binascii", "a2b_hqx", (3, 11), "nothing"),
    RemovedName("gettext", "lgettext", (3, 11), "gettext.gettext"),
    # 3.12
    RemovedName("distutils", "", (3, 12), "setuptools, packaging, sysconfig or shutil", "removed-stdlib-modules"),
    RemovedName("imp", "", (3, 12), "importlib", "removed-stdlib-modules"),
    RemovedName("asynchat", "", (3, 12), "asyncio", "removed-stdlib-modules"),
    RemovedName("asyncore", "", (3, 12), "asyncio", "removed-stdlib-modules"),
    RemovedName("smtpd", "", (3, 12), "aiosmtpd", "removed-stdlib-modules"),
    RemovedName("configparser", "SafeConfigParser", (3, 12), "configparser.ConfigParser", "removed-stdlib-names"),
    RemovedName("ConfigParser", "readfp", (3, 12), "ConfigParser.read_file", "removed-stdlib-names"),
    RemovedName("RawConfigParser", "readfp", (3, 12), "RawConfigParser.read_file", "removed-stdlib-names"),
    RemovedName("SafeConfigParser", "readfp", (3, 12), "ConfigParser.read_file", "removed-stdlib-names"),
    RemovedName("ssl", "wrap_socket", (3, 12), "ssl.SSLContext.wrap_socket", "removed-stdlib-modules"),
    RemovedName("ssl", "match_hostname", (3, 12), "the SSL context's hostname check", "removed-stdlib-modules"),
    RemovedName("locale", "format", (3, 12), "locale.format_string", "removed-stdlib-names"),
    RemovedName("pkgutil", "ImpImporter", (3, 12), "importlib"),
    RemovedName(
        "unittest", "findTestCases", (3, 13), "unittest.defaultTestLoader.loadTestsFromModule", "removed-stdlib-names"
    ),
    RemovedName(
        "unittest", "makeSuite", (3, 13), "unittest.defaultTestLoader.loadTestsFromTestCase", "removed-stdlib-names"
    ),
    RemovedName("unittest", "getTestCaseNames", (3, 13), "unittest.TestLoader().getTestCaseNames"),
    # 3.13 (PEP 594)
    *(
        RemovedName(module, "", (3, 13), "a maintained replacement (PEP 594)", "removed-stdlib-modules")
        for module, removed_in in REMOVED_MODULES.items()
        if removed_in == (3, 13)
    ),
    RemovedName("typing", "io", (3, 13), "typing.IO and friends"),
    RemovedName("typing", "re", (3, 13), "typing.Pattern / re.Pattern"),
    RemovedName("re", "template", (3, 13), "re.compile"),
)

BY_OWNER_NAME: dict[tuple[str, str], RemovedName] = {(entry.owner, entry.name): entry for entry in REMOVED}
BY_NAME: dict[str, list[RemovedName]] = {}
for _entry in REMOVED:
    if _entry.name:
        BY_NAME.setdefault(_entry.name, []).append(_entry)


def removed_module(module: str) -> RemovedName | None:
    """The entry of a removed module (`imp`, `distutils.core` -> `distutils`), or None."""
    top = module.split(".")[0]
    return BY_OWNER_NAME.get((module, "")) or BY_OWNER_NAME.get((top, ""))


def removed_attribute(owner: str, name: str) -> RemovedName | None:
    """The entry for `owner.name`: a module attribute, or a method of a type (matched by the type's last name:
    `xml.etree.ElementTree.Element` is `Element`; a TestCase subclass is matched by its alias name alone)."""
    exact = BY_OWNER_NAME.get((owner, name))
    if exact is not None:
        return exact
    short = owner.rsplit(".", 1)[-1]
    found = BY_OWNER_NAME.get((short, name))
    if found is not None:
        return found
    candidates = [entry for entry in BY_NAME.get(name, ()) if entry.owner == "TestCase"]
    return candidates[0] if candidates else None


def removal_recipes() -> frozenset[str]:
    """The codemods that rewrite a name some Python removed. When one fixes failing tests, the others' findings are
    the next lines to break on that Python (a suite stops at the first failure it meets), tests included."""
    return frozenset(entry.recipe for entry in REMOVED if entry.recipe)


def with_removal_family(recipes: frozenset[str]) -> frozenset[str]:
    """`recipes`, plus every removal recipe when one of them is one."""
    family = removal_recipes()
    return recipes | family if recipes & family else recipes
