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


def load(world: Any, *, degrade: bool, bad: tuple[int, int] = (8, 0)) -> float:
    """Three days of generated traffic for Singapore; with ``degrade`` Singtel is bad from
    ``bad[0]`` minutes before the end until ``bad[1]`` minutes before it. Returns the end
    (epoch seconds)."""
    for name, asn in ASN.items():
        c = Carrier.objects.create(asn=asn, name=name, country="SG")
        c.regions.add(world.sg)
    clear_caches()
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=3)
    tel = generator.generate(seed=3, start=start, days=3.0, regions=("sg",), incidents_per_week=0.0, gaps=False, blips=False)
    if degrade:  # Singtel loses packets, RTT and freezes rise, joins fail
        si, ri, ci = 0, 0, tel.regions[0].carriers.index("Singtel")
        last = slice(tel.minutes - bad[0], tel.minutes - bad[1])
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


def test_recovered_metrics_store_a_proposal_to_resolve(world: Any) -> None:
    """Bad for 10 minutes, then 20 quiet ones: the pass that judges the bad stretch opens the
    incident without a proposal; one after fewer than ``resolve_after_minutes`` (15) quiet
    minutes still has none; the pass after 20 quiet minutes stores the end of the 15th quiet
    minute. The incident is never resolved on its own, and the API detail shows the proposal."""
    from relaydesk.detection.incidents import GroupingParams

    quiet_needed = GroupingParams().resolve_after_minutes
    assert quiet_needed == 15
    svc = service("rtc")
    footprint(world.acme, svc, world.sg)
    detect.reset()
    end = load(world, degrade=True, bad=(30, 20))
    recovered = end - 20 * 60  # start of the first good minute of the data
    detect.run_detection(now=datetime.fromtimestamp(recovered + 2 * 60 + 10, UTC))
    inc = Incident.objects.get()
    assert inc.status == "investigating" and inc.resolve_proposed_at is None
    detect.run_detection(now=datetime.fromtimestamp(recovered + 10 * 60 + 10, UTC))
    inc.refresh_from_db()
    assert inc.resolve_proposed_at is None  # only ~10 quiet minutes so far
    detect.run_detection(now=datetime.fromtimestamp(end + 10, UTC))
    inc.refresh_from_db()
    assert inc.resolve_proposed_at is not None
    proposed = inc.resolve_proposed_at.timestamp()
    # the end of the 15th quiet minute: at least 15 minutes after the data recovered (the
    # detector may call a minute or two after it still bad), never later than the data
    assert recovered + quiet_needed * 60 <= proposed <= end, (recovered, proposed, end)
    assert proposed <= recovered + (quiet_needed + 3) * 60
    assert inc.status == "investigating" and inc.resolved_at is None
    code, body = world.api(world.lead, ["incidents:write"]).get(f"/api/v1/incidents/{inc.pk}")
    assert code == 200, body
    assert datetime.fromisoformat(body["resolve_proposed_at"].replace("Z", "+00:00")).timestamp() == proposed
    # a later pass with the same data keeps the stored proposal
    detect.run_detection(now=datetime.fromtimestamp(end + 40, UTC))
    inc.refresh_from_db()
    assert inc.resolve_proposed_at is not None and inc.resolve_proposed_at.timestamp() == proposed
