"""Off-hours audit probes: filed through the customer path, kept out of customer metrics,
reported on their own, once per scheduled hour."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from relaydesk.reports import probe, queries
from relaydesk.reports.facts import PROBE_TAG
from relaydesk.reports.models import TicketFact
from relaydesk.tickets.models import Ticket
from relaydesk.tickets.services import add_message, create_ticket


def test_schedule_parsing_and_errors() -> None:
    assert probe.parse_schedule("mon 03, Sat 22 ,") == {(0, 3), (5, 22)}
    for bad in ("monday", "xyz 03", "mon 24", "mon three"):
        with pytest.raises(probe.ScheduleError):
            probe.parse_schedule(bad)


def test_probe_over_http_is_a_real_customer_ticket(world: Any, live_server: Any) -> None:
    api = world.api(world.bob)
    answer = probe.file_probe_http(live_server.url, api.token, priority="P2")
    t = Ticket.objects.get(pk=answer["id"])
    assert t.requester == world.bob and t.channel == "api"
    assert list(t.tags.values_list("name", flat=True)) == [PROBE_TAG]
    assert TicketFact.objects.get(ticket_id=t.pk).is_probe


@pytest.mark.django_db(transaction=True)
def test_sweep_files_once_per_scheduled_hour_and_reports_apart(world: Any, settings: Any) -> None:
    world.bob.timezone = "Asia/Shanghai"
    world.bob.save()
    settings.RELAYDESK_AUDIT_PROBE_SCHEDULE = "wed 03"
    settings.RELAYDESK_AUDIT_PROBE_EMAIL = world.bob.email
    at = datetime(2026, 11, 24, 19, 10, tzinfo=UTC)  # Wednesday 03:10 in Shanghai
    assert probe.probe_sweep(at - timedelta(hours=1)) == {"probes": 0}  # 02:10: not scheduled
    assert probe.probe_sweep(at) == {"probes": 1}
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
    out = StringIO()
    call_command("audit", "probe", "--email", world.carol.email, stdout=out)
    assert Ticket.objects.filter(pk=json.loads(out.getvalue())["id"], tags__name=PROBE_TAG).exists()
