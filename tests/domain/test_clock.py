"""The pure SLA clock: pause/resume keep business time, only the right events fire, once."""

from __future__ import annotations

from relaydesk.domain import clock as clk

MIN = 60_000_000


class Linear:
    """A 24×7 calendar on integer microseconds."""

    def add_business_seconds(self, start_us: int, duration_us: int) -> int:
        return start_us + duration_us

    def business_us_between(self, a_us: int, b_us: int) -> int:
        return b_us - a_us


class Gapped:
    """Open only in the first 30 minutes of every hour (to check business-time arithmetic)."""

    H = 60 * MIN
    OPEN = 30 * MIN

    def _cum(self, t: int) -> int:
        h, r = divmod(t, self.H)
        return h * self.OPEN + min(r, self.OPEN)

    def add_business_seconds(self, start_us: int, duration_us: int) -> int:
        if duration_us == 0:
            return start_us
        target = self._cum(start_us) + duration_us
        h, r = divmod(target, self.OPEN)
        if r == 0:
            return (h - 1) * self.H + self.OPEN
        return h * self.H + r

    def business_us_between(self, a_us: int, b_us: int) -> int:
        return self._cum(b_us) - self._cum(a_us)


def test_start_sets_due_and_warning() -> None:
    c = clk.Clock(clk.FIRST_RESPONSE)
    ev = c.start(Linear(), 0, 60 * MIN)
    assert [e.kind for e in ev] == ["started"]
    assert c.due_us == 60 * MIN
    assert c.warn_us == 45 * MIN  # 75 %
    assert c.next_event_us() == 45 * MIN


def test_pause_resume_keeps_spent_time() -> None:
    cal = Linear()
    c = clk.Clock(clk.RESOLUTION)
    c.start(cal, 0, 60 * MIN)
    c.pause(cal, 20 * MIN)
    assert c.spent_us == 20 * MIN and c.due_us is None and c.next_event_us() is None
    c.resume(cal, 100 * MIN)
    assert c.due_us == 140 * MIN
    assert c.remaining_at(cal, 110 * MIN) == 30 * MIN


def test_business_calendar_due_skips_closed_time() -> None:
    cal = Gapped()
    c = clk.Clock(clk.FIRST_RESPONSE)
    c.start(cal, 10 * MIN, 45 * MIN)  # 20 min left in this hour, 25 in the next
    assert c.due_us == 60 * MIN + 25 * MIN


def test_sweep_emits_warning_then_breach_once() -> None:
    cal = Linear()
    c = clk.Clock(clk.FIRST_RESPONSE)
    c.start(cal, 0, 60 * MIN)
    assert c.sweep(10 * MIN) == []
    assert [e.kind for e in c.sweep(50 * MIN)] == ["warned"]
    assert c.sweep(55 * MIN) == []
    assert [e.kind for e in c.sweep(61 * MIN)] == ["breached"]
    assert c.sweep(99 * MIN) == []
    assert c.next_event_us() is None


def test_late_sweep_emits_both_in_order() -> None:
    c = clk.Clock(clk.FIRST_RESPONSE)
    c.start(Linear(), 0, 60 * MIN)
    assert [e.kind for e in c.sweep(500 * MIN)] == ["warned", "breached"]


def test_meet_in_time_and_late() -> None:
    cal = Linear()
    c = clk.Clock(clk.FIRST_RESPONSE)
    c.start(cal, 0, 60 * MIN)
    ev = c.meet(cal, 30 * MIN)
    assert [e.kind for e in ev] == ["met"] and ev[0].detail["late"] is False
    late = clk.Clock(clk.FIRST_RESPONSE)
    late.start(cal, 0, 60 * MIN)
    ev = late.meet(cal, 61 * MIN)  # before any sweep ran: the breach is still recorded
    assert [e.kind for e in ev] == ["breached", "met"]
    assert late.breached and ev[-1].detail["late"] is True
    assert late.meet(cal, 70 * MIN) == []  # met once


def test_retarget_keeps_spent_business_time() -> None:
    cal = Linear()
    c = clk.Clock(clk.RESOLUTION)
    c.start(cal, 0, 240 * MIN)
    c.retarget(cal, cal, 30 * MIN, 60 * MIN, reason="P3 -> P1")
    assert c.spent_us == 30 * MIN
    assert c.due_us == 60 * MIN  # 30 spent + 30 left
    c.retarget(cal, cal, 40 * MIN, 20 * MIN)  # already over the new target
    assert c.due_us == 40 * MIN
    assert [e.kind for e in c.sweep(40 * MIN)] == ["warned", "breached"]


def test_reopen_continues_from_spent_time() -> None:
    cal = Linear()
    c = clk.Clock(clk.RESOLUTION)
    c.start(cal, 0, 100 * MIN)
    c.meet(cal, 40 * MIN)
    c.reopen(cal, 1000 * MIN)
    assert c.state == clk.RUNNING and c.spent_us == 40 * MIN
    assert c.due_us == 1060 * MIN


def test_no_target_runs_without_due() -> None:
    c = clk.Clock(clk.RESOLUTION)
    c.start(Linear(), 0, None)
    assert c.state == clk.RUNNING and c.due_us is None and c.next_event_us() is None
    assert c.sweep(10**12) == []


def test_match_rule_first_match_wins() -> None:
    rules = [
        clk.Rule(1, 20, "enterprise", None, None, None, 60, None, None, "24x7"),
        clk.Rule(2, 10, "enterprise", "P1", None, None, 15, None, None, "24x7"),
        clk.Rule(3, 30, None, None, None, None, 480, None, None, "customer_region"),
    ]
    hit = clk.match_rule(rules, plan="enterprise", priority="P1", category="other", channel="api")
    assert hit is not None and hit.id == 2
    hit = clk.match_rule(rules, plan="enterprise", priority="P3", category="other", channel="api")
    assert hit is not None and hit.id == 1
    hit = clk.match_rule(rules, plan="developer", priority="P1", category="other", channel="api")
    assert hit is not None and hit.id == 3
    assert clk.match_rule(rules[:2], plan="developer", priority="P1", category="x", channel="y") is None
