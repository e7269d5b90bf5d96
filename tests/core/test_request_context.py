import uuid

import pytest

from core.context import clean_request_id, client_ip


def test_request_id_kept_when_safe(client, db):
    response = client.get("/health/live/", HTTP_X_REQUEST_ID="abc-123.X_y:z")
    assert response["X-Request-ID"] == "abc-123.X_y:z"


@pytest.mark.parametrize("bad", ["", "a" * 65, "has space", "<script>", "é", "a\nb"])
def test_request_id_replaced_when_unsafe(bad):
    value = clean_request_id(bad)
    assert value != bad
    uuid.UUID(value)


def test_response_carries_generated_request_id(client, db):
    response = client.get("/health/live/")
    uuid.UUID(response["X-Request-ID"])


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.9"),  # no trusted proxy: the header is ignored
        (1, "6.6.6.6, 2.2.2.2", "2.2.2.2"),  # the right-most entry, written by our proxy
        (2, "6.6.6.6, 3.3.3.3, 2.2.2.2", "3.3.3.3"),
        (2, "2.2.2.2", "10.0.0.9"),  # fewer entries than proxies: fall back to the peer
        (1, "garbage", "10.0.0.9"),
    ],
)
def test_client_ip_trusts_only_configured_proxies(proxies, forwarded, expected):
    meta = {"REMOTE_ADDR": "10.0.0.9", "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_ip(meta, trusted_proxies=proxies) == expected
