"""Key accounts: the account manager is paged (e-mail at a real SMTP sink + a signed webhook to
routing's escalation chain at a real HTTP receiver) once per incident and manager — not per
update, not per account."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relaydesk.core.models import Organisation
from relaydesk.incidents import paging, services
from relaydesk.incidents.models import ManagerPage
from relaydesk.notify.models import OutboundEmail
from relaydesk.notify.outbox import deliver_due as deliver_mail
from relaydesk.routing.models import EscalationChain
from relaydesk.routing.paging import sign_body
from tests.conftest import make_staff
from tests.incidents.helpers import MailSink, WebhookSink, footprint

pytestmark = pytest.mark.django_db

SECRET = "chain-secret-123"


def open_sg(world: Any, **kw: Any) -> Any:
    return services.open_incident(
        service="rtc", region="sg", title_en="Loss on Singtel", body_en="Investigating.",
        severity="major", created_by=world.lead, **kw,
    )


def second_key_account(world: Any, manager: Any, name: str = "Bolt Media") -> Organisation:
    org = Organisation.objects.create(
        name=name, plan=world.enterprise, home_region=world.sg, is_key_account=True,
        account_manager=manager, timezone="Asia/Singapore",
    )
    footprint(org, world.rtc, world.sg, sessions=3000)
    return org


def test_manager_paged_once_per_incident_with_email_and_signed_webhook(
    place: Any, mail: MailSink, hook_sink: WebhookSink
) -> None:
    EscalationChain.objects.create(name="P1 global", priorities=["P1"], webhook_url=hook_sink.url, webhook_secret=SECRET)
    bolt = second_key_account(place, place.agent)  # the same manager as Acme
    t0 = datetime.now(UTC)
    inc = open_sg(place, now=t0)
    page = ManagerPage.objects.get()
    assert page.incident_id == inc.pk and page.manager_id == place.agent.pk
    assert sorted(page.organisations) == sorted([place.acme.pk, bolt.pk])
    assert page.webhook_status == "pending" and page.webhook_url == hook_sink.url
    # more updates page nobody again
    services.post_update(inc, status="identified", body_en="Found.", now=t0 + timedelta(minutes=1))
    services.post_update(inc, status="monitoring", body_en="Fixed, watching.", now=t0 + timedelta(minutes=2))
    assert ManagerPage.objects.count() == 1
    assert OutboundEmail.objects.filter(kind="page").count() == 1
    # the page e-mail reaches the manager exactly once at the SMTP server
    deliver_mail()
    with mail.lock:
        pages = [m for rcpts, m in mail.received if "[PAGE" in str(m["Subject"])]
    assert len(pages) == 1 and pages[0]["To"] == place.agent.email and "Acme Live" in str(pages[0]["Subject"])
    # the webhook, signed like routing's pages, once
    assert paging.deliver_manager_pages(now=t0 + timedelta(minutes=3))["pages_sent"] == 1
    assert paging.deliver_manager_pages(now=t0 + timedelta(minutes=10))["pages_sent"] == 0
    assert len(hook_sink.requests) == 1
    headers, body, _code = hook_sink.requests[0]
    assert headers["x-relaydesk-signature"] == sign_body(SECRET, int(headers["x-relaydesk-timestamp"]), body)
    payload = json.loads(body)
    assert payload["type"] == "incident_page" and payload["incident"]["id"] == inc.pk
    assert {o["name"] for o in payload["organisations"]} == {"Acme Live", "Bolt Media"}
    assert payload["target"]["email"] == place.agent.email
    page.refresh_from_db()
    assert page.webhook_status == "sent"
    # the staff API shows the page
    code, detail = place.api(place.lead, ["incidents:write"]).get(f"/api/v1/incidents/{inc.pk}")
    assert code == 200 and len(detail["manager_pages"]) == 1
    assert detail["manager_pages"][0]["manager_email"] == place.agent.email and detail["manager_pages"][0]["email_queued"]


def test_each_manager_paged_and_a_new_incident_pages_again(place: Any) -> None:
    other = make_staff("kam@relaydesk.test", "agent", place.apac, first_name="Kam")
    second_key_account(place, other, "Comet TV")
    inc = open_sg(place)
    assert set(ManagerPage.objects.filter(incident=inc).values_list("manager__email", flat=True)) == {
        place.agent.email, "kam@relaydesk.test"
    }
    assert ManagerPage.objects.filter(webhook_status="none").count() == 2  # no chain with a webhook
    services.post_update(inc, status="resolved", body_en="Resolved.")
    inc2 = open_sg(place)
    assert ManagerPage.objects.filter(incident=inc2).count() == 2
    assert OutboundEmail.objects.filter(kind="page").count() == 4


def test_page_webhook_500_is_retried(place: Any) -> None:
    sink = WebhookSink(fail_first=1).start()
    try:
        EscalationChain.objects.create(name="P1 global", priorities=["P1"], webhook_url=sink.url, webhook_secret=SECRET)
        open_sg(place)
        t0 = datetime.now(UTC)
        assert paging.deliver_manager_pages(now=t0)["pages_retried"] == 1
        assert paging.deliver_manager_pages(now=t0 + timedelta(seconds=5))["pages_sent"] == 0  # backoff
        assert paging.deliver_manager_pages(now=t0 + timedelta(seconds=16))["pages_sent"] == 1
        page = ManagerPage.objects.get()
        assert page.webhook_status == "sent" and page.webhook_attempts == 2
    finally:
        sink.stop()
