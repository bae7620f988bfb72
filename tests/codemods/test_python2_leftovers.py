"""The Python 2 leftover codemods and open-binary-mode beyond their own examples: what a declared Python 2 changes,
and the places they decline with the reason (`Codemod.declines`)."""

from __future__ import annotations

import ast

from evolve.codemods.base import CodemodContext
from evolve.codemods.dict_iter_methods import DictIterMethods
from evolve.codemods.open_binary_mode import OpenBinaryMode
from evolve.codemods.python2_builtins import Python2Builtins
from evolve.codemods.python2_shims import Python2Shims
from evolve.codemods.unicode_method import UnicodeMethod
from evolve.codemods.unicode_prefix import UnicodePrefix
from evolve.testing import apply_codemod, assert_codemod, assert_detects, assert_unchanged

PY27 = CodemodContext(path="pkg/module.py", min_python=(2, 7))
PY38 = CodemodContext(path="pkg/module.py", min_python=(3, 8))


def _declines(codemod, source: str, context: CodemodContext = PY38) -> list[str]:
    return [f"{o.line}: {o.description}" for o in codemod.declines(ast.parse(source), source, context)]


def test_a_project_that_declares_python_2_gets_only_the_rename_that_means_the_same_there():
    source = "for i in xrange(3):\n    print(unicode(i), long(i))\n"
    assert_codemod(Python2Builtins(), source, "for i in range(3):\n    print(unicode(i), long(i))\n", PY27)
    notes = _declines(Python2Builtins(), source, PY27)
    assert notes == [
        "2: `unicode` left alone: the project declares Python 2.7, where `str` is not the same",
        "2: `long` left alone: the project declares Python 2.7, where `int` is not the same",
    ]
    assert _declines(Python2Builtins(), source, PY38) == []  # Python 3 only: everything is renamed


def test_python_3_only_rewrites_are_not_offered_to_a_project_that_declares_python_2():
    for codemod, source in (
        (Python2Shims(), "try:\n    basestring\nexcept NameError:\n    basestring = str\n"),
        (UnicodeMethod(), "class A:\n    def __unicode__(self):\n        return 'a'\n"),
        (UnicodePrefix(), "x = u'a'\n"),
    ):
        assert_detects(codemod, source, PY27, expected=False)
        assert_detects(codemod, source, PY38)


def test_a_name_the_module_binds_or_guards_is_not_a_python_2_builtin():
    for source in (
        "long = 5\nprint(long)\n",
        "try:\n    text = unicode(x)\nexcept NameError:\n    text = str(x)\n",
        "from platform import python_version_tuple\nif python_version_tuple()[0] < '3':\n    t = unicode\n",
        "def f():\n    import builtins\n    return getattr(builtins, 'unicode', str)\n",
    ):
        assert_unchanged(Python2Builtins(), source)
        assert_detects(Python2Builtins(), source, expected=False)


def test_a_class_whose_str_does_more_is_declined_with_the_reason():
    source = (
        "class A:\n    def __unicode__(self):\n        return 'a'\n\n    def __str__(self):\n        return 'A: a'\n"
    )
    assert_unchanged(UnicodeMethod(), source)
    assert _declines(UnicodeMethod(), source) == [
        "1: `A.__unicode__` left alone: its `__str__` does more than call `__unicode__`"
    ]
    called = "class B:\n    def __unicode__(self):\n        return 'b'\n\nprint(B().__unicode__())\n"
    assert _declines(UnicodeMethod(), called) == [
        "1: `B.__unicode__` left alone: the module names `__unicode__` elsewhere (line 5)"
    ]


def test_a_file_object_also_used_as_text_is_declined_with_the_line():
    source = (
        "import pickle\n\n"
        "def load(path):\n"
        "    with open(path) as f:\n"
        "        version = f.readline()\n"
        "        return version, pickle.load(f)\n"
    )
    assert_unchanged(OpenBinaryMode(), source)
    assert _declines(OpenBinaryMode(), source) == ["4: `open` left in text mode: `f`: its `.readline` is used (line 5)"]
    encoded = "import pickle\n\ndata = pickle.load(open(p, encoding='latin-1'))\n"
    assert _declines(OpenBinaryMode(), encoded) == [
        "3: `open` left in text mode: the call names a text-only option (encoding, errors, newline)"
    ]


def test_binary_consumers_get_binary_files():
    cases = {
        "import zipfile\narchive = zipfile.ZipFile(open(path))\n": (
            "import zipfile\narchive = zipfile.ZipFile(open(path, 'rb'))\n"
        ),
        "import tarfile\nwith open(p, 'r') as f:\n    t = tarfile.open(fileobj=f)\n": (
            "import tarfile\nwith open(p, 'rb') as f:\n    t = tarfile.open(fileobj=f)\n"
        ),
        "from hashlib import md5\nimport hashlib\nsum = hashlib.sha256(open(p).read()).hexdigest()\n": (
            "from hashlib import md5\nimport hashlib\nsum = hashlib.sha256(open(p, 'rb').read()).hexdigest()\n"
        ),
        "try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\n"
        "with open(p, mode='w') as out:\n    pickle.dump(x, out)\n": (
            "try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\n"
            "with open(p, mode='wb') as out:\n    pickle.dump(x, out)\n"
        ),
    }
    for before, after in cases.items():
        assert_codemod(OpenBinaryMode(), before, after, PY27)  # `'rb'` is the same on Python 2


def test_a_text_write_or_an_unknown_consumer_is_left_alone():
    for source in (
        "import json\nwith open(p) as f:\n    data = json.load(f)\n",
        "with open(p, 'w') as f:\n    f.write('x')\n",
        "import pickle\nwith open(p, 'rb') as f:\n    pickle.load(f)\n",
        "import pickle\nf = open(p)\nf = open(q)\npickle.load(f)\n",
    ):
        assert_unchanged(OpenBinaryMode(), source)


def test_dict_methods_change_only_on_certain_dicts():
    unchanged = (
        "def f(obj):\n    return obj.iteritems()\n",
        "data = {}\n\ndef f():\n    data = get()\n    return data.iteritems()\n",  # the local is not a dict
        "from compat import *\nd = {}\nd.iteritems()\n",
        "d = {}\n[d.iteritems() for d in dicts]\n",
    )
    for source in unchanged:
        assert_unchanged(DictIterMethods(), source)
    _, changes = apply_codemod(DictIterMethods(), "d = dict()\nx = d.has_key(k) or d.has_key(j + 1)\n")
    assert len(changes) == 2
    assert_codemod(
        DictIterMethods(),
        "d = dict()\nx = d.has_key(k) or d.has_key(a if b else c)\n",
        "d = dict()\nx = k in d or (a if b else c) in d\n",
    )


def test_version_branches_keep_what_python_3_runs():
    assert_codemod(
        Python2Shims(),
        "import sys\n\nif sys.version_info < (3,):\n    chars = unichr\nelse:\n    chars = chr\n",
        "import sys\n\nchars = chr\n",
    )
    for source in (
        "import sys\nif sys.version_info[0] == 2:\n    a = 1\nelif sys.version_info[1] > 5:\n    a = 2\n",
        "import sys\nif sys.version_info > (3, 0):\n    a = 1\n",  # 3.0.1 > (3, 0) but the test reads as a minor one
        "sys = None\nif sys.version_info[0] == 2:\n    a = 1\n",
    ):
        assert_unchanged(Python2Shims(), source)
    compat = CodemodContext(path="pkg/_compat.py", min_python=(3, 8))
    assert_codemod(
        Python2Shims(),
        "try:\n    unicode\nexcept NameError:\n    unicode = str\n",
        "unicode = str\n",  # a compatibility module: others import the alias from it
        compat,
    )


def test_a_bare_python_2_classifier_declares_python_2(tmp_path):
    from evolve.codemods.python_versions import repository_min_python

    (tmp_path / "setup.py").write_text(
        "setup(classifiers=[\n    'Programming Language :: Python :: 2',\n"
        "    'Programming Language :: Python :: 3',\n    'Programming Language :: Python :: 3.6',\n])\n"
    )
    assert repository_min_python(tmp_path) == (2, 0)  # Genshi 0.7.5 declares itself this way
    (tmp_path / "setup.py").write_text(
        "setup(classifiers=[\n    'Programming Language :: Python :: 3',\n    'Programming Language :: Python :: 3.6',\n])\n"
    )
    assert repository_min_python(tmp_path) == (3, 6)  # a bare 3 beside 3.6 does not lower it


def test_an_is_python2_conditional_expression_guards_its_names():
    assert_unchanged(Python2Builtins(), "def as_long(v):\n    cls = long if IS_PYTHON2 else int\n    return cls(v)\n")
