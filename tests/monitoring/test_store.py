"""Storage read side and retention: series as NumPy arrays with gaps, per-carrier series, raw
samples as sent, the purge and its registration with the worker's periodic sweeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from relaydesk.core import periodic
from relaydesk.monitoring import batch as b
from relaydesk.monitoring.models import TelemetryBatch, TelemetryMinute, TelemetrySeries
from relaydesk.monitoring.store import (
    BatchError,
    ingest_samples,
    list_series,
    purge_raw,
    raw_sample_count,
    raw_samples,
    read_series,
    read_series_by,
)

pytestmark = pytest.mark.django_db


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def test_read_series_fills_gaps_and_merges_by_weight(topo) -> None:
    t0 = topo.t0 - timedelta(minutes=5)
    samples = []
    # minutes 0, 1, 3 have data on two carriers; minute 2 and 4 are gaps
    for m, (v1, w1, v2, w2) in {
        0: (100, 10, 300, 30),
        1: (110, 5, 110, 5),
        3: (90, 1, 190, 3),
    }.items():
        ts = iso(t0 + timedelta(minutes=m, seconds=7))
        samples.append(topo.sample(ts=ts, value=v1, weight=w1, carrier=9506, node=None))
        samples.append(topo.sample(ts=ts, value=v2, weight=w2, carrier=4657, node=None))
    assert topo.post({"batch_id": "r", "samples": samples})[0] == 201
    s = read_series("rtc", "sg", "rtt_ms", t0, t0 + timedelta(minutes=5))
    assert s.timestamps.tolist() == [int((t0 + timedelta(minutes=m)).timestamp()) for m in range(5)]
    assert s.count.tolist() == [2, 2, 0, 2, 0]
    assert s.weight.tolist() == [40, 10, 0, 4, 0]
    expect = [(100 * 10 + 300 * 30) / 40, 110, np.nan, (90 + 190 * 3) / 4, np.nan]
    np.testing.assert_allclose(s.mean, expect)
    assert s.present.tolist() == [True, True, False, True, False]
    np.testing.assert_allclose(s.min, [100, 110, np.nan, 90, np.nan])
    one = read_series(
        topo.rtc, topo.world.sg, "rtt_ms", t0, t0 + timedelta(minutes=5), carrier="AS4657"
    )
    np.testing.assert_allclose(one.mean, [300, 110, np.nan, 190, np.nan])
    by = read_series_by("rtc", "sg", "rtt_ms", t0, t0 + timedelta(minutes=5), by="carrier")
    assert set(by) == {9506, 4657}
    np.testing.assert_allclose(by[9506].mean, [100, 110, np.nan, 90, np.nan])
    # another metric / place has nothing: all gaps, not zeros
    empty = read_series("rtc", "de", "rtt_ms", t0, t0 + timedelta(minutes=5))
    assert np.isnan(empty.mean).all() and empty.count.sum() == 0
    with pytest.raises(LookupError):
        read_series("rtc", "sg", "nope", t0, t0 + timedelta(minutes=1))


def test_read_series_by_node(topo) -> None:
    samples = [topo.sample(i, node=n) for i, n in enumerate(["sg-edge-1", "sg-edge-2", None])]
    assert topo.post({"batch_id": "n", "samples": samples})[0] == 201
    by = read_series_by("rtc", "sg", "rtt_ms", topo.t0, topo.t0 + timedelta(minutes=1), by="node")
    assert set(by) == {topo.sg1.pk, topo.sg2.pk, None}
    assert all(s.count.tolist() == [1] for s in by.values())


def test_raw_samples_are_stored_as_sent(topo) -> None:
    ts = topo.t0 + timedelta(seconds=12, microseconds=345_000)
    samples = [
        topo.sample(ts=iso(ts), value=123.25, weight=7),
        topo.sample(ts=ts.timestamp() + 30, value=80.5, weight=2, carrier=4657),
        topo.sample(ts=iso(ts), value=99.0, metric="jitter_ms"),
    ]
    assert topo.post({"batch_id": "raw", "samples": samples})[0] == 201
    raw = raw_samples(TelemetryBatch.objects.get())
    assert raw is not None and len(raw) == 3 and raw_sample_count() == 3
    assert raw.value.tolist() == [123.25, 80.5, 99.0]  # in the order sent
    assert raw.weight.tolist() == [7.0, 2.0, 10.0]
    assert np.abs(raw.ts - [ts.timestamp(), ts.timestamp() + 30, ts.timestamp()]).max() < 1e-5
    series = {
        pk: (asn, metric)
        for pk, asn, metric in TelemetrySeries.objects.values_list("pk", "carrier__asn", "metric")
    }
    assert [series[int(i)] for i in raw.series_id] == [
        (9506, "rtt_ms"),
        (4657, "rtt_ms"),
        (9506, "jitter_ms"),
    ]


def test_raw_samples_of_a_batch_without_raw_storage(topo, settings) -> None:
    settings.RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS = 0
    assert topo.post({"batch_id": "none", "samples": [topo.sample(0)]})[0] == 201
    assert raw_samples(TelemetryBatch.objects.get()) is None and raw_sample_count() == 0


def test_purge_removes_old_raw_samples_and_batch_records(topo, settings) -> None:
    settings.RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS = 2
    settings.RELAYDESK_TELEMETRY_BATCH_RETENTION_HOURS = 24
    now = datetime.now(UTC)
    assert (
        topo.post({"batch_id": "oldest", "samples": [topo.sample(i) for i in range(4)]})[0] == 201
    )
    assert topo.post({"batch_id": "old", "samples": [topo.sample(i) for i in range(5)]})[0] == 201
    assert topo.post({"batch_id": "new", "samples": [topo.sample(i) for i in range(3)]})[0] == 201
    TelemetryBatch.objects.filter(batch_id="oldest").update(received_at=now - timedelta(days=2))
    TelemetryBatch.objects.filter(batch_id="old").update(received_at=now - timedelta(hours=3))
    minutes_before = list(TelemetryMinute.objects.values_list("count", flat=True))
    out = purge_raw(now=now)
    assert out == {"raw_samples": 9, "batches": 1}
    assert raw_sample_count() == 3
    assert raw_samples(TelemetryBatch.objects.get(batch_id="new")) is not None
    assert raw_samples(TelemetryBatch.objects.get(batch_id="old")) is None
    assert (
        list(TelemetryMinute.objects.values_list("count", flat=True)) == minutes_before
    )  # rollups stay
    assert purge_raw(now=now) == {"raw_samples": 0, "batches": 0}
    # the purged "old" batch id is still remembered: a repeat is not stored again
    status, body = topo.post({"batch_id": "old", "samples": [topo.sample(i) for i in range(5)]})
    assert status == 200 and body["duplicate"] is True


def test_batch_records_outlive_their_raw_samples(topo, settings) -> None:
    settings.RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS = 72
    settings.RELAYDESK_TELEMETRY_BATCH_RETENTION_HOURS = 24
    now = datetime.now(UTC)
    assert topo.post({"batch_id": "a", "samples": [topo.sample(0)]})[0] == 201
    TelemetryBatch.objects.update(received_at=now - timedelta(hours=48))
    assert purge_raw(now=now) == {"raw_samples": 0, "batches": 0}


def test_purge_is_registered_with_the_worker() -> None:
    assert periodic.registered()["telemetry_purge"] is purge_raw


def test_aggregate_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(11)
    n = 2000
    v = b.Validated(
        series_id=rng.integers(1, 7, n).astype(np.int64),
        ts=1_780_000_000 + rng.uniform(0, 600, n),
        value=rng.uniform(0, 500, n),
        weight=rng.integers(1, 50, n).astype(np.float64),
    )
    r = b.aggregate(v)
    expect: dict[tuple[int, int], list[float]] = {}
    for s, t, x, w in zip(
        v.series_id.tolist(), v.ts.tolist(), v.value.tolist(), v.weight.tolist(), strict=True
    ):
        e = expect.setdefault((s, int(t // 60)), [0, 0.0, 0.0, np.inf, -np.inf])
        e[0] += 1
        e[1] += w
        e[2] += x * w
        e[3] = min(e[3], x)
        e[4] = max(e[4], x)
    got = {
        (s, m): [c, w, vw, lo, hi]
        for s, m, c, w, vw, lo, hi in zip(
            r.series_id.tolist(),
            r.minute.tolist(),
            r.count.tolist(),
            r.sum_w.tolist(),
            r.sum_vw.tolist(),
            r.min.tolist(),
            r.max.tolist(),
            strict=True,
        )
    }
    assert set(got) == set(expect)
    for k in expect:
        np.testing.assert_allclose(got[k], expect[k])
    keys = list(zip(r.series_id.tolist(), r.minute.tolist(), strict=True))
    assert keys == sorted(keys)  # writers lock rows in one order


def test_in_process_ingest_and_series_list(topo) -> None:
    res = ingest_samples(
        [topo.sample(0), topo.sample(1, metric="jitter_ms", node=None)], "demo-1", source="demo"
    )
    assert not res.duplicate and res.body["accepted"] == 2
    assert ingest_samples([topo.sample(0)], "demo-1", source="demo").duplicate
    with pytest.raises(BatchError) as exc:
        ingest_samples([topo.sample(0, value=-5)], "demo-2", source="demo")
    assert exc.value.status == 422 and "samples[0].value" in exc.value.detail
    infos = list_series(region="sg")
    assert [(i.metric, i.carrier_asn, i.node) for i in infos] == [
        ("jitter_ms", 9506, None),
        ("rtt_ms", 9506, "sg-edge-1"),
    ]


def test_batch_record_is_stored_as_the_orm_stores_it(topo) -> None:
    from django.db import connection

    before = datetime.now(UTC)
    assert topo.post({"batch_id": "when", "samples": [topo.sample(0)]})[0] == 201
    after = datetime.now(UTC)
    batch = TelemetryBatch.objects.get()
    assert before <= batch.received_at <= after
    assert batch.result["batch_id"] == "when" and batch.samples == 1
    assert TelemetryBatch.objects.filter(received_at__gte=before, received_at__lte=after).exists()
    with connection.cursor() as cur:
        cur.execute("SELECT received_at FROM monitoring_telemetrybatch")
        stored = cur.fetchone()[0]
    if isinstance(stored, str):  # SQLite: naive UTC text, like every other DateTimeField
        assert "+" not in stored
