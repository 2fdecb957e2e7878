"""`relaydesk demo`: the demo world, its history, the printed access details and the
processes it runs (mail sink, web server, worker)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from relaydesk import demo
from relaydesk.core.models import ROLE_GROUPS, Organisation, Region, Team, User
from relaydesk.demo import mailsink
from relaydesk.notify.models import OutboundEmail
from relaydesk.sla.models import ClockEvent, Plan
from relaydesk.tickets.models import STATUS_CLOSED, STATUS_SOLVED, Message, Ticket

TOKEN = re.compile(r"API token:\s+(rdk_[A-Za-z0-9_-]+)")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_demo_world_history_access_and_idempotence() -> None:
    out = _demo("--tickets", "200")

    regions = list(Region.objects.all())
    assert len(regions) == 6
    assert len({r.timezone for r in regions}) == 6
    assert {r.code for r in regions} == {"sg", "id", "de", "br", "us", "ae"}
    assert all(
        r.calendar is not None and r.calendar.spec["holidays"]["country"] == r.country
        for r in regions
    )
    assert sorted(Plan.objects.values_list("code", flat=True)) == [
        "business",
        "developer",
        "enterprise",
        "standard",
    ]

    orgs = Organisation.objects.all()
    assert orgs.count() >= 20
    assert set(orgs.values_list("language", flat=True)) == {"en", "zh-Hans"}
    keys = orgs.filter(is_key_account=True)
    assert keys.exists() and not keys.filter(account_manager__isnull=True).exists()
    assert len(set(orgs.values_list("plan__code", flat=True))) == 4
    for org in orgs:
        assert 1 <= org.users.count() <= 3

    teams = Team.objects.all()
    assert sorted(t.name for t in teams) == ["APAC", "Americas", "EMEA"]
    assert all(t.lead is not None and t.lead.is_lead_role for t in teams)
    assert User.objects.filter(groups__name=ROLE_GROUPS["agent"]).count() >= 9
    assert User.objects.filter(groups__name=ROLE_GROUPS["admin"], is_superuser=True).exists()

    # History: real SLA clocks, breaches, solved and open tickets, conversations.
    tickets = Ticket.objects.all()
    assert tickets.count() == 200
    assert not tickets.filter(sla_rule__isnull=True).exists()
    started = ClockEvent.objects.filter(metric="first_response", kind="started")
    assert started.count() == 200 and started.filter(due_at__isnull=False).count() > 150
    assert ClockEvent.objects.filter(kind="breached").exists()
    assert tickets.filter(status__in=[STATUS_SOLVED, STATUS_CLOSED]).count() > 100
    assert tickets.exclude(status__in=[STATUS_SOLVED, STATUS_CLOSED]).exists()
    assert tickets.filter(status=STATUS_CLOSED).exists()
    oldest = tickets.order_by("created_at").first()
    assert oldest is not None and (datetime.now(UTC) - oldest.created_at).days >= 40
    staff_replies = Message.objects.filter(
        author_kind=Message.AUTHOR_AGENT, is_public=True, is_auto=False
    )
    assert staff_replies.count() >= 200
    assert Message.objects.filter(author_kind=Message.AUTHOR_CUSTOMER).exists()
    assert Message.objects.filter(author_kind=Message.AUTHOR_AGENT, is_public=False).exists()
    # Conversations follow the customer's language.
    zh_reply = staff_replies.filter(ticket__organisation__language="zh-Hans").first()
    en_reply = staff_replies.filter(ticket__organisation__language="en").first()
    assert zh_reply is not None and CJK.search(zh_reply.body)
    assert en_reply is not None and not CJK.search(en_reply.body.split("\n\n")[1])
    # Typed RTC context.
    rtc = tickets.filter(category__in=["stream_quality", "connection"])
    assert rtc.exists()
    assert not rtc.filter(app_id="").exists() and not rtc.filter(region__isnull=True).exists()
    assert not rtc.filter(sdk="").exists() and not rtc.filter(platform="").exists()
    assert (
        rtc.filter(problem_start__isnull=False).exclude(affected_user_ids=[]).count() == rtc.count()
    )
    # Clocks were swept at their own instants: a breach is never recorded before it was due.
    for ev in ClockEvent.objects.filter(kind="breached", detail={}):
        assert ev.due_at is not None and ev.at == ev.due_at
    # History mail counts as sent then; nothing is left for the worker to deliver.
    assert OutboundEmail.objects.exists()
    assert not OutboundEmail.objects.exclude(status=OutboundEmail.SENT).exists()
    assert not OutboundEmail.objects.filter(created_at__gt=datetime.now(UTC)).exists()

    # Arrivals follow the local day: live-show problems cluster in the evening.
    evening = sum(
        1
        for t in tickets.filter(tags__name="peak-hour").select_related("organisation")
        if t.created_at.astimezone(ZoneInfo(t.organisation.timezone)).hour >= 19
    )
    assert evening > 0

    # The printed block: URL, logins and a token that works.
    assert "http://127.0.0.1:8000/" in out
    assert "/admin/" in out and "/api/docs" in out
    assert "lena@relaydesk.example / relaydesk-demo" in out
    assert "darren.lim@nimbuslive.example / relaydesk-demo" in out
    match = TOKEN.search(out)
    assert match, out
    r = Client().get("/api/v1/tickets", {"limit": 1}, HTTP_AUTHORIZATION=f"Bearer {match[1]}")
    assert r.status_code == 200, r.content
    assert r.json()["count"] == 200
    assert Client().login(username="darren.lim@nimbuslive.example", password="relaydesk-demo")

    # A second run loads nothing and says so, but prints a fresh token.
    counts = (
        Organisation.objects.count(),
        User.objects.count(),
        Ticket.objects.count(),
        Message.objects.count(),
    )
    again = _demo("--tickets", "200")
    assert "already loaded" in again
    assert counts == (
        Organisation.objects.count(),
        User.objects.count(),
        Ticket.objects.count(),
        Message.objects.count(),
    )
    second = TOKEN.search(again)
    assert second and second[1] != match[1]
    assert (
        Client()
        .get("/api/v1/tickets", {"limit": 1}, HTTP_AUTHORIZATION=f"Bearer {second[1]}")
        .status_code
        == 200
    )


def _snapshot() -> list[tuple[object, ...]]:
    return [
        (
            t.number,
            t.subject,
            t.priority,
            t.status,
            t.organisation.name,
            t.created_at,
            t.channel_name,
            tuple(t.messages.values_list("body", "created_at")),
        )
        for t in Ticket.objects.select_related("organisation").order_by("number")
    ]


@pytest.mark.django_db
def test_same_seed_same_history() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    snapshots = []
    for seed in (7, 7, 8):
        with transaction.atomic():
            demo.load(tickets=25, seed=seed, now=now)
            snapshots.append(_snapshot())
            transaction.set_rollback(True)
    assert snapshots[0] == snapshots[1]
    assert snapshots[0] != snapshots[2]
    assert len(snapshots[0]) == 25 and all(row[5] <= now for row in snapshots[0])


def test_demo_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "relaydesk", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for option in ("--host", "--port", "--no-serve", "--tickets", "--seed"):
        assert option in out.stdout


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "EMAIL_BACKEND", "EMAIL_HOST")
    }
    env |= {
        "RELAYDESK_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "relaydesk.settings",
        "PYTHONUNBUFFERED": "1",
    }
    return env


def test_cli_no_serve_end_to_end(tmp_path: Path) -> None:
    env = _env(tmp_path)
    cmd = [sys.executable, "-m", "relaydesk", "demo", "--no-serve", "--tickets", "50"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout and "50 tickets" in first.stdout
    token = TOKEN.search(first.stdout)
    assert token
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    db = sqlite3.connect(tmp_path / "relaydesk.sqlite3")
    try:
        assert db.execute("select count(*) from tickets_ticket").fetchone() == (50,)
        assert db.execute("select count(*) from core_region").fetchone() == (6,)
        digest = hashlib.sha256(token[1].encode()).hexdigest()
        assert db.execute(
            "select count(*) from core_apitoken where digest = ?", (digest,)
        ).fetchone() == (1,)
        assert db.execute(
            "select count(*) from notify_outboundemail where status != 'sent'"
        ).fetchone() == (0,)
    finally:
        db.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def test_demo_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "demo.log"
    data = tmp_path / "data"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "relaydesk", "demo", "--tickets", "10", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=_env(data),
        )
    try:
        # Generous: migrations, a small world and four interpreter start-ups on a shared,
        # possibly busy machine; the loop ends as soon as the server answers.
        deadline = time.monotonic() + 240
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                ) as r:
                    health = r.status
                    break
            except OSError:
                time.sleep(0.3)
        text = log.read_text()
        assert health == 200, text
        pids = [int(p) for p in re.findall(r"\(pid (\d+)\)", text)]
        assert len(pids) == 3 and all(_alive(p) for p in pids), text
        token = TOKEN.search(text)
        assert token
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/tickets?limit=1",
            headers={"Authorization": f"Bearer {token[1]}"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

        # The mail sink: started first, on loopback, printed next to the logins; the web
        # server and the worker send their mail to it over SMTP.
        sink = re.search(r"Started the mail sink \(pid (\d+)\) on 127\.0\.0\.1:(\d+)\.", text)
        assert sink, text
        sink_pid, sink_port = int(sink[1]), sink[2]
        assert pids[0] == sink_pid
        assert f"Demo mail:      http://127.0.0.1:{port}/demo/mail/" in text
        for pid in pids[1:]:
            env = _environ(pid)
            assert env["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
            assert (env["EMAIL_HOST"], env["EMAIL_PORT"]) == ("127.0.0.1", sink_port)
            assert env[mailsink.ENV_ACTIVE] == f"127.0.0.1:{sink_port}"
        with socket.create_connection(("127.0.0.1", int(sink_port)), timeout=5) as smtp:
            assert smtp.recv(512).startswith(b"220 ")

        # End to end: a ticket filed through the API queues an acknowledgement in the
        # outbox; the worker delivers it over SMTP; the sink stores it under the data dir.
        filed = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/tickets",
            data=json.dumps(
                {
                    "subject": "Mail sink wiring check",
                    "requester_email": "darren.lim@nimbuslive.example",
                    "channel": "portal",
                }
            ).encode(),
            headers={"Authorization": f"Bearer {token[1]}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(filed, timeout=30) as r:
            assert r.status == 201
        store = mailsink.MailStore(mailsink.store_path(data))
        received: list[mailsink.StoredMessage] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not received:
            received = [
                m
                for m in store.latest(limit=20)
                if "Mail sink wiring check" in m.subject
                and m.rcpt_to == ["darren.lim@nimbuslive.example"]
            ]
            if not received:
                time.sleep(0.5)
        assert received, log.read_text()
        assert received[0].message_id.startswith("<rd.")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0, log.read_text()
        assert not any(_alive(p) for p in pids), log.read_text()
        assert store.count() >= 1  # what the sink received outlives it
        assert "Stopped." in log.read_text()
    finally:
        started = [int(p) for p in re.findall(r"\(pid (\d+)\)", log.read_text())]
        if proc.poll() is None:  # a failed assertion: stop the demo (and so its children)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pid in started:  # children run in their own process groups; none may outlive the test
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
