"""Who is told what when a ticket changes. Called inside the change's transaction, so a
notification exists exactly when its cause does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from relaydesk.core import fastsql
from relaydesk.core.models import ROLE_GROUPS, ROLE_LEAD, User

from .models import Notification, OutboundEmail
from .outbox import build_email, queue_email, queue_emails, ticket_root_id

if TYPE_CHECKING:
    from relaydesk.sla.models import ClockEvent
    from relaydesk.tickets.models import Message, Ticket

TEXT = {
    "en": {
        "ack_subject": "[#{number}] {subject}",
        "ack_body": (
            "Hello {name},\n\nWe have received your request #{number} ({priority}) and a member "
            "of our support team will reply {promise}.\n\nYou can follow it at {url}\n\n"
            "— RelayDesk support"
        ),
        "promise_due": "by {due} (UTC)",
        "promise_none": "as soon as possible",
        "reply_body": "{body}\n\n--\nReply to this e-mail to answer. Ticket #{number}: {url}",
        "solved_body": (
            "Your request #{number} has been marked as solved. Reply to this e-mail if the "
            "problem is still there and we will reopen it.\n\n{url}"
        ),
    },
    "zh-Hans": {
        "ack_subject": "[#{number}] {subject}",
        "ack_body": (
            "{name} 您好：\n\n我们已收到您的工单 #{number}（{priority}），支持团队将{promise}回复您。\n\n"
            "查看进度：{url}\n\n—— RelayDesk 技术支持"
        ),
        "promise_due": "在 {due}（UTC）之前",
        "promise_none": "尽快",
        "reply_body": "{body}\n\n--\n直接回复此邮件即可继续沟通。工单 #{number}：{url}",
        "solved_body": "您的工单 #{number} 已标记为已解决。如问题仍然存在，请直接回复此邮件，我们会重新打开工单。\n\n{url}",
    },
}


def _t(lang: str, key: str) -> str:
    return TEXT.get(lang, TEXT["en"]).get(key, TEXT["en"][key])


def ticket_url(ticket: Ticket) -> str:
    return f"{settings.RELAYDESK_BASE_URL}/tickets/{ticket.number}"


def _subject(ticket: Ticket) -> str:
    return f"[#{ticket.number}] {ticket.subject}"


def _refs(ticket: Ticket, extra: str | None = None) -> list[str]:
    refs = [ticket_root_id(ticket.pk)]
    first = ticket.messages.filter(email_message_id__isnull=False).order_by("id").first()
    if first is not None and first.email_message_id:
        refs.append(first.email_message_id)
    if extra and extra not in refs:
        refs.append(extra)
    return refs


class Batch:
    """Notices collected over many tickets and written in two statements (the SLA sweep)."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self.emails: list[OutboundEmail] = []
        self.leads: list[User | None] | None = None  # the lead group, read once per batch

    def flush(self) -> None:
        Notification.objects.bulk_create(self.notifications)
        queue_emails(self.emails)
        self.notifications, self.emails = [], []


def _notify(
    users: list[User | None], kind: str, ticket: Ticket | None, text: str, batch: Batch | None = None
) -> None:
    seen: set[int] = set()
    rows = []
    for u in users:
        if u is None or u.pk in seen or not u.is_active:
            continue
        seen.add(u.pk)
        rows.append(Notification(user=u, kind=kind, ticket=ticket, text=text[:500]))
    if batch is not None:
        batch.notifications += rows
    else:
        Notification.objects.bulk_create(rows)


def _insert_message(**fields: Any) -> None:
    from relaydesk.tickets.models import Message

    fastsql.insert([Message(**fields)])


def ticket_created(ticket: Ticket, *, email_message_id: str | None, auto_ack: bool) -> None:
    from relaydesk.tickets.models import Message

    lang = ticket.organisation.language
    if email_message_id:
        # The customer's own mail is the first message of the thread (for threading replies).
        _insert_message(
            ticket=ticket,
            author=ticket.requester,
            author_kind=Message.AUTHOR_CUSTOMER,
            is_public=True,
            body=ticket.description or ticket.subject,
            channel="email",
            email_message_id=email_message_id,
            created_at=ticket.created_at,
        )
    if ticket.assignee is not None:
        _notify([ticket.assignee], "assigned", ticket, f"#{ticket.number} assigned to you: {ticket.subject}")
    if not auto_ack or ticket.channel == "proactive":
        return
    due = ticket.frt_due_at
    promise = (
        _t(lang, "promise_due").format(due=due.strftime("%Y-%m-%d %H:%M"))
        if due is not None
        else _t(lang, "promise_none")
    )
    body = _t(lang, "ack_body").format(
        name=ticket.requester.get_full_name() or ticket.requester.email,
        number=ticket.number,
        priority=ticket.priority,
        promise=promise,
        url=ticket_url(ticket),
    )
    # The acknowledgement is recorded as an automatic system message: it never counts as a
    # first response (only a human staff member's public reply does).
    _insert_message(
        ticket=ticket,
        author=None,
        author_kind=Message.AUTHOR_SYSTEM,
        is_public=True,
        is_auto=True,
        body=body,
        channel="email" if email_message_id else ticket.channel,
        created_at=ticket.created_at,
    )
    queue_email(
        kind="auto_ack",
        to=[ticket.requester.email],
        subject=_subject(ticket),
        body=body,
        ticket_id=ticket.pk,
        in_reply_to=email_message_id or ticket_root_id(ticket.pk),
        # A new ticket's thread is its root id plus, for mail, the customer's own message.
        references=[ticket_root_id(ticket.pk), *([email_message_id] if email_message_id else [])],
    )


def message_added(ticket: Ticket, msg: Message) -> None:
    from relaydesk.tickets.models import Message as M

    if msg.author_kind == M.AUTHOR_AGENT and msg.is_public:
        last_customer = (
            ticket.messages.filter(author_kind=M.AUTHOR_CUSTOMER, email_message_id__isnull=False)
            .order_by("-id")
            .first()
        )
        in_reply_to = (
            last_customer.email_message_id
            if last_customer and last_customer.email_message_id
            else ticket_root_id(ticket.pk)
        )
        queue_email(
            kind="agent_reply",
            to=[ticket.requester.email],
            subject=_subject(ticket),
            body=_t(ticket.organisation.language, "reply_body").format(
                body=msg.body, number=ticket.number, url=ticket_url(ticket)
            ),
            ticket_id=ticket.pk,
            in_reply_to=in_reply_to,
            references=_refs(ticket, in_reply_to),
        )
    elif msg.author_kind == M.AUTHOR_CUSTOMER:
        targets: list[User | None] = [ticket.assignee]
        _notify(targets, "customer_reply", ticket, f"#{ticket.number}: new reply from the customer")
        if ticket.assignee is not None:
            queue_email(
                kind="customer_reply",
                to=[ticket.assignee.email],
                subject=_subject(ticket),
                body=f"{msg.author} wrote on #{ticket.number}:\n\n{msg.body}\n\n{ticket_url(ticket)}",
                ticket_id=ticket.pk,
                references=_refs(ticket),
            )
    elif msg.author_kind == M.AUTHOR_AGENT and not msg.is_public:
        if ticket.assignee is not None and ticket.assignee != msg.author:
            _notify([ticket.assignee], "internal_note", ticket, f"#{ticket.number}: internal note by {msg.author}")


def _leads(ticket: Ticket, batch: Batch | None = None) -> list[User | None]:
    if ticket.team is not None and ticket.team.lead is not None:
        return [ticket.team.lead]
    if batch is not None and batch.leads is not None:
        return batch.leads
    leads: list[User | None] = list(User.objects.filter(groups__name=ROLE_GROUPS[ROLE_LEAD], is_active=True))
    if batch is not None:
        batch.leads = leads
    return leads


def clock_events(ticket: Ticket, events: list[ClockEvent], batch: Batch | None = None) -> None:
    """Warnings and breaches tell the assignee and the team lead (in-app and e-mail). With a
    ``batch`` the rows are collected there and written by ``batch.flush()``."""
    for ev in events:
        if ev.kind not in ("warned", "breached"):
            continue
        metric = ev.metric.replace("_", " ")
        if ev.kind == "warned":
            text = f"#{ticket.number} {ticket.priority}: {metric} target nearly spent (due {ev.due_at:%Y-%m-%d %H:%M} UTC)" if ev.due_at else f"#{ticket.number}: {metric} warning"
        else:
            text = f"#{ticket.number} {ticket.priority}: {metric} target BREACHED"
        users = [ticket.assignee, *_leads(ticket, batch)]
        _notify(users, f"sla_{ev.kind}", ticket, text, batch)
        to = sorted({u.email for u in users if u is not None and u.is_active})
        mail = dict(
            kind=f"sla_{ev.kind}",
            to=to,
            subject=f"[#{ticket.number}] SLA {ev.kind}: {metric} — {ticket.subject}",
            body=f"{text}\n\nOrganisation: {ticket.organisation}\nStatus: {ticket.status}\n{ticket_url(ticket)}",
            ticket_id=ticket.pk,
            references=[ticket_root_id(ticket.pk)],
        )
        if batch is None:
            queue_email(**mail)  # type: ignore[arg-type]
        else:
            row = build_email(**mail)  # type: ignore[arg-type]
            if row is not None:
                batch.emails.append(row)


def ticket_solved(ticket: Ticket) -> None:
    queue_email(
        kind="solved",
        to=[ticket.requester.email],
        subject=_subject(ticket),
        body=_t(ticket.organisation.language, "solved_body").format(number=ticket.number, url=ticket_url(ticket)),
        ticket_id=ticket.pk,
        references=_refs(ticket),
    )
