"""Every change to a ticket goes through here: one transaction writes the change, its audit
rows, its SLA clock updates and events, and the notifications it causes — or nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F

from relaydesk.core import fastsql
from relaydesk.core.models import Organisation, Region, Team, User
from relaydesk.domain import clock as clk
from relaydesk.sla import engine
from relaydesk.sla.models import SLARule

from . import files, signals
from .models import (
    STATUS_CLOSED,
    STATUS_NEW,
    STATUS_ON_HOLD,
    STATUS_OPEN,
    STATUS_PENDING,
    STATUS_SOLVED,
    TRANSITIONS,
    Attachment,
    AuditEntry,
    Message,
    Tag,
    Ticket,
    TicketCounter,
)


class TicketError(Exception):
    """A request that cannot be applied; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


CONTEXT_FIELDS = (
    "app_id",
    "channel_name",
    "sdk",
    "sdk_version",
    "platform",
    "region",
    "affected_user_ids",
    "problem_start",
    "problem_end",
)


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class _Change:
    ticket: Ticket
    actor: User | None
    via: str
    now: datetime
    audit: list[AuditEntry] = field(default_factory=list)
    events: list[clk.ClockEvent] = field(default_factory=list)

    def record(self, name: str, old: Any, new: Any) -> None:
        if _text(old) == _text(new):
            return
        self.audit.append(
            AuditEntry(
                ticket=self.ticket,
                field=name,
                old=_text(old),
                new=_text(new),
                actor=self.actor,
                actor_kind=_actor_kind(self.actor),
                via=self.via,
                at=self.now,
            )
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(str(v) for v in value))
    if hasattr(value, "pk"):
        return f"{value} (#{value.pk})"
    return str(value)


def _actor_kind(actor: User | None) -> str:
    if actor is None or actor.kind == User.KIND_SYSTEM:
        return "system"
    return "customer" if actor.is_customer else "agent"


def next_number() -> int:
    """Hand out the next human ticket number; the row lock serialises concurrent creators."""
    table = TicketCounter._meta.db_table
    if connection.vendor in ("postgresql", "sqlite"):
        with connection.cursor() as cur:
            cur.execute(f'UPDATE "{table}" SET "value" = "value" + 1 WHERE "id" = 1 RETURNING "value"')  # noqa: S608 - constant table name
            row = cur.fetchone()
        if row is not None:
            return int(row[0])
    updated = TicketCounter.objects.filter(pk=1).update(value=F("value") + 1)
    if not updated:
        TicketCounter.objects.get_or_create(pk=1, defaults={"value": 1000})
        TicketCounter.objects.filter(pk=1).update(value=F("value") + 1)
    return TicketCounter.objects.values_list("value", flat=True).get(pk=1)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# -- SLA helpers --------------------------------------------------------------


def _apply_rule(ticket: Ticket, organisation: Organisation) -> SLARule | None:
    policy, rule = engine.choose_rule(ticket, organisation)
    ticket.sla_policy = policy
    ticket.sla_rule = rule
    ticket.sla_calendar = engine.calendar_for_rule(rule, organisation)
    return rule


def _targets(rule: SLARule | None) -> dict[str, int | None]:
    if rule is None:
        return dict.fromkeys(clk.METRICS)
    dom = rule.as_domain()
    return {m: dom.target_us(m) for m in clk.METRICS}


def _pauses(ticket: Ticket, status: str) -> bool:
    if status == STATUS_PENDING:
        return True
    if status == STATUS_ON_HOLD:
        return bool(ticket.sla_rule_id and ticket.sla_rule and ticket.sla_rule.pause_on_hold)
    return False


def _save_clocks(ch: _Change, clocks: dict[str, clk.Clock]) -> None:
    engine.clocks_to_ticket(ch.ticket, clocks)


def recompute_sla(
    ticket: Ticket, *, actor: User | None = None, via: str = "system", reason: str = "",
    now: datetime | None = None,
) -> None:
    """Re-choose the rule (after a priority, category or plan change) and re-target every
    clock, keeping the business time already spent."""
    ch = _Change(ticket, actor, via, _now(now))
    with transaction.atomic():
        _retarget(ch, reason)
        _finish(ch)


def _retarget(ch: _Change, reason: str) -> None:
    ticket = ch.ticket
    old_cal = engine.ticket_calendar(ticket)
    old_rule = ticket.sla_rule
    rule = _apply_rule(ticket, ticket.organisation)
    new_cal = engine.ticket_calendar(ticket)
    ch.record("sla_rule", old_rule, rule)
    clocks = engine.clocks_from_ticket(ticket)
    targets = _targets(rule)
    t = engine.now_us(ch.now)
    for metric, c in clocks.items():
        if rule is not None:
            c.warn_pct = rule.warn_pct
        ch.events += c.retarget(old_cal, new_cal, t, targets[metric], reason=reason)
    _save_clocks(ch, clocks)


def _finish(ch: _Change) -> None:
    ticket = ch.ticket
    ticket.updated_at = ch.now
    ticket.save()
    fastsql.insert(ch.audit)
    stored = engine.record_events(ticket, ch.events)
    from relaydesk.notify import notices

    notices.clock_events(ticket, stored)


# -- create ---------------------------------------------------------------------


def create_ticket(
    *,
    actor: User,
    requester: User,
    subject: str,
    description: str = "",
    priority: str = "P3",
    category: str = "other",
    channel: str = "portal",
    tags: list[str] | None = None,
    context: dict[str, Any] | None = None,
    assignee: User | None = None,
    team: Team | None = None,
    email_message_id: str | None = None,
    attachments: list[Upload] | None = None,
    auto_ack: bool = True,
    now: datetime | None = None,
) -> Ticket:
    if not requester.is_customer or requester.organisation_id is None:
        raise TicketError("requester must be a customer user of an organisation", field="requester")
    organisation = requester.organisation
    assert organisation is not None
    context = dict(context or {})
    _check_context(context)
    for up in attachments or []:
        validate_upload(up)
    when = _now(now)
    # Everything that only reads (the SLA rule, the calendar, the clock targets) is worked out
    # before the write transaction: on SQLite that transaction holds the database's single
    # write lock, so the less it does, the more creates run side by side.
    ticket = Ticket(
        number=0,  # handed out inside the transaction below
        subject=subject,
        description=description,
        priority=priority,
        category=category,
        channel=channel,
        organisation=organisation,
        requester=requester,
        assignee=assignee,
        team=team,
        created_at=when,
        updated_at=when,
        **context,
    )
    ch = _Change(ticket, actor, channel, when)
    rule = _apply_rule(ticket, organisation)
    clocks = engine.clocks_from_ticket(ticket)
    targets = _targets(rule)
    t = engine.now_us(when)
    cal = engine.ticket_calendar(ticket)
    for metric in (clk.FIRST_RESPONSE, clk.RESOLUTION):
        if rule is not None:
            clocks[metric].warn_pct = rule.warn_pct
        ch.events += clocks[metric].start(cal, t, targets[metric])
    _save_clocks(ch, clocks)
    created = AuditEntry(
        ticket=ticket, field="created", actor=actor, actor_kind=_actor_kind(actor), via=channel, at=when
    )
    ch.audit.append(created)
    if rule is not None:
        ch.record("sla_rule", None, rule)
    with files.discard_on_failure(), transaction.atomic():
        ticket.number = next_number()
        fastsql.insert([ticket])
        if tags:
            _set_tags(ticket, tags, new=True)
        created.new = f"#{ticket.number} {priority} {category} via {channel}"
        for entry in ch.audit:
            entry.ticket_id = ticket.pk
        fastsql.insert(ch.audit)
        engine.record_events(ticket, ch.events)
        if attachments:
            for up in attachments:
                save_attachment(ticket, None, up, requester)
        from relaydesk.notify import notices

        notices.ticket_created(ticket, email_message_id=email_message_id, auto_ack=auto_ack)
        signals.ticket_created.send(sender=Ticket, ticket=ticket, actor=actor)
    return ticket


def _check_context(context: dict[str, Any]) -> None:
    unknown = set(context) - set(CONTEXT_FIELDS)
    if unknown:
        raise TicketError(f"unknown context field(s): {', '.join(sorted(unknown))}", field="context")
    region = context.get("region")
    if region is not None and not isinstance(region, Region):
        raise TicketError("region must be a Region", field="region")
    start, end = context.get("problem_start"), context.get("problem_end")
    if start and end and end < start:
        raise TicketError("problem_end must not be before problem_start", field="problem_end")


def _tags_named(names: list[str]) -> list[Tag]:
    """The tags with these names, creating missing ones (two queries whatever the count)."""
    wanted = sorted(set(names))
    found = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing], ignore_conflicts=True)
        found.update({t.name: t for t in Tag.objects.filter(name__in=missing)})
    return [found[n] for n in wanted]


def _set_tags(ticket: Ticket, names: list[str], *, new: bool = False) -> None:
    if new:  # a new ticket has no tags yet: link by name in SQL instead of a diff
        _link_new_tags(ticket, sorted(set(names)))
    else:
        ticket.tags.set(_tags_named(names))


def _link_new_tags(ticket: Ticket, names: list[str]) -> None:
    if not names:
        return
    tag_table = Tag._meta.db_table
    through = Ticket.tags.through._meta.db_table
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cur:
        cur.execute(f"SELECT name FROM {tag_table} WHERE name IN ({marks})", names)  # noqa: S608
        have = {r[0] for r in cur.fetchall()}
        missing = [n for n in names if n not in have]
        if missing:
            cur.execute(
                f"INSERT INTO {tag_table} (name) VALUES {', '.join(['(%s)'] * len(missing))} "  # noqa: S608
                "ON CONFLICT (name) DO NOTHING",
                missing,
            )
        cur.execute(
            f"INSERT INTO {through} (ticket_id, tag_id) "  # noqa: S608
            f"SELECT %s, id FROM {tag_table} WHERE name IN ({marks})",
            [ticket.pk, *names],
        )


# -- update ---------------------------------------------------------------------

UPDATABLE = {"status", "priority", "category", "assignee", "team", "tags", "subject", *CONTEXT_FIELDS}


def update_ticket(
    ticket: Ticket,
    *,
    actor: User,
    changes: dict[str, Any],
    via: str = "api",
    now: datetime | None = None,
) -> Ticket:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TicketError(f"cannot change field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    when = _now(now)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related(
            "organisation__plan", "organisation__home_region", "sla_rule", "sla_calendar"
        ).get(pk=ticket.pk)
        if ticket.status == STATUS_CLOSED:
            raise TicketError("ticket is closed; file a follow-up ticket instead", status=409)
        ch = _Change(ticket, actor, via, when)
        context = {k: v for k, v in changes.items() if k in CONTEXT_FIELDS}
        merged = {k: getattr(ticket, k) for k in CONTEXT_FIELDS} | context
        _check_context(merged)
        for name, value in context.items():
            ch.record(name, getattr(ticket, name), value)
            setattr(ticket, name, value)
        for name in ("subject", "assignee", "team"):
            if name in changes:
                ch.record(name, getattr(ticket, name), changes[name])
                setattr(ticket, name, changes[name])
        if "tags" in changes:
            old = sorted(ticket.tags.values_list("name", flat=True))
            new = sorted(set(changes["tags"]))
            ch.record("tags", old, new)
            _set_tags(ticket, new)
        retarget = False
        for name in ("priority", "category"):
            if name in changes and changes[name] != getattr(ticket, name):
                ch.record(name, getattr(ticket, name), changes[name])
                setattr(ticket, name, changes[name])
                retarget = True
        if retarget:
            _retarget(ch, reason="priority/category changed")
        if "status" in changes and changes["status"] != ticket.status:
            _transition(ch, changes["status"])
        _finish(ch)
        changed = {a.field for a in ch.audit}
        if changed:
            signals.ticket_changed.send(sender=Ticket, ticket=ticket, actor=actor, fields=changed)
    return ticket


def _transition(ch: _Change, new: str) -> None:
    ticket = ch.ticket
    old = ticket.status
    if new not in TRANSITIONS.get(old, set()):
        raise TicketError(
            f"cannot move a ticket from '{old}' to '{new}'; allowed: "
            f"{', '.join(sorted(TRANSITIONS.get(old, set()))) or 'none'}",
            status=409,
            field="status",
        )
    cal = engine.ticket_calendar(ticket)
    t = engine.now_us(ch.now)
    clocks = engine.clocks_from_ticket(ticket)
    if new == STATUS_SOLVED:
        ch.events += clocks[clk.RESOLUTION].meet(cal, t, by="solved")
        for metric in (clk.FIRST_RESPONSE, clk.NEXT_RESPONSE):
            ch.events += clocks[metric].stop(cal, t, reason="solved")
        ticket.solved_at = ch.now
        from relaydesk.notify import notices

        notices.ticket_solved(ticket)
    elif new == STATUS_CLOSED:
        for c in clocks.values():
            ch.events += c.stop(cal, t, reason="closed")
        ticket.closed_at = ch.now
    elif old == STATUS_SOLVED:
        # Re-opening: the resolution clock resumes with the business time already spent
        # (docs/decisions/0003-reopening.md).
        ticket.reopen_count += 1
        ticket.solved_at = None
        ch.events += clocks[clk.RESOLUTION].reopen(cal, t, reason="reopened")
        if _pauses(ticket, new):
            for c in clocks.values():
                ch.events += c.pause(cal, t, reason=new)
    elif _pauses(ticket, new):
        for c in clocks.values():
            ch.events += c.pause(cal, t, reason=new)
    else:
        for c in clocks.values():
            ch.events += c.resume(cal, t, reason=new)
    ch.record("status", old, new)
    ticket.status = new
    _save_clocks(ch, clocks)


# -- messages -------------------------------------------------------------------


def add_message(
    ticket: Ticket,
    *,
    author: User | None,
    body: str,
    is_public: bool = True,
    is_auto: bool = False,
    channel: str = "portal",
    email_message_id: str | None = None,
    status: str | None = None,
    attachments: list[Upload] | None = None,
    now: datetime | None = None,
) -> Message:
    when = _now(now)
    if not body.strip():
        raise TicketError("body must not be empty", field="body")
    for up in attachments or []:
        validate_upload(up)
    with files.discard_on_failure(), transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related(
            "organisation__plan", "organisation__home_region", "sla_rule", "sla_calendar"
        ).get(pk=ticket.pk)
        if ticket.status == STATUS_CLOSED:
            raise TicketError("ticket is closed; file a follow-up ticket instead", status=409)
        if author is None or author.kind == User.KIND_SYSTEM:
            kind = Message.AUTHOR_SYSTEM
        elif author.is_customer:
            kind = Message.AUTHOR_CUSTOMER
            if not is_public:
                raise TicketError("customers cannot write internal notes", status=403, field="is_public")
        else:
            kind = Message.AUTHOR_AGENT
        msg = Message.objects.create(
            ticket=ticket,
            author=author,
            author_kind=kind,
            is_public=is_public,
            is_auto=is_auto,
            body=body,
            channel=channel,
            email_message_id=email_message_id,
            created_at=when,
        )
        for up in attachments or []:
            save_attachment(ticket, msg, up, author)
        ch = _Change(ticket, author, channel, when)
        cal = engine.ticket_calendar(ticket)
        t = engine.now_us(when)
        clocks = engine.clocks_from_ticket(ticket)
        target_status = status
        if msg.counts_as_human_staff_reply:
            ch.events += clocks[clk.FIRST_RESPONSE].meet(cal, t, by=f"message:{msg.pk}")
            ch.events += clocks[clk.NEXT_RESPONSE].meet(cal, t, by=f"message:{msg.pk}")
            if target_status is None and ticket.status == STATUS_NEW:
                target_status = STATUS_OPEN
        elif kind == Message.AUTHOR_CUSTOMER and is_public:
            nrt = clocks[clk.NEXT_RESPONSE]
            frt = clocks[clk.FIRST_RESPONSE]
            if frt.state not in (clk.RUNNING, clk.PAUSED) and nrt.state not in (clk.RUNNING, clk.PAUSED):
                rule = ticket.sla_rule
                target = rule.as_domain().target_us(clk.NEXT_RESPONSE) if rule else None
                if rule is not None:
                    nrt.warn_pct = rule.warn_pct
                ch.events += nrt.start(cal, t, target, new_cycle=True)
            if target_status is None and ticket.status in (STATUS_PENDING, STATUS_SOLVED):
                target_status = STATUS_OPEN
        _save_clocks(ch, clocks)
        ch.record("message", None, f"{kind} {'public reply' if is_public else 'internal note'} #{msg.pk}")
        if target_status is not None and target_status != ticket.status:
            _transition(ch, target_status)
        _finish(ch)
        from relaydesk.notify import notices

        notices.message_added(ticket, msg)
        signals.message_added.send(sender=Ticket, ticket=ticket, message=msg)
    return msg


# -- attachments ----------------------------------------------------------------


def validate_upload(up: Upload) -> str:
    """Check size and type before anything is written; returns the normalised content type."""
    limit = settings.RELAYDESK_MAX_ATTACHMENT_BYTES
    if len(up.data) > limit:
        raise TicketError(
            f"attachment {up.filename!r} is {len(up.data)} bytes; the limit is {limit}",
            status=413,
            field="attachments",
        )
    ctype = (up.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if ctype not in settings.RELAYDESK_ATTACHMENT_TYPES:
        raise TicketError(
            f"attachment type {ctype!r} is not accepted; allowed: "
            f"{', '.join(settings.RELAYDESK_ATTACHMENT_TYPES)}",
            status=415,
            field="attachments",
        )
    return ctype


def save_attachment(ticket: Ticket, message: Message | None, up: Upload, user: User | None) -> Attachment:
    ctype = validate_upload(up)
    name = _safe_filename(up.filename)
    att = Attachment(
        ticket=ticket,
        message=message,
        filename=name,
        content_type=ctype,
        size=len(up.data),
        sha256=hashlib.sha256(up.data).hexdigest(),
        uploaded_by=user,
    )
    att.file.save(name, ContentFile(up.data), save=False)
    files.track(att.file.storage, att.file.name)
    att.save()
    return att


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(ch for ch in base if ch.isalnum() or ch in "._- ")[:200]
    return cleaned or "attachment"
