
"""E-mail both ways over real SMTP on loopback: the outbox delivers (threading headers,
retries with backoff, expired leases), and `mail-in` turns mail into tickets and replies
(de-duplication, quote stripping, attachments, tenancy, unknown senders, LMTP)."""

from __future__ import annotations

import hashlib
import re
import smtplib
import socket
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from relaydesk.core.management.commands import mail_in
from relaydesk.core.management.commands.mail_in import build_controller
from relaydesk.core.models import User
from relaydesk.notify import inbound
from relaydesk.notify.inbound import html_to_text, process_message, strip_quoted
from relaydesk.notify.models import InboundEmail, OutboundEmail
from relaydesk.notify.outbox import deliver_due, ticket_root_id
from relaydesk.tickets import services
from relaydesk.tickets.models import Attachment, Message, Ticket

SUPPORT = "support@relaydesk.localhost"


# -- helpers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_mail(
    frm: str,
    subject: str,
    body: str,
    *,
    msg_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    cte: str | None = None,
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = frm
    m["To"] = SUPPORT
    m["Subject"] = subject
    if msg_id:
        m["Message-ID"] = msg_id
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    if references:
        m["References"] = references
    for k, v in (headers or {}).items():
        m[k] = v
    if cte:
        m.set_content(body, charset="utf-8", cte=cte)
    else:
        m.set_content(body)
    return m


def send(port: int, m: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10) as s:
        s.send_message(m)


def counts() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "inbound": InboundEmail.objects.count(),
        "outbound": OutboundEmail.objects.count(),
        "users": User.objects.count(),
        "attachments": Attachment.objects.count(),
    }


class Sink:
    """A real SMTP server on loopback that keeps every message it receives."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.received.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="sink.test"
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def sink(settings):
    s = Sink(free_port())
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": s.port, "use_tls": False, "timeout": 5},
        }
    }
    yield s
    s.stop()


@pytest.fixture
def mail_server():
    port = free_port()
    controller = build_controller("127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def ack_of(ticket: Ticket) -> OutboundEmail:
    return OutboundEmail.objects.get(ticket=ticket, kind="auto_ack")


# -- outbound -----------------------------------------------------------------------


@pytest.mark.django_db
def test_outbound_ack_and_agent_reply_carry_threading_headers(world, sink) -> None:
    sink.start()
    t = services.create_ticket(
        actor=world.alice,
        requester=world.alice,
        subject="Audio drops in room 42",
        description="Since 10:00 UTC",
        channel="email",
        email_message_id="<cust-1@acme.test>",
    )
    ack = ack_of(t)
    assert deliver_due() == {"sent": 1, "retry": 0, "failed": 0}
    assert len(sink.received) == 1
    rcpts, m = sink.received[0]
    assert rcpts == ["alice@acme.test"]
    assert m["Message-ID"] == ack.message_id
    assert m["In-Reply-To"] == "<cust-1@acme.test>"
    refs = str(m["References"]).split()
    assert ticket_root_id(t.pk) in refs and "<cust-1@acme.test>" in refs
    assert f"[#{t.number}]" in m["Subject"]
    assert m["Auto-Submitted"] == "auto-generated"

    services.add_message(t, author=world.agent, body="Please try SDK 4.3.1", is_public=True)
    assert deliver_due()["sent"] == 1
    rcpts, m = sink.received[1]
    assert rcpts == ["alice@acme.test"]
    assert m["In-Reply-To"] == "<cust-1@acme.test>"
    assert ticket_root_id(t.pk) in str(m["References"]).split()
    assert f"[#{t.number}]" in m["Subject"]
    assert "Please try SDK 4.3.1" in m.get_body(("plain",)).get_content()
    assert m["Auto-Submitted"] is None  # a human reply may be auto-answered by the customer
    reply_row = OutboundEmail.objects.get(ticket=t, kind="agent_reply")
    assert m["Message-ID"] == reply_row.message_id

    services.add_message(t, author=world.agent, body="internal: check edge sg-3", is_public=False)
    assert deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(sink.received) == 2
    assert not OutboundEmail.objects.filter(body__contains="edge sg-3").exists()


@pytest.mark.django_db
def test_outbound_retries_with_backoff_then_sends_once(world, sink) -> None:
    # The sink is not started: the port is closed and the connection is refused.
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Join fails")
    row = ack_of(t)
    t0 = datetime.now(UTC)
    assert deliver_due(now=t0) == {"sent": 0, "retry": 1, "failed": 0}
    row.refresh_from_db()
    assert row.status == OutboundEmail.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at > t0
    assert row.last_error

    sink.start()
    assert deliver_due(now=t0 + timedelta(seconds=10)) == {"sent": 0, "retry": 0, "failed": 0}
    assert sink.received == []
    later = row.next_attempt_at + timedelta(seconds=1)
    assert deliver_due(now=later) == {"sent": 1, "retry": 0, "failed": 0}
    assert deliver_due(now=later + timedelta(hours=1)) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(sink.received) == 1
    assert sink.received[0][1]["Message-ID"] == row.message_id
    row.refresh_from_db()
    assert row.status == OutboundEmail.SENT and row.attempts == 2 and row.last_error == ""


@pytest.mark.django_db
def test_outbound_expired_lease_is_picked_up_again(world, sink) -> None:
    sink.start()
    crashed = ack_of(services.create_ticket(actor=world.alice, requester=world.alice, subject="a"))
    busy = ack_of(services.create_ticket(actor=world.carol, requester=world.carol, subject="b"))
    now = datetime.now(UTC)
    # A worker claimed both, then died: one lease has run out, the other is still held.
    OutboundEmail.objects.filter(pk=crashed.pk).update(
        status=OutboundEmail.SENDING, lease_until=now - timedelta(seconds=1)
    )
    OutboundEmail.objects.filter(pk=busy.pk).update(
        status=OutboundEmail.SENDING, lease_until=now + timedelta(minutes=1)
    )
    assert deliver_due(now=now)["sent"] == 1
    assert [r for r, _ in sink.received] == [["alice@acme.test"]]
    crashed.refresh_from_db()
    busy.refresh_from_db()
    assert crashed.status == OutboundEmail.SENT
    assert busy.status == OutboundEmail.SENDING


# -- inbound over real SMTP -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_inbound_new_mail_reply_subject_number_and_redelivery(world, mail_server) -> None:
    # (a) a new mail from a known customer opens a ticket
    send(
        mail_server,
        make_mail(
            "Alice <alice@acme.test>",
            "Stream stutters in Singapore",
            "Viewers in SG see 2 s freezes every minute.\nApp id: acme-live\n\n"
            "On Tue, 24 Nov 2026 at 10:00, Bob Ops <ops@acme.test> wrote:\n"
            "> earlier internal thread\n> do not include\n",
            msg_id="<new-1@acme.test>",
        ),
    )
    t = Ticket.objects.get()
    assert t.channel == "email" and t.requester == world.alice and t.organisation == world.acme
    assert t.subject == "Stream stutters in Singapore"
    assert t.description == "Viewers in SG see 2 s freezes every minute.\nApp id: acme-live"
    assert t.priority == "P3"
    ack = ack_of(t)
    assert ack.to == ["alice@acme.test"] and ack.in_reply_to == "<new-1@acme.test>"
    assert InboundEmail.objects.get(message_id="<new-1@acme.test>").outcome == "created"

    # (b) a reply to the acknowledgement threads into the same ticket
    reply = make_mail(
        "alice@acme.test",
        "Re: something else entirely",
        "Still broken after the restart.\n\n> Hello Alice,\n> We have received your request\n",
        msg_id="<reply-1@acme.test>",
        in_reply_to=ack.message_id,
        references=f"{ticket_root_id(t.pk)} {ack.message_id}",
    )
    send(mail_server, reply)
    assert Ticket.objects.count() == 1
    m = t.messages.get(email_message_id="<reply-1@acme.test>")
    assert m.author == world.alice and m.author_kind == Message.AUTHOR_CUSTOMER
    assert m.is_public and m.channel == "email"
    assert m.body == "Still broken after the restart."

    # (c) only the ticket number in the subject
    send(
        mail_server,
        make_mail(
            "alice@acme.test", f"RE: [#{t.number}] Stream stutters", "Logs attached tomorrow.",
            msg_id="<reply-2@acme.test>",
        ),
    )
    assert Ticket.objects.count() == 1
    assert t.messages.get(email_message_id="<reply-2@acme.test>").body == "Logs attached tomorrow."

    # (d) a redelivery changes nothing
    before = counts()
    send(mail_server, reply)
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_inbound_unknown_sender_is_refused_and_nothing_is_written(world, mail_server, settings) -> None:
    before = counts()
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused)) as exc:
        send(mail_server, make_mail("mallory@evil.test", "Hi", "Open a ticket", msg_id="<m1@evil.test>"))
    assert getattr(exc.value, "smtp_code", None) == 550
    assert counts() == before

    # "accept": a sender whose domain belongs to an organisation becomes its customer
    settings.RELAYDESK_INBOUND_UNKNOWN_SENDERS = "accept"
    world.acme.email_domains = ["acme.test"]
    world.acme.save()
    send(mail_server, make_mail("Dave <dave@ACME.test>", "New colleague", "Hello", msg_id="<d1@acme.test>"))
    dave = User.objects.get(email__iexact="dave@acme.test")
    assert dave.is_customer and dave.organisation == world.acme and not dave.has_usable_password()
    assert Ticket.objects.get(requester=dave).organisation == world.acme
    before = counts()
    with pytest.raises(smtplib.SMTPDataError) as exc:
        send(mail_server, make_mail("eve@nowhere.test", "Hi", "x", msg_id="<e1@nowhere.test>"))
    assert exc.value.smtp_code == 550
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_inbound_attachments_kept_and_refused_ones_noted(world, mail_server, settings) -> None:
    settings.RELAYDESK_MAX_ATTACHMENT_BYTES = 50_000
    log = b"ts=1 level=warn jitter_ms=340 region=sg\n" * 200
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    m = make_mail("alice@acme.test", "Jitter with logs", "See the attached log.", msg_id="<att-1@acme.test>")
    m.add_attachment(log, maintype="text", subtype="plain", filename="agent.log")
    m.add_attachment(png, maintype="image", subtype="png", filename="graph.png")
    m.add_attachment(b"MZ" + b"\0" * 100, maintype="application", subtype="x-msdownload", filename="setup.exe")
    m.add_attachment(b"%PDF-1.7\n" + b"x" * 60_000, maintype="application", subtype="pdf", filename="big.pdf")
    send(mail_server, m)
    t = Ticket.objects.get()
    atts = {a.filename: a for a in Attachment.objects.filter(ticket=t)}
    assert set(atts) == {"agent.log", "graph.png"}
    for name, data in (("agent.log", log), ("graph.png", png)):
        a = atts[name]
        assert a.size == len(data)
        assert a.sha256 == hashlib.sha256(data).hexdigest()
        with a.file.open("rb") as fh:
            assert fh.read() == data
    assert t.description.startswith("See the attached log.")
    assert "setup.exe" in t.description and "application/x-msdownload" in t.description
    assert "big.pdf" in t.description and "limit is 50000" in t.description


@pytest.mark.django_db(transaction=True)
def test_inbound_chinese_base64_mail_quote_stripped(world, mail_server) -> None:
    body = (
        "您好，\n\n我们在上海的直播频道 live-01 从今天上午开始卡顿，请帮忙排查。\n\n"
        "在 2026年11月25日 写道：\n之前的邮件内容\n不应出现在工单里\n"
    )
    m = make_mail("鲍勃 <bob@panda.test>", "紧急：直播卡顿", body, msg_id="<zh-1@panda.test>", cte="base64")
    assert b"Content-Transfer-Encoding: base64" in m.as_bytes()
    send(mail_server, m)
    t = Ticket.objects.get()
    assert t.organisation == world.panda and t.requester == world.bob
    assert t.subject == "紧急：直播卡顿"
    assert t.priority == "P1"
    assert t.description == "您好，\n\n我们在上海的直播频道 live-01 从今天上午开始卡顿，请帮忙排查。"
    assert "您好" in ack_of(t).body  # the organisation's language


@pytest.mark.django_db(transaction=True)
def test_inbound_reply_to_other_organisations_ticket_is_not_threaded(world, mail_server) -> None:
    acme_ticket = services.create_ticket(actor=world.alice, requester=world.alice, subject="Acme only")
    leaked_ack = ack_of(acme_ticket).message_id
    send(
        mail_server,
        make_mail(
            "carol@globex.test",
            f"Re: [#{acme_ticket.number}] Acme only",
            "Let me in",
            msg_id="<c1@globex.test>",
            in_reply_to=leaked_ack,
            references=ticket_root_id(acme_ticket.pk),
        ),
    )
    assert not acme_ticket.messages.filter(author=world.carol).exists()
    new = Ticket.objects.exclude(pk=acme_ticket.pk).get()
    assert new.organisation == world.globex and new.requester == world.carol
    assert new.subject == "Acme only"


@pytest.mark.django_db(transaction=True)
def test_inbound_staff_reply_is_public_agent_reply(world, mail_server) -> None:
    send(mail_server, make_mail("alice@acme.test", "Echo on iOS", "We hear echo.", msg_id="<s1@acme.test>"))
    t = Ticket.objects.get()
    ack = ack_of(t)
    send(
        mail_server,
        make_mail(
            "Mei <mei@relaydesk.test>", f"Re: [#{t.number}] Echo on iOS",
            "Please enable AEC.\n\n-- \nMei, APAC support\n", msg_id="<s2@relaydesk.test>",
            in_reply_to=ack.message_id,
        ),
    )
    m = t.messages.get(email_message_id="<s2@relaydesk.test>")
    assert m.author == world.agent and m.author_kind == Message.AUTHOR_AGENT and m.is_public
    assert m.body == "Please enable AEC."
    t.refresh_from_db()
    assert t.status == "open" and t.frt_met_at is not None
    out = OutboundEmail.objects.get(ticket=t, kind="agent_reply")
    assert out.to == ["alice@acme.test"] and out.in_reply_to == "<s1@acme.test>"
    # staff who may not see the ticket cannot post into it, and cannot open tickets by mail
    before = counts()
    with pytest.raises(smtplib.SMTPDataError) as exc:
        send(
            mail_server,
            make_mail("jonas@relaydesk.test", f"Re: [#{t.number}]", "hi", msg_id="<s3@relaydesk.test>",
                      in_reply_to=ack.message_id),
        )
    assert exc.value.smtp_code == 550
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_inbound_reply_to_closed_ticket_opens_follow_up(world, mail_server) -> None:
    old = services.create_ticket(actor=world.alice, requester=world.alice, subject="Old issue")
    services.update_ticket(old, actor=world.agent, changes={"status": "closed"})
    send(
        mail_server,
        make_mail("alice@acme.test", f"Re: [#{old.number}] Old issue", "It is back.",
                  msg_id="<f1@acme.test>", in_reply_to=ack_of(old).message_id),
    )
    new = Ticket.objects.exclude(pk=old.pk).get()
    assert new.subject == "Old issue" and new.organisation == world.acme
    assert f"#{old.number}" in new.description and "It is back." in new.description
    assert old.messages.filter(email_message_id="<f1@acme.test>").count() == 0


@pytest.mark.django_db(transaction=True)
def test_lmtp_answers_once_per_recipient(world) -> None:
    port = free_port()
    controller = build_controller("127.0.0.1", port, lmtp=True)
    controller.start()
    try:
        raw = make_mail("alice@acme.test", "Via LMTP", "Hello\n.\nworld", msg_id="<l1@acme.test>").as_bytes(
            policy=policy.SMTP
        )
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            f = s.makefile("rwb")

            def reply() -> list[bytes]:
                lines = []
                while True:
                    line = f.readline()
                    lines.append(line)
                    if line[3:4] != b"-":
                        return lines

            def cmd(line: bytes) -> list[bytes]:
                f.write(line + b"\r\n")
                f.flush()
                return reply()

            assert reply()[0].startswith(b"220")
            assert cmd(b"LHLO client.test")[-1].startswith(b"250")
            assert cmd(b"MAIL FROM:<alice@acme.test>")[0].startswith(b"250")
            assert cmd(b"RCPT TO:<support@relaydesk.localhost>")[0].startswith(b"250")
            assert cmd(b"RCPT TO:<help@relaydesk.localhost>")[0].startswith(b"250")
            assert cmd(b"DATA")[0].startswith(b"354")
            f.write(re.sub(rb"(?m)^\.", b"..", raw) + b".\r\n")
            f.flush()
            assert f.readline().startswith(b"250")
            assert f.readline().startswith(b"250")
            assert cmd(b"QUIT")[0].startswith(b"221")
    finally:
        controller.stop()
    t = Ticket.objects.get()
    assert t.subject == "Via LMTP" and t.description == "Hello\n.\nworld"


def test_oversized_message_is_refused_with_552() -> None:
    port = free_port()
    controller = build_controller("127.0.0.1", port, max_size=4096)
    controller.start()
    try:
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as exc:
            send(port, make_mail("alice@acme.test", "Big", "x" * 10_000))
        assert exc.value.smtp_code == 552
    finally:
        controller.stop()


def test_unexpected_error_answers_451_so_the_sender_retries(monkeypatch, mail_server) -> None:
    def boom(raw: bytes, *, envelope_from: str | None = None) -> inbound.InboundResult:
        raise RuntimeError("database went away")

    monkeypatch.setattr(inbound, "process_message", boom)
    with pytest.raises(smtplib.SMTPDataError) as exc:
        send(mail_server, make_mail("alice@acme.test", "x", "y", msg_id="<x@acme.test>"))
    assert exc.value.smtp_code == 451


def test_mail_in_help_describes_the_listener() -> None:
    parser = mail_in.Command().create_parser("relaydesk", "mail_in")
    text = parser.format_help()
    for word in ("--host", "--port", "--lmtp", "--max-size", "LMTP", "ticket"):
        assert word in text


# -- inbound processing without a server ------------------------------------------------


@pytest.mark.django_db
def test_message_without_message_id_is_deduplicated_across_hops(world) -> None:
    m = make_mail("alice@acme.test", "No id", "Body")
    raw = m.as_bytes()
    first = process_message(raw)
    assert first.outcome == "created" and first.message_id.startswith("<sha256.")
    hop = b"Received: from mx2.example.test by mx.relaydesk.test; Wed, 25 Nov 2026 10:00:00 +0000\r\n"
    again = process_message(hop + raw)
    assert again.outcome == "duplicate" and again.ticket_id == first.ticket_id
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_html_only_mail_is_rendered_and_quotes_dropped(world) -> None:
    m = EmailMessage()
    m["From"] = "alice@acme.test"
    m["To"] = SUPPORT
    m["Subject"] = "HTML only"
    m["Message-ID"] = "<h1@acme.test>"
    m.set_content(
        "<html><head><style>p{color:red}</style></head><body><p>Latency &amp; jitter on "
        "<b>web</b> SDK</p><div>line&nbsp;two<br>line three</div>"
        "<div class='gmail_quote'>On Mon, 23 Nov 2026, Bob &lt;b@x.test&gt; wrote:<br>"
        "<blockquote>old text</blockquote></div></body></html>",
        subtype="html",
    )
    r = process_message(m.as_bytes())
    t = Ticket.objects.get(pk=r.ticket_id)
    assert t.description == "Latency & jitter on web SDK\n\nline two\nline three"


@pytest.mark.django_db
def test_automatic_replies_never_reopen_or_loop(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Solved soon")
    services.update_ticket(t, actor=world.agent, changes={"status": "solved"})
    ooo = make_mail(
        "alice@acme.test", f"Automatic reply: [#{t.number}] Solved soon", "I am out of office.",
        msg_id="<ooo-1@acme.test>", in_reply_to=ticket_root_id(t.pk),
        headers={"Auto-Submitted": "auto-replied"},
    )
    r = process_message(ooo.as_bytes())
    assert r.outcome == "threaded" and r.ticket_id == t.pk
    note = t.messages.get(email_message_id="<ooo-1@acme.test>")
    assert note.author_kind == Message.AUTHOR_SYSTEM and not note.is_public
    t.refresh_from_db()
    assert t.status == "solved"
    # an automatic mail that opens a ticket gets no acknowledgement back
    bulk = make_mail("alice@acme.test", "Weekly report", "numbers", msg_id="<b1@acme.test>",
                     headers={"Precedence": "bulk"})
    r = process_message(bulk.as_bytes())
    assert r.outcome == "created"
    assert not OutboundEmail.objects.filter(ticket_id=r.ticket_id).exists()


@pytest.mark.django_db
def test_our_own_outbound_mail_looping_back_changes_nothing(world) -> None:
    t = services.create_ticket(actor=world.alice, requester=world.alice, subject="Loop")
    ack = ack_of(t)
    echo = make_mail("alice@acme.test", ack.subject, ack.body, msg_id=ack.message_id)
    before = counts()
    assert process_message(echo.as_bytes()).outcome == "duplicate"
    assert counts() == before


@pytest.mark.parametrize(
    ("subject", "priority"),
    [("P1: outage", "P1"), ("[P1] outage", "P1"), ("URGENT stream down", "P1"),
     ("紧急：推流失败", "P1"), ("Re: urgent", "P1"), ("Not urgent", "P3"), ("P12 build", "P3")],
)
def test_priority_from_subject(subject: str, priority: str) -> None:
    assert inbound.priority_from_subject(subject) == priority


# -- quote stripping -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English attribution + ">" block
        ("Thanks, fixed.\n\nOn Tue, Nov 24, 2026 at 9:00 AM Mei <m@x.test> wrote:\n> Try this\n", "Thanks, fixed."),
        # Gmail wraps a long attribution over two lines
        ("Works now.\n\nOn Tue, Nov 24, 2026 at 9:00 AM Mei Support Team <\nmei@relaydesk.test> wrote:\n\n> old\n", "Works now."),
        # Chinese attribution without ">" (Foxmail / QQ style)
        ("好的，谢谢。\n\n在 2026年11月25日 写道：\n旧内容\n", "好的，谢谢。"),
        ("收到\n\nbob@panda.test 于2026年11月25日周三 10:00写道：\n> 旧内容\n", "收到"),
        # Outlook
        ("See below.\n\n-----Original Message-----\nFrom: Mei\nSent: Tuesday\nSubject: x\n\nold", "See below."),
        ("Top post.\n\n________________________________\nFrom: Mei <m@x>\nSent: Tuesday, 24 November 2026 10:00\nTo: a\n\nold", "Top post."),
        ("Answer.\n\nFrom: Mei <m@x.test>\nSent: Tuesday\nTo: Alice\nSubject: RE: x\n\nold text", "Answer."),
        ("回复如下\n\n发件人: Mei\n发送时间: 2026年11月25日\n收件人: Bob\n\n旧的", "回复如下"),
        # trailing ">" block without attribution
        ("New info\n\n> quoted 1\n>> quoted 2\n\n", "New info"),
        # signature after "-- "
        ("Body text\n-- \nAlice\nAcme Live", "Body text"),
        # bottom-posted answer below the quote is kept
        ("On Tue, Nov 24, 2026, Mei <m@x> wrote:\n> Did it help?\n\nYes, it did.", "Yes, it did."),
        # inline quote in the middle is kept; a "--" line (grep context separator) is content
        ("> step 1?\ndone\nlog:\nA\n--\nB", "> step 1?\ndone\nlog:\nA\n--\nB"),
        # a forwarded message is content, not history
        ("FYI\n\n---------- Forwarded message ---------\nFrom: CDN\nerror 503", "FYI\n\n---------- Forwarded message ---------\nFrom: CDN\nerror 503"),
        # "On" at the start of a normal sentence is not an attribution
        ("On Monday the stream failed.\nPlease check.", "On Monday the stream failed.\nPlease check."),
        ("", ""),
    ],
)
def test_strip_quoted(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def test_html_to_text_marks_blockquotes() -> None:
    assert html_to_text("<p>Hi</p><blockquote><p>old</p><blockquote>older</blockquote></blockquote>") == (
        "Hi\n\n> old\n\n> > older"
    )
    assert strip_quoted(html_to_text("<p>Hi &lt;there&gt;</p><blockquote>old</blockquote>")) == "Hi <there>"
