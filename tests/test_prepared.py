"""Querysets compiled once and bound to new values give exactly what Django would have given,
for every tenancy shape of the ticket read, and fall back safely for shapes they cannot bind."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from ninja.errors import HttpError

from relaydesk.api.auth import get_visible_ticket, visible_tickets
from relaydesk.core import prepared
from relaydesk.tickets.models import Ticket
from relaydesk.tickets.services import create_ticket


def _tickets(world: Any) -> dict[str, Ticket]:
    return {
        "acme": create_ticket(actor=world.alice, requester=world.alice, subject="Acme echo", description="x"),
        "panda": create_ticket(actor=world.bob, requester=world.bob, subject="Panda stutter", description="x"),
        "globex": create_ticket(actor=world.carol, requester=world.carol, subject="Globex join", description="x"),
    }


def test_every_viewer_sees_through_the_prepared_read_what_the_orm_shows(world: Any) -> None:
    prepared.forget()
    tickets = _tickets(world)
    viewers = [world.alice, world.bob, world.carol, world.agent, world.agent_emea, world.lead, world.admin]
    for _ in range(2):  # the first pass compiles each shape, the second binds the cached SQL
        for user in viewers:
            allowed = set(visible_tickets(user).values_list("pk", flat=True))
            for t in tickets.values():
                if t.pk in allowed:
                    got = get_visible_ticket(user, t.pk)
                    assert (got.pk, got.subject, got.organisation.name) == (t.pk, t.subject, t.organisation.name)
                    assert got.requester == t.requester and got.sla_rule_id == t.sla_rule_id
                    assert got.created_at == t.created_at and got.frt_due_at == t.frt_due_at
                else:
                    with pytest.raises(HttpError) as err:
                        get_visible_ticket(user, t.pk)
                    assert err.value.status_code == 404
    # Each viewer's tenancy really was applied: Jonas (EMEA) sees only Globex, Alice only Acme.
    assert {t.pk for t in visible_tickets(world.agent_emea)} == {tickets["globex"].pk}
    assert {t.pk for t in visible_tickets(world.alice)} == {tickets["acme"].pk}


def test_a_prepared_read_is_one_query_with_its_related_rows(world: Any) -> None:
    t = _tickets(world)["acme"]
    get_visible_ticket(world.alice, t.pk)  # compile
    with CaptureQueriesContext(connection) as seen:
        got = get_visible_ticket(world.alice, t.pk)
        assert (got.organisation.plan.code, got.requester.email) == ("enterprise", "alice@acme.test")
        assert got.sla_policy is not None
    assert len(seen) == 1 and str(t.pk) in seen[0]["sql"] and str(world.acme.pk) in seen[0]["sql"]


def test_the_agent_shape_follows_the_number_of_organisations_served(world: Any) -> None:
    tickets = _tickets(world)
    assert get_visible_ticket(world.agent, tickets["panda"].pk).pk == tickets["panda"].pk
    # A third organisation joins APAC's care: a new IN-list length, a new compiled shape.
    world.globex.support_teams.add(world.apac)
    assert get_visible_ticket(world.agent, tickets["globex"].pk).pk == tickets["globex"].pk
    world.globex.support_teams.remove(world.apac)
    with pytest.raises(HttpError):
        get_visible_ticket(world.agent, tickets["globex"].pk)


def test_a_builder_that_transforms_its_values_is_never_bound_wrongly(world: Any) -> None:
    tickets = _tickets(world)
    ids = sorted(t.pk for t in tickets.values())

    def shifted(pk: int) -> QuerySet[Ticket]:
        return Ticket.objects.filter(pk=pk + 1)  # the sentinel never reaches the SQL as such

    def doubled(pk: int) -> QuerySet[Ticket]:
        return Ticket.objects.filter(pk__in=[pk, pk])  # one value, two parameters

    for _ in range(2):
        assert [t.pk for t in prepared.fetch(("test", "shifted"), shifted, [ids[0]])] == [ids[0] + 1]
        assert [t.pk for t in prepared.fetch(("test", "doubled"), doubled, [ids[2]])] == [ids[2]]
    assert prepared._compiled[("default", connection.vendor, ("test", "shifted"), "i")] is None


def test_strings_and_times_are_bound_like_integers(world: Any) -> None:
    tickets = _tickets(world)
    Ticket.objects.filter(pk=tickets["panda"].pk).update(status="pending_customer", priority="P1")
    created = sorted(t.created_at for t in Ticket.objects.all())

    def build(status: str, prio: str, since: Any) -> QuerySet[Ticket]:
        return Ticket.objects.filter(status__in=[status], priority=prio, created_at__gte=since).order_by("pk")

    cases = [("new", "P3", created[0]), ("pending_customer", "P1", created[0]), ("new", "P3", created[-1]), ("closed", "P3", created[0])]
    for _ in range(2):
        for status, prio, since in cases:
            want = [t.pk for t in build(status, prio, since)]
            assert [t.pk for t in prepared.fetch(("test", "typed"), build, [status, prio, since])] == want
            flat = prepared.fetch(("test", "flat"), lambda *v: build(*v).values_list("pk", flat=True), [status, prio, since])
            assert flat == want
            assert prepared.count(("test", "count"), build, [status, prio, since]) == len(want)
    assert prepared._compiled[("default", connection.vendor, ("test", "typed"), "ssd")] is not None
