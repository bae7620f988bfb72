"""The CLI seals the operator's LLM key while a command runs: neither a sandboxed child walking `/proc` (its
parent's environ included) nor an unsandboxed one reading `/proc/<ppid>/environ`, nor anyone reading the evolve
process's own `/proc/<pid>/environ`, finds it; the command itself still has it, and the environment is restored."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evolve.sandbox import sandbox_support

KEY = "sk-ant-cli-0123456789abcdef0123"
EVOLVE_KEY = "sk-ant-evolve-0123456789abcdef"

# A stand-in command body (the real `main` seals around it): it starts a sandboxed and an unsandboxed child that
# look for the keys in every environ they can read, prints how many they found, then waits for the test.
SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys
    from evolve.cli import commands as cli
    from evolve.configuration.process_secrets import environment_secret
    from evolve.sandbox import SandboxSpec, run_sandboxed

    LOOK = "cat /proc/[0-9]*/environ /proc/$PPID/environ 2>/dev/null | tr '\\\\0' '\\\\n' | grep -c sk-ant- || true"

    def probe(args):
        sandboxed = run_sandboxed(SandboxSpec(argv=("/bin/sh", "-c", LOOK), timeout=60))
        bare = subprocess.run(["/bin/sh", "-c", LOOK], capture_output=True, text=True).stdout
        print("sandboxed", sandboxed.stdout.strip(), sandboxed.isolation)
        print("bare", bare.strip())
        print("in-process", environment_secret("ANTHROPIC_API_KEY") == sys.argv[1])
        print("os.environ", "ANTHROPIC_API_KEY" in os.environ)
        sys.stdout.flush()
        sys.stdin.readline()  # the test reads /proc/<pid>/environ now
        return 0

    cli.COMMANDS["scan"] = probe
    code = cli.main(["scan", "."])
    print("restored", os.environ.get("ANTHROPIC_API_KEY") == sys.argv[1])
    sys.exit(code)
    """
)


@pytest.mark.skipif(not sandbox_support().available, reason="bubblewrap is not usable here")
def test_the_llm_key_is_sealed_while_a_cli_command_runs(tmp_path: Path) -> None:
    env = {**os.environ, "ANTHROPIC_API_KEY": KEY, "EVOLVE_ANTHROPIC_API_KEY": EVOLVE_KEY}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, KEY],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    lines = [proc.stdout.readline().strip() for _ in range(4)]
    environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
    proc.stdin.write("\n")
    proc.stdin.close()
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 0
    assert lines[0] == "sandboxed 0 bubblewrap", lines
    assert lines[1] == "bare 0", lines  # even a child outside the sandbox finds nothing in its parent
    assert lines[2:] == ["in-process True", "os.environ False"]
    assert KEY.encode() not in environ and EVOLVE_KEY.encode() not in environ
    assert b"ANTHROPIC_API_KEY" not in environ and b"PATH=" in environ
    assert "restored True" in rest  # back in os.environ after the command, for whatever runs next in-process
