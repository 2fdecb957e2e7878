"""SLA plans, policies with ordered rules, business calendars and the clock event log."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from relaydesk.domain import clock as clk

PRIORITIES = [("P1", "P1 urgent"), ("P2", "P2 high"), ("P3", "P3 normal"), ("P4", "P4 low")]
CALENDAR_MODES = [
    ("24x7", "24×7"),
    ("customer_region", "Business hours of the customer's home region"),
    ("calendar", "A named calendar"),
]


class BusinessCalendar(models.Model):
    """Time zone + weekly hours + public holidays + closures (see ``relaydesk.domain.calendar``)."""

    name = models.CharField(max_length=100, unique=True)
    spec = models.JSONField(
        help_text='{"tz": "Asia/Shanghai", "hours": {"mon": ["09:00-18:00"]}, '
        '"holidays": {"country": "CN"}, "closed_dates": [], "closures": [], "always_open": false}'
    )
    description = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def timezone(self) -> str:
        return str(self.spec.get("tz", "UTC"))

    def clean(self) -> None:
        from relaydesk.domain.calendar import BusinessCalendar as Cal
        from relaydesk.domain.calendar import CalendarError

        try:
            Cal.from_spec(self.spec)
        except CalendarError as exc:
            raise ValidationError({"spec": str(exc)}) from exc


class SLAPolicy(models.Model):
    """A named, ordered rule set. Exactly one policy is active at a time."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_policy"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    """A support plan sold to customers (Enterprise, Business, Standard, Developer…)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    rank = models.PositiveSmallIntegerField(default=0, help_text="higher = better plan")

    class Meta:
        ordering = ["-rank", "code"]

    def __str__(self) -> str:
        return self.name


class SLARule(models.Model):
    """One rule: conditions (empty = any) → targets and which calendar applies. First match wins."""

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="rules")
    order = models.PositiveIntegerField()
    name = models.CharField(max_length=120, blank=True, default="")
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE)
    priority = models.CharField(max_length=2, choices=PRIORITIES, blank=True, default="")
    category = models.CharField(max_length=30, blank=True, default="")
    channel = models.CharField(max_length=20, blank=True, default="")
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    calendar_mode = models.CharField(max_length=20, choices=CALENDAR_MODES, default="24x7")
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    pause_on_hold = models.BooleanField(
        default=False, help_text="Also pause the clocks while the ticket is on hold"
    )
    warn_pct = models.PositiveSmallIntegerField(
        default=75, help_text="Warn when this share of a target is spent"
    )

    class Meta:
        ordering = ["policy", "order"]
        verbose_name = "SLA rule"
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="rule_order_unique"),
            models.CheckConstraint(
                condition=models.Q(warn_pct__gte=1) & models.Q(warn_pct__lte=99),
                name="rule_warn_pct_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"rule {self.order}"

    def clean(self) -> None:
        if self.calendar_mode == "calendar" and self.calendar_id is None:
            raise ValidationError({"calendar": "choose a calendar when the mode is 'calendar'"})

    def as_domain(self) -> clk.Rule:
        return clk.Rule(
            id=self.pk or 0,
            order=self.order,
            plan=self.plan.code if self.plan_id else None,
            priority=self.priority or None,
            category=self.category or None,
            channel=self.channel or None,
            first_response_min=self.first_response_minutes,
            next_response_min=self.next_response_minutes,
            resolution_min=self.resolution_minutes,
            calendar_mode=self.calendar_mode,
            calendar_id=self.calendar_id,
            pause_on_hold=self.pause_on_hold,
            warn_pct=self.warn_pct,
        )


class ClockEvent(models.Model):
    """Append-only log of SLA clock events (started, paused, resumed, met, warned, breached…)."""

    METRICS = [(m, m.replace("_", " ")) for m in clk.METRICS]
    KINDS = [(k, k) for k in clk.EVENT_KINDS]

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="clock_events"
    )
    metric = models.CharField(max_length=16, choices=METRICS)
    cycle = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=KINDS)
    at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    spent_s = models.BigIntegerField(default=0)
    target_s = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle", "kind"],
                condition=models.Q(kind__in=sorted(clk.ONCE_PER_CYCLE)),
                name="clock_event_once_per_cycle",
            )
        ]
        indexes = [models.Index(fields=["kind", "at"], name="clockevent_kind_at")]

    def __str__(self) -> str:
        return f"{self.metric} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValidationError("clock events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("clock events are append-only")
