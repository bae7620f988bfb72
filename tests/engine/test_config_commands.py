"""`evolve config schema` and `evolve config check`: the shipped schema is the generated one, and a file is
checked with the same messages as a run."""

from __future__ import annotations

import json

import jsonschema
import yaml

from evolve.cli import EXIT_BAD_INPUT, EXIT_OK, main
from evolve.config_loading.json_schema import SHIPPED_SCHEMA, config_json_schema, render_schema
from tests.repo_factory import SAMPLE_PACKAGE, make_repo

GOOD = "gates:\n  extra: []\n  coverage: {tolerance: 0.5}\n  complexity: {threshold: 12}\n"
BAD = "gates:\n  coverage: {tolerance: lots}\ncodemods:\n  disabled: [nope]\n"


def test_the_shipped_schema_is_the_generated_one():
    # Regenerate with: evolve config schema --built-ins-only -o evolve/schema/evolve-config.schema.json
    assert SHIPPED_SCHEMA.read_text(encoding="utf-8") == render_schema(config_json_schema(built_ins_only=True))


def test_the_schema_accepts_a_good_file_and_rejects_a_bad_one():
    schema = json.loads(SHIPPED_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(GOOD), schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(BAD)))
    assert [list(error.absolute_path) for error in errors] == [["gates", "coverage", "tolerance"]]
    # Gate plugin settings are typed in the schema too (editors complete and check them).
    assert schema["$defs"]["GatesConfig"]["properties"]["coverage"] == {"$ref": "#/$defs/CoverageSettings"}


def test_config_schema_prints_the_schema(capsys):
    assert main(["config", "schema"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["$defs"]["GatesConfig"]


def test_config_check_uses_the_messages_of_a_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EVOLVE_DATA_DIR", str(tmp_path / "data"))
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    assert main(["config", "check", str(good)]) == EXIT_OK
    assert "valid evolve configuration" in capsys.readouterr().out
    assert main(["config", "check", str(bad)]) == EXIT_BAD_INPUT
    checked = capsys.readouterr().err
    assert "gates.coverage.tolerance: Input should be a valid number" in checked
    # The same file in a repository: `evolve plan` reports the same lines.
    repo = make_repo(tmp_path / "r", {**SAMPLE_PACKAGE, ".github/evolve.yml": BAD})
    assert main(["config", "check", str(repo), "--json"]) == EXIT_BAD_INPUT
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is False
    assert main(["plan", str(repo), "--quiet"]) == EXIT_BAD_INPUT
    from_run = capsys.readouterr().err
    for line in checked.splitlines()[1:]:
        assert line in from_run and line in document["error"]


def test_config_check_reads_pyproject_tool_evolve(tmp_path, capsys):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.evolve.gates.complexity]\nthreshold = 0\n", encoding="utf-8")
    assert main(["config", "check", str(pyproject), "--quiet"]) == EXIT_BAD_INPUT
    assert "[tool.evolve]" in capsys.readouterr().err
    pyproject.write_text("[tool.evolve]\nattempts = 2\n", encoding="utf-8")
    assert main(["config", "check", str(pyproject), "--quiet"]) == EXIT_OK
    assert capsys.readouterr().out == ""
