"""Where sandboxed installs may connect: the package indexes the operator configured, by name and port, and never
an address on the host, its networks or a cloud's metadata service (pure decisions, no I/O)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# The default index (uv's and pip's when no index is configured): pages on pypi.org, files on files.pythonhosted.org.
DEFAULT_INDEX_HOSTS = (("pypi.org", 443), ("files.pythonhosted.org", 443))
_DEFAULT_PORTS = {"https": 443, "http": 80}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Named explicitly rather than `not is_global`: the documentation ranges (TEST-NET-1..3) stay reachable, since
# some build farms (this project's CI among them) answer the index's names from them; they route nowhere else.
_REFUSED = tuple(
    (ipaddress.ip_network(network), what)
    for network, what in (
        ("0.0.0.0/8", "'this network'"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol (private)"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking (private)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/127", "unspecified or loopback"),
        ("100::/64", "discard"),
        ("fc00::/7", "unique local (private, cloud metadata)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)


@dataclass(frozen=True)
class EgressPolicy:
    """The (host, port) pairs a sandbox may reach through the egress proxy; names only, lower case."""

    hosts: frozenset[tuple[str, int]]

    def describe(self) -> str:
        """`files.pythonhosted.org:443, pypi.org:443`, for messages and docs."""
        return ", ".join(f"{host}:{port}" for host, port in sorted(self.hosts)) or "nothing"


@dataclass(frozen=True)
class Decision:
    """Whether one request may go ahead, and why not."""

    allowed: bool
    reason: str = ""


def normalise_host(host: str) -> str:
    """Lower case, without brackets or the root's trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # inet_aton also reads `127.1`, `0x7f.1` and `2130706433` as addresses: refuse every all-numeric name.
        return bool(host) and all(part.isdigit() or part.startswith("0x") for part in host.split("."))
    return True


def index_hosts(urls: Iterable[str | None]) -> tuple[tuple[str, int], ...]:
    """The (host, port) of each http(s) index URL (space-separated lists allowed); file:// and junk are skipped."""
    found: list[tuple[str, int]] = []
    for value in urls:
        for url in (value or "").split():
            try:
                parts = urlsplit(url)
                port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
            except ValueError:
                continue
            host = normalise_host(parts.hostname or "")
            if parts.scheme.lower() in _DEFAULT_PORTS and host and port and not _is_ip_literal(host):
                found.append((host, port))
    return tuple(dict.fromkeys(found))


def policy_for(index_url: str | None, extra_index_url: str | None, extra_hosts: Iterable[str] = ()) -> EgressPolicy:
    """The default index's hosts (unless `index_url` replaces it), the configured indexes' hosts, and any
    `host:port` the operator added (a mirror that serves its files from another host)."""
    hosts = [] if index_url else list(DEFAULT_INDEX_HOSTS)
    hosts += index_hosts([index_url, extra_index_url])
    for entry in extra_hosts:
        name, _, port = entry.strip().rpartition(":")
        if name and port.isdigit() and not _is_ip_literal(normalise_host(name)):
            hosts.append((normalise_host(name), int(port)))
        elif entry.strip() and not _is_ip_literal(normalise_host(entry)):
            hosts.append((normalise_host(entry), 443))
    return EgressPolicy(frozenset(hosts))


def decide_destination(policy: EgressPolicy, host: str, port: int) -> Decision:
    """Whether a request for `host:port` may be resolved at all: a listed name and port, never an IP literal."""
    name = normalise_host(host)
    if not name:
        return Decision(False, "no host named")
    if _is_ip_literal(name):
        return Decision(False, f"{host} is an IP address; only the package index's host names are reachable")
    if (name, port) not in policy.hosts:
        return Decision(False, f"{name}:{port} is not a configured package index (allowed: {policy.describe()})")
    return Decision(True)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refused_network(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    for network, what in _REFUSED:
        if ip.version == network.version and ip in network:
            return what
    return None


def decide_address(address: str) -> Decision:
    """Whether a resolved address may be connected to: never loopback, private, link-local (cloud metadata),
    CGNAT, multicast, reserved or unspecified, nor one of those hidden in an IPv6 form (::ffff:a.b.c.d, NAT64,
    6to4, Teredo)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return Decision(False, f"{address!r} is not an address")
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            candidates.append(embedded)
    for candidate in candidates:
        what = _refused_network(candidate)
        if what is not None:
            return Decision(False, f"{address} is a refused address ({what})")
    return Decision(True)
