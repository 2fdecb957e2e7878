"""POST /api/v1/telemetry through the real URL configuration and database: validation names the
sample and field, batches are atomic and idempotent, limits answer 413, scopes 403."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from relaydesk.core.models import APIToken
from relaydesk.monitoring.models import (
    TelemetryBatch,
    TelemetryMinute,
    TelemetrySeries,
)
from relaydesk.monitoring.store import raw_sample_count

pytestmark = pytest.mark.django_db


def stored() -> tuple[int, int, int, int]:
    return (
        TelemetryBatch.objects.count(),
        TelemetryMinute.objects.count(),
        raw_sample_count(),
        TelemetrySeries.objects.count(),
    )


def test_json_batch_is_stored_as_weighted_rollups(topo) -> None:
    samples = [
        topo.sample(0, value=100.0, weight=10),
        topo.sample(1, value=200.0, weight=30),
        topo.sample(2, value=50.0, weight=10, carrier="AS4657"),
    ]
    status, body = topo.post({"batch_id": "b-1", "samples": samples})
    assert status == 201, body
    assert body["accepted"] == 3 and body["series"] == 2 and body["minutes"] == 2
    assert body["duplicate"] is False and body["batch_id"] == "b-1"
    row = TelemetryMinute.objects.get(series__carrier=topo.singtel)
    assert row.count == 2 and row.sum_w == 40 and row.min_value == 100 and row.max_value == 200
    assert row.mean == pytest.approx((100 * 10 + 200 * 30) / 40)
    assert row.minute == topo.t0
    assert raw_sample_count() == 3


def test_epoch_seconds_and_default_weight(topo, drop) -> None:
    s = topo.sample(0, ts=topo.t0.timestamp() + 5, weight=drop)
    status, body = topo.post({"batch_id": "b-epoch", "samples": [s]})
    assert status == 201, body
    row = TelemetryMinute.objects.get()
    assert row.sum_w == 1.0 and row.minute == topo.t0


# (field, sample override, fragment of the message)
BAD = [
    ("metric", {"metric": "rtt"}, "unknown metric 'rtt'"),
    (
        "value",
        {"metric": "packet_loss_pct", "value": 140},
        "outside the valid range of packet_loss_pct [0, 100]",
    ),
    ("value", {"metric": "join_success_rate", "value": 1.5}, "outside the valid range"),
    ("value", {"value": -1}, "outside the valid range of rtt_ms"),
    ("value", {"value": "12"}, "must be a number (got str)"),
    ("value", {"value": True}, "must be a number (got bool)"),
    ("value", {"value": None}, "required"),
    ("ts", {"ts": "2099-01-01T00:00:00Z"}, "in the future"),
    ("ts", {"ts": 1_900_000_000_000}, "milliseconds? send seconds"),
    ("ts", {"ts": "yesterday"}, "not an ISO 8601 date-time"),
    ("ts", {"ts": "2026-11-25T19:00:00"}, "needs a UTC offset"),
    ("ts", {"ts": "1999-12-31T23:00:00Z"}, "before 2000-01-01"),
    ("service", {"service": "nope"}, "unknown service 'nope'"),
    ("region", {"region": "mars"}, "unknown region 'mars'"),
    ("node", {"node": "xx-edge-9"}, "unknown edge node 'xx-edge-9'"),
    ("node", {"node": "de-edge-1"}, "edge node 'de-edge-1' is in region 'de', not 'sg'"),
    ("carrier", {"carrier": 64512}, "unknown carrier AS64512"),
    ("carrier", {"carrier": "Singtel"}, "is not an ASN"),
    ("weight", {"weight": 0}, "positive number of sessions"),
    ("colour", {"colour": "red"}, "unknown field"),
]


@pytest.mark.parametrize(
    ("field", "override", "fragment"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
def test_invalid_sample_is_named_and_nothing_is_stored(topo, field, override, fragment) -> None:
    samples = [topo.sample(0), topo.sample(1, **override), topo.sample(2)]
    before = stored()
    status, body = topo.post({"batch_id": f"bad-{field}", "samples": samples})
    assert status == 422, body
    assert f"samples[1].{field}" in body["detail"], body["detail"]
    assert fragment in body["detail"], body["detail"]
    assert {"index": 1, "field": field} == {k: body["errors"][0][k] for k in ("index", "field")}
    assert stored() == before


def test_missing_field_is_named(topo, drop) -> None:
    status, body = topo.post(
        {"batch_id": "b", "samples": [topo.sample(0), topo.sample(1, metric=drop)]}
    )
    assert status == 422
    assert body["detail"] == "samples[1].metric: required"


def test_several_errors_are_all_named_in_order(topo) -> None:
    samples = [topo.sample(i) for i in range(10)]
    samples[7]["metric"] = "bogus"
    samples[3]["value"] = 1e9
    status, body = topo.post({"batch_id": "b", "samples": samples})
    assert status == 422
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(3, "value"), (7, "metric")]


def test_bad_last_sample_of_5000_stores_nothing(topo) -> None:
    samples = [
        topo.sample(i, carrier=[9506, 4657][i % 2], node=["sg-edge-1", "sg-edge-2", None][i % 3])
        for i in range(5000)
    ]
    samples[4999]["value"] = float(10**6)
    before = stored()
    status, body = topo.post({"batch_id": "big", "samples": samples})
    assert status == 422
    assert body["detail"].startswith("samples[4999].value:")
    assert stored() == before
    samples[4999]["value"] = 10.0
    status, body = topo.post({"batch_id": "big", "samples": samples})
    assert status == 201 and body["accepted"] == 5000 and body["series"] == 6
    assert raw_sample_count() == 5000
    assert sum(TelemetryMinute.objects.values_list("count", flat=True)) == 5000


def test_repeat_batch_id_answers_the_original_and_stores_nothing(topo) -> None:
    body = {"batch_id": "feeder-7-000001", "samples": [topo.sample(i) for i in range(20)]}
    s1, r1 = topo.post(body)
    assert s1 == 201
    after_first = stored()
    row = TelemetryMinute.objects.get()
    s2, r2 = topo.post(body)
    assert s2 == 200 and r2["duplicate"] is True
    assert {k: v for k, v in r2.items() if k != "duplicate"} == {
        k: v for k, v in r1.items() if k != "duplicate"
    }
    assert stored() == after_first
    again = TelemetryMinute.objects.get()
    assert (again.count, again.sum_w, again.sum_vw) == (row.count, row.sum_w, row.sum_vw)
    # The id is the client's: another feeder may use the same id for its own batch.
    other = topo.world.api(topo.world.admin, ["telemetry:write"]).token
    s3, r3 = topo.post(body, token=other)
    assert s3 == 201 and r3["duplicate"] is False
    assert TelemetryMinute.objects.get().count == 40


def test_batch_id_is_required_and_checked(topo) -> None:
    status, body = topo.post({"samples": [topo.sample()]})
    assert status == 422 and body["detail"].startswith("batch_id: required")
    status, body = topo.post({"batch_id": "has space", "samples": [topo.sample()]})
    assert status == 422 and "batch_id" in body["detail"]
    status, body = topo.post({"batch_id": "h", "samples": [topo.sample()]}, HTTP_X_BATCH_ID="other")
    assert status == 422 and "disagree" in body["detail"]
    status, body = topo.post({"samples": [topo.sample()]}, HTTP_X_BATCH_ID="from-header")
    assert status == 201 and body["batch_id"] == "from-header"


def test_malformed_bodies(topo) -> None:
    assert topo.post(b"{not json")[0] == 422
    status, body = topo.post({"batch_id": "x", "samples": {}})
    assert status == 422 and body["detail"] == "samples: must be a list of samples"
    status, body = topo.post({"batch_id": "x", "samples": []})
    assert status == 422 and "at least one" in body["detail"]
    status, body = topo.post({"batch_id": "x", "samples": [1, topo.sample()]})
    assert status == 422 and body["detail"].startswith("samples[0].sample: must be a JSON object")
    status, body = topo.post({"batch_id": "x", "samples": [topo.sample()], "extra": 1})
    assert status == 422 and body["detail"] == "extra: unknown field"
    status, body = topo.post("a,b", content_type="text/csv")
    assert status == 415 and "application/x-ndjson" in body["detail"]
    assert stored()[0] == 0


def test_too_many_samples_is_413(topo, settings) -> None:
    settings.RELAYDESK_TELEMETRY_MAX_SAMPLES = 100
    status, body = topo.post({"batch_id": "x", "samples": [topo.sample(i) for i in range(101)]})
    assert status == 413
    assert "101" in body["detail"] and "100 samples" in body["detail"]
    assert topo.post({"batch_id": "x", "samples": [topo.sample(i) for i in range(100)]})[0] == 201


def test_too_many_bytes_is_413(topo, settings) -> None:
    settings.RELAYDESK_TELEMETRY_MAX_BYTES = 10_000
    body = {"batch_id": "x", "samples": [topo.sample(i) for i in range(80)]}
    assert len(json.dumps(body)) > 10_000
    status, out = topo.post(body)
    assert status == 413
    assert "10000 bytes" in out["detail"]
    assert stored()[0] == 0
    # gzip: the limit is on the uncompressed body too
    status, out = topo.post(gzip.compress(json.dumps(body).encode()), HTTP_CONTENT_ENCODING="gzip")
    assert status == 413


def test_gzip_body(topo) -> None:
    raw = gzip.compress(
        json.dumps({"batch_id": "gz", "samples": [topo.sample(i) for i in range(5)]}).encode()
    )
    status, body = topo.post(raw, HTTP_CONTENT_ENCODING="gzip")
    assert status == 201 and body["accepted"] == 5


def test_scope_and_account_kind(topo) -> None:
    world = topo.world
    no_scope = APIToken.issue(topo.feeder, ["tickets:read", "tickets:write"])[1]
    status, body = topo.post({"batch_id": "s", "samples": [topo.sample()]}, token=no_scope)
    assert status == 403 and "telemetry:write" in body["detail"]
    customer_token = APIToken.issue(world.alice, ["telemetry:write"])[1]
    status, body = topo.post({"batch_id": "s", "samples": [topo.sample()]}, token=customer_token)
    assert status == 403
    status, _ = topo.post({"batch_id": "s", "samples": [topo.sample()]}, token="rdk_wrong")
    assert status == 401
    assert stored()[0] == 0


def test_ndjson_with_header_batch_id(topo) -> None:
    lines = "\n".join(json.dumps(topo.sample(i)) for i in range(4)) + "\n"
    status, body = topo.post(lines, content_type="application/x-ndjson", HTTP_X_BATCH_ID="nd-1")
    assert status == 201 and body["accepted"] == 4 and body["batch_id"] == "nd-1"


def test_ndjson_with_first_line_batch_id_and_line_numbers(topo) -> None:
    good = [json.dumps(topo.sample(i)) for i in range(3)]
    bad = json.dumps(topo.sample(3, metric="loss"))
    text = "\n".join([json.dumps({"batch_id": "nd-2"}), *good, "", bad])
    status, body = topo.post(text, content_type="application/x-ndjson")
    assert status == 422
    # sample index 3 is on line 6 (header line, three samples, a blank line)
    assert body["detail"].startswith("samples[3].metric (line 6): unknown metric 'loss'")
    assert body["errors"][0]["line"] == 6
    text = "\n".join([json.dumps({"batch_id": "nd-2"}), *good])
    status, body = topo.post(text, content_type="application/x-ndjson")
    assert status == 201 and body["batch_id"] == "nd-2" and body["accepted"] == 3
    status, body = topo.post("\n".join(good), content_type="application/x-ndjson")
    assert status == 422 and body["detail"].startswith("batch_id: required")
    status, body = topo.post(
        good[0] + "\n{oops", content_type="application/x-ndjson", HTTP_X_BATCH_ID="z"
    )
    assert status == 422 and body["detail"].startswith("line 2: is not valid JSON")


def test_rollups_merge_across_batches(topo) -> None:
    rng = np.random.default_rng(5)
    values = rng.uniform(50, 400, 60)
    weights = rng.integers(1, 100, 60).astype(float)
    batches = [range(0, 25), range(25, 40), range(40, 60)]
    for b, idx in enumerate(batches):
        samples = [
            topo.sample(i, value=float(values[i]), weight=float(weights[i]), node=None) for i in idx
        ]
        assert topo.post({"batch_id": f"m-{b}", "samples": samples})[0] == 201
    row = TelemetryMinute.objects.get()
    assert row.count == 60
    assert row.sum_w == pytest.approx(weights.sum())
    assert row.mean == pytest.approx(float((values * weights).sum() / weights.sum()))
    assert row.min_value == pytest.approx(values.min()) and row.max_value == pytest.approx(
        values.max()
    )


def test_raw_retention_zero_keeps_no_raw_samples(topo, settings) -> None:
    settings.RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS = 0
    status, body = topo.post({"batch_id": "noraw", "samples": [topo.sample(i) for i in range(3)]})
    assert status == 201 and body["raw_stored"] is False
    assert raw_sample_count() == 0 and TelemetryMinute.objects.count() == 1


def test_ts_slightly_ahead_is_accepted(topo) -> None:
    ahead = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
    assert topo.post({"batch_id": "skew", "samples": [topo.sample(ts=ahead)]})[0] == 201


def test_openapi_documents_the_endpoints(client) -> None:
    doc = client.get("/api/openapi.json").json()
    post = doc["paths"]["/api/v1/telemetry"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}
    assert {"201", "200", "413", "422"} <= set(post["responses"])
    assert {"get", "post"} <= set(doc["paths"]["/api/v1/footprint"])


def test_garbage_collector_is_back_on_after_good_and_bad_batches(topo) -> None:
    import gc

    assert gc.isenabled()
    assert topo.post({"batch_id": "gc-1", "samples": [topo.sample(0)]})[0] == 201
    assert gc.isenabled()
    assert topo.post({"batch_id": "gc-2", "samples": [topo.sample(0, metric="x")]})[0] == 422
    assert topo.post(b"{not json", content_type="application/json")[0] == 422
    assert gc.isenabled()
    gc.disable()
    try:  # a process that runs without the collector keeps it off
        assert topo.post({"batch_id": "gc-3", "samples": [topo.sample(1)]})[0] == 201
        assert not gc.isenabled()
    finally:
        gc.enable()
