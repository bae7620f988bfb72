"""Secrets taken out of the process environment at start-up: not in os.environ, not in /proc/<pid>/environ,
not in a child's environment, still usable by the process and redacted from what it writes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import os, subprocess, sys
    from evolve.configuration.process_secrets import environment_secret, seal_environment
    from evolve.untrusted_text import redacted

    moved = seal_environment()
    child = subprocess.run(["env"], capture_output=True, text=True).stdout
    print(sorted(moved))
    print(environment_secret("EVOLVE_WEBHOOK_SECRET"))
    print("child-env-clean" if "whsec-" not in child and "sk-ant-" not in child else "child-env-leak")
    print(redacted("key=" + environment_secret("ANTHROPIC_API_KEY")))
    sys.stdout.flush()
    sys.stdin.readline()  # wait while the parent reads /proc/<pid>/environ
    """
)


def test_sealed_secrets_leave_the_environment_and_proc():
    env = {
        **os.environ,
        "EVOLVE_WEBHOOK_SECRET": "whsec-0123456789abcdef",
        "ANTHROPIC_API_KEY": "sk-ant-test-0123456789abcdef",
        "EVOLVE_OPERATOR_TOKEN": "optok-0123456789abcdef",  # the status pages' operator sign-in
        "EVOLVE_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nMIIEabcdefghijklmnopqrstuvwxyz0123456789ABCD\n-----END RSA PRIVATE KEY-----\n",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    lines = [proc.stdout.readline().strip() for _ in range(4)]
    with open(f"/proc/{proc.pid}/environ", "rb") as handle:
        environ = handle.read()
    proc.stdin.write("\n")
    proc.stdin.close()
    proc.wait(timeout=30)
    assert lines[0] == "['ANTHROPIC_API_KEY', 'EVOLVE_OPERATOR_TOKEN', 'EVOLVE_PRIVATE_KEY', 'EVOLVE_WEBHOOK_SECRET']"
    assert lines[1] == "whsec-0123456789abcdef"  # the process itself still has it
    assert lines[2] == "child-env-clean"
    assert "sk-ant-" not in lines[3] and "[REDACTED-SECRET]" in lines[3]
    for value in (
        b"whsec-0123456789abcdef",
        b"sk-ant-test",
        b"BEGIN RSA PRIVATE KEY",
        b"EVOLVE_WEBHOOK_SECRET",
        b"optok-",
    ):
        assert value not in environ
    assert b"PATH=" in environ  # the rest of the environment block is intact
