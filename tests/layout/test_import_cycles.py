"""scripts/import_cycles.py finds cycles between modules and packages, type-level imports included; the tree has none."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("import_cycles", ROOT / "scripts" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_cycles"] = module
    spec.loader.exec_module(module)
    return module


def write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_type_level_cycle_between_modules_is_reported(tmp_path, capsys):
    script = load_script()
    write(tmp_path, "evolve/__init__.py")
    write(tmp_path, "gates/__init__.py")
    write(tmp_path, "bot/__init__.py")
    write(
        tmp_path,
        "bot/context.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.jobs import queue\n",
    )
    write(tmp_path, "bot/jobs/__init__.py")
    write(tmp_path, "bot/jobs/queue.py", "from bot.context import BotContext\n")
    assert script.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "module cycle (2): bot.context, bot.jobs.queue" in out
    assert "package cycle (2): bot.context, bot.jobs" in out


def test_relative_imports_and_package_cycles(tmp_path, capsys):
    script = load_script()
    write(tmp_path, "bot/__init__.py")
    write(tmp_path, "gates/__init__.py")
    write(tmp_path, "evolve/__init__.py")
    write(tmp_path, "evolve/a/__init__.py")
    write(tmp_path, "evolve/a/one.py", "from ..b import two\n")
    write(tmp_path, "evolve/b/__init__.py")
    write(tmp_path, "evolve/b/two.py", "x = 1\n")
    write(tmp_path, "evolve/b/three.py", "from evolve.a.one import something\n")
    assert script.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "module cycles: none" in out
    assert "package cycle (2): evolve.a, evolve.b" in out


def test_the_tree_has_no_import_cycles(capsys):
    script = load_script()
    assert script.main(["--root", str(ROOT)]) == 0, capsys.readouterr().out
