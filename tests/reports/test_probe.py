"""Off-hours audit probes: filed through the customer path by an enrolled probe account, kept
out of customer metrics, reported on their own, once per scheduled hour; a customer who tags a
ticket ``audit-probe`` stays in the customer metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from relaydesk.reports import probe, queries
from relaydesk.reports.facts import PROBE_TAG
from relaydesk.reports.models import ProbeAccount, TicketFact
from relaydesk.tickets.models import Ticket
from relaydesk.tickets.services import add_message, create_ticket


def test_schedule_parsing_and_errors() -> None:
    assert probe.parse_schedule("mon 03, Sat 22 ,") == {(0, 3), (5, 22)}
    for bad in ("monday", "xyz 03", "mon 24", "mon three"):
        with pytest.raises(probe.ScheduleError):
            probe.parse_schedule(bad)


def test_probe_over_http_is_a_real_customer_ticket(world: Any, live_server: Any) -> None:
    assert probe.enrol(world.bob) is True
    api = world.api(world.bob)
    answer = probe.file_probe_http(live_server.url, api.token, priority="P2")
    t = Ticket.objects.get(pk=answer["id"])
    assert t.requester == world.bob and t.channel == "api"
    assert list(t.tags.values_list("name", flat=True)) == [PROBE_TAG]
    assert TicketFact.objects.get(ticket_id=t.pk).is_probe


def test_a_customer_tagging_audit_probe_stays_in_customer_metrics(world: Any, live_server: Any) -> None:
    probe.enrol(world.bob)
    # Alice (not a probe account) files over the API with the probe tag, like a probe would.
    api = world.api(world.alice)
    forged = probe.file_probe_http(live_server.url, api.token, priority="P1")
    code, tagged = api.post("/api/v1/tickets", {"subject": "Calls drop", "description": "x", "priority": "P2", "tags": [PROBE_TAG]})
    assert code in (200, 201), tagged
    for tid in (forged["id"], tagged["id"]):
        t = Ticket.objects.get(pk=tid)
        assert PROBE_TAG in t.tags.values_list("name", flat=True)
        assert TicketFact.objects.get(ticket_id=tid).is_probe is False
    real = probe.file_probe_http(live_server.url, world.api(world.bob).token)
    assert TicketFact.objects.get(ticket_id=real["id"]).is_probe is True
    # Adding the tag later does not make a probe either, nor does a rebuild.
    other = create_ticket(actor=world.alice, requester=world.alice, subject="Echo on calls")
    from relaydesk.tickets.services import update_ticket

    update_ticket(other, actor=world.alice, changes={"tags": [PROBE_TAG]})
    assert TicketFact.objects.get(ticket_id=other.pk).is_probe is False
    call_command("reports", "rebuild", stdout=StringIO())
    assert set(TicketFact.objects.filter(is_probe=True).values_list("ticket_id", flat=True)) == {real["id"]}
    lead = world.lead
    today = datetime.now(UTC).date().isoformat()
    customers = queries.distribution("frt", "priority", queries.parse_params({"start": today, "end": today, "tz": "UTC"}, lead))
    assert customers["total"]["tickets"] == 3  # the forged, the tagged and the later-tagged ticket
    probes = queries.distribution("frt", "priority", queries.parse_params({"start": today, "end": today, "tz": "UTC", "population": "probes"}, lead))
    assert probes["total"]["tickets"] == 1


def test_enrol_and_withdraw_recompute_the_facts_of_the_account(world: Any) -> None:
    mine = create_ticket(actor=world.bob, requester=world.bob, subject="A real question")
    with pytest.raises(probe.ScheduleError, match="already filed 1 ticket"):
        probe.enrol(world.bob)  # bob looks like a real customer
    with pytest.raises(probe.ScheduleError, match="only a customer account"):
        probe.enrol(world.agent)
    assert not ProbeAccount.objects.exists()
    assert probe.enrol(world.bob, force=True) is True
    assert probe.enrol(world.bob) is False  # already enrolled
    assert TicketFact.objects.get(ticket=mine).is_probe is True
    assert probe.withdraw(world.bob) is True
    assert TicketFact.objects.get(ticket=mine).is_probe is False
    assert probe.withdraw(world.bob) is False


def test_enrol_withdraw_and_accounts_commands(world: Any) -> None:
    from django.core.management.base import CommandError

    out = StringIO()
    call_command("audit", "enrol", "--email", world.carol.email, stdout=out)
    assert json.loads(out.getvalue()) == {"action": "enrol", "email": world.carol.email, "changed": True}
    out = StringIO()
    call_command("audit", "accounts", stdout=out)
    assert json.loads(out.getvalue()) == {"accounts": [world.carol.email]}
    create_ticket(actor=world.alice, requester=world.alice, subject="A real question")
    with pytest.raises(CommandError, match="without the audit-probe tag"):
        call_command("audit", "enrol", "--email", world.alice.email)
    with pytest.raises(CommandError, match="give --email"):
        call_command("audit", "enrol")
    out = StringIO()
    call_command("audit", "withdraw", "--email", world.carol.email, stdout=out)
    assert json.loads(out.getvalue())["changed"] is True
    assert not ProbeAccount.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_sweep_files_once_per_scheduled_hour_and_reports_apart(world: Any, settings: Any) -> None:
    world.bob.timezone = "Asia/Shanghai"
    world.bob.save()
    settings.RELAYDESK_AUDIT_PROBE_SCHEDULE = "wed 03"
    settings.RELAYDESK_AUDIT_PROBE_EMAIL = world.bob.email
    at = datetime(2026, 11, 24, 19, 10, tzinfo=UTC)  # Wednesday 03:10 in Shanghai
    assert probe.probe_sweep(at - timedelta(hours=1)) == {"probes": 0}  # 02:10: not scheduled
    assert probe.probe_sweep(at) == {"probes": 1}
    assert ProbeAccount.objects.filter(user=world.bob).exists()  # the configured account is enrolled
    assert probe.probe_sweep(at + timedelta(minutes=20)) == {"probes": 0}  # same slot: once
    t = Ticket.objects.get(tags__name=PROBE_TAG)
    create_ticket(actor=world.alice, requester=world.alice, subject="Real customer", now=at)
    add_message(t, author=world.agent, body="Answered the probe", now=at + timedelta(minutes=4))

    lead = world.lead
    probes = queries.heatmap(queries.parse_params({"start": "2026-11-20", "end": "2026-11-26", "tz": "Asia/Shanghai", "population": "probes"}, lead))
    cell = probes["rows"][2 * 24 + 3]  # Wednesday 03:00
    assert cell["tickets"] == 1 and cell["median_s"] == pytest.approx(230, abs=60)
    customers = queries.heatmap(queries.parse_params({"start": "2026-11-20", "end": "2026-11-26", "tz": "Asia/Shanghai"}, lead))
    assert sum(r["tickets"] for r in customers["rows"]) == 1  # the probe is not a customer ticket

    out = StringIO()
    call_command("audit", "report", "--start", "2026-11-20", "--end", "2026-11-26", "--tz", "Asia/Shanghai", stdout=out)
    rows = json.loads(out.getvalue())["rows"]
    assert [(r["weekday"], r["hour"], r["tickets"]) for r in rows] == [(cell["weekday"], 3, 1)]


def test_probe_command_names_what_is_missing(world: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--url and --token, or --email"):
        call_command("audit", "probe")
    with pytest.raises(CommandError, match="no active customer"):
        call_command("audit", "probe", "--email", "nobody@example.test")
    with pytest.raises(CommandError, match="not enrolled"):
        call_command("audit", "probe", "--email", world.carol.email)
    call_command("audit", "enrol", "--email", world.carol.email, stdout=StringIO())
    out = StringIO()
    call_command("audit", "probe", "--email", world.carol.email, stdout=out)
    tid = json.loads(out.getvalue())["id"]
    assert Ticket.objects.filter(pk=tid, tags__name=PROBE_TAG).exists()
    assert TicketFact.objects.get(ticket_id=tid).is_probe


@pytest.mark.django_db(transaction=True)
def test_the_sweep_refuses_to_enrol_a_real_customer(world: Any, settings: Any) -> None:
    create_ticket(actor=world.alice, requester=world.alice, subject="A real question")
    settings.RELAYDESK_AUDIT_PROBE_SCHEDULE = "wed 03"
    settings.RELAYDESK_AUDIT_PROBE_EMAIL = world.alice.email
    at = datetime(2026, 11, 25, 3, 10, tzinfo=UTC)
    result = probe.probe_sweep(at)
    assert result["probes"] == 0 and "without the audit-probe tag" in result["error"]
    assert not ProbeAccount.objects.exists() and Ticket.objects.count() == 1
