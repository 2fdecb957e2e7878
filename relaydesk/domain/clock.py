"""SLA clocks as plain data: start, pause, resume, meet, re-target, sweep.

No Django here. A clock measures *business* time on a calendar (anything with
``add_business_seconds`` and ``business_us_between`` on integer epoch
microseconds, such as :class:`relaydesk.domain.calendar.BusinessCalendar`).

A clock is either ``idle`` (never started in this cycle), ``running``,
``paused``, ``met`` or ``stopped``. While it runs it has a due instant and a
warning instant; the business time spent before the current running segment
is kept in ``spent_us`` so that pausing, resuming and re-targeting never lose
time already spent.

Every operation returns the list of :class:`ClockEvent` it caused, so the
caller can store them append-only and replay promise against reality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"
METRICS: tuple[str, ...] = (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION)

IDLE = "idle"
RUNNING = "running"
PAUSED = "paused"
MET = "met"
STOPPED = "stopped"
STATES: tuple[str, ...] = (IDLE, RUNNING, PAUSED, MET, STOPPED)

# Event kinds stored append-only.
EV_STARTED = "started"
EV_PAUSED = "paused"
EV_RESUMED = "resumed"
EV_MET = "met"
EV_WARNED = "warned"
EV_BREACHED = "breached"
EV_RETARGETED = "retargeted"
EV_STOPPED = "stopped"
EVENT_KINDS: tuple[str, ...] = (
    EV_STARTED,
    EV_PAUSED,
    EV_RESUMED,
    EV_MET,
    EV_WARNED,
    EV_BREACHED,
    EV_RETARGETED,
    EV_STOPPED,
)
# Kinds that may happen at most once per (ticket, metric, cycle).
ONCE_PER_CYCLE: frozenset[str] = frozenset({EV_MET, EV_WARNED, EV_BREACHED})


class Calendar(Protocol):
    def add_business_seconds(self, start_us: int, duration_us: int) -> int: ...

    def business_us_between(self, a_us: int, b_us: int) -> int: ...


class ClockError(ValueError):
    """An operation that makes no sense for the clock's state."""


@dataclass(frozen=True)
class ClockEvent:
    metric: str
    cycle: int
    kind: str
    at_us: int
    due_us: int | None
    spent_us: int
    target_us: int | None
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class Clock:
    metric: str
    target_us: int | None = None
    state: str = IDLE
    spent_us: int = 0
    running_since_us: int | None = None
    due_us: int | None = None
    warn_us: int | None = None
    cycle: int = 0
    warned: bool = False
    breached: bool = False
    met_at_us: int | None = None
    warn_pct: int = 75

    # -- derived -----------------------------------------------------------
    def spent_at(self, cal: Calendar, now_us: int) -> int:
        """Business time spent in this cycle up to ``now_us``."""
        if self.state == RUNNING and self.running_since_us is not None:
            return self.spent_us + max(0, cal.business_us_between(self.running_since_us, now_us))
        return self.spent_us

    def remaining_at(self, cal: Calendar, now_us: int) -> int | None:
        """Business time left before the target (negative once breached)."""
        if self.target_us is None:
            return None
        return self.target_us - self.spent_at(cal, now_us)

    def next_event_us(self) -> int | None:
        """The earliest instant at which the sweep has something to emit."""
        if self.state != RUNNING:
            return None
        candidates = []
        if not self.warned and self.warn_us is not None:
            candidates.append(self.warn_us)
        if not self.breached and self.due_us is not None:
            candidates.append(self.due_us)
        return min(candidates) if candidates else None

    # -- internal ------------------------------------------------------------
    def _event(self, kind: str, at_us: int, **detail: object) -> ClockEvent:
        return ClockEvent(
            metric=self.metric,
            cycle=self.cycle,
            kind=kind,
            at_us=at_us,
            due_us=self.due_us,
            spent_us=self.spent_us,
            target_us=self.target_us,
            detail=dict(detail),
        )

    def _schedule(self, cal: Calendar, now_us: int) -> None:
        """Recompute due and warning instants for a clock running from ``now_us``."""
        if self.target_us is None:
            self.due_us = None
            self.warn_us = None
            return
        left = self.target_us - self.spent_us
        self.due_us = cal.add_business_seconds(now_us, max(0, left)) if left > 0 else now_us
        warn_mark = self.target_us * self.warn_pct // 100
        if not self.warned and self.spent_us < warn_mark:
            self.warn_us = cal.add_business_seconds(now_us, warn_mark - self.spent_us)
        else:
            self.warn_us = None

    def _bank(self, cal: Calendar, now_us: int) -> None:
        """Move the running segment's business time into ``spent_us``."""
        if self.running_since_us is not None:
            self.spent_us += max(0, cal.business_us_between(self.running_since_us, now_us))
            self.running_since_us = now_us

    # -- operations ----------------------------------------------------------
    def start(
        self, cal: Calendar, now_us: int, target_us: int | None, *, new_cycle: bool = False
    ) -> list[ClockEvent]:
        """Start the clock (a fresh cycle when ``new_cycle``)."""
        if new_cycle:
            self.cycle += 1
        self.target_us = target_us
        self.state = RUNNING
        self.spent_us = 0
        self.running_since_us = now_us
        self.warned = False
        self.breached = False
        self.met_at_us = None
        self._schedule(cal, now_us)
        return [self._event(EV_STARTED, now_us)]

    def pause(self, cal: Calendar, now_us: int, reason: str = "") -> list[ClockEvent]:
        if self.state != RUNNING:
            return []
        self._bank(cal, now_us)
        self.running_since_us = None
        self.state = PAUSED
        self.due_us = None
        self.warn_us = None
        return [self._event(EV_PAUSED, now_us, reason=reason)]

    def resume(self, cal: Calendar, now_us: int, reason: str = "") -> list[ClockEvent]:
        if self.state != PAUSED:
            return []
        self.state = RUNNING
        self.running_since_us = now_us
        self._schedule(cal, now_us)
        return [self._event(EV_RESUMED, now_us, reason=reason)]

    def meet(self, cal: Calendar, now_us: int, by: str = "") -> list[ClockEvent]:
        """The awaited event happened (a human reply, the ticket solved)."""
        if self.state not in (RUNNING, PAUSED):
            return []
        was_running = self.state == RUNNING
        if was_running:
            self._bank(cal, now_us)
        over = self.target_us is not None and self.spent_us > self.target_us
        late = over or self.breached
        events: list[ClockEvent] = []
        if over and not self.breached:
            # Met after the due instant but before the sweep noticed: the breach is real.
            self.breached = True
            events.append(self._event(EV_BREACHED, now_us, noticed="on_meet"))
        self.state = MET
        self.running_since_us = None
        self.met_at_us = now_us
        events.append(self._event(EV_MET, now_us, late=late, by=by))
        self.due_us = None
        self.warn_us = None
        return events

    def stop(self, cal: Calendar, now_us: int, reason: str = "") -> list[ClockEvent]:
        """Stop without meeting (e.g. the ticket was closed without a reply)."""
        if self.state not in (RUNNING, PAUSED):
            return []
        if self.state == RUNNING:
            self._bank(cal, now_us)
        self.state = STOPPED
        self.running_since_us = None
        self.due_us = None
        self.warn_us = None
        return [self._event(EV_STOPPED, now_us, reason=reason)]

    def reopen(self, cal: Calendar, now_us: int, reason: str = "") -> list[ClockEvent]:
        """Resume a met/stopped clock keeping the business time already spent."""
        if self.state not in (MET, STOPPED):
            return []
        self.state = RUNNING
        self.met_at_us = None
        self.running_since_us = now_us
        self._schedule(cal, now_us)
        return [self._event(EV_RESUMED, now_us, reason=reason or "reopened")]

    def retarget(
        self,
        old_cal: Calendar,
        new_cal: Calendar,
        now_us: int,
        target_us: int | None,
        reason: str = "",
    ) -> list[ClockEvent]:
        """Change target and/or calendar keeping the business time already spent."""
        if self.state == RUNNING:
            self._bank(old_cal, now_us)
        old_target = self.target_us
        self.target_us = target_us
        if self.state == RUNNING:
            self._schedule(new_cal, now_us)
        if self.state in (MET, STOPPED, IDLE):
            return []
        return [self._event(EV_RETARGETED, now_us, reason=reason, old_target_us=old_target)]

    def sweep(self, now_us: int) -> list[ClockEvent]:
        """Emit the warning and/or breach that are due at ``now_us`` (each once per cycle)."""
        if self.state != RUNNING:
            return []
        events: list[ClockEvent] = []
        if not self.warned and self.warn_us is not None and self.warn_us <= now_us:
            self.warned = True
            events.append(self._event(EV_WARNED, now_us, threshold_pct=self.warn_pct))
        if not self.breached and self.due_us is not None and self.due_us <= now_us:
            if not self.warned:
                self.warned = True
                events.append(self._event(EV_WARNED, now_us, threshold_pct=self.warn_pct))
            self.breached = True
            events.append(self._event(EV_BREACHED, now_us))
        return events


def next_event_us(clocks: list[Clock]) -> int | None:
    """Earliest pending warning/breach over several clocks (``None`` when nothing is pending)."""
    times = [t for t in (c.next_event_us() for c in clocks) if t is not None]
    return min(times) if times else None


@dataclass(frozen=True)
class Rule:
    """One SLA rule, as plain data. ``None`` conditions match anything."""

    id: int
    order: int
    plan: str | None
    priority: str | None
    category: str | None
    channel: str | None
    first_response_min: int | None
    next_response_min: int | None
    resolution_min: int | None
    calendar_mode: str  # "24x7" | "customer_region" | "calendar"
    calendar_id: int | None = None
    pause_on_hold: bool = False
    warn_pct: int = 75

    def matches(self, plan: str, priority: str, category: str, channel: str) -> bool:
        return (
            (self.plan is None or self.plan == plan)
            and (self.priority is None or self.priority == priority)
            and (self.category is None or self.category == category)
            and (self.channel is None or self.channel == channel)
        )

    def target_us(self, metric: str) -> int | None:
        minutes = {
            FIRST_RESPONSE: self.first_response_min,
            NEXT_RESPONSE: self.next_response_min,
            RESOLUTION: self.resolution_min,
        }[metric]
        return None if minutes is None else minutes * 60_000_000


def match_rule(
    rules: list[Rule], *, plan: str, priority: str, category: str, channel: str
) -> Rule | None:
    """First rule (by ``order``) whose conditions all hold; ``None`` if none does."""
    for rule in sorted(rules, key=lambda r: (r.order, r.id)):
        if rule.matches(plan, priority, category, channel):
            return rule
    return None
