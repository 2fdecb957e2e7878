"""Prometheus /metrics and JSON logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from relaydesk.core.observability import JsonFormatter
from relaydesk.notify.models import OutboundEmail
from relaydesk.sla.models import ClockEvent
from relaydesk.tickets.services import create_ticket


def _sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()) and head.split("{")[0] == name:
            return float(value)
    return None


def test_metrics_show_requests_jobs_sla_and_notices(world: Any) -> None:
    c = Client()
    assert c.get("/api/v1/health").status_code == 200
    t = create_ticket(actor=world.alice, requester=world.alice, subject="Audio drops", description="x")
    ClockEvent.objects.create(ticket=t, metric="first_response", cycle=1, kind="breached", at=t.created_at)
    resp = c.get("/metrics")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/plain")
    text = resp.content.decode()
    assert (_sample(text, "relaydesk_http_request_duration_seconds_count", route="/api/v1/health", status="2xx") or 0) >= 1
    assert _sample(text, "relaydesk_sla_events_total", kind="breached", metric="first_response") == 1
    pending = OutboundEmail.objects.filter(status=OutboundEmail.PENDING).count()
    assert pending >= 1  # the acknowledgement
    assert _sample(text, "relaydesk_outbox_messages", state=OutboundEmail.PENDING) == pending
    assert _sample(text, "relaydesk_job_queue_depth") is not None
    assert _sample(text, "relaydesk_job_queue_oldest_age_seconds") is not None


def test_outbox_metric_counts_webhook_notices_by_state(world: Any) -> None:
    from relaydesk.incidents.models import Notice

    def notice(i: int, channel: str, status: str) -> Notice:
        return Notice.objects.create(
            key=f"metrics-test-{i}", organisation=world.acme, channel=channel, status=status,
            address="https://hooks.acme.test/relaydesk" if channel == Notice.WEBHOOK else "ops@acme.test",
        )  # fmt: skip

    states = [Notice.SENT] * 3 + [Notice.FAILED] * 2 + [Notice.PENDING]
    for i, status in enumerate(states):
        notice(i, Notice.WEBHOOK, status)
    notice(10, Notice.EMAIL, Notice.SENT)  # e-mail notices are counted as their mail-outbox rows
    text = Client().get("/metrics").content.decode()
    assert _sample(text, "relaydesk_outbox_messages", channel="webhook", state="sent") == 3
    assert _sample(text, "relaydesk_outbox_messages", channel="webhook", state="failed") == 2
    assert _sample(text, "relaydesk_outbox_messages", channel="webhook", state="pending") == 1
    assert _sample(text, "relaydesk_outbox_messages", channel="email", state="sent") is None
    Notice.objects.filter(channel=Notice.WEBHOOK, status=Notice.PENDING).update(status=Notice.SENT)
    text = Client().get("/metrics").content.decode()
    assert _sample(text, "relaydesk_outbox_messages", channel="webhook", state="sent") == 4
    assert _sample(text, "relaydesk_outbox_messages", channel="webhook", state="pending") is None


def test_metrics_need_token_or_loopback(world: Any, settings: Any) -> None:
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 403
    settings.RELAYDESK_METRICS_TOKEN = "s3cret-scrape"
    assert Client().get("/metrics").status_code == 403
    resp = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape")
    assert resp.status_code == 200


def test_json_log_lines() -> None:
    rec = logging.LogRecord("relaydesk.worker", logging.WARNING, __file__, 1, "sweep %s", ("late",), None)
    rec.ticket = 42
    out = json.loads(JsonFormatter().format(rec))
    assert out["level"] == "WARNING" and out["logger"] == "relaydesk.worker"
    assert out["msg"] == "sweep late" and out["ticket"] == 42 and out["ts"].endswith("+00:00")


@pytest.mark.timeout(120)
def test_served_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    """`relaydesk serve` with 2 worker processes: /metrics counts requests from both."""
    from bench._common import free_port, wait_for_port

    env = {**os.environ, "RELAYDESK_DATA_DIR": str(tmp_path), "RELAYDESK_LOG_FORMAT": "json"}
    env.pop("DATABASE_URL", None)  # its own SQLite file
    subprocess.run([sys.executable, "-m", "relaydesk", "migrate", "-v", "0"], env=env, check=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "relaydesk", "serve", "--port", str(port), "--workers", "2", "--threads", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for_port("127.0.0.1", port, 60)
        for _ in range(40):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10).read()
        time.sleep(0.2)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        n = _sample(text, "relaydesk_http_request_duration_seconds_count", route="/api/v1/health", status="2xx")
        assert n == 40
    finally:
        proc.terminate()
        proc.wait(timeout=30)
