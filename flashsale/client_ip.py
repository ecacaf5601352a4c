"""The shopper's address, as every per-IP limit must see it: through trusted proxies only.

Behind a load balancer ``REMOTE_ADDR`` is the balancer, shared by the whole crowd. The balancer
appends the address it saw to ``X-Forwarded-For``, but a client can send that header too, so it is
read from the right, one hop at a time, only while the hop that wrote it is trusted
(``FLASHSALE_TRUSTED_PROXIES``, a list of networks; empty trusts nobody and ``REMOTE_ADDR`` is the
client). The first address that is not a trusted proxy is the client.

IPv6 clients are counted by network, not by address: one subscriber is handed a whole /64 and can
walk it. ``limit_key`` groups them as django-ratelimit does for its own per-IP limits
(``RATELIMIT_IPV6_MASK``, 64; ``RATELIMIT_IPV4_MASK``, 32), so the reserve script's window agrees.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "192.0.2.7"]`` to networks; ValueError names the entry that is not one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IP address or network (CIDR)") from exc
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def parse_address(text: str) -> Address | None:
    """An address as proxies write it (``1.2.3.4``, ``1.2.3.4:567``, ``[2001:db8::1]:89``), or None."""
    text = text.strip()
    if text.startswith("["):
        text, closed, _port = text[1:].partition("]")
        if not closed:
            return None
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they are IPv4 clients.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address in network for network in networks)


def client_address(remote_addr: str, forwarded_for: str, trusted: Sequence[Network]) -> str:
    """The client's address given the peer (``remote_addr``), ``X-Forwarded-For`` and the trusted networks.

    Walks from the peer leftwards through the header while the current hop is a trusted proxy.
    A hop a trusted proxy wrote that is not an address stops the walk at that proxy: the shoppers
    behind it then share one key, which limits too much rather than letting a header choose it.
    """
    current = parse_address(remote_addr)
    if current is None:
        return remote_addr
    if trusted:
        for hop in reversed(forwarded_for.split(",") if forwarded_for else []):
            if not _trusted(current, trusted):
                break
            earlier = parse_address(hop)
            if earlier is None:
                break
            current = earlier
    return str(current)


def client_ip(request) -> str:
    """The address every per-IP limit keys on (django-ratelimit's ``RATELIMIT_IP_META_KEY`` too)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.FLASHSALE_TRUSTED_PROXIES
    if not proxies:
        return remote_addr
    return client_address(remote_addr, request.META.get("HTTP_X_FORWARDED_FOR", ""), _networks(tuple(proxies)))


def limit_key(address: str) -> str:
    """``address`` as per-IP limits count it: its network under django-ratelimit's masks (IPv6 by /64)."""
    if ":" in address:
        mask = getattr(settings, "RATELIMIT_IPV6_MASK", 64)
    else:
        mask = getattr(settings, "RATELIMIT_IPV4_MASK", 32)
        if mask == 32:  # the hot path's common case: the address is its own network
            return address
    try:
        return str(ipaddress.ip_network(f"{address}/{mask}", strict=False).network_address)
    except ValueError:  # not an address (a unix socket's empty peer): counted as given
        return address
