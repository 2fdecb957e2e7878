"""Reading events and deflection: a reader who opened or solved with an article and did not
file a ticket within the window counts as deflected; one who filed does not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from relaydesk.kb import deflection
from relaydesk.kb.models import DEFLECTED, FILED, PENDING, Article, Engagement, ReadEvent
from relaydesk.tickets import services as tickets


def _post(path: str, data: dict[str, Any]) -> tuple[int, Any]:
    import json

    resp = Client().post(path, json.dumps(data), content_type="application/json")
    return resp.status_code, resp.json()


def test_events_then_figures_per_article_and_category(kb: dict[str, Article], world: Any, settings: Any) -> None:
    settings.KB_DEFLECTION_MINUTES = 30
    echo, stutter = kb["echo-cancellation"], kb["stutter-on-weak-networks"]
    alice, carol = world.api(world.alice), world.api(world.carol)
    for api, art in ((alice, echo), (carol, echo), (alice, stutter)):
        assert api.post("/api/v1/kb/events", {"article": art.pk, "kind": "shown", "query": "echo"})[0] == 201
    assert alice.post("/api/v1/kb/events", {"article": echo.pk, "kind": "opened"})[0] == 201
    assert alice.post("/api/v1/kb/events", {"article": echo.pk, "kind": "solved"})[0] == 201
    assert carol.post("/api/v1/kb/events", {"article": echo.pk, "kind": "opened"})[0] == 201
    assert alice.post("/api/v1/kb/events", {"article": stutter.pk, "kind": "opened"})[0] == 201
    # Anonymous visitor, with a session id the portal keeps.
    assert _post("/api/v1/kb/events", {"article": stutter.pk, "kind": "opened", "session": "s-anon-1"})[0] == 201
    assert Engagement.objects.filter(outcome=PENDING).count() == 4  # opened+solved by alice on echo is one
    # Carol files a ticket ten minutes later: her engagement did not deflect it.
    tickets.create_ticket(actor=world.carol, requester=world.carol, subject="Echo still there", description="")
    assert Engagement.objects.get(user=world.carol).outcome == FILED
    # The window passes for the others.
    assert deflection.settle(timezone.now() + timedelta(minutes=31)) == 3
    status, body = world.api(world.lead).get("/api/v1/kb/deflection")
    assert status == 200 and body["window_minutes"] == 30
    arts = {a["slug"]: a for a in body["articles"]}
    e = arts["echo-cancellation"]
    assert (e["shown"], e["opened"], e["solved"], e["deflected"], e["filed"]) == (2, 2, 1, 1, 1)
    assert e["deflection_rate"] == 0.5
    s = arts["stutter-on-weak-networks"]
    assert (s["shown"], s["opened"], s["deflected"], s["filed"]) == (1, 2, 2, 0) and s["deflection_rate"] == 1.0
    cats = {c["slug"]: c for c in body["categories"]}
    assert cats["audio-quality"]["deflected"] == 1 and cats["live-stream-quality"]["deflected"] == 2


def test_ticket_after_the_window_still_counts_as_deflected(kb: dict[str, Article], world: Any) -> None:
    echo = kb["echo-cancellation"]
    old = timezone.now() - timedelta(hours=3)
    deflection.record(kind="opened", article=echo, user=world.alice, now=old)
    tickets.create_ticket(actor=world.alice, requester=world.alice, subject="Something else")
    deflection.settle()
    assert Engagement.objects.get().outcome == DEFLECTED


def test_session_used_before_login_is_linked_to_the_ticket(kb: dict[str, Article], world: Any) -> None:
    echo = kb["echo-cancellation"]
    deflection.record(kind="opened", article=echo, user=None, session="browser-42")
    deflection.record(kind="opened", article=kb["stutter-on-weak-networks"], user=world.bob, session="browser-42")
    deflection.record(kind="opened", article=echo, user=None, session="someone-else")
    tickets.create_ticket(actor=world.bob, requester=world.bob, subject="回声")
    outcomes = {(e.session, e.user_id): e.outcome for e in Engagement.objects.all()}
    assert outcomes[("browser-42", None)] == FILED and outcomes[("browser-42", world.bob.pk)] == FILED
    assert outcomes[("someone-else", None)] == PENDING


def test_event_bad_input_and_visibility(kb: dict[str, Article], world: Any) -> None:
    internal = kb["internal-escalation-runbook"]
    status, body = world.api(world.alice).post("/api/v1/kb/events", {"article": internal.pk, "kind": "opened"})
    assert status == 404
    status, body = _post("/api/v1/kb/events", {"article": kb["echo-cancellation"].pk, "kind": "opened"})
    assert status == 422 and body["detail"].startswith("session")
    status, body = world.api(world.alice).post("/api/v1/kb/events", {"article": kb["echo-cancellation"].pk, "kind": "liked"})
    assert status == 422 and "kind" in body["detail"]
    status, body = world.api(world.alice).post("/api/v1/kb/events", {"article": kb["echo-cancellation"].pk, "kind": "shown", "session": "x" * 65})
    assert status == 422 and "session" in body["detail"]
    assert ReadEvent.objects.count() == 0


def test_deflection_figures_are_staff_only(kb: dict[str, Article], world: Any) -> None:
    deflection.record(kind="opened", article=kb["echo-cancellation"], user=world.alice)
    for user in (world.alice, world.bob):
        status, body = world.api(user).get("/api/v1/kb/deflection")
        assert status == 403 and "alice" not in str(body)
    assert Client().get("/api/v1/kb/deflection").status_code == 401
    status, body = world.api(world.agent).get("/api/v1/kb/deflection", {"since": "2030-01-01T00:00:00Z", "until": "2029-01-01T00:00:00Z"})
    assert status == 422 and body["detail"].startswith("until")
