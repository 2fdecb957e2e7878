"""The monitoring part of the demo: its load (idempotent, with a summary) and the live feed
(continuous minutes, one carrier degraded after the configured delay, detected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.db import transaction

from relaydesk.demo import world as demo_world
from relaydesk.monitoring import demo, detect, live
from relaydesk.monitoring.models import Carrier, EdgeNode, FootprintHour, TelemetryBatch
from relaydesk.monitoring.store import clear_caches, read_series

SEED = 7


FIXED_NOW = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo_world_loaded(db: Any, monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The core demo world's rows (regions, services, organisations) and the monitoring part
    with a short history; returns the load's ``now``."""
    clear_caches()
    detect.reset()
    live.reset()
    monkeypatch.setenv("RELAYDESK_DEMO_DEGRADE_AFTER_S", "120")
    monkeypatch.setenv("RELAYDESK_DEMO_DEGRADE_MINUTES", "10")
    # A fixed instant, not the wall clock: the generated history has collector gaps whose
    # place follows the load's start, and at some wall-clock minutes one fell exactly on the
    # degraded StarHub minutes (no samples there to degrade). This instant has none there.
    now = FIXED_NOW
    with transaction.atomic():
        demo_world.build(SEED)
    return now


def test_load_is_idempotent_and_says_what_it_did(demo_world_loaded: datetime) -> None:
    now = demo_world_loaded
    line = demo.load(SEED, now, days=0.25)
    assert "17 carriers" in line and "12 edge nodes" in line and "telemetry samples" in line
    assert "\n" not in line
    counts = (
        Carrier.objects.count(),
        EdgeNode.objects.count(),
        FootprintHour.objects.count(),
        TelemetryBatch.objects.count(),
    )
    assert counts[0] == 17 and counts[1] == 12 and counts[2] > 10_000 and counts[3] > 0
    # every demo organisation has footprint in its home region
    homes = {(o.name, o.region) for o in demo_world.ORGS}
    got = set(FootprintHour.objects.values_list("organisation__name", "region__code").distinct())
    assert homes <= got
    again = demo.load(SEED, now, days=0.25)
    assert again.startswith("already loaded")
    assert counts == (
        Carrier.objects.count(),
        EdgeNode.objects.count(),
        FootprintHour.objects.count(),
        TelemetryBatch.objects.count(),
    )
    # the history's last minute has data and nothing after it yet
    gen = demo.current_generation()
    assert gen is not None and gen.history_end == int(now.timestamp())
    ser = read_series(
        "rtc", "sg", "rtt_ms",
        datetime.fromtimestamp(gen.history_end - 300, UTC),
        datetime.fromtimestamp(gen.history_end + 300, UTC),
    )  # fmt: skip
    assert ser.present[:5].all() and not ser.present[5:].any()


def _loss(asn: int, start: datetime, end: datetime) -> np.ndarray[Any, Any]:
    return read_series("rtc", "sg", "packet_loss_pct", start, end, carrier=asn).mean


def test_live_feed_continues_and_degrades_after_the_delay(demo_world_loaded: datetime) -> None:
    now = demo_world_loaded
    demo.load(SEED, now, days=0.25)
    gen = demo.current_generation()
    assert gen is not None
    t0 = now + timedelta(seconds=150)  # the feed starts: minutes now, now+1 have ended
    first = live.feed(t0)
    assert first["minutes"] == 2 and first["samples"] > 200 and first["degraded_samples"] == 0
    assert live.feed(t0)["minutes"] == 0  # nothing new: nothing fed
    # the fed minutes equal the generation's own values (continuous with the history)
    tel = live._chunk(gen, 0)
    ci = tel.regions[[r.code for r in tel.regions].index("sg")].carriers.index("StarHub")
    ri = [r.code for r in tel.regions].index("sg")
    k = (gen.history_end - gen.start) // 60
    expected = tel.values[0, ri, ci, tel.metrics.index("packet_loss_pct"), k - 2 : k + 2]
    got = _loss(4657, now - timedelta(minutes=2), now + timedelta(minutes=2))
    np.testing.assert_allclose(got, expected, rtol=1e-9)

    # 120 s after the start the StarHub route degrades for 10 minutes
    t1 = t0 + timedelta(minutes=8)
    second = live.feed(t1)
    assert second["minutes"] == 8 and second["degrading"] is True
    assert second["degraded_samples"] > 0
    bad_from = t0 + timedelta(seconds=120)
    before = _loss(4657, now, bad_from - timedelta(minutes=1))
    during = _loss(4657, bad_from + timedelta(minutes=1), t1 - timedelta(minutes=1))
    other = _loss(7473, bad_from + timedelta(minutes=1), t1 - timedelta(minutes=1))
    assert np.nanmax(before) < 3.0
    assert np.nanmin(during) > 6.0
    assert np.nanmax(other) < 3.0  # only the one carrier

    later = live.feed(t1 + timedelta(minutes=30))
    assert later["degrading"] is False
    after = _loss(4657, t1 + timedelta(minutes=15), t1 + timedelta(minutes=29))
    assert np.nanmax(after) < 3.0


def test_live_degradation_is_detected(
    demo_world_loaded: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(detect, "adapter", [lambda c, now: seen.append(c)])
    now = demo_world_loaded
    demo.load(SEED, now, days=2.2)  # the daily baseline needs two days
    t0 = now + timedelta(seconds=30)
    live.feed(t0)
    quiet = detect.run_detection(t0 + timedelta(seconds=10))
    assert quiet["places"] == 6 and seen == []
    t1 = t0 + timedelta(seconds=120 + 5 * 60)  # five minutes into the degradation
    live.feed(t1)
    detect.run_detection(t1 + timedelta(seconds=10))
    assert [(c["region"], c["locations"]) for c in seen] == [("sg", ["AS4657"])]
