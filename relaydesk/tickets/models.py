"""Tickets, messages, attachments and the append-only audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from relaydesk.domain import clock as clk
from relaydesk.sla.models import PRIORITIES

STATUS_NEW = "new"
STATUS_OPEN = "open"
STATUS_PENDING = "pending_customer"
STATUS_ON_HOLD = "on_hold"
STATUS_SOLVED = "solved"
STATUS_CLOSED = "closed"
STATUSES = [
    (STATUS_NEW, "New"),
    (STATUS_OPEN, "Open"),
    (STATUS_PENDING, "Pending customer"),
    (STATUS_ON_HOLD, "On hold"),
    (STATUS_SOLVED, "Solved"),
    (STATUS_CLOSED, "Closed"),
]
# Allowed status transitions (anything else answers 409).
TRANSITIONS: dict[str, set[str]] = {
    STATUS_NEW: {STATUS_OPEN, STATUS_PENDING, STATUS_ON_HOLD, STATUS_SOLVED, STATUS_CLOSED},
    STATUS_OPEN: {STATUS_PENDING, STATUS_ON_HOLD, STATUS_SOLVED, STATUS_CLOSED},
    STATUS_PENDING: {STATUS_OPEN, STATUS_ON_HOLD, STATUS_SOLVED, STATUS_CLOSED},
    STATUS_ON_HOLD: {STATUS_OPEN, STATUS_PENDING, STATUS_SOLVED, STATUS_CLOSED},
    STATUS_SOLVED: {STATUS_OPEN, STATUS_CLOSED},
    STATUS_CLOSED: set(),
}

CATEGORIES = [
    ("stream_quality", "Stream quality"),
    ("connection", "Connection / join failure"),
    ("sdk_integration", "SDK integration"),
    ("billing", "Billing"),
    ("account", "Account"),
    ("other", "Other"),
]
CHANNELS = [
    ("portal", "Portal"),
    ("email", "E-mail"),
    ("api", "API"),
    ("phone", "Phone (logged)"),
    ("proactive", "Proactive"),
]
PLATFORMS = [
    ("", "—"),
    ("android", "Android"),
    ("ios", "iOS"),
    ("web", "Web"),
    ("windows", "Windows"),
    ("macos", "macOS"),
    ("linux", "Linux"),
    ("flutter", "Flutter"),
    ("react_native", "React Native"),
    ("unity", "Unity"),
    ("electron", "Electron"),
    ("other", "Other"),
]
SLA_STATES = [
    ("none", "No running clock"),
    ("ok", "On track"),
    ("warning", "Warning"),
    ("breached", "Breached"),
    ("paused", "Paused"),
]

CLOCK_PREFIX = {clk.FIRST_RESPONSE: "frt", clk.NEXT_RESPONSE: "nrt", clk.RESOLUTION: "ttr"}
CLOCK_FIELDS = (
    "state",
    "target_us",
    "spent_us",
    "running_since",
    "due_at",
    "warn_at",
    "cycle",
    "warned",
    "breached",
    "met_at",
)


SORT_SENTINEL = datetime(9999, 12, 31, tzinfo=UTC)


class TicketCounter(models.Model):
    """One row per site: the last human ticket number handed out."""

    value = models.BigIntegerField(default=0)


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    number = models.BigIntegerField(unique=True)
    subject = models.CharField(max_length=250)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=20, choices=STATUSES, default=STATUS_NEW)
    priority = models.CharField(max_length=2, choices=PRIORITIES, default="P3")
    category = models.CharField(max_length=30, choices=CATEGORIES, default="other")
    channel = models.CharField(max_length=20, choices=CHANNELS, default="portal")
    # Indexed by the composite (organisation, …) indexes in Meta, which lead with it.
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,  # the (assignee, sla_sort_at, id) index leads with it
    )
    team = models.ForeignKey(
        "core.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")

    # Typed real-time context
    app_id = models.CharField(max_length=100, blank=True, default="")
    channel_name = models.CharField(max_length=200, blank=True, default="")
    sdk = models.CharField(max_length=60, blank=True, default="")
    sdk_version = models.CharField(max_length=40, blank=True, default="")
    platform = models.CharField(max_length=20, choices=PLATFORMS, blank=True, default="")
    region = models.ForeignKey(
        "core.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    affected_user_ids = models.JSONField(default=list, blank=True)
    problem_start = models.DateTimeField(null=True, blank=True)
    problem_end = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)

    # SLA: which policy/rule set the clock, the calendar it runs on, summary columns.
    sla_policy = models.ForeignKey("sla.SLAPolicy", null=True, blank=True, on_delete=models.SET_NULL)
    sla_rule = models.ForeignKey("sla.SLARule", null=True, blank=True, on_delete=models.SET_NULL)
    sla_calendar = models.ForeignKey(
        "sla.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_state = models.CharField(max_length=8, choices=SLA_STATES, default="none")
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # sla_due_at, or a far-future sentinel when no clock is due: the queue's sort key, so the
    # "next due first" order is a plain index scan on every database.
    sla_sort_at = models.DateTimeField(default=SORT_SENTINEL)
    sla_next_event_at = models.DateTimeField(null=True, blank=True)

    # First response clock (see relaydesk.domain.clock.Clock)
    frt_state = models.CharField(max_length=8, default=clk.IDLE)
    frt_target_us = models.BigIntegerField(null=True, blank=True)
    frt_spent_us = models.BigIntegerField(default=0)
    frt_running_since = models.DateTimeField(null=True, blank=True)
    frt_due_at = models.DateTimeField(null=True, blank=True)
    frt_warn_at = models.DateTimeField(null=True, blank=True)
    frt_cycle = models.PositiveIntegerField(default=0)
    frt_warned = models.BooleanField(default=False)
    frt_breached = models.BooleanField(default=False)
    frt_met_at = models.DateTimeField(null=True, blank=True)
    # Next response clock (see relaydesk.domain.clock.Clock)
    nrt_state = models.CharField(max_length=8, default=clk.IDLE)
    nrt_target_us = models.BigIntegerField(null=True, blank=True)
    nrt_spent_us = models.BigIntegerField(default=0)
    nrt_running_since = models.DateTimeField(null=True, blank=True)
    nrt_due_at = models.DateTimeField(null=True, blank=True)
    nrt_warn_at = models.DateTimeField(null=True, blank=True)
    nrt_cycle = models.PositiveIntegerField(default=0)
    nrt_warned = models.BooleanField(default=False)
    nrt_breached = models.BooleanField(default=False)
    nrt_met_at = models.DateTimeField(null=True, blank=True)
    # Resolution clock (see relaydesk.domain.clock.Clock)
    ttr_state = models.CharField(max_length=8, default=clk.IDLE)
    ttr_target_us = models.BigIntegerField(null=True, blank=True)
    ttr_spent_us = models.BigIntegerField(default=0)
    ttr_running_since = models.DateTimeField(null=True, blank=True)
    ttr_due_at = models.DateTimeField(null=True, blank=True)
    ttr_warn_at = models.DateTimeField(null=True, blank=True)
    ttr_cycle = models.PositiveIntegerField(default=0)
    ttr_warned = models.BooleanField(default=False)
    ttr_breached = models.BooleanField(default=False)
    ttr_met_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # An organisation's tickets newest first ("recent tickets" beside a ticket); a filter
            # on organisation and status uses ticket_status_scope below.
            models.Index(fields=["organisation", "id"], name="ticket_org_recent"),
            models.Index(fields=["sla_sort_at", "id"], name="ticket_queue_order"),
            # The same queue order within one organisation (every customer's list) and for one
            # assignee ("mine"): a page is an index range, not a sort of all their tickets.
            models.Index(fields=["organisation", "sla_sort_at", "id"], name="ticket_org_queue"),
            models.Index(fields=["assignee", "status", "sla_sort_at", "id"], name="ticket_assignee_queue"),
            # Queue views by status or SLA state ("open", "at risk"): the count and the page's
            # ids come from the index alone (see docs/decisions/0005-ticket-list-count.md).
            models.Index(fields=["status", "priority", "sla_sort_at", "id"], name="ticket_status_queue"),
            models.Index(fields=["sla_state", "sla_sort_at", "id"], name="ticket_sla_state_queue"),
            # An agent's view is "these statuses, within my organisations, team or assignments":
            # its bounded count is answered from this index alone, with no table lookups.
            models.Index(fields=["status", "organisation", "team", "assignee"], name="ticket_status_scope"),
            models.Index(
                fields=["sla_next_event_at"],
                name="ticket_sla_next_event",
                condition=models.Q(sla_next_event_at__isnull=False),
            ),
            models.Index(fields=["updated_at"], name="ticket_updated"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    def clocks(self) -> dict[str, clk.Clock]:
        """The three SLA clocks as plain domain objects."""
        from relaydesk.sla.engine import clocks_from_ticket

        return clocks_from_ticket(self)


class Message(models.Model):
    AUTHOR_CUSTOMER = "customer"
    AUTHOR_AGENT = "agent"
    AUTHOR_SYSTEM = "system"
    AUTHOR_KINDS = [
        (AUTHOR_CUSTOMER, "Customer"),
        (AUTHOR_AGENT, "Agent"),
        (AUTHOR_SYSTEM, "System"),
    ]

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    author_kind = models.CharField(max_length=10, choices=AUTHOR_KINDS)
    is_public = models.BooleanField(default=True)
    is_auto = models.BooleanField(default=False)
    body = models.TextField()
    channel = models.CharField(max_length=20, choices=CHANNELS, default="portal")
    email_message_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_time")]

    def __str__(self) -> str:
        kind = "public" if self.is_public else "internal"
        return f"{self.author_kind} {kind} on #{self.ticket_id}"

    @property
    def counts_as_human_staff_reply(self) -> bool:
        return self.author_kind == self.AUTHOR_AGENT and self.is_public and not self.is_auto


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.sha256[:16]}/{filename}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=400)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    """Bulk ``update()`` and ``delete()`` would bypass the model's append-only guard, so they
    refuse too. (Deleting a ticket still removes its trail: that cascade is the database's,
    not this queryset's, and the admin's log records who deleted the ticket.)"""

    def update(self, **kwargs: Any) -> int:
        raise ValidationError("the audit trail is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValidationError("the audit trail is append-only")


class AuditEntry(models.Model):
    """One changed field of a ticket: who changed what from what to what, when. Append-only."""

    objects = AuditQuerySet.as_manager()

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="audit")
    field = models.CharField(max_length=60)
    old = models.TextField(blank=True, default="")
    new = models.TextField(blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_kind = models.CharField(max_length=10, default="system")
    via = models.CharField(max_length=20, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["ticket", "at"], name="audit_ticket_time")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.field}: {self.old!r} → {self.new!r}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("the audit trail is append-only")
