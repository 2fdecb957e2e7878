"""Routing data: agent profiles (presence, capacity, skills, backup), team rotations with
overrides and time off, assignments with their reasons, escalation chains and pages.

The decisions themselves live in ``relaydesk.domain.shifts`` and ``relaydesk.domain.routing``;
these models hold their inputs and record their outputs."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from relaydesk.domain.routing import PRESENCES

PRESENCE_CHOICES = [(p, p.capitalize()) for p in PRESENCES]
DEFAULT_CAPACITY = {"P1": 2, "P2": 4, "P3": 8, "P4": 10}


def default_capacity() -> dict[str, int]:
    return dict(DEFAULT_CAPACITY)


class AgentProfile(models.Model):
    """Routing facts about one staff member (the core user keeps team, languages, skills)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_profile")
    presence = models.CharField(max_length=10, choices=PRESENCE_CHOICES, default="available")
    presence_changed_at = models.DateTimeField(default=timezone.now)
    presence_follows_shift = models.BooleanField(
        default=True, help_text="Set to offline automatically when the agent's shift ends"
    )
    capacity = models.JSONField(default=default_capacity, help_text='Open tickets per priority, e.g. {"P1": 2}')
    skills = models.JSONField(
        default=list, blank=True, help_text='Structured skills "kind:value": category:…, sdk:…, region:…, service:…'
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="backup_for"
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    was_on_shift = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.presence})"


class AgentLoad(models.Model):
    """Open tickets per assignee and priority, kept by database triggers on the ticket table
    (migration 0002): every insert, update of assignee/status/priority and delete of a ticket
    adjusts it in the same transaction, whatever code path wrote the ticket.  Routing reads
    it instead of counting open tickets on every decision; ``services.recount_loads`` rebuilds
    it from the tickets."""

    agent_id = models.BigIntegerField()
    priority = models.CharField(max_length=2)
    open_count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["priority", "agent_id"], name="agentload_priority_agent")]

    def __str__(self) -> str:
        return f"agent {self.agent_id} {self.priority}: {self.open_count}"


class CacheStamp(models.Model):
    """One row whose stamps database triggers change whenever the staff directory or the
    schedules routing caches in process change (``relaydesk.routing.stamps``)."""

    staff = models.BigIntegerField(default=0)
    schedules = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"staff {self.staff}, schedules {self.schedules}"


class Rotation(models.Model):
    """One layer of a team's schedule: an RRULE of local shift starts, a wall-clock length and
    the people taking turns.  ``kind='oncall'`` layers are paged; they do not take tickets."""

    KIND_SHIFT, KIND_ONCALL = "shift", "oncall"
    team = models.ForeignKey("core.Team", on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=[(KIND_SHIFT, "Shift"), (KIND_ONCALL, "On-call")], default=KIND_SHIFT)
    rrule = models.CharField(max_length=500, help_text="e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9")
    dtstart = models.CharField(max_length=19, help_text="Local wall time of the first shift, YYYY-MM-DDTHH:MM:SS")
    duration_minutes = models.PositiveIntegerField()
    handoff_every = models.PositiveIntegerField(default=1)
    member_ids = models.JSONField(default=list, help_text="User ids in rotation order")
    restrictions = models.JSONField(default=list, blank=True, help_text='[{"days": "mon-fri", "start": "09:00", "end": "18:00"}]')
    exclude_holidays = models.BooleanField(default=False)
    time_zone = models.CharField(
        max_length=64, blank=True, default="", help_text="Zone of rrule/dtstart when not the team's (a member abroad)"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="rotation_team_name")]

    def __str__(self) -> str:
        return f"{self.team} / {self.name}"


class ScheduleOverride(models.Model):
    KINDS = [("cover", "Cover"), ("swap", "Swap")]
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    kind = models.CharField(max_length=5, choices=KINDS, default="cover")
    note = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start"]


class TimeOff(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"


class Assignment(models.Model):
    """Why a ticket went where it went: one row per routing decision or manual (re)assignment."""

    RULES = [
        ("key_account", "Key account manager"),
        ("key_account_backup", "Key account backup"),
        ("key_account_team", "Key account manager's team"),
        ("best", "Best agent on shift"),
        ("team_queue", "Queue of the next team on shift"),
        ("on_call", "On-call person (nobody on shift)"),
        ("round_robin", "Round robin"),
        ("manual", "Manual"),
    ]
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="assignments")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    previous_agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule = models.CharField(max_length=20, choices=RULES)
    trigger = models.CharField(max_length=20, default="created")  # created | customer_reply | handover | api | manual
    summary = models.TextField()
    reasons = models.JSONField(default=list)
    scores = models.JSONField(default=dict)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="assignment_ticket_time")]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.summary}"


class EscalationChain(models.Model):
    """Who is paged, in which order, for urgent work nobody on shift can take."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="escalation_chains")
    priorities = models.JSONField(default=list, help_text='e.g. ["P1", "P2"]')
    repeat = models.PositiveIntegerField(default=1, help_text="Run through the levels this many more times")
    webhook_url = models.URLField(blank=True, default="", max_length=500)
    webhook_secret = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    """One level: after ``delay_minutes`` notify the target; unacknowledged after
    ``ack_timeout_minutes`` the next level fires.  The target is a person, the on-call person
    of a rotation, or another chain (whose levels follow; loops are refused)."""

    chain = models.ForeignKey(EscalationChain, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveIntegerField()
    delay_minutes = models.PositiveIntegerField(default=0)
    ack_timeout_minutes = models.PositiveIntegerField(default=10)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    rotation = models.ForeignKey(Rotation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    next_chain = models.ForeignKey(EscalationChain, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["chain", "level"]
        constraints = [models.UniqueConstraint(fields=["chain", "level"], name="step_chain_level")]


class Page(models.Model):
    """One urgent ticket being paged through a chain.  Never a reply to the customer."""

    OPEN, ACKED, RESOLVED, EXHAUSTED = "open", "acknowledged", "resolved", "exhausted"
    STATUSES = [(s, s) for s in (OPEN, ACKED, RESOLVED, EXHAUSTED)]
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="pages")
    chain = models.ForeignKey(EscalationChain, null=True, blank=True, on_delete=models.SET_NULL, related_name="pages")
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=STATUSES, default=OPEN)
    level = models.IntegerField(default=-1, help_text="Index of the last level fired (-1: none yet)")
    round = models.PositiveIntegerField(default=0)
    next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    acked_at = models.DateTimeField(null=True, blank=True)
    acked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]


class PageNotification(models.Model):
    """One person told about a page at one level (by e-mail and, if configured, webhook)."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    level = models.IntegerField()
    round = models.PositiveIntegerField(default=0)
    token = models.CharField(max_length=64, default="", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.token:
            self.token = secrets.token_urlsafe(24)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class PageAttempt(models.Model):
    """One delivery attempt of a page (e-mail queued, webhook POSTed), kept for the record."""

    EMAIL, WEBHOOK = "email", "webhook"
    PENDING, SENT, FAILED = "pending", "sent", "failed"
    notification = models.ForeignKey(PageNotification, on_delete=models.CASCADE, related_name="attempts")
    channel = models.CharField(max_length=10)
    status = models.CharField(max_length=10, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    http_status = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class PageEvent(models.Model):
    """Append-only log: triggered, level fired, acknowledged, resolved, exhausted."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    detail = models.CharField(max_length=300, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(max_length=10, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
