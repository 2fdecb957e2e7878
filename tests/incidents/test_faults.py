"""Faults with real processes: a worker killed with SIGKILL in the middle of a fan-out, then
restarted — every recipient ends up with exactly one notice (distinct notice ids counted at a
loopback SMTP server and a loopback HTTP webhook receiver)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from relaydesk.core.models import Organisation, User
from relaydesk.incidents import services
from relaydesk.incidents.models import Notice, NoticeSubscription, WebhookEndpoint
from relaydesk.notify.models import OutboundEmail
from tests.incidents.helpers import MailSink, WebhookSink, footprint, service

ROOT = Path(__file__).resolve().parents[2]

# The worker's own tick (``relaydesk worker`` runs the same ``run_periodic_once``), with
# leases shortened from minutes to 2 s so the test need not wait for a dead worker's lease.
WORKER = """
import os, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.settings")
django.setup()
from datetime import timedelta
import relaydesk.notify.outbox as mail_outbox
import relaydesk.incidents.notices as notices
mail_outbox.LEASE = timedelta(seconds=2)
notices.LEASE = timedelta(seconds=2)
from relaydesk.core.management.commands.worker import run_periodic_once
end = time.time() + 120
while time.time() < end:
    run_periodic_once()
    time.sleep(0.05)
"""


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(cond: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_fan_out_then_restart_gives_exactly_one_notice_each(world: Any, tmp_path: Any) -> None:
    mail = MailSink(delay_s=0.04).start()
    hooks = WebhookSink(delay_s=0.3).start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        svc = service("rtc")
        n_mail, n_hook = 60, 16
        for i in range(n_mail + n_hook):
            org = Organisation.objects.create(name=f"Org {i:03d}", plan=world.business, home_region=world.sg)
            footprint(org, svc, world.sg, hours=2, sessions=100 + i)
            User.objects.create_user(username=f"u{i}@org{i}.test", email=f"u{i}@org{i}.test", kind=User.KIND_CUSTOMER, organisation=org)
            if i >= n_mail:
                h = WebhookEndpoint.objects.create(organisation=org, url=f"{hooks.url}/{i}")
                NoticeSubscription.objects.create(organisation=org, channel="webhook", webhook=h)
        services.open_incident(service="rtc", region="sg", title_en="Loss", body_en="Investigating.", severity="major")
        expected_mail = {f"u{i}@org{i}.test" for i in range(n_mail)}
        expected_hooks = {f"/hook/{i}" for i in range(n_mail, n_mail + n_hook)}
        assert Notice.objects.count() == n_mail + n_hook

        env = {**os.environ, "DATABASE_URL": _database_url(), "RELAYDESK_DATA_DIR": str(tmp_path),
               "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(mail.port)}
        env.pop("RELAYDESK_EMAIL_BACKEND", None)
        # 1. killed while webhooks are in flight
        procs.append(_start(env))
        assert _wait(lambda: len(hooks.requests) >= 3, 60), "the worker never started on webhooks"
        procs[-1].send_signal(signal.SIGKILL)
        procs[-1].wait(10)
        hooks_at_kill = len(hooks.requests)
        # 2. restarted, then killed while mail is being sent over SMTP
        procs.append(_start(env))
        assert _wait(lambda: len(mail.notices()) >= 10, 60), "the worker never started on mail"
        procs[-1].send_signal(signal.SIGKILL)
        procs[-1].wait(10)
        mail_at_kill = len(mail.notices())
        assert mail_at_kill < n_mail, "the kill came too late to be mid fan-out"
        # 3. restarted: everything is delivered
        procs.append(_start(env))
        done = _wait(
            lambda: len(mail.by_recipient()) == n_mail and len(hooks.by_recipient()) == n_hook
            and not Notice.objects.exclude(status=Notice.SENT).exists()
            and not OutboundEmail.objects.filter(kind="incident_notice").exclude(status="sent").exists(),
            90,
        )
        assert done, (len(mail.by_recipient()), len(hooks.by_recipient()))
        got_mail, got_hooks = mail.by_recipient(), hooks.by_recipient()
        assert set(got_mail) == expected_mail and set(got_hooks) == expected_hooks
        # exactly one distinct notice per recipient (a receiver drops a redelivery by its id)
        assert all(len(set(ids)) == 1 for ids in got_mail.values())
        assert all(len(set(ids)) == 1 for ids in got_hooks.values())
        # one mail-outbox row per e-mail notice, never two
        assert OutboundEmail.objects.filter(kind="incident_notice").count() == n_mail
        # raw redeliveries are bounded by what was in flight at each of the two kills: one
        # SMTP transaction, and the webhook posts of the claimed batch not yet recorded
        mail_dups = sum(len(v) - 1 for v in got_mail.values())
        hook_dups = sum(len(v) - 1 for v in got_hooks.values())
        assert mail_dups <= 2 and hook_dups <= 16, (mail_dups, hook_dups)
        print(f"kill-9: hooks_at_kill={hooks_at_kill} mail_at_kill={mail_at_kill} "
              f"raw_mail_redeliveries={mail_dups} raw_webhook_redeliveries={hook_dups}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait(10)
        mail.stop()
        hooks.stop()
