"""Reports over a hand-built world made through the real ticket services: known first
responses give known medians and p90s, compliance, the hour-of-week heatmap in the viewer's
time zone across DST, backlog, breaches, incremental facts equal to a rebuild, CSV, tenancy
and bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from relaydesk.reports import facts, stats
from relaydesk.reports.models import FactCursor, TicketFact
from relaydesk.sla.models import ClockEvent
from relaydesk.sla.sweep import sweep
from relaydesk.tickets import services
from relaydesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, 10:00 UTC; Europe/Berlin moves to summer time on Sunday 29 March.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MARCH = {"start": "2026-03-01", "end": "2026-03-31", "tz": "UTC"}


def _ticket(user: Any, priority: str = "P1", at: datetime = T0, **kw: Any) -> Ticket:
    return services.create_ticket(actor=user, requester=user, subject=f"stutter {priority}", priority=priority, now=at, **kw)


def _reply(t: Ticket, agent: Any, after: timedelta) -> None:
    services.add_message(t, author=agent, body="We are on it", now=t.created_at + after)


def _p1_world(world: Any) -> list[Ticket]:
    """Five Enterprise P1s (24x7, 15 min target) answered after 2, 4, 6, 8 and 20 minutes."""
    out = []
    for i, minutes in enumerate((2, 4, 6, 8, 20)):
        t = _ticket(world.alice, "P1", T0 + timedelta(days=i))
        _reply(t, world.agent, timedelta(minutes=minutes))
        out.append(t)
    return out


def _snapshot() -> list[tuple[Any, ...]]:
    return list(TicketFact.objects.order_by("ticket_id").values_list(*[c if c != "ticket_id" else "ticket" for c in facts.FACT_COLUMNS]))


def test_frt_distribution_from_known_first_responses(world: Any) -> None:
    _p1_world(world)
    code, body = world.api(world.lead).get("/api/v1/reports/frt", {**MARCH, "by": "priority"})
    assert code == 200, body
    (p1,) = body["rows"]
    assert p1["group"] == "P1" and p1["tickets"] == 5 and p1["measured"] == 5
    # 120, 240, 360, 480, 1200 s: median 360; p90 at rank 3.6 -> 480 + 0.6 * 720 = 912.
    assert p1["median_s"] == 360
    assert p1["p90_s"] == pytest.approx(912)
    assert p1["p95_s"] == pytest.approx(1056)
    # A 24x7 clock: business time equals wall-clock time.
    assert p1["business_median_s"] == 360
    assert (p1["met"], p1["late"], p1["compliance_pct"]) == (4, 1, 80.0)
    assert body["total"]["median_s"] == 360


def test_business_time_differs_from_wall_clock_on_a_business_calendar(world: Any) -> None:
    # Standard plan P3 on Singapore's 09:00-18:00 calendar: created Friday 17:00 SGT and
    # answered Monday 10:00 SGT = 65 h of wall-clock time, 2 business hours.
    fri = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    t = _ticket(world.bob, "P3", fri)
    _reply(t, world.agent, timedelta(hours=65))
    code, body = world.api(world.lead).get("/api/v1/reports/frt", {**MARCH, "by": "plan"})
    assert code == 200, body
    (row,) = body["rows"]
    assert row["label"] == world.standard.name
    assert row["median_s"] == 65 * 3600
    assert row["business_median_s"] == 2 * 3600


def test_ttr_and_compliance(world: Any) -> None:
    a, b, *_ = _p1_world(world)
    services.update_ticket(a, actor=world.agent, changes={"status": "solved"}, now=a.created_at + timedelta(hours=1))
    services.update_ticket(b, actor=world.agent, changes={"status": "solved"}, now=b.created_at + timedelta(hours=5))
    api = world.api(world.lead)
    code, ttr = api.get("/api/v1/reports/ttr", {**MARCH, "by": "priority"})
    assert code == 200
    (row,) = ttr["rows"]
    assert row["measured"] == 2 and row["median_s"] == pytest.approx(3 * 3600)
    code, comp = api.get("/api/v1/reports/compliance", {**MARCH, "by": "priority"})
    assert code == 200
    (row,) = comp["rows"]
    assert (row["frt_met"], row["frt_late"], row["frt_compliance_pct"]) == (4, 1, 80.0)
    # Resolution (4 h target): one in time, one late; three still running in the past and
    # not swept yet count as pending until the sweep records their breach.
    assert (row["ttr_met"], row["ttr_late"], row["ttr_pending"]) == (1, 1, 3)
    sweep(now=datetime(2026, 4, 30, tzinfo=UTC))
    facts.catch_up()
    code, comp = api.get("/api/v1/reports/compliance", {**MARCH, "by": "priority"})
    (row,) = comp["rows"]
    assert (row["ttr_met"], row["ttr_late"], row["ttr_breached"], row["ttr_pending"]) == (1, 1, 3, 0)
    assert row["ttr_compliance_pct"] == 20.0


def test_heatmap_buckets_in_the_viewer_zone_across_dst(world: Any) -> None:
    # Saturday 28 March 10:30 UTC is 11:30 in Berlin (CET); Monday 30 March 10:30 UTC is
    # 12:30 (CEST); in New York (already on summer time) 06:30 on both days.
    sat = datetime(2026, 3, 28, 10, 30, tzinfo=UTC)
    mon = datetime(2026, 3, 30, 10, 30, tzinfo=UTC)
    for at in (sat, mon):
        t = _ticket(world.alice, "P1", at)
        _reply(t, world.agent, timedelta(minutes=5))
    api = world.api(world.lead)

    def cells(tz: str) -> dict[tuple[str, int], dict[str, Any]]:
        code, body = api.get("/api/v1/reports/heatmap", {"start": "2026-03-01", "end": "2026-03-31", "tz": tz})
        assert code == 200, body
        assert len(body["rows"]) == 168
        return {(r["weekday"], r["hour"]): r for r in body["rows"] if r["tickets"]}

    berlin = cells("Europe/Berlin")
    assert set(berlin) == {("Sat", 11), ("Mon", 12)}
    assert berlin[("Sat", 11)]["median_s"] == 300 and berlin[("Sat", 11)]["compliance_pct"] == 100.0
    assert set(cells("America/New_York")) == {("Sat", 6), ("Mon", 6)}
    assert set(cells("UTC")) == {("Sat", 10), ("Mon", 10)}


def test_backlog_per_local_day(world: Any) -> None:
    a = _ticket(world.alice, "P2", datetime(2026, 3, 2, 23, 30, tzinfo=UTC))  # Mar 3 in Singapore
    b = _ticket(world.alice, "P2", datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    _reply(a, world.agent, timedelta(minutes=5))
    services.update_ticket(a, actor=world.agent, changes={"status": "solved"}, now=datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    _ = b
    api = world.api(world.lead)
    code, body = api.get("/api/v1/reports/backlog", {"start": "2026-03-02", "end": "2026-03-05", "tz": "UTC"})
    assert code == 200, body
    assert [r["open"] for r in body["rows"]] == [1, 2, 1, 1]
    code, body = api.get("/api/v1/reports/backlog", {"start": "2026-03-02", "end": "2026-03-05", "tz": "Asia/Singapore"})
    assert [r["open"] for r in body["rows"]] == [0, 2, 1, 1]
    assert [r["created"] for r in body["rows"]] == [0, 2, 0, 0]


def test_breaches_list_and_probe_exclusion(world: Any) -> None:
    from relaydesk.reports.probe import enrol
    from tests.conftest import make_customer

    _p1_world(world)
    prober = make_customer("probe@acme.test", world.acme)
    enrol(prober)
    probe = _ticket(prober, "P1", T0 + timedelta(hours=3), tags=[facts.PROBE_TAG])
    _reply(probe, world.agent, timedelta(minutes=40))
    forged = _ticket(world.alice, "P1", T0 + timedelta(hours=4), tags=[facts.PROBE_TAG])  # a customer's own tag
    _reply(forged, world.agent, timedelta(minutes=3))
    api = world.api(world.lead)
    code, body = api.get("/api/v1/reports/breaches", MARCH)
    assert code == 200
    assert body["total"] == 1
    assert body["rows"][0]["breached"] == "frt" and body["rows"][0]["frt_wall_s"] == 1200
    code, body = api.get("/api/v1/reports/frt", {**MARCH, "population": "probes"})
    assert body["total"]["tickets"] == 1 and body["total"]["median_s"] == 2400
    code, body = api.get("/api/v1/reports/frt", MARCH)
    assert body["total"]["tickets"] == 6  # the probe is not a customer metric; the tagged customer ticket is


def test_incremental_facts_equal_a_full_rebuild(world: Any) -> None:
    tickets = _p1_world(world)
    from relaydesk.reports.probe import enrol

    t = _ticket(world.bob, "P3", T0 + timedelta(hours=1), tags=["jitter"])
    services.update_ticket(t, actor=world.agent, changes={"status": "pending_customer", "team": world.apac}, now=T0 + timedelta(hours=2))
    services.add_message(t, author=world.bob, body="here are logs", now=T0 + timedelta(hours=30))
    services.update_ticket(tickets[2], actor=world.agent, changes={"tags": [facts.PROBE_TAG]}, now=T0 + timedelta(hours=31))
    enrol(world.bob, force=True)  # bob's tickets become probes
    services.update_ticket(tickets[0], actor=world.agent, changes={"status": "solved"}, now=T0 + timedelta(hours=1))
    services.update_ticket(tickets[0], actor=world.alice, changes={"status": "open"}, now=T0 + timedelta(hours=2))
    services.update_ticket(tickets[0], actor=world.agent, changes={"status": "solved"}, now=T0 + timedelta(hours=3))
    services.update_ticket(tickets[1], actor=world.agent, changes={"status": "closed"}, now=T0 + timedelta(days=2))
    _ticket(world.carol, "P2", T0 + timedelta(days=3), channel="email")
    sweep(now=datetime(2026, 4, 30, tzinfo=UTC))
    facts.catch_up()
    incremental = _snapshot()
    assert len(incremental) == Ticket.objects.count() == 7
    assert TicketFact.objects.get(ticket=t).is_probe
    assert not TicketFact.objects.get(ticket=tickets[2]).is_probe  # a tag does not make a probe
    TicketFact.objects.all().delete()
    call_command("reports", "rebuild", "--chunk", "3", stdout=io.StringIO())
    assert _snapshot() == incremental
    assert FactCursor.objects.get(name=facts.CURSOR).last_event_id == ClockEvent.objects.order_by("-pk").first().pk


def test_catch_up_brings_in_sweep_breaches_and_moves_the_cursor_after_the_lag(world: Any) -> None:
    t = _ticket(world.alice, "P1", T0)
    assert TicketFact.objects.get(ticket=t).frt_outcome == stats.PENDING
    sweep(now=T0 + timedelta(hours=1))  # the sweep sends no ticket signal
    assert TicketFact.objects.get(ticket=t).frt_outcome == stats.PENDING
    assert facts.catch_up() >= 1
    assert TicketFact.objects.get(ticket=t).frt_outcome == stats.BREACHED
    last = ClockEvent.objects.order_by("-pk").first()
    assert FactCursor.objects.get(name=facts.CURSOR).last_event_id < last.pk  # events are young
    facts.catch_up(now=datetime.now(UTC) + timedelta(minutes=5))
    assert FactCursor.objects.get(name=facts.CURSOR).last_event_id == last.pk
    assert facts.catch_up(now=datetime.now(UTC) + timedelta(minutes=5)) == 0


def test_csv_export(world: Any) -> None:
    _p1_world(world)
    c = Client()
    c.force_login(world.lead)
    resp = c.get("/api/v1/reports/frt", {**MARCH, "by": "priority", "format": "csv"})
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/csv")
    assert resp["Content-Disposition"] == 'attachment; filename="relaydesk-frt-by-priority-2026-03-01-2026-03-31.csv"'
    rows = list(csv.reader(io.StringIO(resp.content.decode())))
    assert rows[0][:3] == ["group", "label", "tickets"]
    assert rows[1][0] == "P1" and rows[1][rows[0].index("median_s")] == "360"
    assert rows[-1][1] == "all"
    for path in ("compliance", "heatmap", "backlog", "breaches", "ttr", "kb-deflection", "kb-articles", "proactive-share", "time-to-notice"):
        resp = c.get(f"/api/v1/reports/{path}", {**MARCH, "format": "csv"})
        assert resp.status_code == 200, path
        assert resp["Content-Disposition"].startswith('attachment; filename="relaydesk-'), path
        header = resp.content.decode().splitlines()[0]
        assert "," in header, path


def test_csv_neutralises_formulas(world: Any) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="=HYPERLINK(\"x\")", priority="P1", now=T0)
    _reply(t, world.agent, timedelta(minutes=30))
    c = Client()
    c.force_login(world.lead)
    resp = c.get("/api/v1/reports/breaches", {**MARCH, "format": "csv"})
    rows = list(csv.reader(io.StringIO(resp.content.decode())))
    assert rows[1][rows[0].index("subject")].startswith("'=")


ENDPOINTS = ["frt", "ttr", "compliance", "heatmap", "backlog", "breaches", "proactive-share", "time-to-notice", "kb-deflection", "kb-articles"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_customers_get_403(world: Any, path: str) -> None:
    _p1_world(world)
    code, body = world.api(world.alice).get(f"/api/v1/reports/{path}", MARCH)
    assert code == 403, body
    assert "staff" in body["detail"]


def test_anonymous_gets_401(world: Any) -> None:
    assert Client().get("/api/v1/reports/frt").status_code == 401


def test_agents_see_only_what_they_serve(world: Any) -> None:
    _p1_world(world)  # Acme (APAC)
    g = _ticket(world.carol, "P1", T0)  # Globex (EMEA)
    _reply(g, world.agent_emea, timedelta(minutes=50))
    code, body = world.api(world.agent_emea).get("/api/v1/reports/frt", MARCH)
    assert code == 200
    assert body["total"]["tickets"] == 1 and body["total"]["median_s"] == 3000
    code, body = world.api(world.agent_emea).get("/api/v1/reports/breaches", MARCH)
    assert [r["organisation"] for r in body["rows"]] == [world.globex.name]
    code, body = world.api(world.agent).get("/api/v1/reports/frt", MARCH)
    assert body["total"]["tickets"] == 5
    code, body = world.api(world.lead).get("/api/v1/reports/frt", MARCH)
    assert body["total"]["tickets"] == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tz": "Mars/Base"}, "tz"),
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"start": "2020-01-01", "end": "2026-03-01"}, "start"),
        ({"by": "colour"}, "by"),
        ({"format": "xml"}, "format"),
        ({"population": "robots"}, "population"),
        ({"priority": "P9"}, "priority"),
    ],
)
def test_bad_input_names_the_field(world: Any, params: dict[str, str], field: str) -> None:
    code, body = world.api(world.lead).get("/api/v1/reports/frt", params)
    assert code == 422, body
    assert body["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(("params", "field"), [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"offset": "-1"}, "offset")])
def test_bad_paging(world: Any, params: dict[str, str], field: str) -> None:
    code, body = world.api(world.lead).get("/api/v1/reports/breaches", params)
    assert code == 422 and body["detail"].startswith(f"{field}:")


def test_a_failing_fact_write_never_refuses_the_ticket_change(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import DatabaseError

    def boom(*a: Any, **k: Any) -> None:
        raise DatabaseError("simulated")

    monkeypatch.setattr(facts, "_upsert", boom)
    t = _ticket(world.alice, "P1", T0)
    assert Ticket.objects.filter(pk=t.pk).exists()
    assert not TicketFact.objects.filter(ticket=t).exists()
    monkeypatch.undo()
    facts.catch_up()  # its clock events bring it in
    assert TicketFact.objects.filter(ticket=t).exists()


def test_kb_deflection_comes_from_the_knowledge_base(world: Any) -> None:
    from relaydesk.kb import deflection
    from relaydesk.kb.models import Article, Category

    cat = Category.objects.create(slug="join-failures", titles={"en": "Join failures"})
    art = Article.objects.create(slug="join-error-110", category=cat)
    at = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    deflection.record(kind="opened", article=art, user=world.alice, now=at)  # read, then filed
    _ticket(world.alice, "P3", at + timedelta(minutes=5))
    deflection.record(kind="opened", article=art, user=world.bob, now=at)  # read, did not file
    code, body = world.api(world.lead).get("/api/v1/reports/kb-deflection", MARCH)
    assert code == 200 and body["available"] is True
    (row,) = body["rows"]
    assert row["category"] == "join-failures"
    assert (row["deflected"], row["filed"]) == (1, 1)
    assert body["total"]["deflection_rate"] == 0.5


def test_kb_deflection_per_article_and_on_the_page(world: Any) -> None:
    from relaydesk.kb import deflection
    from relaydesk.kb.models import Article, Category

    cat = Category.objects.create(slug="join-failures", titles={"en": "Join failures"})
    busy = Article.objects.create(slug="join-error-110", category=cat)
    quiet = Article.objects.create(slug="firewall-ports", category=cat)
    at = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    deflection.record(kind="opened", article=busy, user=world.alice, now=at)  # read, then filed
    _ticket(world.alice, "P3", at + timedelta(minutes=5))
    deflection.record(kind="opened", article=busy, user=world.bob, now=at)  # read, did not file
    deflection.record(kind="opened", article=quiet, user=world.carol, now=at)  # read, did not file
    code, body = world.api(world.lead).get("/api/v1/reports/kb-articles", MARCH)
    assert code == 200 and body["available"] is True
    rows = {r["article"]: r for r in body["rows"]}
    assert (rows["join-error-110"]["deflected"], rows["join-error-110"]["filed"]) == (1, 1)
    assert rows["join-error-110"]["deflection_rate"] == 0.5 and rows["join-error-110"]["category"] == "join-failures"
    assert (rows["firewall-ports"]["deflected"], rows["firewall-ports"]["filed"]) == (1, 0)
    assert body["total"] == {"deflected": 2, "filed": 1, "deflection_rate": round(2 / 3, 4)}
    code, body = world.api(world.lead).get("/api/v1/reports/kb-articles", {"start": "2026-04-01", "end": "2026-04-30", "tz": "UTC"})
    assert body["rows"] == []  # the reads were in March

    c = Client()
    c.force_login(world.lead)
    html = c.get("/reports/", MARCH).content.decode()
    kb = html.split('id="kb"')[1].split("</section>")[0]
    assert "<svg" in kb and "66.7%" in kb  # the category: 2 deflected, 1 filed
    articles = html.split('id="kb-articles"')[1].split("</section>")[0]
    assert "<svg" in articles and "firewall-ports" in articles and "100.0%" in articles and "50.0%" in articles
    assert "/api/v1/reports/kb-articles?" in articles


def _mixed_world(world: Any) -> None:
    """Five P2s across regions, teams, channels and languages, answered after known minutes:

    alice (Acme, Singapore, en)   e-mail  APAC   2 min
    alice                         portal  APAC   6 min
    bob (Panda, Singapore, zh)    portal  APAC  10 min
    carol (Globex, Frankfurt, en) API     EMEA  30 min
    carol                         API     —     50 min
    """
    for user, channel, team, minutes in (
        (world.alice, "email", world.apac, 2),
        (world.alice, "portal", world.apac, 6),
        (world.bob, "portal", world.apac, 10),
        (world.carol, "api", world.emea, 30),
        (world.carol, "api", None, 50),
    ):
        t = _ticket(user, "P2", T0 + timedelta(hours=minutes), channel=channel)
        if team is not None:
            services.update_ticket(t, actor=world.lead, changes={"team": team}, now=t.created_at + timedelta(seconds=30))
        _reply(t, world.agent, timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        # label -> (tickets, median first response in seconds), in the report's order
        ("region", {"Singapore": (3, 360), "Frankfurt": (2, 2400)}),
        ("team", {"APAC": (3, 360), "EMEA": (1, 1800), "—": (1, 3000)}),
        ("channel", {"Portal": (2, 480), "E-mail": (1, 120), "API": (2, 2400)}),
        ("language", {"English": (4, 1080), "简体中文": (1, 600)}),
    ],
)
def test_breakdowns_by_region_team_channel_and_language(world: Any, by: str, expected: dict[str, tuple[int, int]]) -> None:
    _mixed_world(world)
    api = world.api(world.lead)
    code, body = api.get("/api/v1/reports/frt", {**MARCH, "by": by})
    assert code == 200, body
    assert [(r["label"], (r["tickets"], r["median_s"])) for r in body["rows"]] == list(expected.items())
    assert body["total"]["tickets"] == 5 and body["total"]["median_s"] == 600
    code, comp = api.get("/api/v1/reports/compliance", {**MARCH, "by": by})
    assert code == 200
    assert {r["label"]: r["tickets"] for r in comp["rows"]} == {k: v[0] for k, v in expected.items()}
    code, ttr = api.get("/api/v1/reports/ttr", {**MARCH, "by": by})
    assert code == 200 and sorted(r["label"] for r in ttr["rows"]) == sorted(expected)
