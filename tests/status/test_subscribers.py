"""Public status subscribers: double opt-in through a real SMTP sink on loopback, nothing
before confirmation, one-click unsubscribe, the following filter, exactly one notice per
subscriber per update (coalesced, idempotent), public text only, the same answer for any
address, 422 naming the field, rate limiting, the form in English and Chinese, and signed
webhooks at a real HTTP receiver."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from relaydesk.incidents import notices, services, subscribers
from relaydesk.incidents.models import Notice, StatusSubscriber
from relaydesk.notify.models import OutboundEmail
from relaydesk.notify.outbox import deliver_due as deliver_mail
from tests.incidents.helpers import MailSink, WebhookSink, footprint, service

pytestmark = pytest.mark.django_db

SECRET = "a-webhook-secret-0123456789"


@pytest.fixture
def place(world: Any) -> Any:
    svc = service("rtc")
    footprint(world.acme, svc, world.sg, sessions=5000)
    footprint(world.globex, svc, world.de, sessions=3000)
    services.component(svc, world.sg)
    services.component(svc, world.de)
    world.rtc = svc
    return world




def deliver(now: datetime | None = None) -> dict[str, int]:
    r = notices.deliver_due(now=now)
    real = datetime.now(UTC)
    deliver_mail(now=max(now or real, real))
    return r


def mails_to(sink: MailSink, address: str) -> list[Any]:
    with sink.lock:
        return [m for rcpts, m in sink.received if address in rcpts]


def text(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content())


def path_of(body: str, marker: str) -> str:
    found = re.search(r"https?://\S+" + re.escape(marker) + r"\S+", body)
    assert found, body
    return urlsplit(found.group(0)).path


def open_sg(world: Any, **kw: Any) -> Any:
    return services.open_incident(
        service="rtc", region="sg", title_en="Loss on Singtel", title_zh="Singtel 丢包",
        body_en="Investigating packet loss.", body_zh="正在调查丢包问题。", severity="major",
        internal_note="SECRET-NOTE: Acme Live escalated, contract review", created_by=world.lead, **kw,
    )


def subscribe_form(client: Client, **fields: Any) -> Any:
    data = {"email": "", "language": "en", "scope": "all", **fields}
    return client.post("/status/subscribe", data)


def confirm_by_mail(sink: MailSink, address: str) -> StatusSubscriber:
    """Follow the confirmation link of the last e-mail to ``address`` like a person would:
    open it (a button), then press the button."""
    deliver_mail()
    got = mails_to(sink, address)
    assert got, f"no confirmation e-mail to {address}"
    path = path_of(text(got[-1]), "/status/subscribe/confirm/")
    c = Client()
    page = c.get(path)
    assert page.status_code == 200 and b'id="confirm"' in page.content
    assert StatusSubscriber.objects.get(email=address).confirmed_at is None  # GET confirms nothing
    done = c.post(path)
    assert done.status_code == 200, done.content
    return StatusSubscriber.objects.get(email=address)


def test_double_opt_in_nothing_before_confirmation_then_public_notices_then_unsubscribe(
    place: Any, mail: MailSink
) -> None:
    client = Client()
    resp = subscribe_form(client, email="Fan@Example.test", scope="some", components=["rtc/sg"])
    assert resp.status_code == 202 and b'id="result"' in resp.content
    sub = StatusSubscriber.objects.get()
    assert sub.email == "fan@example.test" and sub.components == ["rtc/sg"] and not sub.is_live

    # an incident before confirmation: the pending subscriber gets nothing
    inc = open_sg(place)
    assert not Notice.objects.filter(subscriber=sub).exists()
    deliver()
    confirmation = mails_to(mail, "fan@example.test")
    assert len(confirmation) == 1  # the confirmation only, no notice
    assert "Confirm" in confirmation[0]["Subject"] and "rtc/sg" in text(confirmation[0])

    sub = confirm_by_mail(mail, "fan@example.test")
    assert sub.is_live

    # the next public update reaches the subscriber: exactly once, public text only
    t0 = datetime.now(UTC)
    upd = services.post_update(
        inc, status="identified", body_en="Upstream route flap found.",
        internal_note="SECRET-NOTE-2: Acme Live threatens to churn", now=t0,
    )
    assert Notice.objects.filter(subscriber=sub, update=upd).count() == 1
    assert notices.fan_out(upd, now=t0) == 0  # idempotent: a second fan-out adds nothing
    deliver(t0)
    got = [m for m in mails_to(mail, "fan@example.test") if str(m["Message-ID"]).startswith("<notice.")]
    assert len(got) == 1
    body = text(got[0])
    assert "Identified" in got[0]["Subject"] and "Upstream route flap found." in body
    n = Notice.objects.get(subscriber=sub, update=upd)
    assert got[0]["Message-ID"] == f"<notice.{n.pk}@relaydesk.localhost>" and f"Notice ID: {n.pk}" in body
    assert n.organisation_id is None
    # tenancy: nothing internal, nothing about the affected customers
    for leak in ("SECRET-NOTE", "Acme", "Globex", "your organisation"):
        assert leak not in body and leak not in str(got[0]["Subject"])

    # one click on the unsubscribe link (no login, no form) and nothing more is sent
    path = path_of(body, "/status/unsubscribe/")
    resp = Client().get(path)
    assert resp.status_code == 200 and b"Unsubscribed" in resp.content
    sub.refresh_from_db()
    assert sub.unsubscribed_at is not None and not sub.is_live
    assert Client().get(path).status_code == 200  # a second click changes nothing
    upd2 = services.post_update(inc, status="resolved", body_en="Fixed.", now=t0 + timedelta(minutes=5))
    assert not Notice.objects.filter(subscriber=sub, update=upd2).exists()
    deliver(t0 + timedelta(minutes=5))
    assert len([m for m in mails_to(mail, "fan@example.test") if str(m["Message-ID"]).startswith("<notice.")]) == 1
    # the old confirmation link does not subscribe again
    assert subscribers.confirm(path_of(text(confirmation[0]), "/status/subscribe/confirm/").rsplit("/", 1)[1]) is None


def test_the_following_filter_and_maintenance_notices(place: Any, mail: MailSink) -> None:
    for email, comps in (("sg@x.test", ["rtc/sg"]), ("de@x.test", ["rtc/de"]), ("all@x.test", [])):
        subscribers.subscribe(email=email, components=comps, client="10.0.0.1")
        confirm_by_mail(mail, email)
    inc = open_sg(place)
    upd = inc.updates.get()
    told = set(Notice.objects.filter(update=upd, subscriber__isnull=False).values_list("address", flat=True))
    assert told == {"sg@x.test", "all@x.test"}
    now = datetime.now(UTC)
    m = services.schedule_maintenance(
        service="rtc", region="de", title_en="Router upgrade", body_en="Short blips possible.",
        starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=3), notice_hours=48, now=now,
    )
    services.maintenance_sweep(now=now + timedelta(seconds=1))
    told_m = set(Notice.objects.filter(maintenance=m, subscriber__isnull=False).values_list("address", flat=True))
    assert told_m == {"de@x.test", "all@x.test"}
    deliver(now + timedelta(seconds=5))
    maint = [m for m in mails_to(mail, "de@x.test") if str(m["Message-ID"]).startswith("<notice.")]
    assert len(maint) == 1 and "Router upgrade" in maint[0]["Subject"]
    assert "/status/unsubscribe/" in text(maint[0]) and "Globex" not in text(maint[0])
    # a component nobody follows: only the "all" subscriber hears (no affected organisation)
    svc2 = service("chat")
    inc2 = services.open_incident(service=svc2, region="de", title_en="Chat down", body_en="Looking.")
    told2 = set(Notice.objects.filter(incident=inc2).values_list("address", flat=True))
    assert told2 == {"all@x.test"}


def test_rapid_updates_are_coalesced_for_subscribers_too(place: Any, mail: MailSink) -> None:
    subscribers.subscribe(email="fan@x.test", language="zh-Hans", client="10.0.0.2")
    sub = confirm_by_mail(mail, "fan@x.test")
    t0 = datetime.now(UTC)
    inc = open_sg(place, now=t0)
    deliver(t0)
    services.post_update(inc, status="identified", body_en="Found.", body_zh="已找到原因。", now=t0 + timedelta(seconds=10))
    services.post_update(inc, status="monitoring", body_en="Watching.", body_zh="观察中。", now=t0 + timedelta(seconds=20))
    deliver(t0 + timedelta(seconds=30))
    deliver(t0 + timedelta(seconds=61))
    got = [m for m in mails_to(mail, "fan@x.test") if str(m["Message-ID"]).startswith("<notice.")]
    assert len(got) == 2  # the opening notice, then one with the latest state
    assert "调查中" in got[0]["Subject"] and "观察中" in got[1]["Subject"]
    assert "一键退订" in text(got[1])
    assert Notice.objects.filter(subscriber=sub, status=Notice.SUPERSEDED).count() == 1


def test_api_answers_the_same_for_any_address_and_422_names_the_field(place: Any, mail: MailSink) -> None:
    c = Client()

    def post(body: Any) -> tuple[int, Any]:
        r = c.post("/api/v1/status/subscribers", json.dumps(body), content_type="application/json")
        return r.status_code, r.json()

    first = post({"email": "new@x.test", "components": ["rtc/sg"]})
    assert first[0] == 202 and first[1]["status"] == "pending"
    confirm_by_mail(mail, "new@x.test")
    sent_before = OutboundEmail.objects.count()
    # known and confirmed, pending, unknown: the same answer; a confirmed address gets no mail
    # and its choices do not change
    assert post({"email": "new@x.test", "components": ["rtc/de"]}) == first
    assert OutboundEmail.objects.count() == sent_before
    assert StatusSubscriber.objects.get(email="new@x.test").components == ["rtc/sg"]
    assert post({"email": "pending@x.test"}) == first
    assert post({"email": "pending@x.test"}) == first  # resent at most once per 10 minutes
    assert OutboundEmail.objects.filter(to=["pending@x.test"]).count() == 1

    for body, field in (
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@x.test", "components": ["rtc/xx"]}, "components"),
        ({"email": "a@x.test", "components": ["nonsense"]}, "components"),
        ({"email": "a@x.test", "language": "fr"}, "language"),
        ({"email": "a@x.test", "webhook_url": "ftp://x.test/h", "webhook_secret": SECRET}, "webhook_url"),
        ({"email": "a@x.test", "webhook_url": "https://x.test/h"}, "webhook_secret"),
        ({"email": "a@x.test", "webhook_secret": SECRET}, "webhook_secret"),
        ({"email": "a@x.test", "organisation_id": 1}, "organisation_id"),
        ({}, "email"),
    ):
        code, out = post(body)
        assert code == 422, (body, out)
        assert field in out["detail"], (body, out)
    assert not StatusSubscriber.objects.filter(email="a@x.test").exists()
    # the token endpoints
    assert c.post("/api/v1/status/subscribers/confirm", json.dumps({"token": "forged"}), content_type="application/json").status_code == 400
    sub = StatusSubscriber.objects.get(email="pending@x.test")
    r = c.post("/api/v1/status/subscribers/confirm", json.dumps({"token": subscribers.confirm_token(sub)}), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = c.post("/api/v1/status/subscribers/unsubscribe", json.dumps({"token": subscribers.unsubscribe_token(sub.pk)}), content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "unsubscribed"


def test_a_forged_or_foreign_token_confirms_nothing(place: Any) -> None:
    subscribers.subscribe(email="a@x.test", client="10.0.0.3")
    subscribers.subscribe(email="b@x.test", client="10.0.0.3")
    a, b = StatusSubscriber.objects.order_by("pk")
    token = subscribers.confirm_token(a)
    assert Client().post(f"/status/subscribe/confirm/{token[:-2]}xx").status_code == 400
    assert subscribers.confirm(subscribers.unsubscribe_token(a.pk)) is None  # wrong action
    assert subscribers.unsubscribe(token) is None
    assert Client().get("/status/unsubscribe/garbage").status_code == 400
    assert not StatusSubscriber.objects.filter(confirmed_at__isnull=False).exists()
    assert subscribers.confirm(token) is not None and not StatusSubscriber.objects.get(pk=b.pk).is_live


def test_rate_limited_per_client_address(place: Any, settings: Any) -> None:
    settings.RELAYDESK_SUBSCRIBE_PER_IP = 3
    c = Client(REMOTE_ADDR="192.0.2.7")
    for i in range(3):
        r = c.post("/api/v1/status/subscribers", json.dumps({"email": f"u{i}@x.test"}), content_type="application/json")
        assert r.status_code == 202
    r = c.post("/api/v1/status/subscribers", json.dumps({"email": "u9@x.test"}), content_type="application/json")
    assert r.status_code == 429
    assert subscribe_form(c, email="u10@x.test").status_code == 429
    assert not StatusSubscriber.objects.filter(email__in=["u9@x.test", "u10@x.test"]).exists()
    other = Client(REMOTE_ADDR="192.0.2.8")
    assert subscribe_form(other, email="u11@x.test").status_code == 202


def test_subscribe_page_in_english_and_chinese_with_field_errors(place: Any) -> None:
    c = Client()
    en = c.get("/status/subscribe?lang=en")
    assert en.status_code == 200 and b"Subscribe to status notices" in en.content
    assert b'value="rtc/sg"' in en.content and en["Cache-Control"] == "no-store"
    zh = c.get("/status/subscribe?lang=zh-Hans")
    assert "订阅状态通告" in zh.content.decode() and "关注范围" in zh.content.decode()
    bad = subscribe_form(c, email="nope")
    assert bad.status_code == 422 and b'data-field="email"' in bad.content
    none = subscribe_form(c, email="a@x.test", scope="some")
    assert none.status_code == 422 and b'data-field="components"' in none.content
    assert b"enter a valid e-mail address" in bad.content
    # the same mistakes on the Chinese form are explained in Chinese
    bad_zh = subscribe_form(c, email="nope", language="zh-Hans", lang="zh-Hans")
    assert bad_zh.status_code == 422 and "请输入有效的电子邮件地址" in bad_zh.content.decode()
    none_zh = subscribe_form(c, email="a@x.test", scope="some", language="zh-Hans", lang="zh-Hans")
    assert "请至少选择一个" in none_zh.content.decode()
    assert not StatusSubscriber.objects.exists()
    page = c.get("/status/?lang=zh-Hans")
    assert b'href="/status/subscribe?lang=zh-Hans"' in page.content


def test_public_webhook_is_signed_public_and_sent_once(place: Any, mail: MailSink, hook_sink: WebhookSink) -> None:
    subscribers.subscribe(
        email="bot@x.test", components=["rtc/sg"], webhook_url=hook_sink.url + "/pub",
        webhook_secret=SECRET, client="10.0.0.4",
    )
    inc = open_sg(place)  # before confirmation: nothing
    assert notices.deliver_due()["sent"] >= 1
    assert hook_sink.requests == []
    sub = confirm_by_mail(mail, "bot@x.test")
    upd = services.post_update(
        inc, status="identified", body_en="Found it.", internal_note="SECRET-NOTE",
        now=datetime.now(UTC) + timedelta(minutes=2),
    )
    deliver(datetime.now(UTC) + timedelta(minutes=2))
    deliver(datetime.now(UTC) + timedelta(minutes=3))
    got = [(h, b) for h, b, code in hook_sink.requests if h["x-path"] == "/hook/pub" and code == 200]
    assert len(got) == 1
    headers, raw = got[0]
    assert notices.verify(SECRET, headers["x-relaydesk-timestamp"], raw, headers["x-relaydesk-signature"])
    payload = json.loads(raw)
    n = Notice.objects.get(subscriber=sub, channel="webhook")
    assert payload["notice_id"] == n.pk and payload["update"]["id"] == upd.pk
    assert "organisation_id" not in payload and "/status/unsubscribe/" in payload["subscriber"]["unsubscribe_url"]
    assert "SECRET-NOTE" not in raw.decode() and "Acme" not in raw.decode()
