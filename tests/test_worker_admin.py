"""The background worker (Django tasks on the database backend + periodic sweeps) and the
Django admin for every model."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from relaydesk.notify.models import OutboundEmail
from relaydesk.sla.models import ClockEvent
from relaydesk.tickets import services
from tests.test_email import sink  # noqa: F401  (real SMTP server on loopback)

OUR_APPS = ("core", "sla", "tickets", "notify")
# A handful of rows (four plans, a few services, one counter) or a bare name (tags): nothing
# to filter on; search is enough.
TINY_TABLES = {"sla.Plan", "core.Service", "tickets.TicketCounter", "tickets.Tag"}


@pytest.mark.django_db(transaction=True)
def test_worker_once_runs_queued_jobs_and_delivers_over_smtp(world, sink) -> None:  # noqa: F811
    sink.start()
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Live show stutters", priority="P2")
    mail = OutboundEmail.objects.get(ticket=t, kind="auto_ack")
    assert mail.status == OutboundEmail.PENDING
    # the change queued a delivery job in the job library's table, in the same database
    assert DBTaskResult.objects.filter(status="READY").exists()
    call_command("worker", "--once")
    mail.refresh_from_db()
    assert mail.status == OutboundEmail.SENT
    assert any(str(t.number) in m["Subject"] for _, m in sink.received)
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").exists()


def test_worker_rejects_slow_sweep_interval(db) -> None:
    with pytest.raises(SystemExit):
        call_command("worker", "--interval", "31")


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_worker_process_emits_due_warnings_and_breaches(world, tmp_path) -> None:
    """A real `relaydesk worker` process sweeps on its own: a P1 filed 20 minutes ago with no
    reply gets its warning and breach recorded (once) without anyone calling the sweep."""
    past = datetime.now(UTC) - timedelta(minutes=20)
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Whole region down", priority="P1", now=past)
    env = {**os.environ, "DATABASE_URL": _database_url(), "RELAYDESK_DATA_DIR": str(tmp_path)}
    env["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
    env["EMAIL_FILE_PATH"] = str(tmp_path / "mail")
    proc = subprocess.Popen(
        [sys.executable, "-m", "relaydesk", "worker", "--interval", "1", "--no-jobs"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        kinds: set[str] = set()
        while time.monotonic() < deadline:
            kinds = set(ClockEvent.objects.filter(ticket=t, metric="first_response").values_list("kind", flat=True))
            if {"warned", "breached"} <= kinds or proc.poll() is not None:
                break
            time.sleep(0.5)
        assert {"warned", "breached"} <= kinds, proc.stdout.read() if proc.poll() is not None else kinds
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    for kind in ("warned", "breached"):
        assert ClockEvent.objects.filter(ticket=t, metric="first_response", kind=kind).count() == 1


def test_every_model_is_in_the_admin_with_filters_and_search(world) -> None:
    registry = admin.site._registry
    missing = [m.__name__ for a in OUR_APPS for m in apps.get_app_config(a).get_models() if m not in registry]
    assert not missing, f"models without an admin: {missing}"
    services.create_ticket(actor=world.alice, requester=world.alice, subject="Echo on iOS", priority="P3")
    client = Client()
    client.force_login(world.admin)
    for model, model_admin in registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        name = f"{model._meta.app_label}.{model.__name__}"
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert model_admin.search_fields, f"{name}: no search_fields"
        if name not in TINY_TABLES:
            assert model_admin.list_filter, f"{name}: no list_filter"
        resp = client.get(base, {"q": "a"})
        assert resp.status_code == 200, (name, resp.status_code)
        obj = model.objects.first()
        if obj is not None:
            resp = client.get(f"{base}{obj.pk}/change/")
            assert resp.status_code == 200, (name, "change", resp.status_code)


def test_admin_needs_staff_login(world) -> None:
    client = Client()
    assert client.get("/admin/tickets/ticket/").status_code == 302
    client.force_login(world.alice)
    assert client.get("/admin/tickets/ticket/").status_code == 302


def test_front_door_leads_a_visitor_to_the_login(db) -> None:
    resp = Client().get("/")
    assert resp.status_code == 302 and resp["Location"] == "/login/"


def test_sweep_only_worker_stops_on_sigterm(tmp_path: os.PathLike[str]) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "RELAYDESK_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "relaydesk", "migrate", "-v", "0"], env=env, check=True, timeout=120)
    proc = subprocess.Popen(
        [sys.executable, "-m", "relaydesk", "worker", "--no-jobs", "--interval", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    assert "sweeps every" in proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
