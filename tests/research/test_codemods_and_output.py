"""Codemod findings, the JSON schema and the text table."""

from __future__ import annotations

import json

import jsonschema
import pytest

from evolve.codemods.base import CodemodMetadata, Occurrence
from evolve.research import codemod_findings as codemods
from evolve.research import render_scan_table, scan_repository, validate_scan_json
from evolve.research.scan_schema import scan_schema

SOURCE = 'def f(a):\n    """F."""\n    if a == None:\n        return 1\n    return a == None\n'


class FakeNoneComparison:
    metadata = CodemodMetadata(
        id="none-comparison",
        title="Compare to None with is",
        theme="idioms",
        rationale="r",
        risk="low",
        review_guidance="g",
    )


def fake_detect(root, paths, codemod_list, min_python):
    """Stand-in for evolve.codemods.runner.detect_occurrences: every `== None` line is an occurrence."""
    found = {}
    for path in paths:
        for number, text in enumerate((root / path).read_text().splitlines(), 1):
            if "== None" in text:
                found.setdefault(path, []).append(("none-comparison", Occurrence(number, number, "f", "use `is None`")))
    return found


@pytest.fixture
def fake_catalog(monkeypatch):
    catalog = codemods.Catalog((FakeNoneComparison(),), {"none-comparison": FakeNoneComparison.metadata}, fake_detect)
    monkeypatch.setattr(codemods, "load_catalog", lambda config: catalog)
    return catalog


def test_codemod_occurrences_become_findings_with_index_ids(make_repo, tmp_path, fake_catalog):
    repo = make_repo({"m.py": SOURCE})
    result = scan_repository(repo, with_semgrep=False, cache_dir=tmp_path / "c")
    found = [f for f in result.findings if f.kind == "codemod"]
    assert [(f.rule, f.line, f.symbol) for f in found] == [("none-comparison", 3, "f"), ("none-comparison", 5, "f")]
    assert all(f.data["theme"] == "idioms" and f.data["risk"] == "low" for f in found)
    # Shift every line: ids stay, because they use the index within the symbol.
    (repo / "m.py").write_text("import os\n\n" + SOURCE)
    shifted = scan_repository(repo, with_semgrep=False, cache_dir=tmp_path / "c")
    assert sorted(f.id for f in shifted.findings if f.kind == "codemod") == sorted(f.id for f in found)
    assert shifted.cache_misses == 1
    again = scan_repository(repo, with_semgrep=False, cache_dir=tmp_path / "c")
    assert again.cache_misses == 0 and len([f for f in again.findings if f.kind == "codemod"]) == 2


def test_real_codemod_catalog_when_available(make_repo, tmp_path):
    pytest.importorskip("evolve.codemods.runner")
    repo = make_repo({"m.py": SOURCE})
    result = scan_repository(repo, with_semgrep=False, cache_dir=tmp_path / "c")
    assert not [n for n in result.notes if "codemod" in n]
    assert any(f.kind == "codemod" and f.rule == "none-comparison" for f in result.findings)


def test_real_scan_output_validates_against_the_schema(make_repo, tmp_path, fake_catalog):
    risky = "import subprocess\n\n\ndef run(x, y=[]):\n    subprocess.call(x, shell=True)\n    return eval(x)\n"
    hot = "def hot(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12)) + "    return -1\n"
    repo = make_repo({"a.py": risky, "b.py": hot, "c.py": SOURCE, "bad.py": "def (:\n"})
    result = scan_repository(repo, cache_dir=tmp_path / "c")
    document = json.loads(json.dumps(result.to_dict()))
    validate_scan_json(document)
    assert {f["kind"] for f in document["findings"]} >= {"security", "complexity", "docstring", "codemod"}
    jsonschema.Draft202012Validator.check_schema(scan_schema())
    with pytest.raises(jsonschema.ValidationError):
        validate_scan_json({**document, "unexpected": 1})
    with pytest.raises(jsonschema.ValidationError):
        validate_scan_json({**document, "findings": [{**document["findings"][0], "priority": 2}]})


def test_render_scan_table(make_repo, tmp_path):
    hot = "def hot(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12)) + "    return -1\n"
    repo = make_repo({"b.py": hot, "broken.py": "def (:\n"})
    result = scan_repository(repo, with_semgrep=False, cache_dir=tmp_path / "c")
    table = render_scan_table(result, limit=1)
    assert "files                  1" in table
    assert f"Top 1 of {len(result.findings)} findings" in table
    top = result.findings[0]
    assert top.id in table and f"b.py:{top.line}" in table
    assert "Skipped 1 file" in table and "broken.py" in table
