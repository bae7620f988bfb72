"""Runner behaviour: one LibCST parse per file, skipped files, parallel equals serial, version helpers."""

from __future__ import annotations

import pickle
from pathlib import Path

import libcst as cst
import pytest

from evolve.codemods import runner
from evolve.codemods.base import CodemodContext
from evolve.codemods.registry import select_codemods
from evolve.codemods.runner import (
    apply_codemods,
    detect_occurrences,
    min_python_from_requires,
    repository_min_python,
)

DIRTY = "import os\n\n\nclass A(object):\n    def f(self, x):\n        if x == None:\n            return dict()\n        else:\n            return not x in self.items\n"
CLEAN = "def f(x: int) -> int:\n    return x + 1\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("import os\n", encoding="utf-8")
    (tmp_path / "dirty.py").write_text(DIRTY, encoding="utf-8")
    (tmp_path / "clean.py").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "binary.py").write_bytes(b"x = 1\x00\x01\n")
    (tmp_path / "latin1.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "broken.py").write_text("def f(:\n", encoding="utf-8")
    return tmp_path


PATHS = ["binary.py", "broken.py", "clean.py", "dirty.py", "latin1.py", "missing.py", "pkg/__init__.py"]


def test_runner_edits_dirty_files_and_skips_bad_ones_with_reasons(tree: Path) -> None:
    result = apply_codemods(tree, PATHS, select_codemods(), (3, 8), workers=1)
    assert [edit.path for edit in result.edits] == ["dirty.py"]
    edit = result.edits[0]
    assert edit.source == "codemods" and edit.before == DIRTY
    assert edit.after == (
        "class A:\n    def f(self, x):\n        if x is None:\n            return {}\n        return x not in self.items\n"
    )
    assert {c.codemod for c in edit.changes} == {
        "unused-imports",
        "object-base",
        "none-comparison",
        "empty-literals",
        "redundant-else",
        "not-in",
    }
    reasons = {skip.path: skip.reason for skip in result.skipped}
    assert set(reasons) == {"binary.py", "broken.py", "latin1.py", "missing.py"}
    assert "binary" in reasons["binary.py"] and "UTF-8" in reasons["latin1.py"]
    assert "syntax error" in reasons["broken.py"] and "unreadable" in reasons["missing.py"]
    assert result.errors == ()
    assert result.files_scanned == len(PATHS)
    assert result.files_changed_by()["not-in"] == 1


def test_each_file_is_parsed_with_libcst_at_most_once(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_parse = cst.parse_module

    def counting_parse(source, *args, **kwargs):
        calls.append(1)
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(runner.cst, "parse_module", counting_parse)
    result = apply_codemods(tree, PATHS, select_codemods(), (3, 8), workers=1)
    # dirty.py only: clean.py and pkg/__init__.py detect nothing, the rest are skipped before LibCST.
    assert len(calls) == 1 == result.files_parsed_with_libcst


def test_parallel_run_equals_serial_run(tree: Path) -> None:
    for index in range(12):
        (tree / f"copy{index}.py").write_text(DIRTY, encoding="utf-8")
    paths = [*PATHS, *(f"copy{index}.py" for index in range(12))]
    serial = apply_codemods(tree, paths, select_codemods(), (3, 8), workers=1)
    parallel = apply_codemods(tree, paths, select_codemods(), (3, 8), workers=2)
    assert parallel == serial
    assert len(serial.edits) == 13
    pickle.loads(pickle.dumps(serial))  # results are picklable values


def test_a_failing_codemod_is_recorded_not_raised(tree: Path) -> None:
    class Exploding(type(select_codemods(only=["not-in"])[0])):
        def transform(self, module, context):
            raise RuntimeError("boom")

    result = apply_codemods(tree, ["dirty.py"], [Exploding(), *select_codemods(only=["none-comparison"])], (3, 8))
    assert result.errors[0].codemod == "not-in" and "boom" in result.errors[0].message
    assert "x is None" in result.edits[0].after  # the other codemod still applied


def test_context_function_receives_each_path(tree: Path) -> None:
    seen: list[str] = []

    def context_for(path: str) -> CodemodContext:
        seen.append(path)
        return CodemodContext(path=path, min_python=(3, 10))

    apply_codemods(tree, ["clean.py", "dirty.py"], select_codemods(only=["not-in"]), context_for, workers=1)
    assert seen == ["clean.py", "dirty.py"]


def test_package_init_keeps_its_imports(tree: Path) -> None:
    result = apply_codemods(tree, ["pkg/__init__.py"], select_codemods(only=["unused-imports"]), (3, 8))
    assert result.edits == ()


def test_detect_occurrences_uses_ast_only(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.cst, "parse_module", lambda *a, **k: pytest.fail("LibCST used"))
    found = detect_occurrences(tree, PATHS, select_codemods(), (3, 8))
    assert list(found) == ["dirty.py"]
    ids = [codemod_id for codemod_id, _ in found["dirty.py"]]
    assert {"unused-imports", "object-base", "none-comparison", "not-in", "redundant-else"} <= set(ids)
    assert all(occurrence.symbol in (None, "A", "A.f") for _, occurrence in found["dirty.py"])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=3.8", (3, 8)),
        ("~=3.9", (3, 9)),
        (">=3.7,<4", (3, 7)),
        (">=3.10, !=3.11.*", (3, 10)),
        ("^3.11", (3, 11)),
        (">3.7", (3, 7)),
        ("<4", (3, 8)),
        (None, (3, 8)),
        ("", (3, 8)),
        (">=3", (3, 0)),
        ("==3.12.*", (3, 12)),
    ],
)
def test_min_python_from_requires(spec: str | None, expected: tuple[int, int]) -> None:
    assert min_python_from_requires(spec) == expected


def test_repository_min_python_sources(tmp_path: Path) -> None:
    assert repository_min_python(tmp_path) == (3, 8)
    (tmp_path / "setup.py").write_text("setup(name='x', python_requires='>=3.6')\n", encoding="utf-8")
    assert repository_min_python(tmp_path) == (3, 6)
    (tmp_path / "setup.cfg").write_text("[options]\npython_requires = >=3.7\n", encoding="utf-8")
    assert repository_min_python(tmp_path) == (3, 7)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nrequires-python = ">=3.11"\n', encoding="utf-8")
    assert repository_min_python(tmp_path) == (3, 11)


def test_without_requires_python_the_lowest_classifier_counts(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text(
        "setup(classifiers=[\n    'Programming Language :: Python :: 3.6',\n"
        "    \"Programming Language :: Python :: 2.7\",\n    'Programming Language :: Python :: 3',\n])\n",
        encoding="utf-8",
    )
    assert repository_min_python(tmp_path) == (2, 7)
    (tmp_path / "setup.cfg").write_text(
        "[metadata]\nclassifiers =\n    Programming Language :: Python :: 3.9\n", encoding="utf-8"
    )
    assert repository_min_python(tmp_path) == (2, 7)  # every place that lists versions counts
    (tmp_path / "setup.py").write_text("setup()\n", encoding="utf-8")
    assert repository_min_python(tmp_path) == (3, 9)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nclassifiers = ["Programming Language :: Python :: 3.7"]\n', encoding="utf-8"
    )
    assert repository_min_python(tmp_path) == (3, 7)


def test_a_module_with_a_stub_gets_no_return_annotations(tmp_path: Path) -> None:
    source = "def f(x: int):\n    print(x)\n"
    (tmp_path / "typed.py").write_text(source)
    (tmp_path / "stubbed.py").write_text(source)
    (tmp_path / "stubbed.pyi").write_text("def f(x: int) -> None: ...\n")
    codemods = select_codemods(["none-return"], [])
    result = apply_codemods(tmp_path, ["stubbed.py", "typed.py"], codemods)
    assert [edit.path for edit in result.edits] == ["typed.py"]  # the stub is what type checkers read
    assert list(detect_occurrences(tmp_path, ["stubbed.py", "typed.py"], codemods)) == ["typed.py"]


def test_compatibility_shims_keep_their_imports(tmp_path: Path) -> None:
    source = "import os\nfrom collections.abc import Sequence\nx = 1\n"
    for name in ("compatibility.py", "_compat.py", "plain.py"):
        (tmp_path / name).write_text(source)
    codemods = select_codemods(["unused-imports"], [])
    result = apply_codemods(tmp_path, ["_compat.py", "compatibility.py", "plain.py"], codemods)
    assert [edit.path for edit in result.edits] == ["plain.py"]  # a shim's imports are what it offers


def test_a_repository_that_supports_python_2_gets_only_rewrites_that_run_there(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("if x is 1:\n    f = open('p')\n", encoding="utf-8")
    codemods = select_codemods(["is-literal", "open-encoding"], [])
    old = apply_codemods(tmp_path, ["m.py"], codemods, (2, 7))
    assert [change.codemod for change in old.edits[0].changes] == ["is-literal"]
    new = apply_codemods(tmp_path, ["m.py"], codemods, (3, 8))
    assert {change.codemod for change in new.edits[0].changes} == {"is-literal", "open-encoding"}
