"""Arrivals per hour of the week counted from real tickets (created through the ticket
services), with region / language / priority filters and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from relaydesk.staffing import services as svc
from relaydesk.tickets import services as tickets

# Monday 2 November 2026 … Sunday 15 November 2026: every weekday occurs twice.
FROM, TO = date(2026, 11, 2), date(2026, 11, 15)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def file(user: Any, when: datetime, **kw: Any) -> None:
    tickets.create_ticket(actor=user, requester=user, subject="stream freezes", now=when, **kw)


@pytest.fixture
def history(world: Any) -> Any:
    w = world
    # Acme (SG, en): three on Monday 2 Nov 09:xx UTC, one on Monday 9 Nov 09:40 UTC.
    for minute in (5, 15, 55):
        file(w.alice, at(2, 9, minute), priority="P1")
    file(w.alice, at(9, 9, 40), priority="P2")
    # Panda (SG, zh-Hans): Tuesday 3 Nov 23:30 UTC (= Wednesday 07:30 in Singapore).
    file(w.bob, at(3, 23, 30))
    # Globex (DE, en): Friday 6 Nov 14:10 UTC; one more naming region SG explicitly.
    file(w.carol, at(6, 14, 10))
    file(w.carol, at(6, 14, 20), context={"region": w.sg})
    # Outside the range, and a proactive notice inside it: neither counts.
    file(w.alice, at(16, 9, 0))
    file(w.alice, at(2, 9, 30), channel="proactive")
    return w


def test_counts_per_hour_of_week_averaged_over_weeks(history: Any) -> None:
    arr = svc.arrivals_from_history(FROM, TO)
    assert len(arr) == 168
    assert arr[9] == pytest.approx(4 / 2)  # Monday 09:00 UTC, two Mondays
    assert arr[24 + 23] == pytest.approx(1 / 2)  # Tuesday 23:00
    assert arr[4 * 24 + 14] == pytest.approx(2 / 2)  # Friday 14:00
    assert sum(arr) == pytest.approx(7 / 2)


def test_time_zone_shifts_the_hours(history: Any) -> None:
    arr = svc.arrivals_from_history(FROM, TO, tz="Asia/Singapore")
    assert arr[17] == pytest.approx(2.0)  # 09:xx UTC = 17:xx in Singapore (UTC+8)
    assert arr[2 * 24 + 7] == pytest.approx(0.5)  # Wednesday 07:30 local
    assert arr[4 * 24 + 22] == pytest.approx(1.0)


def test_region_language_priority_filters(history: Any) -> None:
    sg = svc.arrivals_from_history(FROM, TO, region="sg")
    # Acme's 4 + Panda's 1 + Globex's ticket that names SG.
    assert sum(sg) == pytest.approx(6 / 2)
    de = svc.arrivals_from_history(FROM, TO, region="de")
    assert sum(de) == pytest.approx(1 / 2) and de[4 * 24 + 14] == pytest.approx(0.5)
    zh = svc.arrivals_from_history(FROM, TO, language="zh-Hans")
    assert sum(zh) == pytest.approx(1 / 2) and zh[24 + 23] == pytest.approx(0.5)
    p1 = svc.arrivals_from_history(FROM, TO, region="sg", priority="P1")
    assert sum(p1) == pytest.approx(3 / 2) and p1[9] == pytest.approx(1.5)


def test_partial_weeks_average_per_weekday(history: Any) -> None:
    # 2–9 November: Monday occurs twice, the other weekdays once.
    arr = svc.arrivals_from_history(date(2026, 11, 2), date(2026, 11, 9))
    assert arr[9] == pytest.approx(4 / 2)
    assert arr[24 + 23] == pytest.approx(1.0)


def test_build_plan_from_history(history: Any) -> None:
    p = svc.PlanInput(aht_s=600, target=0.8, within_s=300, date_from=FROM, date_to=TO, region="sg", rota=[1] * 168, weeks=1)
    plan, arrivals = svc.build_plan(p)
    assert arrivals[9] == pytest.approx(2.0)
    assert plan.rows[9].arrivals == pytest.approx(2.0)
    assert plan.rows[9].needed >= 1 and plan.rows[0].needed == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"region": "xx"}, "region"),
        ({"language": "fr"}, "language"),
        ({"priority": "P9"}, "priority"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"date_to": date(2026, 10, 1)}, "date_to"),
        ({"date_to": None}, "date_to"),
        ({"date_from": date(2020, 1, 1)}, "date_to"),  # more than 366 days
        ({"arrivals": [1.0] * 168}, "arrivals"),  # both arrivals and a range
        ({"target": 90}, "target"),
        ({"aht_s": 0}, "aht_s"),
        ({"within_s": -1}, "within_s"),
        ({"patience_s": 0}, "patience_s"),
        ({"rota": [1] * 100}, "rota"),
        ({"rota": [-1] * 168}, "rota[0]"),
        ({"weeks": 9}, "weeks"),
    ],
)
def test_bad_input_names_the_field(world: Any, changes: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"aht_s": 600, "target": 0.8, "within_s": 300, "date_from": FROM, "date_to": TO}
    base.update(changes)
    with pytest.raises(svc.PlanInputError) as exc:
        svc.build_plan(svc.PlanInput(**base))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("text", "expected_first"),
    [
        ("\n".join(str(h % 5) for h in range(168)), 0.0),
        ("hour,arrivals\n" + "\n".join(f"{167 - h},{(167 - h) % 5}" for h in range(168)), 0.0),
        (",".join(["2.5"] * 168), 2.5),
        ("[" + ",".join(["3"] * 168) + "]", 3.0),
        ('{"values": [' + ",".join(["4"] * 168) + "]}", 4.0),
    ],
)
def test_week_files(text: str, expected_first: float) -> None:
    values = svc.parse_week_text("arrivals", text, integer=False)
    assert len(values) == 168 and values[0] == expected_first
    if "hour" in text:
        assert values[7] == 2.0  # placed by the hour column, not by line order


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("1\n2\n3", "168 values"),
        ("0,1\n0,2", "appears twice"),
        ("0,1\n1,2\n2,3", "hours missing"),
        ("1,2,3\n4,5,6\n", "3 columns"),
        ("abc\n" + "x\n" * 168, "not a number"),
        ("[1, 2", "not valid JSON"),
        ("170,1\n" + "\n".join(f"{h},1" for h in range(167)), "0–167"),
        ("\n".join(["nan"] * 168), "finite"),
    ],
)
def test_bad_week_files(text: str, match: str) -> None:
    with pytest.raises(svc.PlanInputError, match=match):
        svc.parse_week_text("arrivals", text, integer=False)


def test_rota_file_must_hold_whole_agents() -> None:
    with pytest.raises(svc.PlanInputError, match=r"rota\[0\]"):
        svc.parse_week_text("rota", "\n".join(["1.5"] * 168), integer=True)
