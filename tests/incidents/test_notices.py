"""Notices: fan-out rows, idempotency, language, key accounts first, coalescing, e-mail at a
real SMTP server, signed webhooks at a real HTTP server, retries, disabling, subscriptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relaydesk.incidents import notices, services
from relaydesk.incidents.models import Notice, NoticeSubscription, WebhookEndpoint
from relaydesk.notify.models import OutboundEmail
from relaydesk.notify.outbox import deliver_due as deliver_mail
from tests.incidents.helpers import MailSink

pytestmark = pytest.mark.django_db


def open_sg(world: Any, **kw: Any) -> Any:
    return services.open_incident(
        service="rtc", region="sg", title_en="Loss on Telkomsel", title_zh="Telkomsel 丢包",
        body_en="Investigating packet loss.", body_zh="正在调查丢包问题。", severity="major",
        created_by=world.lead, **kw,
    )


def deliver(now: datetime | None = None) -> dict[str, int]:
    r = notices.deliver_due(now=now)
    real = datetime.now(UTC)
    deliver_mail(now=max(now or real, real))
    return r


def test_email_notices_in_each_organisations_language_with_the_notice_id(place: Any, mail: MailSink) -> None:
    inc = open_sg(place)
    assert deliver()["sent"] == 2
    got = {rcpts[0]: m for rcpts, m in mail.notices()}
    assert set(got) == {"alice@acme.test", "bob@panda.test"}
    en, zh = got["alice@acme.test"], got["bob@panda.test"]
    assert "Loss on Telkomsel" in en["Subject"] and "Investigating" in en["Subject"]
    assert "Telkomsel 丢包" in zh["Subject"] and "调查中" in zh["Subject"]
    assert "正在调查丢包问题" in zh.get_body(("plain",)).get_content()
    n = Notice.objects.get(address="alice@acme.test")
    assert en["Message-ID"] == f"<notice.{n.pk}@relaydesk.localhost>"
    assert f"Notice ID: {n.pk}" in en.get_body(("plain",)).get_content()
    inc.refresh_from_db()
    assert inc.first_notice_at is not None
    assert deliver() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(mail.notices()) == 2


def test_fan_out_is_idempotent_and_key_accounts_come_first(place: Any) -> None:
    inc = open_sg(place)
    update = inc.updates.get()
    assert notices.fan_out(update) == 0  # a second fan-out of the same update writes nothing
    assert Notice.objects.count() == 2
    claimed = notices._claim(datetime.now(UTC), 1)
    assert [n.organisation_id for n in claimed] == [place.acme.pk]
    assert Notice.objects.filter(priority=0).get().organisation_id == place.acme.pk


def test_rapid_updates_are_coalesced_into_one_notice_with_the_latest_state(place: Any, mail: MailSink) -> None:
    t0 = datetime.now(UTC)
    inc = open_sg(place, now=t0)
    deliver(t0)  # first notice goes out at once
    assert len(mail.notices()) == 2
    services.post_update(inc, status="identified", body_en="Upstream route flap found.", now=t0 + timedelta(seconds=10))
    services.post_update(inc, status="monitoring", body_en="Route pinned; watching.", now=t0 + timedelta(seconds=20))
    # within the 60 s window: nothing more yet
    assert deliver(t0 + timedelta(seconds=30))["sent"] == 0
    assert len(mail.notices()) == 2
    # after the window: one notice per recipient, with the latest state
    assert deliver(t0 + timedelta(seconds=61))["sent"] == 2
    assert len(mail.notices()) == 4
    latest = [m for _r, m in mail.notices()[2:]]
    assert all("Monitoring" in m["Subject"] or "观察中" in m["Subject"] for m in latest)
    assert Notice.objects.filter(status=Notice.SUPERSEDED).count() == 2


def test_smtp_down_then_up_delivers_everything(place: Any, settings: Any) -> None:
    down = MailSink()  # not started: connection refused
    settings.MAILERS = down.mailers()
    open_sg(place)
    notices.deliver_due()
    assert deliver_mail() == {"sent": 0, "retry": 4, "failed": 0}  # 2 notices + the manager (note + page)
    down.start()
    try:
        later = datetime.now(UTC) + timedelta(minutes=5)
        assert deliver_mail(now=later)["sent"] == 4
        assert sorted(r[0] for r, _m in down.notices()) == ["alice@acme.test", "bob@panda.test"]
    finally:
        down.stop()


def _hook(world: Any, org: Any, url: str) -> WebhookEndpoint:
    h = WebhookEndpoint.objects.create(organisation=org, url=url, created_by=world.alice)
    NoticeSubscription.objects.create(organisation=org, channel="webhook", webhook=h)
    return h


def test_webhook_is_signed_carries_the_notice_id_and_verifies(place: Any, hook_sink: Any) -> None:
    h = _hook(place, place.acme, hook_sink.url)
    inc = open_sg(place)
    assert notices.deliver_due()["sent"] == 2  # webhook for Acme, e-mail for Panda
    headers, body, _code = hook_sink.requests[0]
    payload = json.loads(body)
    n = Notice.objects.get(channel="webhook")
    assert payload["notice_id"] == n.pk and payload["incident"]["id"] == inc.pk
    assert payload["type"] == "incident.update" and payload["update"]["status"] == "investigating"
    assert headers["x-relaydesk-notice-id"] == str(n.pk)
    assert notices.verify(h.secret, headers["x-relaydesk-timestamp"], body, headers["x-relaydesk-signature"])
    assert not notices.verify("whsec_other", headers["x-relaydesk-timestamp"], body, headers["x-relaydesk-signature"])
    assert not notices.verify(h.secret, headers["x-relaydesk-timestamp"], body + b" ", headers["x-relaydesk-signature"])
    # Acme subscribed by webhook only: no e-mail to alice
    assert not Notice.objects.filter(address="alice@acme.test").exists()


def test_webhook_500_is_retried_with_backoff_then_delivered(place: Any, hook_sink: Any) -> None:
    hook_sink.fail_first = 2
    h = _hook(place, place.acme, hook_sink.url)
    open_sg(place)
    t0 = datetime.now(UTC)
    assert notices.deliver_due(now=t0)["retry"] == 1
    n = Notice.objects.get(channel="webhook")
    assert n.status == "pending" and n.attempts == 1 and "500" in n.last_error
    assert (n.next_attempt_at - t0).total_seconds() == pytest.approx(10, abs=1)
    assert notices.deliver_due(now=t0 + timedelta(seconds=5))["retry"] == 0  # not due yet
    assert notices.deliver_due(now=t0 + timedelta(seconds=11))["retry"] == 1
    n.refresh_from_db()
    assert (n.next_attempt_at - (t0 + timedelta(seconds=11))).total_seconds() == pytest.approx(20, abs=1)
    assert notices.deliver_due(now=t0 + timedelta(seconds=40))["sent"] == 1
    n.refresh_from_db()
    assert n.status == "sent" and n.attempts == 3
    assert [code for _h, _b, code in hook_sink.requests] == [500, 500, 200]
    assert len({json.loads(b)["notice_id"] for _h, b, _c in hook_sink.requests}) == 1
    h.refresh_from_db()
    assert h.enabled and h.consecutive_failures == 0


def test_webhook_disabled_after_repeated_failures_and_the_admin_told(place: Any, hook_sink: Any, settings: Any) -> None:
    settings.RELAYDESK_WEBHOOK_DISABLE_AFTER = 3
    hook_sink.fail_first = 100
    h = _hook(place, place.acme, hook_sink.url)
    open_sg(place)
    t = datetime.now(UTC)
    for _ in range(3):
        notices.deliver_due(now=t)
        t += timedelta(hours=2)
    h.refresh_from_db()
    assert not h.enabled and h.disabled_at is not None and "500" in h.disabled_reason
    assert Notice.objects.get(channel="webhook").status == "failed"
    told = OutboundEmail.objects.get(kind="webhook_disabled")
    assert "alice@acme.test" in told.to and place.admin.email in told.to
    assert notices.deliver_due(now=t + timedelta(hours=2))["sent"] == 0
    assert len(hook_sink.requests) == 3
    # re-enabled by the customer through the API
    status, body = place.api(place.alice).post(f"/api/v1/notices/webhooks/{h.pk}/enable")
    assert status == 200 and body["enabled"] is True


def test_subscriptions_choose_channel_and_places(place: Any) -> None:
    api = place.api(place.bob)
    status, sub = api.post("/api/v1/notices/subscriptions", {"channel": "email", "email": "Noc@Panda.test", "regions": ["de"]})
    assert status == 201 and sub["organisation_id"] == place.panda.pk and sub["email"] == "noc@panda.test"
    inc = open_sg(place)
    # Panda follows only Frankfurt now: nobody at Panda hears about Singapore
    assert not Notice.objects.filter(organisation=place.panda).exists()
    api.post("/api/v1/notices/subscriptions", {"channel": "email", "email": "ops@panda.test", "services": ["rtc"], "regions": ["sg"], "language": "en"})
    services.post_update(inc, status="identified", body_en="Found it.")
    n = Notice.objects.get(organisation=place.panda)
    assert n.address == "ops@panda.test" and n.language == "en"
    assert not Notice.objects.filter(address__in=["bob@panda.test", "noc@panda.test"]).exists()
    status, rows = api.get("/api/v1/notices/subscriptions")
    assert status == 200 and len(rows) == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"channel": "email", "email": "not-an-address"}, "email"),
        ({"channel": "webhook"}, "webhook_id"),
        ({"channel": "email", "email": "a@b.test", "regions": ["mars"]}, "regions"),
        ({"channel": "email", "email": "a@b.test", "services": ["tv"]}, "services"),
        ({"channel": "pigeon", "email": "a@b.test"}, "channel"),
    ],
)
def test_subscription_validation(place: Any, data: dict[str, Any], field: str) -> None:
    status, body = place.api(place.alice).post("/api/v1/notices/subscriptions", data)
    assert status == 422 and field in body["detail"], body
    assert not NoticeSubscription.objects.exists()


def test_tenancy_of_subscriptions_webhooks_and_notices(place: Any, hook_sink: Any) -> None:
    alice, carol = place.api(place.alice), place.api(place.carol)
    _, hook = alice.post("/api/v1/notices/webhooks", {"url": hook_sink.url})
    assert hook["secret"].startswith("whsec_")
    _, sub = alice.post("/api/v1/notices/subscriptions", {"channel": "webhook", "webhook_id": hook["id"]})
    open_sg(place)
    assert len(alice.get("/api/v1/notices")[1]) == 1
    # Carol (Globex) sees none of Acme's
    assert carol.get("/api/v1/notices") == (200, [])
    assert carol.get("/api/v1/notices/webhooks") == (200, [])
    assert carol.get("/api/v1/notices/subscriptions") == (200, [])
    assert carol.get("/api/v1/notices", {"organisation_id": place.acme.pk})[0] == 404
    assert carol.post("/api/v1/notices/webhooks", {"url": hook_sink.url, "organisation_id": place.acme.pk})[0] == 404
    assert carol.post(f"/api/v1/notices/webhooks/{hook['id']}/enable")[0] == 404
    assert carol._call("delete", f"/api/v1/notices/subscriptions/{sub['id']}")[0] == 404
    assert carol._call("delete", f"/api/v1/notices/webhooks/{hook['id']}")[0] == 404
    # Globex cannot subscribe with Acme's webhook
    status, body = carol.post("/api/v1/notices/subscriptions", {"channel": "webhook", "webhook_id": hook["id"]})
    assert status == 422 and "webhook_id" in body["detail"]
    assert NoticeSubscription.objects.count() == 1 and WebhookEndpoint.objects.count() == 1
    # the secret is never shown again
    assert "secret" not in alice.get("/api/v1/notices/webhooks")[1][0]
    assert alice._call("delete", f"/api/v1/notices/subscriptions/{sub['id']}")[0] == 204


def test_staff_manage_subscriptions_for_organisations_they_serve(place: Any) -> None:
    emea = place.api(place.agent_emea, ["incidents:write"])
    assert emea.get("/api/v1/notices/subscriptions")[0] == 422  # must name the organisation
    assert emea.get("/api/v1/notices/subscriptions", {"organisation_id": place.globex.pk})[0] == 200
    assert emea.get("/api/v1/notices/subscriptions", {"organisation_id": place.acme.pk})[0] == 404


def test_maintenance_advance_notice_goes_out_once_at_notice_time(place: Any, mail: MailSink) -> None:
    now = datetime.now(UTC)
    m = services.schedule_maintenance(
        service="rtc", region="sg", title_en="Edge upgrade", title_zh="边缘节点升级",
        body_en="Short reconnects possible.", body_zh="可能出现短暂重连。",
        starts_at=now + timedelta(hours=30), ends_at=now + timedelta(hours=31), notice_hours=24, now=now,
    )
    assert services.maintenance_sweep(now=now)["maintenance_notices"] == 0  # not yet
    later = now + timedelta(hours=7)
    assert services.maintenance_sweep(now=later)["maintenance_notices"] == 2
    assert services.maintenance_sweep(now=later + timedelta(minutes=1))["maintenance_notices"] == 0
    deliver(later)
    got = {r[0]: msg for r, msg in mail.notices()}
    assert set(got) == {"alice@acme.test", "bob@panda.test"}
    assert "边缘节点升级" in got["bob@panda.test"]["Subject"]
    assert "Edge upgrade" in got["alice@acme.test"]["Subject"]
    m.refresh_from_db()
    assert m.notice_sent_at is not None
