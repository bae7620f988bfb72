"""The sandbox's pure parts: the seccomp program, capped output, interpreter mounts."""

import struct
import sys
from pathlib import Path

import pytest

from evolve.sandbox.interpreter import interpreter_mounts, interpreter_prefixes, record_interpreter
from evolve.sandbox.output import CappedCapture
from evolve.sandbox.seccomp import REFUSED_CALLS, seccomp_program, seccomp_supported


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_seccomp_program_checks_the_architecture_first_and_allows_last(machine):
    program = seccomp_program(machine)
    instructions = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert len(program) % 8 == 0 and len(instructions) < 4096  # the kernel's limit (BPF_MAXINSNS)
    assert instructions[0] == (0x20, 0, 0, 4)  # load the architecture
    assert instructions[2] == (0x06, 0, 0, 0x80000000)  # any other ABI: kill
    assert instructions[-1] == (0x06, 0, 0, 0x7FFF0000)  # everything else: allow
    refusals = [ins for ins in instructions if ins[0] == 0x06 and ins[3] == 0x00050001]  # ERRNO(EPERM)
    assert len(refusals) >= len(REFUSED_CALLS) - 2


def test_unknown_architectures_get_no_filter():
    assert not seccomp_supported("mips")
    with pytest.raises(ValueError, match="mips"):
        seccomp_program("mips")


def test_capture_keeps_head_and_tail_within_its_limit():
    capture = CappedCapture(1000)
    for index in range(10_000):
        capture.feed(f"{index:05d}\n".encode())
    text = capture.text()
    assert capture.truncated and capture.total == 60_000
    assert text.startswith("00000\n") and text.endswith("09999\n")
    assert "bytes of output omitted" in text and len(text) < 1100
    assert len(capture.tail) <= 2 * capture.tail_limit


def test_short_output_is_kept_whole():
    capture = CappedCapture(1000)
    capture.feed(b"hello ")
    capture.feed("wörld".encode())
    assert capture.text() == "hello wörld" and not capture.truncated


def test_interpreter_mounts_bind_the_venv_and_its_base_only():
    prefixes = interpreter_prefixes(sys.executable)
    assert Path(sys.prefix) in prefixes or sys.prefix.startswith("/usr")
    assert all(len(prefix.parts) >= 3 for prefix in prefixes)
    assert all(not mount.writable and mount.target == str(mount.source) for mount in interpreter_mounts(sys.executable))


def test_a_venv_evolve_has_no_record_of_gets_nothing_from_its_pyvenv_cfg(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")
    (venv / "pyvenv.cfg").write_text(f"home = {tmp_path / 'host-secrets'}/bin\n")
    with pytest.raises(ValueError, match="not an interpreter Evolve built or probed"):
        interpreter_prefixes(str(venv / "bin" / "python"))
    recorded = record_interpreter(str(venv / "bin" / "python"), [str(venv)])
    assert interpreter_prefixes(str(venv / "bin" / "python")) == recorded == (venv,)
    with pytest.raises(ValueError, match="home directory"):
        record_interpreter(str(venv / "bin" / "python"), ["/root"])
