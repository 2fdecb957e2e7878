"""Topology for the monitoring tests: a service, edge nodes and carriers in the shared world's
regions, a telemetry feeder (staff) with a ``telemetry:write`` token, and helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from relaydesk.core.models import APIToken, Service, User
from relaydesk.monitoring.models import Carrier, EdgeNode
from relaydesk.monitoring.store import clear_caches
from tests.conftest import World, make_staff


@dataclass
class Topo:
    world: World
    rtc: Service
    live: Service
    sg1: EdgeNode
    sg2: EdgeNode
    de1: EdgeNode
    singtel: Carrier
    starhub: Carrier
    dt: Carrier
    feeder: User
    token: str
    t0: datetime  # a whole minute, ten minutes ago

    def post(
        self,
        body: Any,
        token: str | None = None,
        content_type: str = "application/json",
        **extra: Any,
    ) -> tuple[int, Any]:
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        resp = Client().post(
            "/api/v1/telemetry",
            raw,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {token or self.token}",
            **extra,
        )
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, resp.content

    def sample(self, i: int = 0, **kw: Any) -> dict[str, Any]:
        s: dict[str, Any] = {
            "ts": (self.t0 + timedelta(seconds=i % 60)).isoformat().replace("+00:00", "Z"),
            "service": "rtc",
            "region": "sg",
            "node": "sg-edge-1",
            "carrier": 9506,
            "metric": "rtt_ms",
            "value": 100.0 + i % 50,
            "weight": 10,
        }
        s.update(kw)
        return {k: v for k, v in s.items() if v is not _DROP}


_DROP = object()


@pytest.fixture
def drop() -> object:
    """Pass as a field value to leave the field out of a sample."""
    return _DROP


@pytest.fixture
def topo(world: World) -> Topo:
    clear_caches()
    rtc = Service.objects.create(code="rtc", name="Real-time voice and video")
    live = Service.objects.create(code="live", name="Live streaming")
    sg1 = EdgeNode.objects.create(code="sg-edge-1", region=world.sg)
    sg2 = EdgeNode.objects.create(code="sg-edge-2", region=world.sg)
    de1 = EdgeNode.objects.create(code="de-edge-1", region=world.de)
    singtel = Carrier.objects.create(asn=9506, name="Singtel", country="SG")
    singtel.regions.add(world.sg)
    starhub = Carrier.objects.create(asn=4657, name="StarHub", country="SG")
    starhub.regions.add(world.sg)
    dt = Carrier.objects.create(asn=3320, name="Deutsche Telekom", country="DE")
    dt.regions.add(world.de)
    feeder = make_staff("feeder@relaydesk.test", "agent", None)
    _, token = APIToken.issue(feeder, ["telemetry:write"], "feeder")
    t0 = (datetime.now(UTC) - timedelta(minutes=10)).replace(second=0, microsecond=0)
    return Topo(world, rtc, live, sg1, sg2, de1, singtel, starhub, dt, feeder, token, t0)
