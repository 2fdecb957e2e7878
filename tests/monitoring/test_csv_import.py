"""`relaydesk manage telemetry import FILE.csv` and `… footprint import FILE.csv`: the same
validation as the API, all or nothing, errors by line and column, the same file imports once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from relaydesk.monitoring.models import (
    FootprintHour,
    TelemetryBatch,
    TelemetryMinute,
)
from relaydesk.monitoring.store import raw_sample_count

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def telemetry_csv(topo, n: int, bad_line: int | None = None) -> str:
    lines = ["ts,service,region,node,carrier,metric,value,weight"]
    for i in range(n):
        ts = (topo.t0 + timedelta(seconds=i % 60)).isoformat().replace("+00:00", "Z")
        carrier = "9506" if i % 2 else ""
        value = "140" if lines and len(lines) + 1 == bad_line else str(0.5 + (i % 10) / 100)
        metric = "packet_loss_pct" if len(lines) + 1 == bad_line else "join_success_rate"
        lines.append(
            f"{ts},rtc,sg,{'sg-edge-1' if i % 3 else ''},{carrier},{metric},{value},{i % 7 + 1}"
        )
    return "\n".join(lines) + "\n"


def test_telemetry_csv_import_and_reimport(topo, tmp_path) -> None:
    f = tmp_path / "t.csv"
    f.write_text(telemetry_csv(topo, 250))
    out = run("telemetry", "import", str(f))
    assert "imported 250 samples" in out
    assert sum(TelemetryMinute.objects.values_list("count", flat=True)) == 250
    assert raw_sample_count() == 250
    assert "already imported" in run("telemetry", "import", str(f))
    assert raw_sample_count() == 250


def test_telemetry_csv_in_several_chunks_counts_each_sample_once(topo, tmp_path, settings) -> None:
    settings.RELAYDESK_TELEMETRY_MAX_SAMPLES = 100
    f = tmp_path / "chunks.csv"
    f.write_text(telemetry_csv(topo, 350))
    assert "imported 350 samples" in run("telemetry", "import", str(f))
    assert sum(TelemetryMinute.objects.values_list("count", flat=True)) == 350
    assert TelemetryBatch.objects.count() == 4


def test_telemetry_csv_bad_row_names_line_and_stores_nothing(topo, tmp_path, settings) -> None:
    settings.RELAYDESK_TELEMETRY_MAX_SAMPLES = 100  # several chunks: still one transaction
    f = tmp_path / "bad.csv"
    f.write_text(telemetry_csv(topo, 300, bad_line=290))
    with pytest.raises(CommandError) as exc:
        run("telemetry", "import", str(f))
    msg = str(exc.value)
    assert (
        "nothing imported" in msg and "line 290, column value" in msg and "packet_loss_pct" in msg
    )
    assert TelemetryBatch.objects.count() == 0 and TelemetryMinute.objects.count() == 0
    assert raw_sample_count() == 0


def test_telemetry_csv_header_and_number_errors(topo, tmp_path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("ts,service,region,metric,val\n")
    with pytest.raises(
        CommandError, match="missing column\\(s\\) value; unknown column\\(s\\) val"
    ):
        run("telemetry", "import", str(f))
    f.write_text(f"ts,service,region,metric,value\n{topo.t0.isoformat()},rtc,sg,rtt_ms,fast\n")
    with pytest.raises(CommandError, match="line 2, column value: must be a number"):
        run("telemetry", "import", str(f))
    f.write_text(f"ts,service,region,metric,value\n{topo.t0.isoformat()},rtc,zz,rtt_ms,5\n")
    with pytest.raises(CommandError, match="line 2, column region: unknown region 'zz'"):
        run("telemetry", "import", str(f))


def test_footprint_csv_import_good_and_bad(topo, tmp_path) -> None:
    w = topo.world
    good = tmp_path / "fp.csv"
    good.write_text(
        "organisation,service,region,carrier,hour,sessions,minutes\n"
        f"Acme Live,rtc,sg,,2026-11-24T10:00:00Z,120,1800.5\n"
        f"{w.panda.pk},rtc,sg,AS9506,2026-11-24T10:00:00Z,12,40\n"
    )
    assert "imported 2 footprint rows" in run("footprint", "import", str(good))
    assert set(FootprintHour.objects.values_list("organisation_id", "sessions")) == {
        (w.acme.pk, 120),
        (w.panda.pk, 12),
    }
    bad = tmp_path / "fpbad.csv"
    bad.write_text(
        "organisation,service,region,hour,sessions,minutes\n"
        "Globex Streams,rtc,de,2026-11-24T11:00:00Z,5,50\n"
        "Globex Streams,rtc,de,2026-11-24T12:00:00Z,-5,50\n"
    )
    with pytest.raises(CommandError, match="line 3, column sessions"):
        run("footprint", "import", str(bad))
    assert FootprintHour.objects.count() == 2
