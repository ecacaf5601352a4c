"""The client's address through trusted proxies only: X-Forwarded-For is read from the right."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from flashsale.client_ip import client_address, client_ip, limit_key, parse_address, parse_networks

BALANCERS = parse_networks(["10.0.0.0/8", "2001:db8:ffff::/48"])


@pytest.mark.parametrize(
    "remote, forwarded, expected",
    [
        # Nobody in front: the peer is the client, whatever header it sends.
        ("203.0.113.7", "", "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # The balancer appended the shopper it saw.
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        # A shopper who sends the header too cannot choose: the balancer's entry is the last one.
        ("10.0.0.2", "1.1.1.1, 192.0.2.9, 198.51.100.1", "198.51.100.1"),
        # Two trusted hops (a CDN edge in 10/8 behind the balancer).
        ("10.0.0.2", "198.51.100.1, 10.9.9.9", "198.51.100.1"),
        # Everyone trusted: the leftmost address is where the request came from.
        ("10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),
        # Spaces, ports, brackets, several headers joined by the server.
        ("10.0.0.2", " 198.51.100.1:5123 ", "198.51.100.1"),
        ("10.0.0.2", "[2001:db8::42]:443", "2001:db8::42"),
        ("2001:db8:ffff::1", "2001:db8::42", "2001:db8::42"),
        # A dual-stack socket's IPv4 peer.
        ("::ffff:10.0.0.2", "198.51.100.1", "198.51.100.1"),
        # A hop that is not an address stops at the proxy that wrote it: one key for all behind it.
        ("10.0.0.2", "198.51.100.1, unknown", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_client_address(remote, forwarded, expected):
    assert client_address(remote, forwarded, BALANCERS) == expected


def test_no_trusted_proxies_means_the_peer_whatever_the_header():
    assert client_address("10.0.0.2", "198.51.100.1", ()) == "10.0.0.2"


def test_parse_address_refuses_what_is_not_one():
    for text in ("", "unknown", "1.2.3", "999.1.1.1", "[::1", "a:b"):
        assert parse_address(text) is None, text
    assert str(parse_address("::ffff:192.0.2.1")) == "192.0.2.1"


hops = st.ip_addresses().map(str)


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(
    forged=st.lists(hops | st.text(max_size=20), max_size=5),
    client=st.ip_addresses(v=4, network="198.51.100.0/24").map(str),
    inner=st.lists(st.ip_addresses(v=4, network="10.0.0.0/8").map(str), max_size=3),
)
def test_what_a_client_prepends_never_changes_its_address(forged, client, inner):
    """The client sends ``forged``; each trusted proxy of ``inner`` appends the peer it saw."""
    if inner:
        remote, header = inner[-1], ", ".join([*forged, client, *inner[:-1]])
    else:  # no proxy: the client connects itself
        remote, header = client, ", ".join(forged)
    assert client_address(remote, header, BALANCERS) == client


def test_client_ip_reads_the_setting(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    settings.FLASHSALE_TRUSTED_PROXIES = []
    assert client_ip(request) == "127.0.0.1"
    settings.FLASHSALE_TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert client_ip(request) == "198.51.100.1"


def test_a_wrong_trusted_proxy_setting_stops_the_site():
    """A system check error, and gunicorn refuses to load the application with it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flashsale.settings", "FLASHSALE_TRUSTED_PROXIES": "10.0.0.0/8,lb"}
    root = Path(__file__).resolve().parents[2]
    for command in (["manage.py", "check"], ["-c", "import flashsale.wsgi"]):
        out = subprocess.run([sys.executable, *command], cwd=root, env=env, capture_output=True, text=True)
        assert out.returncode != 0, command
        assert "flashsale.E002" in out.stderr and "'lb' is not an IP address or network (CIDR)" in out.stderr


def test_limit_keys_group_ipv6_by_64_and_keep_ipv4_addresses(settings):
    assert limit_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == limit_key("2001:db8:1:2::1") == "2001:db8:1:2::"
    assert limit_key("2001:db8:1:3::1") == "2001:db8:1:3::"
    assert limit_key("198.51.100.7") == "198.51.100.7"
    settings.RATELIMIT_IPV4_MASK = 24
    assert limit_key("198.51.100.7") == "198.51.100.0"
    assert limit_key("") == ""
