"""The plan over the stored rota: the page, the API and the CLI compare the need with the real
shifts of the region's teams, and the simulation runs over those shifts."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from relaydesk.routing import schedules
from relaydesk.routing.models import Rotation
from relaydesk.staffing import rota
from relaydesk.staffing.services import PlanInput, build_plan, with_stored_rota

PAGE = "/staffing/"
URL = "/api/v1/staffing/plan"
# Berlin time: steady traffic in office hours, a little at night.
ARRIVALS = [12.0 if 8 <= h % 24 < 20 and h < 120 else 1.0 for h in range(168)]
WEEK = date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _fresh_schedule_cache() -> Any:
    schedules.invalidate()
    yield
    schedules.invalidate()


@pytest.fixture
def emea(world: Any) -> Any:
    """Jonas (EMEA, Frankfurt): weekdays 09:00–17:00 Berlin time."""
    Rotation.objects.create(
        team=world.emea, name="DE day", member_ids=[world.agent_emea.pk], rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9",
        dtstart="2026-01-05T09:00:00", duration_minutes=8 * 60, exclude_holidays=True,
    )
    return world


def params(**extra: Any) -> dict[str, Any]:
    return {
        "aht_s": "600", "target": "0.8", "within_s": "300", "region": "de", "week": WEEK.isoformat(),
        "arrivals": " ".join(str(a) for a in ARRIVALS), **extra,
    }


def test_page_compares_with_the_stored_rota(emea: Any) -> None:
    c = Client()
    c.force_login(emea.lead)
    html = c.get(PAGE, params()).content.decode()
    assert html.count("<polyline") == 2  # needed and rostered
    assert "the stored shifts of EMEA for the week 2026-11-02 to 2026-11-08 (Europe/Berlin)" in html
    assert "<td>2026-11-04</td>" in html  # the real dates of the week
    # 12 tickets an hour of 10 minutes need 3 agents; one is rostered: short, highlighted.
    assert '<tr class="short">' in html and "<strong>short</strong>" in html


def test_page_table_as_csv(emea: Any) -> None:
    c = Client()
    c.force_login(emea.lead)
    resp = c.get(PAGE, params(format="csv"))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert len(rows) == 168
    expected = rota.current_rota("de", None, "Europe/Berlin", WEEK)
    assert expected is not None
    assert [int(r["rostered"]) for r in rows] == expected.counts
    mon10, mon3 = rows[10], rows[3]
    assert (mon10["date"], mon10["when"], mon10["rostered"], mon10["status"]) == ("2026-11-02", "Mon 10:00", "1", "short")
    assert int(mon10["gap"]) == 1 - int(mon10["needed"])
    assert mon3["rostered"] == "0" and mon3["status"] == "short"  # a night ticket, nobody on
    assert rows[100]["date"] == "2026-11-06"
    # The page links to this export with the same inputs.
    html = c.get(PAGE, params()).content.decode()
    assert "format=csv" in html and "region=de" in html


def test_api_uses_the_stored_rota(emea: Any) -> None:
    body = {"aht_s": 600, "target": 0.8, "within_s": 300, "arrivals": ARRIVALS, "weeks": 1, "rota_week": "2026-11-04"}
    # Entered arrivals take no region filter, so this is the rota of every team.
    status, out = emea.api(emea.lead).post(URL, {**body, "tz": "Europe/Berlin"})
    assert status == 200, out
    assert out["rota"] == {
        "source": "stored", "week_start": "2026-11-02", "week_end": "2026-11-08", "tz": "Europe/Berlin", "teams": ["EMEA"], "people": 1,
    }
    assert [r["rostered"] for r in out["rows"][:24]] == [0] * 9 + [1] * 8 + [0] * 7
    status, out = emea.api(emea.lead).post(URL, {**body, "rota": [2] * 168})
    assert out["rota"] == {"source": "entered"} and out["rows"][0]["rostered"] == 2


def test_cli_flags_the_short_hours_of_the_stored_rota(emea: Any, tmp_path: Any) -> None:
    f = tmp_path / "a.json"
    f.write_text(json.dumps(ARRIVALS))
    out = io.StringIO()
    call_command("staffing", "plan", "--arrivals", str(f), "--region", "de", "--week", "2026-11-02", "--aht-s", "600",
                 "--target", "0.8", "--within-s", "300", "--weeks", "1", stdout=out)
    text = out.getvalue()
    assert "rota: stored shifts of EMEA for the week 2026-11-02 to 2026-11-08" in text
    mon10 = next(line for line in text.splitlines() if "Mon 10:00" in line)
    assert "SHORT" in mon10.split()
    short = [line for line in text.splitlines() if line.split()[-1:] != [] and "SHORT" in line.split()]
    hours_short = int(text.split("hours short ")[1].split()[0])
    assert len(short) == hours_short > 0


def test_simulation_runs_over_the_real_shift_ends(emea: Any) -> None:
    # Jonas works until 17:30: the hourly count of slot 17 rounds down to 0, but he answers
    # tickets in its first half, and the simulation over the real shifts sees that.
    Rotation.objects.update(duration_minutes=8 * 60 + 30)
    schedules.invalidate()
    arrivals = [2.0 if h % 24 == 17 and h < 120 else 0.0 for h in range(168)]
    base = PlanInput(aht_s=300, target=0.8, within_s=300, arrivals=arrivals, tz="Europe/Berlin", weeks=8, seed=3)
    stored_input, stored = with_stored_rota(base, "de", None, WEEK)
    assert stored is not None and stored.counts[17] == 0
    assert stored_input.rota_changes is not None
    real, _ = build_plan(stored_input)
    rounded, _ = build_plan(PlanInput(**{**base.__dict__, "rota": stored.counts}))
    assert real.rows[17].rostered == rounded.rows[17].rostered == 0
    # Rounded hours: nobody until 09:00 the next day, so nothing is answered within 5 minutes.
    assert rounded.rows[17].simulated_sl == 0.0
    # Real shifts: roughly the first half hour's tickets are answered in time.
    assert real.rows[17].simulated_sl is not None and 0.25 < real.rows[17].simulated_sl < 0.75
    assert real.rows[17].simulated_offered == rounded.rows[17].simulated_offered  # same tickets


def test_page_in_chinese_names_the_stored_rota(emea: Any) -> None:
    c = Client()
    c.force_login(emea.lead)
    html = c.get(PAGE, params(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "EMEA 在 2026-11-02 至 2026-11-08 这一周（Europe/Berlin）已保存的班次" in html
    assert "下载表格（CSV）" in html and "<strong>人手不足</strong>" in html


def test_default_page_uses_the_stored_rota_of_next_week(emea: Any) -> None:
    c = Client()
    c.force_login(emea.lead)
    before = rota.monday_of(datetime.now(UTC).date()) + timedelta(days=7)
    html = c.get(PAGE).content.decode()  # no inputs: history of the last 28 days, all teams
    after = rota.monday_of(datetime.now(UTC).date()) + timedelta(days=7)
    assert html.count("<polyline") == 2
    # (before and after differ only if the request straddles Sunday midnight UTC)
    assert any(f"the stored shifts of EMEA for the week {m.isoformat()}" in html for m in (before, after))
