"""The rota adapter: schedules from routing's pure shift model → agents on shift per hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relaydesk.staffing import rota

shifts = rota.shifts_module()
needs_shifts = pytest.mark.skipif(
    shifts is None, reason="relaydesk.domain.shifts (routing's shift model) is not in this checkout"
)
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)


def layer(name: str, members: tuple[str, ...], start: str, hours: float) -> object:
    assert shifts is not None
    return shifts.Layer(
        name=name,
        members=members,
        rrule="FREQ=DAILY",
        dtstart=datetime.fromisoformat(f"2026-10-26T{start}"),
        duration=timedelta(hours=hours),
    )


@needs_shifts
def test_people_on_shift_per_hour() -> None:
    assert shifts is not None
    day = shifts.Schedule(tz="UTC", layers=(layer("day", ("ana",), "09:00", 8), layer("late", ("bo",), "13:00", 8)))
    counts = rota.rota_from_schedules([day], MONDAY)
    assert len(counts) == 168
    monday = counts[:24]
    assert monday[8] == 0 and monday[9] == 1 and monday[12] == 1
    assert monday[13] == 2 and monday[16] == 2 and monday[17] == 1 and monday[20] == 1 and monday[21] == 0
    assert counts[24:48] == monday  # every day alike


@needs_shifts
def test_a_person_on_two_layers_counts_once_and_half_hours_round_down() -> None:
    assert shifts is not None
    s = shifts.Schedule(tz="UTC", layers=(layer("a", ("ana",), "09:30", 4), layer("b", ("ana",), "11:00", 4)))
    monday = rota.rota_from_schedules([s], MONDAY)[:24]
    assert monday[9] == 0  # on shift for half the hour
    assert monday[10:15] == [1, 1, 1, 1, 1]
    assert monday[15] == 0


@needs_shifts
def test_schedules_in_other_time_zones() -> None:
    assert shifts is not None
    sg = shifts.Schedule(tz="Asia/Singapore", layers=(layer("day", ("mei",), "09:00", 9),))
    monday = rota.rota_from_schedules([sg], MONDAY)[:24]
    # 09:00–18:00 in Singapore is 01:00–10:00 UTC.
    assert monday[0] == 0 and monday[1:10] == [1] * 9 and monday[10] == 0


def test_naive_week_start_is_refused() -> None:
    if shifts is None:
        pytest.skip("relaydesk.domain.shifts is not in this checkout")
    with pytest.raises(ValueError, match="aware"):
        rota.rota_from_schedules([], datetime(2026, 11, 2))


def test_no_stored_rota_yet() -> None:
    # Routing stores no schedules yet; the plan then takes the rota as input.
    assert rota.current_rota("sg", "en") is None
