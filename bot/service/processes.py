"""The processes of `evolve serve --role web`: N web processes sharing the port, and (`EVOLVE_INTAKE_WRITER=process`)
one delivery writer behind them.

The writer (`bot.db.writer_process`), when there is one, is forked first and gets one end of a socket pair per
web process; then, with `--processes N` above 1, N web processes are forked, each with its own listening socket
bound to the same address with SO_REUSEPORT (the kernel spreads new connections over them), and this
process only supervises: SIGTERM or SIGINT is passed on to the web processes, which finish their
requests; the writer writes what they sent and exits once the last one has closed its end. A web
process or the writer that exits on its own stops the others (the orchestrator restarts the service).
Every fork happens before this process starts a thread (logging's writer thread included).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
from collections.abc import Callable

from bot.db.writer_process import run_writer_process
from bot.log_context import configure_logging
from bot.settings import Settings

log = logging.getLogger("bot.service.server")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """A forked child gets SIGTERM when its parent dies (Linux), so nothing is left behind by a kill -9."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _fork(main: Callable[[], int]) -> int:
    """Fork a child that runs `main` and exits with its status (never returning into the caller's code)."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            _die_with_parent()
            status = main()
        except SystemExit as exit_:  # a stop signal after a graceful shutdown (see `exit_on_signal`)
            status = exit_.code if isinstance(exit_.code, int) else 0
        except BaseException:  # a child never unwinds into its parent's code
            logging.getLogger(__name__).exception("process failed")
        finally:
            logging.shutdown()
            os._exit(status)
    return pid


def exit_on_signal() -> None:
    """In a web process: SIGTERM/SIGINT end it with status 0 once uvicorn, which re-raises the signal after
    its graceful shutdown, is done (so its last log lines are written and the supervisor sees a clean stop)."""

    def leave(*_: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)


def start_writer(settings: Settings, processes: int) -> tuple[int, list[socket.socket]]:
    """Fork the writer process; its pid and the web processes' ends of its socket pairs (one per web process)."""
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(processes)]

    def writer_main() -> int:
        for web_end, _ in pairs:
            web_end.close()
        configure_logging(settings.log_format)
        return run_writer_process([end for _, end in pairs], settings.database_url, settings.sqlite_synchronous)

    pid = _fork(writer_main)
    for _, writer_end in pairs:
        writer_end.close()
    return pid, [web_end for web_end, _ in pairs]


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port) with SO_REUSEPORT, so several processes can each bind one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def start_web_processes(
    sockets: list[socket.socket],
    record_ends: list[socket.socket | None],
    run: Callable[[socket.socket, socket.socket | None], int],
) -> dict[int, str]:
    """Fork one web process per listening socket; each runs `run(listening socket, its writer's socket end or
    None)` with every other process's descriptors closed. Returns pid -> name."""
    children: dict[int, str] = {}
    owned = [sock for sock in [*sockets, *record_ends] if sock is not None]
    for index, (listener, record_end) in enumerate(zip(sockets, record_ends)):

        def web_main(listener: socket.socket = listener, record_end: socket.socket | None = record_end) -> int:
            for other in owned:
                if other is not listener and other is not record_end:
                    other.close()
            return run(listener, record_end)

        children[_fork(web_main)] = f"web process {index + 1}"
    for sock in owned:
        sock.close()
    return children


def supervise(children: dict[int, str]) -> int:
    """Wait for the children. SIGTERM/SIGINT here: SIGTERM to each web process (a graceful stop). A child
    that exits while nobody asked stops the others. Exit status: 0 after a requested stop, else 1."""
    stopping = False
    status = 0

    def stop_web(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for pid, name in list(children.items()):
            if name.startswith("web"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_web)
    signal.signal(signal.SIGINT, stop_web)
    while children:
        try:
            pid, wait_status = os.wait()
        except ChildProcessError:
            break
        name = children.pop(pid, None)
        if name is None:
            continue
        code = os.waitstatus_to_exitcode(wait_status)
        if not stopping:
            log.error("%s (pid %d) exited with status %d: stopping the others", name, pid, code)
            status = 1
            stop_web()
        elif code != 0:
            log.warning("%s (pid %d) exited with status %d", name, pid, code)
    return status
