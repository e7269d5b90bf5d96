"""/metrics: the service's own metrics, served to configured networks or a token only."""

import pytest

from core.metrics import METRICS_FORBIDDEN, SERIALS_GENERATED, count_task_outcome
from tests.accounts.factories import UserFactory
from tests.conftest import assign

URL = "/metrics"
pytestmark = pytest.mark.django_db


def test_exposes_the_services_own_metrics(client, auth_client):
    user = UserFactory()
    assign(user, "admin")
    api = auth_client(user)
    api.get("/api/sites/")
    api.get("/api/sites/")  # second request: permissions from the cache
    SERIALS_GENERATED.inc(250)
    count_task_outcome("reports.tasks.send_daily_reports", "succeeded")

    response = client.get(URL, REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'auth_cache_lookups_total{kind="permissions",result="hit"}' in text
    assert 'auth_cache_lookups_total{kind="permissions",result="miss"}' in text
    assert "serials_generated_total" in text
    assert (
        'celery_task_outcomes_total{outcome="succeeded",task="reports.tasks.send_daily_reports"}'
        in text
    )
    assert "audit_records_unsealed " in text
    assert "audit_oldest_unsealed_age_seconds " in text
    assert (
        'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="site-list"}'
        in text
    )


@pytest.mark.postgres
def test_exposes_database_metrics(client):
    text = client.get(URL, REMOTE_ADDR="127.0.0.1").content.decode()

    assert 'django_db_execute_total{alias="default",vendor="postgresql"}' in text


@pytest.mark.redis
def test_exposes_cache_metrics(client, auth_client):
    auth_client(UserFactory()).get("/api/auth/profile/")

    text = client.get(URL, REMOTE_ADDR="127.0.0.1").content.decode()

    assert 'django_cache_get_total{backend="redis"}' in text


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.7", "8.8.8.8", "2001:db8::1"])
def test_refuses_strangers(client, address):
    response = client.get(URL, REMOTE_ADDR=address)

    assert response.status_code == 403
    assert response.json() == {"detail": METRICS_FORBIDDEN, "code": "permission_denied"}


def test_configured_network_and_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.METRICS_TOKEN = "scrape-secret-0123456789"

    assert client.get(URL, REMOTE_ADDR="10.9.8.7").status_code == 200
    assert client.get(URL, REMOTE_ADDR="127.0.0.1").status_code == 403
    assert (
        client.get(
            URL, REMOTE_ADDR="8.8.8.8", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789"
        ).status_code
        == 200
    )
    for header in ("Bearer wrong", "Bearer ", "Basic c2NyYXBl", "scrape-secret-0123456789"):
        assert client.get(URL, REMOTE_ADDR="8.8.8.8", HTTP_AUTHORIZATION=header).status_code == 403


def test_forwarded_for_is_trusted_only_behind_configured_proxies(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0

    response = client.get(URL, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert response.status_code == 403


def test_writes_are_refused(client):
    assert client.post(URL, REMOTE_ADDR="127.0.0.1").status_code == 405
    assert client.post(URL, REMOTE_ADDR="10.1.2.3").status_code == 403
