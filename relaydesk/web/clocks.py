"""SLA clocks of a ticket as things people read: what is promised, by when in their time,
and how much business time is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from relaydesk.domain import clock as clk
from relaydesk.sla import engine
from relaydesk.sla.engine import PREFIX
from relaydesk.tickets.models import Ticket

from .common import duration_words, when_words


@dataclass
class ClockView:
    metric: str
    label: str
    state: str  # running, paused, met, stopped, idle
    breached: bool
    warned: bool
    due_at: datetime | None
    met_at: datetime | None
    remaining_s: int | None  # business seconds; negative once breached
    target_s: int | None
    sentence: str  # for the customer
    summary: str  # short, for the agent

    @property
    def tone(self) -> str:
        if self.breached and self.state in (clk.RUNNING, clk.PAUSED):
            return "breached"
        if self.state == clk.MET:
            return "late" if self.breached else "met"
        if self.state == clk.PAUSED:
            return "paused"
        if self.warned:
            return "warning"
        return "ok" if self.state == clk.RUNNING else "idle"


def _labels() -> dict[str, str]:
    return {
        clk.FIRST_RESPONSE: _("First response"),
        clk.NEXT_RESPONSE: _("Next response"),
        clk.RESOLUTION: _("Resolution"),
    }


def _customer_sentence(metric: str, c: clk.Clock, due: datetime | None, met: datetime | None, left: int | None) -> str:
    answer = metric in (clk.FIRST_RESPONSE, clk.NEXT_RESPONSE)
    if c.state == clk.RUNNING and due is not None and left is not None:
        if left < 0 or c.breached:
            if answer:
                return _("Our answer is late: it was due at %(when)s your time. Your ticket is at the top of our queue.") % {"when": when_words(due)}
            return _("Resolution is late: it was due at %(when)s your time. We are still working on it.") % {"when": when_words(due)}
        params = {"when": when_words(due), "left": duration_words(left)}
        if answer:
            return _("We will answer by %(when)s your time; %(left)s of business time left.") % params
        return _("We aim to resolve this by %(when)s your time; %(left)s of business time left.") % params
    if c.state == clk.PAUSED:
        return _("The clock is paused while we wait for your reply.")
    if c.state == clk.MET and met is not None:
        if answer:
            return _("Answered at %(when)s your time.") % {"when": when_words(met)}
        return _("Resolved at %(when)s your time.") % {"when": when_words(met)}
    return ""


def _agent_summary(c: clk.Clock, due: datetime | None, met: datetime | None, left: int | None) -> str:
    if c.state == clk.RUNNING and left is not None:
        if left < 0:
            return _("breached %(ago)s ago (due %(when)s)") % {"ago": duration_words(-left), "when": when_words(due)}
        return _("%(left)s business time left (due %(when)s)") % {"left": duration_words(left), "when": when_words(due)}
    if c.state == clk.PAUSED:
        if left is not None:
            return _("paused, %(left)s left") % {"left": duration_words(left) if left >= 0 else "0"}
        return _("paused")
    if c.state == clk.MET:
        late = _(" (late)") if c.breached else ""
        return _("met at %(when)s") % {"when": when_words(met)} + late
    if c.state == clk.STOPPED:
        return _("stopped")
    return _("not running")


def clock_views(ticket: Ticket, now: datetime | None = None, *, for_customer: bool = True) -> list[ClockView]:
    """The ticket's clocks that have a target or have run, in a stable order. The queue
    (``for_customer=False``) skips the customer's sentences."""
    now = now or timezone.now()
    cal = engine.ticket_calendar(ticket)
    t = engine.now_us(now)
    labels = _labels()
    out = []
    for metric, c in engine.clocks_from_ticket(ticket).items():
        if c.state == clk.IDLE and c.cycle == 0:
            continue
        left = None
        if c.state in (clk.RUNNING, clk.PAUSED):
            rem = c.remaining_at(cal, t)
            left = None if rem is None else rem // 1_000_000
        due = engine._us_dt(c.due_us) if c.state == clk.RUNNING else None
        met = engine._us_dt(c.met_at_us)
        out.append(
            ClockView(
                metric=metric,
                label=labels[metric],
                state=c.state,
                breached=c.breached,
                warned=c.warned,
                due_at=due,
                met_at=met,
                remaining_s=left,
                target_s=None if c.target_us is None else c.target_us // 1_000_000,
                sentence=_customer_sentence(metric, c, due, met, left) if for_customer else "",
                summary=_agent_summary(c, due, met, left),
            )
        )
    return out


def queue_clock(row: dict[str, Any], cal: Any, now: datetime) -> ClockView | None:
    """The clock that puts a queue row where it is: of the running clocks, the one due first
    (all clocks of a ticket share its calendar, so it is also the one with the least business
    time left); else a paused one. Reads a row of plain values (see ``queue.page``)."""
    labels = _labels()
    running, paused = [], []
    for metric, p in PREFIX.items():
        state = row[f"{p}_state"]
        if state == clk.RUNNING and row[f"{p}_due_at"] is not None:
            running.append((row[f"{p}_due_at"], metric, p))
        elif state == clk.PAUSED:
            paused.append((metric, p))
    if running:
        due, metric, p = min(running)
        c = _row_clock(row, metric, p)
        rem = c.remaining_at(cal, engine.now_us(now))
        left = None if rem is None else rem // 1_000_000
    elif paused:
        metric, p = paused[0]
        c = _row_clock(row, metric, p)
        due, rem = None, c.remaining_at(cal, engine.now_us(now))
        left = None if rem is None else rem // 1_000_000
    else:
        return None
    return ClockView(
        metric=metric, label=labels[metric], state=c.state, breached=c.breached, warned=c.warned,
        due_at=due, met_at=None, remaining_s=left,
        target_s=None if c.target_us is None else c.target_us // 1_000_000,
        sentence="", summary=_agent_summary(c, due, None, left),
    )


def _row_clock(row: dict[str, Any], metric: str, p: str) -> clk.Clock:
    since = row[f"{p}_running_since"]
    return clk.Clock(
        metric=metric,
        target_us=row[f"{p}_target_us"],
        state=row[f"{p}_state"],
        spent_us=row[f"{p}_spent_us"],
        running_since_us=None if since is None else engine.now_us(since),
        warned=row[f"{p}_warned"],
        breached=row[f"{p}_breached"],
    )


def most_urgent(views: list[ClockView]) -> ClockView | None:
    running = [v for v in views if v.state == clk.RUNNING and v.remaining_s is not None]
    if running:
        return min(running, key=lambda v: v.remaining_s or 0)
    paused = [v for v in views if v.state == clk.PAUSED]
    return paused[0] if paused else None
