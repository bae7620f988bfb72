"""docs/plugins.md, done as a plugin author would: its files written out of the page, the package installed with
pip, its own tests run with `evolve.testing`, and both plugins enabled by name and run by the real loader and engine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.repo_factory import make_repo

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"<!-- walkthrough: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```\n", re.S)
PACKAGE_FILES = {
    "pyproject.toml",
    "src/evolve_example/todo_gate.py",
    "src/evolve_example/dict_keys.py",
    "tests/test_example_plugins.py",
}


def walkthrough_files() -> dict[str, str]:
    """Every file the page shows in full, by its path."""
    return {match["path"]: match["body"] for match in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The example package built from the page and pip-installed into its own site directory."""
    root = tmp_path_factory.mktemp("walkthrough")
    package, site = root / "evolve-example", root / "site"
    files = walkthrough_files()
    for path in PACKAGE_FILES:
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(files[path], encoding="utf-8")
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--no-cache-dir",
    ]
    subprocess.run([*pip, "--target", str(site), str(package)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return package, env


def evolve(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The `evolve` command in a fresh interpreter that sees the installed example package."""
    return subprocess.run(
        [sys.executable, "-m", "evolve.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_the_page_shows_every_file_of_the_package():
    assert PACKAGE_FILES | {"evolve.yml"} == set(walkthrough_files())


def test_the_plugins_own_tests_pass_with_evolve_testing(installed):
    package, env = installed
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # 3 examples (one with its own settings) x 3 generated checks + 2 valid sources x 2 + 1 metadata check, and the
    # 2 gate tests.
    assert "16 passed" in result.stdout, result.stdout


def test_the_installed_codemod_is_listed_and_the_plugin_settings_are_checked(installed, tmp_path):
    _, env = installed
    listed = evolve(env, "codemods", "--json")
    catalog = {c["id"]: c for c in json.loads(listed.stdout)}
    assert listed.returncode == 0 and catalog["dict-keys-in"]["settings"] == {"ignore": []}
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(walkthrough_files()["evolve.yml"], encoding="utf-8")
    bad.write_text(
        "gates:\n  extra: [todo]\n  todo: {max_nwe: 1}\ncodemods:\n  dict-keys-in: {ignroe: [t], ignore: 3}\n",
        encoding="utf-8",
    )
    assert evolve(env, "config", "check", str(good)).returncode == 0
    checked = evolve(env, "config", "check", str(bad))
    assert (
        checked.returncode == 2
        and "gates.todo.max_nwe: unknown key 'max_nwe'; did you mean 'max_new'?" in checked.stderr
    )
    assert "codemods.dict-keys-in.ignroe: unknown key 'ignroe'; did you mean 'ignore'?" in checked.stderr
    assert "codemods.dict-keys-in.ignore: Input should be a valid tuple" in checked.stderr
    schema = json.loads(evolve(env, "config", "schema").stdout)
    assert schema["$defs"]["GatesConfig"]["properties"]["todo"] == {"$ref": "#/$defs/TodoSettings"}
    assert schema["$defs"]["CodemodsConfig"]["properties"]["dict-keys-in"] == {"$ref": "#/$defs/DictKeysSettings"}


def test_a_run_uses_the_codemod_and_the_gate_enabled_by_name(installed, tmp_path):
    _, env = installed
    config = walkthrough_files()["evolve.yml"]
    # Keep the built-in gates to syntax so the run is quick; `extra` still adds the plugin gate by name.
    config = config.replace("gates:\n", "gates:\n  enabled: [syntax]\n")
    source = "def has(options, key):\n    return key in options.keys()\n\n\ndef listed(table, key):\n    return key in table.keys()\n"
    repo = make_repo(tmp_path / "repo", {"app.py": source, ".github/evolve.yml": config})
    env = {**env, "EVOLVE_DATA_DIR": str(tmp_path / "data")}
    result = evolve(
        env, "run", str(repo), "--focus", "dict-keys-in", "--json", "--quiet", "--output", str(tmp_path / "out")
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["status"] == "succeeded", result.stderr + result.stdout
    gates = {gate["gate"]: gate["status"] for gate in report["attempts"][-1]["gates"]}
    assert gates == {"syntax": "passed", "todo": "passed"}
    assert [codemod["id"] for codemod in report["codemods"]] == ["dict-keys-in"]
    committed = subprocess.run(
        ["git", "show", f"{report['branch']}:app.py"], cwd=repo, capture_output=True, text=True, check=True
    )
    # `codemods.dict-keys-in: {ignore: [table]}` reached the run: `table.keys()` is left alone.
    assert "return key in options\n" in committed.stdout and "return key in table.keys()\n" in committed.stdout
