"""The SSRF guard: which URLs a subscription may have and a delivery may call."""

from __future__ import annotations

import socket

import pytest

from webhooks.guard import UnsafeURL, check, split


@pytest.fixture
def dns(monkeypatch):
    """Names resolve as the test says (DNS is outside the service); others fail."""
    answers: dict[str, list[str]] = {}

    def resolve(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
        return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers


@pytest.fixture
def strict(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOWED_HOSTS = []
    return settings


def test_a_public_https_url_passes_and_names_the_address_to_connect_to(strict, dns):
    dns["erp.example.com"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    target = check("https://ERP.example.com./hooks/pharma?tenant=7")
    assert (target.scheme, target.host, target.port) == ("https", "erp.example.com", 443)
    assert target.path == "/hooks/pharma?tenant=7"
    assert target.address == "93.184.216.34"
    assert target.host_header == "erp.example.com"


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://erp.example.com/", "The URL must use https."),
        ("ftp://erp.example.com/", "The URL must use https."),
        ("file:///etc/passwd", "The URL must use https."),
        ("gopher://erp.example.com/", "The URL must use https."),
        ("https://user:pw@erp.example.com/", "The URL must not contain credentials."),
        ("https:///nohost", "The URL has no host."),
        ("https://erp.example.com/#frag", "The URL must not have a fragment."),
        ("https://erp.example.com:99999/", "Not a valid URL"),
        ("https://[::1/", "Not a valid URL"),
        ("https://erp.example.com/h\u00e9", "Write the URL in printable ASCII"),
        ("https://b\u00fccher.example/", "Write the URL in printable ASCII"),
        ("https://erp.example.com/a b", "Write the URL in printable ASCII"),
        ("https://erp.example.com/\r\nX-Evil: 1", "Write the URL in printable ASCII"),
    ],
)
def test_malformed_or_unsafe_urls_are_refused(strict, dns, url, message):
    dns["erp.example.com"] = ["93.184.216.34"]
    with pytest.raises(UnsafeURL, match=message.replace("(", r"\(")):
        check(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "127.8.9.10",
        "10.0.0.7",  # private
        "172.16.4.4",
        "192.168.1.20",
        "169.254.169.254",  # link-local: the cloud metadata service
        "169.254.10.10",
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",  # noqa: S104 (this host)
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::5",
        "fd00:ec2::254",  # the AWS metadata service over IPv6
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
    ],
)
def test_names_that_resolve_to_internal_addresses_are_refused(strict, dns, address):
    dns["sneaky.example.com"] = [address]
    with pytest.raises(UnsafeURL, match="which is not a public address"):
        check("https://sneaky.example.com/hook")


def test_every_address_of_a_name_must_be_public_not_only_the_first(strict, dns):
    dns["mixed.example.com"] = ["93.184.216.34", "10.0.0.1"]
    with pytest.raises(UnsafeURL, match="10.0.0.1"):
        check("https://mixed.example.com/")


def test_literal_addresses_are_checked_alike(strict):
    for url in ("https://127.0.0.1/", "https://[::1]/", "https://2130706433/", "https://0x7f.1/"):
        with pytest.raises(UnsafeURL):
            check(url)


def test_a_name_that_does_not_resolve_is_refused(strict, dns):
    with pytest.raises(UnsafeURL, match="does not resolve"):
        check("https://nowhere.invalid/")


def test_allowed_hosts_admit_a_name_an_address_or_a_network(strict, dns):
    dns["erp.plant.local"] = ["10.20.0.5"]
    dns["mes.plant.local"] = ["10.30.0.9"]
    strict.WEBHOOK_ALLOWED_HOSTS = ["erp.plant.local"]
    assert check("https://erp.plant.local/").address == "10.20.0.5"
    with pytest.raises(UnsafeURL):
        check("https://mes.plant.local/")
    strict.WEBHOOK_ALLOWED_HOSTS = ["10.30.0.0/16"]
    assert check("https://mes.plant.local/").address == "10.30.0.9"
    strict.WEBHOOK_ALLOWED_HOSTS = ["10.30.0.9", "not a network"]
    assert check("https://mes.plant.local/").address == "10.30.0.9"


def test_plain_http_only_when_allowed(strict, dns):
    dns["erp.example.com"] = ["93.184.216.34"]
    strict.WEBHOOK_ALLOW_HTTP = True
    assert split("http://erp.example.com:8080/x") == ("http", "erp.example.com", 8080, "/x")
    assert check("http://erp.example.com:8080/x").host_header == "erp.example.com:8080"
