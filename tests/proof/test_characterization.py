"""Characterization tests added by the LLM must pass on the original code (real pytest in the sandbox)."""

from evolve.codemods.base import Change
from evolve.configuration.model import EvolveConfig
from evolve.edits import FileEdit
from evolve.proof.characterization import check_characterization, needs_characterization
from tests.repo_factory import write_files

CODE_BEFORE = "def price(n):\n    if n > 10:\n        return n * 2\n    else:\n        return n * 3\n"
CODE_AFTER = "def price(n):\n    return n * 2 if n > 10 else n * 2\n"  # the "refactor" changed behaviour


def _edits(test_body):
    test = FileEdit(
        "tests/test_price_characterization.py",
        "",
        f"from shop import price\n\n\ndef test_price():\n    {test_body}\n",
        "llm",
        (Change("llm:add_test_file", 1, "added tests/test_price_characterization.py"),),
    )
    code = FileEdit("shop.py", CODE_BEFORE, CODE_AFTER, "llm", (Change("llm:replace_function", 1, "replaced price"),))
    return (test, code)


def _base(tmp_path):
    base = tmp_path / "base"
    write_files(base, {"shop.py": CODE_BEFORE, "tests/test_other.py": "def test_nothing():\n    assert True\n"})
    return base


def test_tests_written_for_the_new_behaviour_fail_on_the_original_code(tmp_path):
    result = check_characterization(_base(tmp_path), _edits("assert price(3) == 6"), EvolveConfig(), None)
    assert result is not None and result.status == "failed"
    assert set(result.blame) == {"shop.py", "tests/test_price_characterization.py"}


def test_tests_that_describe_the_original_code_pass(tmp_path):
    result = check_characterization(_base(tmp_path), _edits("assert price(3) == 9"), EvolveConfig(), None)
    assert result is not None and result.status == "passed", result.summary


def test_only_changes_that_add_tests_beside_code_edits_are_checked():
    test, code = _edits("assert True")
    assert needs_characterization((test, code))
    assert not needs_characterization((code,)) and not needs_characterization((test,))
