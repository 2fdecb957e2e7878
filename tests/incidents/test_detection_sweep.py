"""Stored telemetry → the worker's detection sweep (``monitoring.detect``) → incident → notices
(the real store, detector and grouping; generated traffic with one carrier degraded at the end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from relaydesk.detection import generator
from relaydesk.incidents.models import Incident, Notice
from relaydesk.monitoring import detect
from relaydesk.monitoring.models import Carrier
from relaydesk.monitoring.store import clear_caches, ingest_samples
from tests.incidents.helpers import footprint, service

pytestmark = pytest.mark.django_db

ASN = {"Singtel": 7473, "StarHub": 4657, "M1": 17547}


def load(world: Any, *, degrade: bool) -> float:
    for name, asn in ASN.items():
        c = Carrier.objects.create(asn=asn, name=name, country="SG")
        c.regions.add(world.sg)
    clear_caches()
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=3)
    tel = generator.generate(seed=3, start=start, days=3.0, regions=("sg",), incidents_per_week=0.0, gaps=False, blips=False)
    if degrade:  # the last 8 minutes: Singtel loses packets, RTT and freezes rise, joins fail
        si, ri, ci = 0, 0, tel.regions[0].carriers.index("Singtel")
        last = slice(tel.minutes - 8, tel.minutes)
        m = tel.metrics.index
        tel.values[si, ri, ci, m("packet_loss_pct"), last] += 12.0
        tel.values[si, ri, ci, m("rtt_ms"), last] *= 4.0
        tel.values[si, ri, ci, m("join_success_rate"), last] *= 0.7
        tel.values[si, ri, ci, m("video_freeze_rate"), last] = np.minimum(1.0, tel.values[si, ri, ci, m("video_freeze_rate"), last] + 0.2)
    samples = []
    for s in tel.samples(tel.timestamps[0], tel.timestamps[-1] + 60):
        s["carrier"] = f"AS{ASN[str(s['carrier'])]}"
        samples.append(s)
    for i in range(0, len(samples), 10000):
        ingest_samples(samples[i : i + 10000], batch_id=f"b{i}", now=end.timestamp())
    return float(tel.timestamps[-1]) + 60


def test_degraded_carrier_opens_one_incident_with_notices(world: Any) -> None:
    svc = service("rtc")
    footprint(world.acme, svc, world.sg)
    detect.reset()
    end = load(world, degrade=True)
    r = detect.run_detection(now=datetime.fromtimestamp(end + 5, UTC))
    assert r["places"] == 1 and r["handed"] >= 1, r
    inc = Incident.objects.get()
    assert inc.source == "detection" and inc.region == world.sg and inc.status == "investigating"
    assert "AS7473" in inc.carriers
    assert Notice.objects.filter(incident=inc, address="alice@acme.test").count() == 1
    # the next pass (cached history, same data) changes nothing
    detect.run_detection(now=datetime.fromtimestamp(end + 20, UTC))
    assert Incident.objects.count() == 1 and Notice.objects.count() == 1


def test_normal_traffic_opens_nothing(world: Any) -> None:
    service("rtc")
    detect.reset()
    end = load(world, degrade=False)
    r = detect.run_detection(now=datetime.fromtimestamp(end + 5, UTC))
    assert r["places"] == 1 and r["handed"] == 0, r
    assert not Incident.objects.exists()
