"""The egress proxy: an HTTP CONNECT (and plain-HTTP forward) proxy Evolve runs in the trusted zone, listening on
a Unix socket that one sandbox sees. It lets through only the hosts of its `EgressPolicy`, resolves names itself and
connects only to public addresses; everything else is answered 403 and remembered for the run's report."""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from evolve.sandbox.egress_policy import Decision, EgressPolicy, decide_address, decide_destination

logger = logging.getLogger(__name__)
HEAD_LIMIT = 64 * 1024
HEAD_TIMEOUT = 60.0
CONNECT_TIMEOUT = 30.0
IDLE_TIMEOUT = 300.0  # a tunnel with no traffic either way for this long is closed
BUFFER = 256 * 1024
REFUSALS_KEPT = 20
_HOP_HEADERS = frozenset({"proxy-connection", "proxy-authorization", "connection", "keep-alive"})
Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host` (the proxy's own resolver: the sandbox has no DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Refused(Exception):
    """A request the policy (or the destination) turned away: answered with `status` and the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_request_head(head: bytes) -> tuple[str, str, int, bytes | None]:
    """(method, host, port, head to send upstream or None for CONNECT) from a proxy request head."""
    try:
        text = head.decode("latin-1")
        request_line, _, rest = text.partition("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        raise Refused(400, "not an HTTP proxy request") from None
    if method.upper() == "CONNECT":
        host, port = _host_port(target, None)
        return "CONNECT", host, port, None
    if not target.lower().startswith("http://"):
        raise Refused(400, f"only CONNECT and http:// requests are proxied, not {target[:80]!r}")
    authority, slash, path = target[len("http://") :].partition("/")
    host, port = _host_port(authority.rpartition("@")[2], 80)
    lines = [f"{method} /{path if slash else ''} {version}"]
    for line in rest.split("\r\n"):
        name = line.partition(":")[0].strip().lower()
        if line and name not in _HOP_HEADERS:
            lines.append(line)
    lines.append("Connection: close")
    return method, host, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _host_port(authority: str, default: int | None) -> tuple[str, int]:
    if authority.startswith("["):
        host, _, tail = authority[1:].partition("]")
        port_text = tail.removeprefix(":")
    else:
        host, colon, port_text = authority.rpartition(":")
        if not colon:
            host, port_text = authority, ""
    if not port_text and default is not None:
        return host, default
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise Refused(400, f"no valid port in {authority[:80]!r}")
    return host, int(port_text)


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > HEAD_LIMIT:
            raise Refused(431, "request head too large")
        chunk = client.recv(8192)
        if not chunk:
            raise Refused(400, "connection closed before the request head ended")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until both sides have finished (or nothing moved for IDLE_TIMEOUT)."""
    peers = {client: upstream, upstream: client}
    open_reads = {client, upstream}
    buffer = bytearray(BUFFER)
    with selectors.DefaultSelector() as selector:
        for side in open_reads:
            selector.register(side, selectors.EVENT_READ, side)
        while open_reads:
            events = selector.select(IDLE_TIMEOUT)
            if not events:
                return
            for key, _ in events:
                side = key.data
                try:
                    size = side.recv_into(buffer)
                except OSError:
                    size = 0
                if size:
                    try:
                        peers[side].sendall(memoryview(buffer)[:size])
                        continue
                    except OSError:
                        return
                selector.unregister(side)
                open_reads.discard(side)
                with contextlib.suppress(OSError):
                    peers[side].shutdown(socket.SHUT_WR)


class EgressProxy:
    """One proxy on one Unix socket (`with EgressProxy(policy, path) as proxy:`); a thread per connection."""

    def __init__(self, policy: EgressPolicy, path: Path, resolver: Resolver = resolve) -> None:
        self.policy = policy
        self.path = Path(path)
        self.resolver = resolver
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def __enter__(self) -> EgressProxy:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Listen on the Unix socket (mode 0600) and serve in a daemon thread."""
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        server.bind(str(self.path))
        os.chmod(self.path, 0o600)
        server.listen(128)
        self._server = server
        self._thread = threading.Thread(target=self._serve, name="evolve-egress-proxy", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting; tunnels still open end with the sandbox that uses them."""
        self._closed.set()
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _serve(self) -> None:
        assert self._server is not None
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), name="evolve-egress", daemon=True).start()

    def _remember(self, what: str) -> None:
        with self._lock:
            if len(self.refused) < REFUSALS_KEPT and what not in self.refused:
                self.refused.append(what)

    def _handle(self, client: socket.socket) -> None:
        upstream = None
        try:
            client.settimeout(HEAD_TIMEOUT)
            head, rest = _read_head(client)
            _method, host, port, forwarded = parse_request_head(head)
            upstream = self._connect(host, port)
            client.settimeout(None)
            if forwarded is None:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                upstream.sendall(forwarded)
            if rest:
                upstream.sendall(rest)
            _relay(client, upstream)
        except Refused as refusal:
            self._remember(refusal.reason)
            logger.info("egress proxy refused: %s", refusal.reason)
            body = f"evolve egress proxy: {refusal.reason}\n".encode()
            status = {400: "Bad Request", 403: "Forbidden", 431: "Request Header Fields Too Large"}
            response = f"HTTP/1.1 {refusal.status} {status.get(refusal.status, 'Bad Gateway')}\r\n"
            response += f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            with contextlib.suppress(OSError):
                client.sendall(response.encode() + body)
        except OSError:
            pass
        except Exception:  # a proxy thread never dies with a traceback on the evolve process's stderr
            logger.exception("egress proxy: unexpected error on one connection")
        finally:
            for side in (client, upstream):
                if side is not None:
                    with contextlib.suppress(OSError):
                        side.close()

    def _connect(self, host: str, port: int) -> socket.socket:
        """A connection to `host:port` if the policy allows the name and it resolves to a public address."""
        decision = decide_destination(self.policy, host, port)
        if not decision.allowed:
            raise Refused(403, decision.reason)
        try:
            addresses = self.resolver(host, port)
        except OSError as error:
            raise Refused(502, f"cannot resolve {host}: {error}") from None
        verdicts: list[tuple[str, Decision]] = [(address, decide_address(address)) for address in addresses]
        public = [address for address, verdict in verdicts if verdict.allowed]
        if not public:
            reasons = "; ".join(verdict.reason for _, verdict in verdicts) or "no address"
            raise Refused(403, f"{host}:{port} resolves to no public address: {reasons}")
        last: OSError | None = None
        for address in public:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            upstream = socket.socket(family, socket.SOCK_STREAM)
            upstream.settimeout(CONNECT_TIMEOUT)
            try:
                upstream.connect((address, port))
            except OSError as error:
                upstream.close()
                last = error
                continue
            upstream.settimeout(None)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return upstream
        raise Refused(502, f"cannot connect to {host}:{port}: {last}")
