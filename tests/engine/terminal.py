"""The real `evolve` command in a pseudo-terminal, as a user's terminal runs it: stdin, stdout and stderr are the
terminal, it is the terminal's foreground process group, and Ctrl-C is the byte the keyboard sends."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path

CTRL_C = b"\x03"


class Terminal:
    """One command running in a pseudo-terminal of 120 x 40; everything it writes collects in `output`."""

    def __init__(self, argv: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        pid, fd = pty.fork()  # the child: a new session whose controlling terminal is the pty
        if pid == 0:  # pragma: no cover - the child process
            try:
                os.chdir(cwd)
                os.execve(argv[0], list(argv), env)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.pid = pid
        self.fd = fd
        self.output = b""
        self.status: int | None = None

    @property
    def text(self) -> str:
        """What the command wrote so far, decoded."""
        return self.output.decode("utf-8", "replace")

    def _read(self, timeout: float) -> bool:
        """Read what is there within `timeout`; False at the end of the output."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: every process holding the terminal has closed it
            return False
        self.output += chunk
        return bool(chunk)

    def read_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Read output until `done()` holds (True) or `timeout` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline or not self._read(0.05):
                return done()
        return True

    def press(self, keys: bytes) -> None:
        """Type `keys` on the terminal's keyboard."""
        os.write(self.fd, keys)

    def wait(self, timeout: float) -> int | None:
        """Read output until the command exits; its exit code (None if it still runs after `timeout` s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            finished, status = os.waitpid(self.pid, os.WNOHANG)
            if finished:
                while self._read(0.05):  # what it wrote last
                    pass
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            self._read(0.05)
        return None

    def close(self) -> None:
        """Kill the command if it still runs; close the terminal."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


def evolve_command() -> str:
    """The `evolve` console script of the interpreter running the tests."""
    import sys

    script = Path(sys.executable).with_name("evolve")
    assert script.exists(), f"{script} is missing: install the project (pip install -e .)"
    return str(script)
