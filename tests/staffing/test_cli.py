"""`relaydesk manage staffing plan` (→ `relaydesk staffing plan`): formats, history, errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relaydesk.tickets import services as tickets

ROOT = Path(__file__).resolve().parents[2]
BASE = ["--aht-s", "600", "--target", "0.9", "--within-s", "300"]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("staffing", "plan", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def arrivals_file(tmp_path: Path) -> Path:
    p = tmp_path / "arrivals.csv"
    p.write_text("hour,arrivals\n" + "\n".join(f"{h},{30 if 8 <= h % 24 < 20 else 6}" for h in range(168)))
    return p


@pytest.fixture
def rota_file(tmp_path: Path) -> Path:
    p = tmp_path / "rota.json"
    p.write_text(json.dumps([4] * 168))
    return p


def test_json_output_from_entered_arrivals(arrivals_file: Path, rota_file: Path) -> None:
    data = json.loads(run("--arrivals", str(arrivals_file), "--rota", str(rota_file), *BASE, "--format", "json", "--weeks", "1"))
    assert data["model"] == "erlang_c" and data["source"] == "entered"
    rows = data["rows"]
    assert len(rows) == 168
    day = rows[10]
    assert (day["arrivals"], day["rostered"]) == (30.0, 4)
    assert day["gap"] == 4 - day["needed"] and day["needed"] >= 6
    assert rows[2]["gap"] > 0
    assert data["summary"]["hours_short"] == sum(1 for r in rows if r["gap"] < 0)


def test_csv_and_table_output(db: Any, arrivals_file: Path) -> None:
    text = run("--arrivals", str(arrivals_file), *BASE, "--format", "csv", "--no-simulate")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 168 and rows[0]["when"] == "Mon 00:00" and rows[0]["rostered"] == ""
    assert rows[10]["needed"] == str(json.loads(run("--arrivals", str(arrivals_file), *BASE, "--format", "json", "--no-simulate"))["rows"][10]["needed"])
    table = run("--arrivals", str(arrivals_file), *BASE, "--patience-s", "900", "--weeks", "1", "--handling", "lognormal", "--handling-cv", "0.6")
    assert "Erlang A" in table and "Sun 23:00" in table and "agent-hours needed" in table


def test_history_with_filters(world: Any, tmp_path: Path) -> None:
    for minute in (1, 2, 3):
        tickets.create_ticket(actor=world.bob, requester=world.bob, subject="卡顿", now=datetime(2026, 11, 2, 9, minute, tzinfo=UTC))
    tickets.create_ticket(actor=world.carol, requester=world.carol, subject="freeze", now=datetime(2026, 11, 2, 9, 4, tzinfo=UTC))
    data = json.loads(run("--from", "2026-11-02", "--to", "2026-11-08", "--region", "sg", "--language", "zh-Hans", "--tz", "UTC", *BASE, "--format", "json", "--no-simulate"))
    assert data["source"] == "history" and data["filters"]["region"] == "sg"
    assert data["rows"][9]["arrivals"] == 3.0
    assert sum(r["arrivals"] for r in data["rows"]) == 3.0
    # Without --tz the hours are the region's: 09:0x UTC is 17:0x in Singapore.
    data = json.loads(run("--from", "2026-11-02", "--to", "2026-11-08", "--region", "sg", "--language", "zh-Hans", *BASE, "--format", "json", "--no-simulate"))
    assert data["filters"]["tz"] == "Asia/Singapore" and data["rows"][17]["arrivals"] == 3.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*BASE], "--arrivals: give --arrivals FILE or --from DATE --to DATE"),
        (["--from", "2026-11-02", "--to", "2026-11-08", "--arrivals", "x.csv", *BASE], "not both"),
        (["--from", "2026-13-02", "--to", "2026-11-08", *BASE], "--from: '2026-13-02' is not a date"),
        (["--from", "2026-11-02", *BASE], "--to: is required"),
        (["--from", "2026-11-02", "--to", "2026-11-08", "--region", "atlantis", *BASE], "--region: unknown region"),
        (["--from", "2026-11-02", "--to", "2026-11-08", "--aht-s", "600", "--target", "90", "--within-s", "300"], "--target: must be a share"),
        (["--arrivals", "/nonexistent/arrivals.csv", *BASE], "--arrivals: cannot read"),
        (["--from", "2026-11-02", "--to", "2026-11-08", *BASE, "--handling", "lognormal", "--handling-cv", "0"], "--handling-cv: must be > 0"),
        (["--from", "2026-11-02", "--to", "2026-11-08", *BASE, "--weeks", "9"], "--weeks: must be a whole number from 1 to 8"),
    ],
)
def test_errors_name_the_option(world: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*args)


def test_bad_rota_file(world: Any, arrivals_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "rota.csv"
    bad.write_text("\n".join(["2"] * 100))
    with pytest.raises(CommandError, match=r"--rota: must have 168 values"):
        run("--arrivals", str(arrivals_file), "--rota", str(bad), *BASE)


def test_exit_status_and_message_from_the_command_line(arrivals_file: Path, rota_file: Path, tmp_path: Path) -> None:
    # Entered arrivals and an entered rota need no database (a fresh, empty data directory).
    env = {**os.environ, "RELAYDESK_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    ok = subprocess.run(
        [sys.executable, "-m", "relaydesk", "manage", "staffing", "plan", "--arrivals", str(arrivals_file), "--rota", str(rota_file), *BASE, "--format", "csv", "--no-simulate"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0].startswith("hour,when,arrivals")
    assert ok.stdout.splitlines()[11].split(",")[7] == "short"  # 4 agents for 30 an hour
    bad = subprocess.run(
        [sys.executable, "-m", "relaydesk", "manage", "staffing", "plan", "--arrivals", str(arrivals_file), "--rota", str(rota_file), "--aht-s", "-5", "--target", "0.9", "--within-s", "300"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )
    assert bad.returncode == 1
    assert "--aht-s: must be > 0" in bad.stderr
