"""The ingest benchmark's request bodies: assembled from text fragments for speed, they must be
exactly what ``json.dumps`` of the sample objects gives, and every sample valid."""

from __future__ import annotations

import json
from datetime import datetime

from bench.telemetry_ingest import METRICS, REGIONS, batch_bodies, bench_series
from relaydesk.monitoring import batch as b


def test_bodies_are_plain_json_of_valid_samples() -> None:
    now = 1_795_000_000.0
    bodies = batch_bodies(3, 500, seed=5, now=now)
    series = {(r, n, a, m): i for i, (r, n, a, m) in enumerate(bench_series())}
    assert len(series) == len(REGIONS) * 3 * len(METRICS)
    last_ts = 0.0
    for k, body in enumerate(bodies):
        doc = json.loads(body)
        assert json.dumps(doc).encode() == body
        assert doc["batch_id"] == f"bench-5-{k:06d}" and len(doc["samples"]) == 500
        raw = b.parse_json(body)

        def resolve(keys):  # (service, region, node, carrier, metric) -> bench series number
            assert {key[0] for key in keys} == {"rtc"}
            return {key: series[key[1:]] for key in keys}, {}

        valid = b.validate(raw, resolve, now)
        assert len(valid) == 500
        assert valid.ts.max() < now and valid.ts.min() > last_ts  # each batch after the last
        last_ts = float(valid.ts.max())
        first = doc["samples"][0]
        assert first["service"] == "rtc" and datetime.fromisoformat(first["ts"]).tzinfo
