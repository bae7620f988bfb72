"""The egress proxy's decisions (pure): which names and ports, which resolved addresses, how requests are read."""

from __future__ import annotations

import pytest

from evolve.sandbox.egress_policy import (
    DEFAULT_INDEX_HOSTS,
    decide_address,
    decide_destination,
    index_hosts,
    policy_for,
)
from evolve.sandbox.egress_proxy import Refused, parse_request_head


def test_the_default_index_is_pypi_and_a_configured_index_replaces_it():
    assert policy_for(None, None).hosts == frozenset(DEFAULT_INDEX_HOSTS)
    mirror = policy_for("https://user:pw@Mirror.Example.com/simple/", "http://extra.example.org:8080/simple")
    assert mirror.hosts == {("mirror.example.com", 443), ("extra.example.org", 8080)}
    both = policy_for(None, "https://extra.example.org/simple https://more.example.org/simple")
    assert ("pypi.org", 443) in both.hosts and ("more.example.org", 443) in both.hosts


def test_file_indexes_ip_literals_and_junk_add_no_host():
    assert index_hosts(["file:///opt/pypi/simple", "https://10.0.0.5/simple", "not a url", None, ""]) == ()
    assert index_hosts(["https://[::1]:8443/simple", "https://2130706433/simple"]) == ()
    assert policy_for(None, None, ["files.mirror.example.com:443", "127.0.0.1:80", "cdn.example.com"]).hosts >= {
        ("files.mirror.example.com", 443),
        ("cdn.example.com", 443),
    }
    assert ("127.0.0.1", 80) not in policy_for(None, None, ["127.0.0.1:80"]).hosts


@pytest.mark.parametrize(
    ("host", "port", "allowed"),
    [
        ("pypi.org", 443, True),
        ("PyPI.org.", 443, True),
        ("files.pythonhosted.org", 443, True),
        ("pypi.org", 80, False),  # the name, but another port
        ("pypi.org", 5432, False),
        ("evil.pypi.org", 443, False),
        ("localhost", 443, False),
        ("127.0.0.1", 443, False),
        ("127.1", 443, False),  # inet_aton's short forms
        ("2130706433", 443, False),
        ("0x7f.1", 443, False),
        ("[::1]", 443, False),
        ("169.254.169.254", 80, False),
        ("", 443, False),
    ],
)
def test_only_listed_names_on_their_port_pass(host, port, allowed):
    decision = decide_destination(policy_for(None, None), host, port)
    assert decision.allowed is allowed
    assert allowed or decision.reason


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.53.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "100.100.100.200",  # Alibaba Cloud metadata (CGNAT)
        "169.254.169.254",  # cloud metadata
        "169.254.170.2",  # ECS task metadata
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",  # NAT64 of loopback
        "2002:7f00:1::1",  # 6to4 of loopback
        "2002:a9fe:a9fe::1",  # 6to4 of metadata
        "fe80::1%eth0",
        "not-an-address",
    ],
)
def test_addresses_on_the_host_its_networks_and_metadata_are_refused(address):
    decision = decide_address(address)
    assert not decision.allowed and decision.reason


@pytest.mark.parametrize("address", ["151.101.0.223", "2a04:4e42::223", "203.0.113.80", "8.8.8.8"])
def test_public_addresses_pass(address):
    assert decide_address(address).allowed


def test_request_heads_are_read_strictly():
    assert parse_request_head(b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443")[:3] == (
        "CONNECT",
        "pypi.org",
        443,
    )
    assert parse_request_head(b"CONNECT [::1]:8443 HTTP/1.1")[1:3] == ("::1", 8443)
    method, host, port, forwarded = parse_request_head(
        b"GET http://user@pypi.org/simple/x/ HTTP/1.1\r\nHost: pypi.org\r\nProxy-Authorization: b\r\nConnection: keep-alive"
    )
    assert (method, host, port) == ("GET", "pypi.org", 80)
    assert forwarded is not None and forwarded.startswith(b"GET /simple/x/ HTTP/1.1\r\n")
    assert b"Proxy-Authorization" not in forwarded and forwarded.endswith(b"Connection: close\r\n\r\n")
    for bad in (
        b"garbage",
        b"GET https://pypi.org/ HTTP/1.1",
        b"CONNECT pypi.org HTTP/1.1",
        b"CONNECT h:99999 HTTP/1.1",
    ):
        with pytest.raises(Refused):
            parse_request_head(bad)
