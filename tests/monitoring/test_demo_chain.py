"""The demo's story end to end, with nothing stubbed: the live feed degrades one carrier in
Singapore → the detection sweep opens an incident → notices go out to the affected demo
customers through a real SMTP server on loopback → the public status page shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from relaydesk.incidents import notices
from relaydesk.incidents.models import Incident, Notice
from relaydesk.monitoring import demo, detect, live
from relaydesk.notify.outbox import deliver_due as deliver_mail
from tests.incidents.conftest import mail  # noqa: F401  (a real SMTP server on loopback)
from tests.incidents.helpers import MailSink
from tests.monitoring.test_demo_feed import SEED, demo_world_loaded  # noqa: F401


@pytest.mark.django_db
def test_demo_degradation_reaches_customers_and_the_status_page(
    demo_world_loaded: datetime, mail: MailSink  # noqa: F811
) -> None:
    now = demo_world_loaded
    demo.load(SEED, now, days=2.2)  # the daily baseline needs two days
    t0 = now + timedelta(seconds=30)
    live.feed(t0)
    detect.run_detection(t0 + timedelta(seconds=10))
    assert not Incident.objects.exists()  # nothing before the degradation

    t1 = t0 + timedelta(seconds=120 + 5 * 60)  # five minutes into the degradation
    live.feed(t1)
    detect.run_detection(t1 + timedelta(seconds=10))
    inc = Incident.objects.get()
    assert inc.region.code == "sg" and inc.status == "investigating"

    queued = Notice.objects.filter(incident=inc)
    assert queued.exists()
    notices.deliver_due(now=t1 + timedelta(seconds=20))
    deliver_mail(now=max(t1, datetime.now(UTC)) + timedelta(seconds=20))
    got: list[Any] = mail.notices()
    assert got, "no notice reached the SMTP server"
    recipients = {rcpts[0] for rcpts, _m in got}
    emailed = set(queued.filter(channel="email").values_list("address", flat=True))
    assert recipients == emailed
    inc.refresh_from_db()
    assert inc.first_notice_at is not None

    body = Client().get("/api/v1/status/summary", {"lang": "en"}).json()
    sg = [c for c in body["components"] if c["region"] == "sg" and c["service"] == inc.service.code]
    assert sg and sg[0]["status"] != "operational"
    assert [i["id"] for i in body["incidents"]] == [inc.pk]
    page = Client().get("/status/")
    assert page.status_code == 200 and str(inc.title_en) in page.content.decode()


@pytest.mark.django_db
def test_self_diagnosis_on_the_demo_world_names_the_degraded_carrier(
    demo_world_loaded: datetime,  # noqa: F811
) -> None:
    """A demo customer with traffic in Singapore asks "is it us or the network?" for the
    degraded minutes: the verdict blames the network, on the carrier the demo degraded."""
    from relaydesk.core.models import User
    from relaydesk.kb import diagnosis
    from relaydesk.monitoring.models import FootprintHour

    now = demo_world_loaded
    demo.load(SEED, now, days=2.2)
    t0 = now + timedelta(seconds=30)
    live.feed(t0)
    t1 = t0 + timedelta(seconds=120 + 12 * 60)  # the whole 10-minute degradation is fed
    live.feed(t1)
    org_id = (
        FootprintHour.objects.filter(region__code="sg").order_by("-sessions")
        .values_list("organisation_id", flat=True).first()
    )
    customer = User.objects.filter(organisation_id=org_id, kind=User.KIND_CUSTOMER).first()
    assert customer is not None
    params = {
        "region": "sg", "service": "rtc",
        "start": (t0 + timedelta(seconds=60)).isoformat(), "end": t1.isoformat(),
    }
    d = diagnosis.run(customer, params, "en", now=t1 + timedelta(seconds=30))
    assert d.degraded and d.verdict_kind in ("network", "incident"), d.verdict
    assert any("4657" in str(c) or "starhub" in str(c).lower() for c in d.carriers), d.carriers
    assert "StarHub" in d.verdict or "4657" in d.verdict, d.verdict
    # and the quiet morning before it is "not the network"
    calm = diagnosis.run(
        customer, {**params, "start": (now - timedelta(hours=3)).isoformat(), "end": (now - timedelta(hours=2)).isoformat()},
        "en", now=t1 + timedelta(seconds=30),
    )
    assert not calm.degraded, calm.verdict
