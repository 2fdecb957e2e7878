"""The demo loads a status page with every service × region and a 90-day history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.test import Client

from relaydesk.core.models import Service
from relaydesk.incidents import demo
from relaydesk.incidents.models import Component


def test_demo_components_fill_the_status_grid(world: Any) -> None:
    Service.objects.get_or_create(code="rtc", defaults={"name": "Real-time audio/video"})
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    first = demo.load(1, now)
    n = Component.objects.count()
    assert n == Service.objects.count() * 3 and str(n) in first
    assert demo.load(1, now).startswith("0 ")  # idempotent
    body = Client().get("/api/v1/status/summary").json()
    assert len(body["components"]) == n
    assert all(c["status"] == "operational" for c in body["components"])
