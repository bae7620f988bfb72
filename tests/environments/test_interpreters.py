"""Finding the machine's interpreters and choosing one by requires-python."""

from __future__ import annotations

import os
import sys

import pytest

from evolve.environments.interpreters import (
    Interpreter,
    NoInterpreter,
    available_interpreters,
    choose_interpreter,
    outside_of,
)

MACHINE = (
    Interpreter("/py/3.13/bin/python3.13", (3, 13, 0), "/py/3.13"),
    Interpreter("/py/3.12/bin/python3.12", (3, 12, 1), "/py/3.12"),
    Interpreter("/py/3.11/bin/python3.11", (3, 11, 7), "/py/3.11"),
    Interpreter("/py/3.10/bin/python3.10", (3, 10, 13), "/py/3.10"),
)


def test_running_version_preferred_when_allowed_else_newest_fitting():
    assert choose_interpreter(MACHINE, None, preferred=(3, 11)).version == (3, 11, 7)
    assert choose_interpreter(MACHINE, ">=3.12", preferred=(3, 11)).version == (3, 13, 0)
    assert choose_interpreter(MACHINE, ">=3.8,<3.11", preferred=(3, 11)).version == (3, 10, 13)
    assert choose_interpreter(MACHINE, "not a spec", preferred=(3, 11)).version == (3, 11, 7)


def test_no_fitting_interpreter_says_what_was_asked_and_what_exists():
    with pytest.raises(NoInterpreter, match=r"requires-python '>=3.14'.*found: 3.13.0, 3.12.1, 3.11.7, 3.10.13"):
        choose_interpreter(MACHINE, ">=3.14")


def test_configured_version_or_path():
    assert choose_interpreter(MACHINE, ">=3.13", wanted="3.10").version == (3, 10, 13)
    with pytest.raises(NoInterpreter, match="asks for Python 3.9"):
        choose_interpreter(MACHINE, None, wanted="3.9")
    with pytest.raises(NoInterpreter, match="neither a path nor a version"):
        choose_interpreter(MACHINE, None, wanted="latest")
    chosen = choose_interpreter((*MACHINE, *available_interpreters([sys.executable])), None, wanted=sys.executable)
    assert chosen.version == tuple(sys.version_info[:3])


def test_real_interpreters_are_probed_and_remembered(tmp_path):
    cache = tmp_path / "probe.json"
    found = available_interpreters([sys.executable, "/nonexistent/python3", __file__], cache_file=cache)
    assert [i.version for i in found] == [tuple(sys.version_info[:3])]
    assert found[0].prefix == os.path.realpath(sys.base_prefix)
    assert os.path.realpath(sys.executable) in cache.read_text()
    again = available_interpreters([sys.executable], cache_file=cache)
    assert again == found


def test_a_configured_interpreter_path_is_only_one_evolve_found_and_never_started(tmp_path):
    marker = tmp_path / "MARKER"
    script = tmp_path / "python3"
    script.write_text(f"#!/bin/sh\necho ran > {marker}\n")
    script.chmod(0o755)
    found = available_interpreters([sys.executable])
    with pytest.raises(NoInterpreter, match="not one of this machine's Python interpreters"):
        choose_interpreter(found, None, str(script))
    assert not marker.exists()
    assert choose_interpreter(found, None, sys.executable) == found[0]


def test_an_interpreter_inside_the_repository_is_never_a_machine_interpreter(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    inside = checkout / ".venv" / "bin" / "python3"
    inside.write_text("#!/bin/sh\n")
    linked = tmp_path / "elsewhere-python3"
    linked.symlink_to(inside)  # a link from outside into the repository counts as inside
    kept = outside_of([str(inside), str(linked), sys.executable], [checkout])
    assert kept == [sys.executable]
