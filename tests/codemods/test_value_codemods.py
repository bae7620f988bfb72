"""Behaviour of the defect and deprecation codemods beyond their examples: layout, imports, what stays whole."""

from __future__ import annotations

import ast

from evolve.codemods.base import CodemodContext
from evolve.codemods.implicit_optional import ImplicitOptional
from evolve.codemods.late_binding_closures import LateBindingClosures
from evolve.codemods.logging_warn import LoggingWarn
from evolve.codemods.unittest_aliases import UnittestAliases
from evolve.testing import assert_unchanged
from evolve.testing.codemods import apply_codemod

PY38 = CodemodContext(min_python=(3, 8))


def test_implicit_optional_leaves_a_signature_whole_when_the_fix_would_need_wrapping():
    source = "class S:\n    def load(self, data: str, many: bool = None, partial: bool = None) -> int:\n        pass\n"
    assert_unchanged(ImplicitOptional(), source, PY38)


def test_implicit_optional_makes_no_line_longer_than_79_or_than_the_widest_it_had():
    wide = "def f(x: int = None, y='" + "a" * 80 + "'):\n    pass\n"
    assert_unchanged(ImplicitOptional(), wide, PY38)
    wrapped = "def f(\n    x: int = None, y='" + "a" * 40 + "'\n):\n    pass\n"
    result, changes = apply_codemod(ImplicitOptional(), wrapped, PY38)
    assert "    x: Optional[int] = None, y='" in result and [change.line for change in changes] == [2]


def test_implicit_optional_adds_optional_with_the_standard_library_imports():
    source = "import ssl\n\nimport requests\n\n\ndef f(x: int = None):\n    pass\n"
    result, _ = apply_codemod(ImplicitOptional(), source, PY38)
    assert result == (
        "import ssl\nfrom typing import Optional\n\nimport requests\n\n\ndef f(x: Optional[int] = None):\n    pass\n"
    )


def test_implicit_optional_opens_a_section_above_third_party_imports_keeping_their_comment():
    source = '"""Doc."""\n\n# vendored\nimport requests\n\n\ndef f(x: int = None):\n    pass\n'
    result, _ = apply_codemod(ImplicitOptional(), source, PY38)
    assert result.startswith('"""Doc."""\n\nfrom typing import Optional\n\n# vendored\nimport requests\n')


def test_implicit_optional_keeps_an_alphabetical_typing_import_alphabetical():
    source = "from typing import Dict, Tuple\n\n\ndef f(x: Dict = None):\n    pass\n"
    result, _ = apply_codemod(ImplicitOptional(), source, PY38)
    assert result.startswith("from typing import Dict, Optional, Tuple\n")


def test_implicit_optional_writes_pipes_with_future_annotations_only_where_the_module_already_does():
    source = "from __future__ import annotations\n\n\ndef f(x: int = None, y: str | None = None):\n    pass\n"
    result, _ = apply_codemod(ImplicitOptional(), source, PY38)
    assert "def f(x: int | None = None, y: str | None = None)" in result
    plain = "from __future__ import annotations\n\n\ndef f(x: int = None):\n    pass\n"
    assert "x: Optional[int] = None" in apply_codemod(ImplicitOptional(), plain, PY38)[0]


def test_implicit_optional_leaves_modules_described_by_a_stub_alone():
    source = "def f(x: int = None):\n    pass\n"
    assert_unchanged(ImplicitOptional(), source, PY38.replace(has_stub=True))
    assert ImplicitOptional().detect(ast.parse(source), source, PY38.replace(has_stub=True)) == []


def test_renamed_calls_keep_visually_aligned_arguments_aligned():
    warn = "import logging\nlog = logging.getLogger()\nlog.warn('a %s'\n         ' b', x)\n"
    assert apply_codemod(LoggingWarn(), warn)[0].endswith("log.warning('a %s'\n            ' b', x)\n")
    hanging = "import logging\nlogging.warn(\n    'a %s', x)\n"
    assert apply_codemod(LoggingWarn(), hanging)[0].endswith("logging.warning(\n    'a %s', x)\n")
    test = (
        "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n"
        "        self.failUnlessEqual(a,\n                             b)\n"
    )
    assert apply_codemod(UnittestAliases(), test)[0].endswith("self.assertEqual(a,\n                         b)\n")


def test_unittest_aliases_change_only_the_nearest_class_when_it_is_a_test_case():
    source = (
        "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n"
        "        class Helper:\n            def m(self):\n                self.assertEquals(1)\n"
        "        self.assertEquals(1, 1)\n"
    )
    result, changes = apply_codemod(UnittestAliases(), source)
    assert "self.assertEquals(1)\n" in result and "self.assertEqual(1, 1)" in result
    assert [change.line for change in changes] == [8]
    assert [o.line for o in UnittestAliases().detect(ast.parse(source), source, PY38)] == [8]


def test_late_binding_binds_every_loop_variable_read_and_nothing_else():
    source = "for i, (a, b) in enumerate(pairs):\n    cbs.append(lambda x: f(x, a, key=i, obj=self.b))\n"
    result, _ = apply_codemod(LateBindingClosures(), source)
    assert "lambda x, a=a, i=i: f(x, a, key=i, obj=self.b)" in result


def test_logging_warn_leaves_a_name_that_is_also_a_parameter_alone():
    source = "import logging\nlog = logging.getLogger()\n\ndef f(log):\n    log.warn('x')\n"
    assert_unchanged(LoggingWarn(), source)


def test_late_binding_counts_a_lambda_in_nested_loops_once_and_binds_what_the_body_assigns():
    source = (
        "for name in names:\n    for i in range(n):\n        env = make(name)\n        factories.append(lambda: env)\n"
    )
    assert len(LateBindingClosures().detect(ast.parse(source), source, PY38)) == 1
    assert "factories.append(lambda env=env: env)" in apply_codemod(LateBindingClosures(), source)[0]


def test_collections_abc_writes_the_form_python_2_accepts_where_the_project_still_declares_it():
    from evolve.codemods.collections_abc import CollectionsAbc

    source = "import collections\nx = collections.Mapping\n"
    py27 = CodemodContext(min_python=(2, 7))
    assert len(CollectionsAbc().detect(ast.parse(source), source, py27)) == 1
    compat = apply_codemod(CollectionsAbc(), source, py27)[0]
    assert compat == (
        "import collections\ntry:\n    import collections.abc as collections_abc\n"
        "except ImportError:  # pragma: no cover (Python 2)\n    collections_abc = collections\nx = collections_abc.Mapping\n"
    )
    namespace: dict = {}
    exec(compile(compat, "compat.py", "exec"), namespace)
    assert namespace["x"] is __import__("collections.abc").abc.Mapping
    assert apply_codemod(CollectionsAbc(), source, PY38)[0] == (
        "import collections\nimport collections.abc\nx = collections.abc.Mapping\n"
    )


def test_collections_abc_also_serves_projects_that_still_list_python_2_6():
    # Jinja2 2.10 lists Python 2.6 and imports `from collections import Mapping` (ImportError on 3.10+).
    from evolve.codemods.collections_abc import CollectionsAbc

    source = "from collections import Mapping\n"
    py26 = CodemodContext(min_python=(2, 6))
    assert apply_codemod(CollectionsAbc(), source, py26)[0] == (
        "try:\n    from collections.abc import Mapping\n"
        "except ImportError:  # pragma: no cover (Python 2)\n    from collections import Mapping\n"
    )
    # Before 2.6 there were no ABCs at all: the fallback fails there exactly where the old spelling did.
    py25 = CodemodContext(min_python=(2, 5))
    assert apply_codemod(CollectionsAbc(), source, py25)[0] == apply_codemod(CollectionsAbc(), source, py26)[0]


def test_collections_abc_compatible_import_keeps_a_parenthesised_list_and_an_indented_import():
    from evolve.codemods.collections_abc import CollectionsAbc

    py27 = CodemodContext(min_python=(2, 7))
    source = "from collections import (\n    OrderedDict,\n    Sequence,\n)\n"
    result = apply_codemod(CollectionsAbc(), source, py27)[0]
    assert result == (
        "from collections import (\n    OrderedDict,\n)\ntry:\n    from collections.abc import Sequence\n"
        "except ImportError:  # pragma: no cover (Python 2)\n    from collections import Sequence\n"
    )
    taken = "import collections\ncollections_abc = 1\nx = collections.Mapping\n"  # the name means something else
    assert CollectionsAbc().detect(ast.parse(taken), taken, py27) == []
    assert_unchanged(CollectionsAbc(), taken, py27)
    nested = "def f():\n    from collections import Mapping\n    return Mapping\n"
    result = apply_codemod(CollectionsAbc(), nested, py27)[0]
    namespace: dict = {}
    exec(compile(result, "nested.py", "exec"), namespace)
    assert namespace["f"]() is __import__("collections.abc").abc.Mapping


def test_unittest_aliases_keep_the_names_python_2_lacks_where_it_is_supported():
    source = (
        "import unittest\n\nclass T(unittest.TestCase):\n    def test(self):\n"
        "        self.assertEquals(1, 1)\n        self.assertRaisesRegexp(E, 'x', f)\n"
    )
    py27 = CodemodContext(min_python=(2, 7))
    result, _ = apply_codemod(UnittestAliases(), source, py27)
    assert "self.assertEqual(1, 1)" in result and "self.assertRaisesRegexp(E, 'x', f)" in result
    assert len(UnittestAliases().detect(ast.parse(source), source, py27)) == 1
    assert "self.assertRaisesRegex(E, 'x', f)" in apply_codemod(UnittestAliases(), source, PY38)[0]
