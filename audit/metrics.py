"""Audit values for ``/metrics``, read when Prometheus scrapes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from audit.sealing import backlog


def collect() -> Iterable[Any]:
    waiting = backlog()
    yield GaugeMetricFamily(
        "audit_records_unsealed",
        "Audit records not yet sealed into the hash chain.",
        value=waiting["unsealed"],
    )
    yield GaugeMetricFamily(
        "audit_oldest_unsealed_age_seconds",
        "Age of the oldest audit record waiting to be sealed (0 when none).",
        value=waiting["oldest_unsealed_age_seconds"] or 0.0,
    )
