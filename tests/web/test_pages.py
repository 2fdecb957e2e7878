"""The portal and console pages over the real URL configuration, services and database:
tenancy, internal notes, staff-only pages, forms that refuse bad input and write nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from relaydesk.core.models import APIToken, LoginAttempt
from relaydesk.tickets import services
from relaydesk.tickets.models import AuditEntry, Message, Ticket

from .conftest import file_ticket, login

pytestmark = pytest.mark.django_db


def ids_in(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-id="(\d+)"', html)]


# -- front door, login, staff-only -------------------------------------------------------------


def test_front_door_sends_each_kind_home(world: Any) -> None:
    assert Client().get("/").url == "/login/"
    assert login(world.alice).get("/").url == "/portal/"
    assert login(world.agent).get("/").url == "/console/"


def test_login_with_password_and_clear_errors(world: Any) -> None:
    c = Client()
    page = c.get("/login/")
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    bad = c.post("/login/", {"username": "alice@acme.test", "password": "wrong"})
    assert bad.status_code == 200
    assert "do not match an account" in bad.content.decode()
    ok = c.post("/login/", {"username": "alice@acme.test", "password": "a-long-test-password"})
    assert ok.status_code == 302 and ok.url == "/portal/"
    assert c.get("/portal/").status_code == 200
    out = c.post("/logout/")
    assert out.status_code == 302
    assert c.get("/portal/").status_code == 302


def test_login_rate_limit_says_so(world: Any, settings: Any) -> None:
    settings.RELAYDESK_LOGIN_MAX_FAILURES = 3
    c = Client()
    for _ in range(3):
        c.post("/login/", {"username": "alice@acme.test", "password": "wrong"})
    assert LoginAttempt.objects.filter(key="user:alice@acme.test").count() == 3
    # Even the right password is refused now, with a message that says why.
    resp = c.post("/login/", {"username": "alice@acme.test", "password": "a-long-test-password"})
    assert resp.status_code == 200
    assert "Too many failed logins" in resp.content.decode()
    assert "_auth_user_id" not in c.session


def test_console_is_staff_only(world: Any) -> None:
    t = file_ticket(world.alice)
    customer = login(world.alice)
    for path in ("/console/", "/console/rows/", f"/console/tickets/{t.pk}/"):
        assert customer.get(path).status_code == 403, path
    assert customer.post(f"/console/tickets/{t.pk}/reply/", {"body": "x", "kind": "public"}).status_code == 403
    anon = Client().get("/console/")
    assert anon.status_code == 302 and anon.url.startswith("/login/?next=/console/")
    # Staff in the portal are sent to their console.
    assert login(world.agent).get("/portal/").url == "/console/"
    # The live-update endpoint too.
    assert customer.get("/api/v1/console/changes").status_code == 403


def test_forms_need_csrf(world: Any) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.alice)
    before = Ticket.objects.count()
    resp = c.post("/portal/tickets/new/", {"subject": "x", "description": "y", "priority": "P3", "category": "other"})
    assert resp.status_code == 403
    assert Ticket.objects.count() == before


# -- portal tenancy ---------------------------------------------------------------------------


def test_customer_sees_only_own_organisation(world: Any) -> None:
    mine = file_ticket(world.alice, "Acme stream stutters")
    theirs = file_ticket(world.carol, "Globex black screen")
    c = login(world.alice)
    page = c.get("/portal/?status=all").content.decode()
    assert "Acme stream stutters" in page
    assert "Globex black screen" not in page
    assert c.get(f"/portal/tickets/{mine.pk}/").status_code == 200
    assert c.get(f"/portal/tickets/{theirs.pk}/").status_code == 404
    # Writes to another organisation's ticket: 404 and nothing written.
    messages = Message.objects.count()
    assert c.post(f"/portal/tickets/{theirs.pk}/reply/", {"body": "hello"}).status_code == 404
    assert c.post(f"/portal/tickets/{theirs.pk}/status/", {"status": "solved"}).status_code == 404
    assert Message.objects.count() == messages
    theirs.refresh_from_db()
    assert theirs.status == "new"


def test_portal_filters(world: Any) -> None:
    p1 = file_ticket(world.alice, "Everything is down", priority="P1")
    p4 = file_ticket(world.alice, "A question about billing", priority="P4")
    services.update_ticket(p4, actor=world.agent, changes={"status": "solved"})
    c = login(world.alice)
    active = c.get("/portal/").content.decode()
    assert p1.subject in active and p4.subject not in active
    done = c.get("/portal/?status=done").content.decode()
    assert p4.subject in done and p1.subject not in done
    only_p1 = c.get("/portal/?status=all&priority=P1").content.decode()
    assert p1.subject in only_p1 and p4.subject not in only_p1
    search = c.get(f"/portal/?status=all&q=%23{p4.number}").content.decode()
    assert p4.subject in search and p1.subject not in search


def test_internal_notes_never_reach_the_portal(world: Any) -> None:
    t = file_ticket(world.alice)
    services.add_message(t, author=world.agent, body="NOTE: customer is on old SDK", is_public=False,
                         attachments=[services.Upload("internal-trace.txt", "text/plain", b"secret trace")])
    services.add_message(t, author=world.agent, body="We are looking at the Singapore route.",
                         attachments=[services.Upload("route.txt", "text/plain", b"public trace")])
    c = login(world.alice)
    page = c.get(f"/portal/tickets/{t.pk}/").content.decode()
    assert "We are looking at the Singapore route." in page
    assert "NOTE: customer is on old SDK" not in page
    assert "internal-trace.txt" not in page
    internal = t.attachments.get(filename="internal-trace.txt")
    public = t.attachments.get(filename="route.txt")
    assert c.get(f"/files/{internal.pk}/").status_code == 404
    resp = c.get(f"/files/{public.pk}/")
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == b"public trace"
    # Another organisation cannot fetch the public file either.
    assert login(world.carol).get(f"/files/{public.pk}/").status_code == 404
    # The agent sees both, the note marked as internal.
    agent_page = login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode()
    assert "NOTE: customer is on old SDK" in agent_page and "internal note" in agent_page


# -- new ticket form -----------------------------------------------------------------------------


GOOD = {
    "subject": "Join failures on channel live-42",
    "description": "Since 14:00 about 20% of joins fail.",
    "priority": "P2",
    "category": "connection",
    "app_id": "app-7781",
    "channel_name": "live-42",
    "sdk": "rtc-android",
    "sdk_version": "4.2.1",
    "platform": "android",
    "region": "sg",
    "affected_user_ids": "u1, u2\nu3 u2",
    "problem_start": "2026-11-20T14:00",
    "problem_end": "2026-11-20T15:30",
}


def test_new_ticket_with_typed_context(world: Any) -> None:
    world.alice.timezone = "Asia/Singapore"
    world.alice.save()
    c = login(world.alice)
    form = c.get("/portal/tickets/new/")
    assert form.status_code == 200 and b'id="kb-panel"' in form.content
    upload = SimpleUploadedFile("client.log", b"join timeout", content_type="text/plain")
    resp = c.post("/portal/tickets/new/", {**GOOD, "attachments": [upload]})
    assert resp.status_code == 302
    t = Ticket.objects.get(subject=GOOD["subject"])
    assert resp.url == f"/portal/tickets/{t.pk}/"
    assert (t.organisation, t.requester, t.channel, t.priority) == (world.acme, world.alice, "portal", "P2")
    assert (t.app_id, t.channel_name, t.sdk, t.sdk_version, t.platform) == ("app-7781", "live-42", "rtc-android", "4.2.1", "android")
    assert t.region == world.sg
    assert t.affected_user_ids == ["u1", "u2", "u3"]
    # The window was typed in Singapore time (UTC+8).
    assert t.problem_start == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    assert t.problem_end == datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    assert [a.filename for a in t.attachments.all()] == ["client.log"]
    assert AuditEntry.objects.filter(ticket=t, field="created").exists()
    assert t.frt_state == "running"
    page = c.get(resp.url).content.decode()
    assert "We will answer by" in page and "of business time left" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"subject": ""}, "subject", "This field is required"),
        ({"priority": "P9"}, "priority", "Select a valid choice"),
        ({"region": "mars"}, "region", "Select a valid choice"),
        ({"platform": "amiga"}, "platform", "Select a valid choice"),
        ({"problem_end": "2026-11-20T13:00"}, "problem_end", "cannot end before it started"),
        ({"problem_start": "yesterday"}, "problem_start", "Enter a valid date/time"),
        ({"affected_user_ids": "x" * 101}, "affected_user_ids", "at most 100 characters"),
    ],
)
def test_new_ticket_bad_input_names_the_field_and_writes_nothing(world: Any, change: dict[str, str], field: str, message: str) -> None:
    c = login(world.alice)
    before = (Ticket.objects.count(), AuditEntry.objects.count())
    resp = c.post("/portal/tickets/new/", {**GOOD, **change})
    assert resp.status_code == 400
    html = resp.content.decode()
    block = html.split(f'id="field-{field}"', 1)[1].split("</div>", 1)[0]
    assert message in block.replace("&#x27;", "'")
    assert (Ticket.objects.count(), AuditEntry.objects.count()) == before


def test_new_ticket_refuses_bad_attachment_and_writes_nothing(world: Any) -> None:
    c = login(world.alice)
    before = Ticket.objects.count()
    exe = SimpleUploadedFile("tool.exe", b"MZ...", content_type="application/x-msdownload")
    resp = c.post("/portal/tickets/new/", {**GOOD, "attachments": [exe]})
    assert resp.status_code == 400
    assert "This kind of file is not accepted" in resp.content.decode()
    assert Ticket.objects.count() == before


def test_customer_reply_and_solve(world: Any) -> None:
    t = file_ticket(world.alice)
    c = login(world.alice)
    empty = c.post(f"/portal/tickets/{t.pk}/reply/", {"body": "   "})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    assert not t.messages.filter(author=world.alice).exists()
    ok = c.post(f"/portal/tickets/{t.pk}/reply/", {"body": "Still failing at 15:10."})
    assert ok.status_code == 302
    assert t.messages.filter(author=world.alice, is_public=True, body="Still failing at 15:10.").exists()
    assert c.post(f"/portal/tickets/{t.pk}/status/", {"status": "closed"}).status_code == 302
    t.refresh_from_db()
    assert t.status == "new"  # customers may only solve or reopen
    c.post(f"/portal/tickets/{t.pk}/status/", {"status": "solved"})
    t.refresh_from_db()
    assert t.status == "solved"
    assert AuditEntry.objects.filter(ticket=t, field="status", new="solved", actor=world.alice).exists()


# -- API tokens --------------------------------------------------------------------------------


def test_token_secret_shown_once_then_usable_and_revocable(world: Any) -> None:
    c = login(world.alice)
    assert c.post("/portal/tokens/", {"name": ""}).status_code == 400
    assert not APIToken.objects.filter(user=world.alice).exists()
    resp = c.post("/portal/tokens/", {"name": "CI alerts", "write": "on"}, follow=True)
    secret = re.search(r"<code>(rdk_[^<]+)</code>", resp.content.decode()).group(1)
    token = APIToken.objects.get(user=world.alice, name="CI alerts")
    assert token.scopes == ["tickets:read", "tickets:write"]
    assert APIToken.hash(secret) == token.digest
    assert secret not in c.get("/portal/tokens/").content.decode()  # only once
    api = Client()
    assert api.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    # Another customer cannot revoke it.
    assert login(world.carol).post(f"/portal/tokens/{token.pk}/revoke/").status_code == 404
    assert c.post(f"/portal/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


# -- console -----------------------------------------------------------------------------------


def test_queue_orders_by_sla_urgency_within_tenancy(world: Any) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=3)
    breached = file_ticket(world.alice, "Old and overdue", priority="P3", now=long_ago)
    p1 = file_ticket(world.alice, "Urgent now", priority="P1")
    p4 = file_ticket(world.bob, "Low question", priority="P4")
    globex = file_ticket(world.carol, "Globex ticket", priority="P1")
    html = login(world.agent).get("/console/").content.decode()
    shown = ids_in(html)
    expected = list(Ticket.objects.filter(pk__in=[breached.pk, p1.pk, p4.pk]).order_by("sla_sort_at", "id").values_list("pk", flat=True))
    assert shown == expected
    assert shown[0] == breached.pk and shown.index(p1.pk) < shown.index(p4.pk)
    assert globex.pk not in shown  # EMEA's customer, not served by APAC
    assert "breached" in html
    emea = login(world.agent_emea)
    assert ids_in(emea.get("/console/").content.decode()) == [globex.pk]
    assert emea.get(f"/console/tickets/{p1.pk}/").status_code == 404
    assert emea.post(f"/console/tickets/{p1.pk}/reply/", {"body": "hi", "kind": "public"}).status_code == 404
    assert not Message.objects.filter(ticket=p1, author=world.agent_emea).exists()
    # A lead sees everything.
    assert set(ids_in(login(world.lead).get("/console/").content.decode())) == {breached.pk, p1.pk, p4.pk, globex.pk}


def test_queue_filters(world: Any) -> None:
    a = file_ticket(world.alice, "Acme one", priority="P1", context={"region": world.de})
    b = file_ticket(world.bob, "Panda one", priority="P2")
    services.update_ticket(b, actor=world.lead, changes={"assignee": world.agent})
    c = login(world.agent)
    assert ids_in(c.get("/console/?view=mine").content.decode()) == [b.pk]
    assert ids_in(c.get("/console/?view=unassigned").content.decode()) == [a.pk]
    assert ids_in(c.get("/console/?priority=P1").content.decode()) == [a.pk]
    assert ids_in(c.get("/console/?language=zh-Hans").content.decode()) == [b.pk]
    assert ids_in(c.get("/console/?region=de").content.decode()) == [a.pk]  # its own region
    assert ids_in(c.get("/console/?region=sg").content.decode()) == [b.pk]  # home region
    bad = c.get("/console/?priority=P7")
    assert bad.status_code == 400 and "P7" in bad.content.decode()
    # The live refresh asks for the same filters the page shows.
    assert 'data-rows="/console/rows/?priority=P2&amp;language=zh-Hans"' in c.get("/console/?priority=P2&language=zh-Hans").content.decode()
    rows = c.get("/console/rows/?priority=P2")
    assert rows.status_code == 200 and ids_in(rows.content.decode()) == [b.pk]
    # "My team": tickets queued to the viewer's team, whoever holds them.
    assert ids_in(c.get("/console/?view=team").content.decode()) == []
    services.update_ticket(b, actor=world.lead, changes={"team": world.apac})
    d = file_ticket(world.alice, "Acme for EMEA", priority="P3")
    services.update_ticket(d, actor=world.lead, changes={"team": world.emea})
    assert ids_in(c.get("/console/?view=team").content.decode()) == [b.pk]
    assert ids_in(c.get("/console/rows/?view=team").content.decode()) == [b.pk]
    # Jonas (EMEA) does not serve Acme, yet sees the Acme ticket queued to his team, and only it.
    assert ids_in(login(world.agent_emea).get("/console/?view=team").content.decode()) == [d.pk]
    # Someone with no team has no team view.
    assert ids_in(login(world.admin).get("/console/?view=team").content.decode()) == []


def test_change_token_moves_when_a_ticket_arrives(world: Any) -> None:
    c = login(world.agent)
    first = c.get("/api/v1/console/changes").json()["token"]
    assert c.get("/api/v1/console/changes").json()["token"] == first
    file_ticket(world.alice)
    assert c.get("/api/v1/console/changes").json()["token"] != first


def test_agent_public_reply_meets_first_response(world: Any) -> None:
    t = file_ticket(world.alice)
    c = login(world.agent)
    page = c.get(f"/console/tickets/{t.pk}/").content.decode()
    for text in ("Acme Live", "Enterprise", "key account", "First response", "business time left", "History"):
        assert text in page, text
    note = c.post(f"/console/tickets/{t.pk}/reply/", {"body": "Checking SG edge", "kind": "internal"})
    assert note.status_code == 302
    t.refresh_from_db()
    assert t.frt_met_at is None
    resp = c.post(f"/console/tickets/{t.pk}/reply/", {"body": "We rerouted SG traffic.", "kind": "public", "status": "pending_customer"})
    assert resp.status_code == 302
    t.refresh_from_db()
    assert t.frt_met_at is not None and not t.frt_breached
    assert t.status == "pending_customer"
    assert "We rerouted SG traffic." in login(world.alice).get(f"/portal/tickets/{t.pk}/").content.decode()


def test_agent_update_form(world: Any) -> None:
    t = file_ticket(world.alice)
    c = login(world.agent)
    ok = c.post(f"/console/tickets/{t.pk}/update/", {"status": "open", "priority": "P1", "assignee": str(world.agent.pk), "team": str(world.apac.pk)})
    assert ok.status_code == 302
    t.refresh_from_db()
    assert (t.status, t.priority, t.assignee, t.team) == ("open", "P1", world.agent, world.apac)
    assert set(AuditEntry.objects.filter(ticket=t, actor=world.agent).values_list("field", flat=True)) >= {"status", "priority", "assignee", "team"}
    services.update_ticket(t, actor=world.agent, changes={"status": "closed"})
    audit = AuditEntry.objects.count()
    bad = c.post(f"/console/tickets/{t.pk}/update/", {"status": "open", "priority": "P1", "assignee": str(world.agent.pk), "team": str(world.apac.pk)})
    assert bad.status_code == 400
    assert "closed" in bad.content.decode().lower()
    unknown = c.post(f"/console/tickets/{t.pk}/update/", {"status": "open", "priority": "P9", "assignee": "999999", "team": ""})
    assert unknown.status_code == 400
    assert AuditEntry.objects.count() == audit


def test_pages_show_times_in_the_viewer_zone(world: Any) -> None:
    when = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    t = file_ticket(world.alice, now=when)
    world.alice.timezone = "Asia/Singapore"
    world.alice.save()
    world.agent.timezone = "Europe/Berlin"
    world.agent.save()
    portal = login(world.alice).get(f"/portal/tickets/{t.pk}/").content.decode()
    console = login(world.agent).get(f"/console/tickets/{t.pk}/").content.decode()
    assert "20 Nov 2026, 14:00" in portal  # Singapore, UTC+8
    assert "20 Nov 2026, 07:00" in console  # Berlin, UTC+1
    assert "20 Nov 2026, 06:00" not in portal + console


def test_mail_link_leads_to_the_right_page(world: Any) -> None:
    t = file_ticket(world.alice)
    assert login(world.alice).get(f"/tickets/{t.number}").url == f"/portal/tickets/{t.pk}/"
    assert login(world.agent).get(f"/tickets/{t.number}").url == f"/console/tickets/{t.pk}/"
    assert login(world.carol).get(f"/tickets/{t.number}").status_code == 404
    assert Client().get(f"/tickets/{t.number}").url.startswith("/login/")


def test_pages_speak_the_viewer_language(world: Any) -> None:
    t = file_ticket(world.bob, "直播卡顿")
    portal = login(world.bob).get(f"/portal/tickets/{t.pk}/")
    html = portal.content.decode()
    assert portal["Content-Language"] == "zh-hans"
    assert "我们将在您当地时间" in html and "剩余工作时间" in html and "发送回复" in html
    assert "Send reply" not in html
    world.agent.language = "zh-Hans"
    world.agent.save()
    queue = login(world.agent).get("/console/").content.decode()
    assert "<h1>队列</h1>" in queue and "键盘快捷键" in queue


def test_language_switch_keeps_the_choice(world: Any) -> None:
    c = login(world.alice)
    resp = c.post("/language/", {"language": "zh-hans", "next": "/portal/"})
    assert resp.status_code == 302 and resp.url == "/portal/"
    world.alice.refresh_from_db()
    assert world.alice.language == "zh-Hans"
    assert "的工单" in c.get("/portal/").content.decode()
    # Anonymous visitors get the login page in the language of their cookie.
    anon = Client()
    anon.post("/language/", {"language": "zh-hans", "next": "https://evil.example/"})
    assert "登录 RelayDesk" in anon.get("/login/").content.decode()
    # An unknown language falls back to English; an outside "next" is not followed.
    back = c.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert back.url == "/"
    world.alice.refresh_from_db()
    assert world.alice.language == "en"


def test_catalogs_are_complete() -> None:
    """Every message of every catalog (the project's and each app's) has a Chinese
    translation."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "relaydesk"
    catalogs = sorted(root.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
    assert len(catalogs) >= 7, catalogs
    total = 0
    for path in catalogs:
        po = path.read_text("utf-8")
        entries = po.split("\n\n")[1:]
        total += len(entries)
        empty = [e for e in entries if e.rstrip().endswith('msgstr ""') or 'msgstr[0] ""' in e]
        assert empty == [], (path, empty)
        assert "#, fuzzy" not in po, path
    assert total > 600


def test_sla_clocks_in_plain_words(world: Any) -> None:
    late = file_ticket(world.alice, "Overdue one", priority="P1", now=datetime.now(UTC) - timedelta(hours=5))
    waiting = file_ticket(world.alice, "Waiting on us")
    services.add_message(waiting, author=world.agent, body="Which SDK version?", status="pending_customer")
    c = login(world.alice)
    late_page = c.get(f"/portal/tickets/{late.pk}/").content.decode()
    assert "Our answer is late" in late_page
    waiting_page = c.get(f"/portal/tickets/{waiting.pk}/").content.decode()
    assert "Answered at" in waiting_page
    assert "The clock is paused while we wait for your reply." in waiting_page
    console = login(world.agent).get(f"/console/tickets/{late.pk}/").content.decode()
    assert "breached" in console and "ago (due" in console


def test_portal_shells_are_customer_pages(world: Any) -> None:
    c = login(world.alice)
    for path in ("/portal/notices/", "/portal/preferences/", "/portal/tokens/"):
        resp = c.get(path)
        assert resp.status_code == 200, path
        assert b"csrfmiddlewaretoken" in resp.content or path == "/portal/notices/"
        assert login(world.agent).get(path).url == "/console/"
        assert Client().get(path).url.startswith("/login/?next=")


def test_customer_panel_lists_only_what_the_agent_may_see(world: Any) -> None:
    """An EMEA agent assigned one Acme ticket sees that ticket, but not Acme's others."""
    assigned = file_ticket(world.alice, "Assigned across regions")
    other = file_ticket(world.alice, "Another Acme ticket")
    services.update_ticket(assigned, actor=world.lead, changes={"assignee": world.agent_emea})
    emea = login(world.agent_emea).get(f"/console/tickets/{assigned.pk}/").content.decode()
    assert other.subject not in emea
    apac = login(world.agent).get(f"/console/tickets/{assigned.pk}/").content.decode()
    assert other.subject in apac  # APAC serves Acme: every Acme ticket is in its panel


def test_new_ticket_form_can_be_prefilled_by_a_link(world: Any) -> None:
    c = login(world.alice)
    resp = c.get("/portal/tickets/new/", {"subject": "Stutter on StarHub", "app_id": "app-007", "unknown": "x"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'value="Stutter on StarHub"' in html and 'value="app-007"' in html
    assert Ticket.objects.filter(subject="Stutter on StarHub").count() == 0  # a GET writes nothing
