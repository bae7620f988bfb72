"""Python 2 names that Python 3 removed, as the traceback of a failing test shows them: `NameError: name 'xrange'
is not defined` (a builtin) and `'dict' object has no attribute 'iteritems'` (a dict method), each with the recipe
(codemod) that rewrites it."""

from __future__ import annotations

from evolve.codemods.dict_iter_methods import METHODS
from evolve.codemods.python2_scan import BUILTINS, MOVED
from evolve.research.removed_names import RemovedName

PYTHON3 = (3, 0)
BUILTIN_NAMES: dict[str, RemovedName] = {
    name: RemovedName("builtins", name, PYTHON3, new, "python2-builtins")
    for name, new in sorted({**BUILTINS, **{n: f"{m}.{n}" for n, m in MOVED.items()}}.items())
}
# Python 3's dict has none of these; neither have its subclasses (OrderedDict, defaultdict, Counter).
DICT_METHODS: dict[str, RemovedName] = {
    name: RemovedName("dict", name, PYTHON3, replacement, "dict-iter-methods")
    for name, replacement in sorted(METHODS.items())
}
_DICTS = frozenset({"dict", "OrderedDict", "defaultdict", "Counter"})


def removed_builtin(name: str) -> RemovedName | None:
    """The entry for a name a NameError reports, when it is a Python 2 builtin."""
    return BUILTIN_NAMES.get(name)


def removed_dict_method(owner: str, name: str) -> RemovedName | None:
    """The entry for `'dict' object has no attribute 'iteritems'` (and the dict subclasses)."""
    return DICT_METHODS.get(name) if owner.rsplit(".", 1)[-1] in _DICTS else None
