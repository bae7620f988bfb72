"""Tool configs that point outside the repository (ruff `extend = "/host/file"`, `src`, links, nested configs):
ruff and black run on the host, so they only ever get the settings Evolve read and vetted; every refusal is a
sentence in the report, and a host file's contents never reach any output. Real ruff, real black."""

from __future__ import annotations

import os
import sys

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

from evolve.edits import FileEdit
from evolve.project_rules.formatting import format_edit
from evolve.project_rules.lint_run import lint_tree
from evolve.project_rules.reader import read_project_rules
from evolve.project_rules.sources import describe_rule_sources
from evolve.project_rules.vetted_options import merge_ruff_tables, path_leaves_tree, toml_text, vet_ruff_table

SECRET = "HOST-SECRET-7f3c9a"


@pytest.fixture
def host_secret(tmp_path):
    """A file outside the tree that ruff would quote in its error if it read it (not TOML: a bare word)."""
    path = tmp_path / "host" / "secret.toml"
    path.parent.mkdir()
    path.write_text(f"{SECRET}\n")
    return path


def _tree(tmp_path, files: dict[str, str]):
    root = tmp_path / "tree"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _everything(*values: object) -> str:
    return repr(values)


def test_an_absolute_extend_is_refused_and_ruff_never_reads_the_host_file(tmp_path, host_secret):
    root = _tree(
        tmp_path,
        {
            "pyproject.toml": f'[tool.ruff]\nextend = "{host_secret}"\nline-length = 100\n[tool.ruff.lint]\nselect = ["F"]\n',
            "pkg/m.py": "import os\n",
        },
    )
    rules = read_project_rules(root)
    assert rules.refused and "outside the repository" in rules.refused[0] and "refused" in rules.refused[0]
    assert any(line.startswith("refused: ruff `extend`") for line in describe_rule_sources(rules))
    assert rules.ruff_config is not None and "extend" not in rules.ruff_config
    assert tomllib.loads(rules.ruff_config) == {"line-length": 100, "lint": {"select": ["F"]}}
    run = lint_tree(root, ["pkg/m.py"], rules)
    assert [v.code for v in run.violations] == ["F401"] and run.errors == ()  # the project's own selection
    assert SECRET not in _everything(run, rules, describe_rule_sources(rules))


def test_a_relative_extend_that_climbs_out_and_one_through_a_dot_link_are_refused(tmp_path, host_secret):
    root = _tree(tmp_path, {"ruff.toml": 'extend = "../host/secret.toml"\n', "m.py": "import os\n"})
    rules = read_project_rules(root)
    assert rules.refused and "../host/secret.toml" in rules.refused[0]
    assert SECRET not in _everything(lint_tree(root, ["m.py"], rules), rules)

    os.symlink(".", root / "h")
    (root / "ruff.toml").write_text('extend = "h/h/../host/secret.toml"\n')  # lexically inside, really outside
    rules = read_project_rules(root)
    assert rules.refused and "h/h/../host/secret.toml" in rules.refused[0]
    assert SECRET not in _everything(lint_tree(root, ["m.py"], rules), rules)


def test_a_config_file_that_is_a_link_out_of_the_tree_is_not_read(tmp_path, host_secret):
    root = _tree(tmp_path, {"m.py": "import os\n"})
    os.symlink(host_secret, root / "ruff.toml")
    rules = read_project_rules(root)
    assert rules.ruff is None and any("leads outside the repository" in r for r in rules.refused)
    run = lint_tree(root, ["m.py"], rules)
    assert [v.code for v in run.violations] == ["F401"]  # ruff's defaults, --isolated
    assert SECRET not in _everything(run, rules)


def test_a_nested_config_ruff_would_discover_is_never_read(tmp_path, host_secret):
    # Evolve hands ruff its own --config, so ruff does no discovery: the nested file's `extend` is never followed.
    root = _tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.ruff.lint]\nselect = ["F"]\n',
            "sub/pyproject.toml": f'[tool.ruff]\nextend = "{host_secret}"\n',
            "sub/m.py": "import os\n",
        },
    )
    run = lint_tree(root, ["sub/m.py"], read_project_rules(root))
    assert [v.code for v in run.violations] == ["F401"] and run.errors == ()
    assert SECRET not in _everything(run)


def test_paths_that_leave_the_tree_are_dropped_from_what_ruff_gets(tmp_path):
    root = _tree(
        tmp_path,
        {
            "ruff.toml": 'src = ["src", "/etc", "../elsewhere"]\ncache-dir = "/tmp/evolve-poison"\n'
            'extend-include = ["*.pyw", "/root/**"]\n[lint]\nselect = ["F"]\n',
            "m.py": "import os\n",
        },
    )
    rules = read_project_rules(root)
    settings = tomllib.loads(rules.ruff_config or "")
    assert settings["src"] == ["src"] and settings["extend-include"] == ["*.pyw"] and "cache-dir" not in settings
    assert len(rules.refused) == 2 and all("outside the repository" in r for r in rules.refused)
    assert [v.code for v in lint_tree(root, ["m.py"], rules).violations] == ["F401"]
    assert not os.path.exists("/tmp/evolve-poison")


def test_ruff_format_with_a_hostile_extend_formats_with_the_vetted_settings_only(tmp_path, host_secret):
    root = _tree(
        tmp_path,
        {"ruff.toml": f'extend = "{host_secret}"\n[format]\nquote-style = "single"\n', "m.py": "x = 'a'\n"},
    )
    rules = read_project_rules(root)
    assert rules.formatter == "ruff" and rules.refused
    edit, note = format_edit(root, FileEdit("m.py", "x = 'a'\n", "x  =  'b'\n", "codemods"), rules)
    assert edit.after == "x = 'b'\n" and note == ""
    assert SECRET not in _everything(edit, note)


def test_black_gets_evolves_config_not_the_trees(tmp_path):
    root = _tree(
        tmp_path,
        {"pyproject.toml": '[project]\nrequires-python = ">=3.10"\n[tool.black]\nline-length = 40\n', "m.py": ""},
    )
    rules = read_project_rules(root)
    assert rules.black_config is not None
    assert tomllib.loads(rules.black_config) == {
        "tool": {"black": {"line-length": 40}},
        "project": {"requires-python": ">=3.10"},
    }
    before = "x = 1\n"
    after = "x = some_function(argument_one, argument_two)\n"
    edit, note = format_edit(root, FileEdit("m.py", before, after, "codemods"), rules)
    assert note == "" and edit.after == "x = some_function(\n    argument_one, argument_two\n)\n"  # 40 columns


@pytest.mark.parametrize(
    ("value", "leaves"),
    [
        ("src", False),
        ("./a/../b", False),
        ("a/../../b", True),
        ("/etc", True),
        ("~/x", True),
        ("..", True),
        ("C:/x", True),
        ("", True),
    ],
)
def test_path_leaves_tree(value, leaves):
    assert path_leaves_tree(value) is leaves


def test_the_written_config_is_exactly_the_vetted_table():
    table = {
        "line-length": 100,
        "lint": {
            "select": ["E", "F"],
            "per-file-ignores": {"tests/*": ["S101"]},
            "isort": {"known-first-party": ["a"]},
        },
        'we"ird\nkey': 'va"lue\n[injected]\nextend = "/etc/passwd"',
        "preview": True,
        "ratio": 0.5,
    }
    assert tomllib.loads(toml_text(table)) == table
    assert tomllib.loads(toml_text(table, "tool.black")) == {"tool": {"black": table}}


def test_the_extend_chain_merges_like_ruff():
    parent = {"line-length": 88, "lint": {"select": ["E"], "extend-select": ["B"], "per-file-ignores": {"a": ["X"]}}}
    child = {"lint": {"select": ["F"], "per-file-ignores": {"b": ["Y"]}, "extend-ignore": ["F401"]}}
    assert merge_ruff_tables(parent, child) == {
        "line-length": 88,
        "lint": {"select": ["F"], "per-file-ignores": {"b": ["Y"]}, "extend-ignore": ["F401"]},
    }
    vetted, refused = vet_ruff_table({"extend": "/x", "src": "/abs", "line-length": 1}, "ruff.toml")
    assert vetted == {"line-length": 1} and len(refused) == 1


def test_semgrep_gets_no_secret_and_a_private_home(monkeypatch, tmp_path):
    from evolve.research.security import _environment

    monkeypatch.setenv("EVOLVE_WEBHOOK_SECRET", "whsec-should-not-pass")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pw@db/evolve")
    env = _environment(str(tmp_path))
    assert env["HOME"] == str(tmp_path)
    assert "EVOLVE_WEBHOOK_SECRET" not in env and "DATABASE_URL" not in env
    assert sys.executable  # semgrep is found by absolute path, not through PATH


def test_a_pre_commit_hook_pointing_a_tool_at_a_host_config_is_refused(tmp_path, host_secret):
    root = _tree(
        tmp_path,
        {
            ".pre-commit-config.yaml": "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n  hooks:\n"
            f"  - id: ruff\n    args: [--config, {host_secret}, --select=F]\n"
            f"  - id: mypy\n    args: ['--config-file={host_secret}']\n",
            "m.py": "import os\n",
        },
    )
    rules = read_project_rules(root)
    assert len(rules.refused) == 2 and all("outside the repository; refused" in r for r in rules.refused)
    assert rules.ruff is not None and "--config" not in rules.ruff.hook_args
    run = lint_tree(root, ["m.py"], rules)
    assert [v.code for v in run.violations] == ["F401"]
    assert SECRET not in _everything(run, rules)


def test_ruff_gets_the_target_version_it_would_infer_from_requires_python(tmp_path):
    root = _tree(
        tmp_path, {"pyproject.toml": '[project]\nrequires-python = ">=3.9"\n[tool.ruff.lint]\nselect = ["UP"]\n'}
    )
    assert tomllib.loads(read_project_rules(root).ruff_config or "")["target-version"] == "py39"
