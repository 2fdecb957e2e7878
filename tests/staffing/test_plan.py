"""The pure plan: needed agents per hour, the rota comparison and the simulation check."""

from __future__ import annotations

import pytest

from relaydesk.domain import staffing as s


def daily_shape(day: float, night: float) -> list[float]:
    return [day if 8 <= h % 24 < 20 else night for h in range(168)]


def test_plan_rows_needed_rostered_gap() -> None:
    arrivals = daily_shape(30.0, 6.0)
    rota = [4 if 8 <= h % 24 < 20 else 3 for h in range(168)]
    p = s.plan(arrivals, aht_s=600, target=0.9, within_s=300, rota=rota, weeks=2, seed=1)
    assert p.model == "erlang_c" and len(p.rows) == 168
    day, night = p.rows[24 + 10], p.rows[24 + 2]
    assert day.label == "Tue 10:00" and night.label == "Tue 02:00"
    assert day.needed == s.agents_needed_erlang_c(30, 600, 0.9, 300).agents
    assert night.needed == s.agents_needed_erlang_c(6, 600, 0.9, 300).agents
    for r in p.rows:
        assert r.gap == r.rostered - r.needed  # type: ignore[operator]
        assert r.model_sl_needed >= 0.9
        assert r.simulated_sl is not None and 0.0 <= r.simulated_sl <= 1.0
    assert day.gap is not None and day.gap < 0  # 4 agents cannot carry 5 Erlangs
    assert p.summary["hours_short"] == sum(1 for r in p.rows if r.gap is not None and r.gap < 0)
    assert p.summary["agent_hours_needed"] == sum(r.needed for r in p.rows)
    # The simulation confirms the plan and shows the short rota missing the target.
    sim_needed = p.summary["simulated_sl_needed"]
    sim_rota = p.summary["simulated_sl_rota"]
    assert isinstance(sim_needed, float) and isinstance(sim_rota, float)
    assert sim_needed >= 0.88
    assert sim_rota < 0.75


def test_plan_with_patience_uses_erlang_a() -> None:
    arrivals = daily_shape(30.0, 6.0)
    c = s.plan(arrivals, 600, 0.9, 300, simulate=False)
    a = s.plan(arrivals, 600, 0.9, 300, patience_s=900, simulate=False)
    assert a.model == "erlang_a"
    assert a.rows[10].needed == s.agents_needed_erlang_a(30, 600, 0.9, 300, 900).agents
    assert all(ra.needed <= rc.needed for ra, rc in zip(a.rows, c.rows, strict=True))
    assert a.rows[10].simulated_sl is None and a.summary["simulated_sl_needed"] is None


def test_quiet_hours_need_nobody() -> None:
    arrivals = [0.0] * 168
    arrivals[9] = 12.0
    p = s.plan(arrivals, 600, 0.8, 300, weeks=1)
    assert [r.needed for r in p.rows if r.hour != 9] == [0] * 167
    assert p.rows[9].needed >= 3
    assert p.rows[0].simulated_sl_needed is None  # nothing arrived in that hour
    assert p.rows[0].rostered is None and p.summary["agent_hours_rostered"] is None


def test_plan_as_dict_is_plain() -> None:
    p = s.plan(daily_shape(5, 1), 600, 0.8, 300, rota=[2] * 168, weeks=1)
    d = p.as_dict()
    assert d["model"] == "erlang_c" and len(d["rows"]) == 168  # type: ignore[arg-type]
    row = d["rows"][0]  # type: ignore[index]
    assert set(row) >= {"hour", "arrivals", "needed", "rostered", "gap", "simulated_sl"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"arrivals": [1.0] * 167}, "arrivals must have 168"),
        ({"arrivals": [1.0] * 167 + [-1.0]}, r"arrivals\[167\]"),
        ({"rota": [1] * 10}, "rota must have 168"),
        ({"rota": [1.5] * 168}, r"rota\[0\]"),
        ({"target": 0.0}, "target"),
        ({"aht_s": -3.0}, "aht_s"),
        ({"patience_s": 0.0}, "patience_s"),
        ({"weeks": 0}, "weeks"),
    ],
)
def test_plan_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"arrivals": [1.0] * 168, "aht_s": 600.0, "target": 0.8, "within_s": 60.0}
    args.update(kwargs)
    with pytest.raises(s.StaffingError, match=match):
        s.plan(**args)  # type: ignore[arg-type]
