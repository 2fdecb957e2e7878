"""The e-mail outbox: rows written in the same transaction as their cause, delivered by the
worker over SMTP with retries and exponential backoff.

A row is claimed by setting a short lease (``status='sending'``, ``lease_until``); a worker
that dies mid-send leaves an expired lease, and the next pass picks the row up again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import connection, transaction
from django.db.models import Q

from relaydesk.core import fastsql

from .models import OutboundEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)


def new_message_id() -> str:
    return f"<rd.{uuid.uuid4().hex}@{settings.RELAYDESK_MAIL_DOMAIN}>"


def ticket_root_id(ticket_id: int) -> str:
    """A stable Message-ID for the ticket's thread (sent as a reference in every mail)."""
    return f"<ticket.{ticket_id}@{settings.RELAYDESK_MAIL_DOMAIN}>"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def queue_email(
    *,
    kind: str,
    to: list[str],
    subject: str,
    body: str,
    ticket_id: int | None = None,
    in_reply_to: str = "",
    references: list[str] | None = None,
) -> OutboundEmail | None:
    """Write one outbox row (inside the caller's transaction) and ask a worker to send it
    once that transaction commits (one delivery job per transaction, see ``_kick_on_commit``)."""
    row = build_email(
        kind=kind, to=to, subject=subject, body=body, ticket_id=ticket_id,
        in_reply_to=in_reply_to, references=references,
    )
    if row is None:
        return None
    fastsql.insert([row])
    _kick_on_commit()
    return row


def build_email(
    *,
    kind: str,
    to: list[str],
    subject: str,
    body: str,
    ticket_id: int | None = None,
    in_reply_to: str = "",
    references: list[str] | None = None,
) -> OutboundEmail | None:
    """An unsaved outbox row (``None`` when there is nobody to send it to)."""
    to = sorted({a for a in to if a})
    if not to:
        return None
    return OutboundEmail(
        kind=kind,
        to=to,
        subject=subject[:300],
        body=body,
        message_id=new_message_id(),
        in_reply_to=in_reply_to,
        references=" ".join(r for r in (references or []) if r),
        ticket_id=ticket_id,
    )


def queue_emails(rows: list[OutboundEmail]) -> None:
    """Write many outbox rows in one statement (inside the caller's transaction)."""
    if rows:
        fastsql.insert(rows)
        _kick_on_commit()


def _kick_on_commit() -> None:
    """Enqueue one delivery job when the current transaction commits. A job drains the whole
    outbox, so a transaction that queues many mails (an SLA sweep batch) enqueues one job, not
    one per mail — each of which was a job row with a commit of its own. A kick registered in
    a savepoint that is rolled back disappears together with the mails queued inside it."""
    kick = _kick
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(func is kick for _sids, func, _robust in conn.run_on_commit):
        return
    transaction.on_commit(kick)


_queued_job: list[str] = []  # the delivery job this process enqueued last (id), if any


def _kick() -> None:
    """Enqueue a delivery job — unless the one this process enqueued last has not started
    yet: it will run after this commit and see these rows, so another job would only add a
    write and a commit to every ticket create under load."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import deliver_outbox

    try:
        if _queued_job:
            pk = DBTaskResult._meta.pk
            assert pk is not None
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT 1 FROM {DBTaskResult._meta.db_table} WHERE id = %s AND status = %s",  # noqa: S608
                    [pk.get_db_prep_value(_queued_job[0], connection), TaskResultStatus.READY.value],
                )
                if cur.fetchone() is not None:
                    return
        result = deliver_outbox.enqueue()
        _queued_job[:] = [result.id]
    except Exception:  # the periodic sweep delivers it anyway
        log.exception("could not enqueue outbox delivery")


def _claim(now: datetime, limit: int) -> list[OutboundEmail]:
    due = OutboundEmail.objects.filter(
        Q(status=OutboundEmail.PENDING, next_attempt_at__lte=now)
        | Q(status=OutboundEmail.SENDING, lease_until__lt=now)
    ).order_by("next_attempt_at")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due[:limit])
        ids = [r.pk for r in rows]
        OutboundEmail.objects.filter(pk__in=ids).update(
            status=OutboundEmail.SENDING, lease_until=now + LEASE
        )
    return rows


def deliver_due(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send what is due; returns counts of sent / retried / failed."""
    now = now or datetime.now(UTC)
    rows = _claim(now, limit)
    result = {"sent": 0, "retry": 0, "failed": 0}
    if not rows:
        return result
    conn = mailers.default
    try:
        conn.open()
    except Exception as exc:
        for row in rows:
            _failed(row, now, exc, result)
        return result
    try:
        for row in rows:
            msg = EmailMessage(
                subject=row.subject,
                body=row.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=row.to,
                headers=_headers(row),
            )
            try:
                conn.send_messages([msg])
            except Exception as exc:
                _failed(row, now, exc, result)
                continue
            OutboundEmail.objects.filter(pk=row.pk).update(
                status=OutboundEmail.SENT,
                sent_at=datetime.now(UTC),
                attempts=row.attempts + 1,
                lease_until=None,
                last_error="",
            )
            result["sent"] += 1
    finally:
        try:
            conn.close()
        except Exception:
            log.debug("closing SMTP connection failed", exc_info=True)
    return result


def _headers(row: OutboundEmail) -> dict[str, str]:
    headers = {"Message-ID": row.message_id, "Auto-Submitted": "auto-generated"}
    if row.kind in {"agent_reply"}:
        headers.pop("Auto-Submitted")
    if row.in_reply_to:
        headers["In-Reply-To"] = row.in_reply_to
    if row.references:
        headers["References"] = row.references
    if row.ticket_id:
        headers["X-RelayDesk-Ticket"] = str(row.ticket_id)
    return headers


def _failed(row: OutboundEmail, now: datetime, exc: Exception, result: dict[str, int]) -> None:
    attempts = row.attempts + 1
    final = attempts >= MAX_ATTEMPTS
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=OutboundEmail.FAILED if final else OutboundEmail.PENDING,
        attempts=attempts,
        next_attempt_at=now + backoff(attempts),
        lease_until=None,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    result["failed" if final else "retry"] += 1
    log.warning("outbox %s delivery failed (attempt %s): %s", row.pk, attempts, exc)
