"""Where a webhook may be sent: the SSRF guard.

A subscription's URL is ``https`` (plain ``http`` only with ``WEBHOOK_ALLOW_HTTP``),
names no credentials, and every address its host resolves to is a public one: no
loopback, private, link-local (cloud metadata lives there), shared, multicast or
reserved address, unless the host or the address is listed in
``WEBHOOK_ALLOWED_HOSTS`` (a name, an address or a network). The check runs when the
subscription is saved and again before every delivery, and the delivery connects to
the very address that was checked, so a name that resolves differently later (DNS
rebinding) reaches nothing it should not.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Metadata services that sit on otherwise ordinary-looking addresses.
METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("100.100.100.200"),
        ipaddress.ip_address("fd00:ec2::254"),
    }
)


class UnsafeURL(ValueError):
    """The URL may not be called; the message says why, for the caller."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (lower case, no brackets)
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked address to connect to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def split(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL, or ``UnsafeURL``."""
    if not url.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        # What the request line and Host header can carry as written, nothing guessed.
        raise UnsafeURL(
            "Write the URL in printable ASCII: percent-encode the path and query, "
            "give an internationalised host in its xn-- form."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Not a valid URL: {exc}.") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if scheme not in allowed:
        raise UnsafeURL(
            "The URL must use https." if scheme != "https" else f"Unsupported scheme {scheme}."
        )
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("The URL must not contain credentials.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeURL("The URL has no host.")
    if parts.fragment:
        raise UnsafeURL("The URL must not have a fragment.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _listed(host: str, address: IPAddress) -> bool:
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == host:
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded(address: IPAddress) -> IPAddress | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _public(address: IPAddress) -> bool:
    inner = _embedded(address)
    if inner is not None and not _public(inner):
        return False
    return address.is_global and not address.is_multicast and address not in METADATA


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeURL(f"The host {host} does not resolve ({exc}).") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise UnsafeURL(f"The host {host} does not resolve.")
    return found


def check(url: str) -> Target:
    """The URL's target, with the address to connect to; ``UnsafeURL`` if it may not
    be called. Every address the host resolves to must pass, not just the first."""
    scheme, host, port, path = split(url)
    addresses = resolve(host, port)
    for address in addresses:
        if not (_listed(host, address) or _public(address)):
            raise UnsafeURL(
                f"The host {host} resolves to {address}, which is not a public address."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
