"""Concurrent batches on committed transactions: the same batch id sent twice at once is stored
once; different batches writing the same series-minutes merge without losing a sample."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from relaydesk.monitoring.models import TelemetryBatch, TelemetryMinute
from relaydesk.monitoring.store import raw_sample_count

pytestmark = pytest.mark.django_db(transaction=True)


def _post_all(topo, bodies):
    barrier = threading.Barrier(len(bodies))

    def one(body):
        try:
            barrier.wait(timeout=10)
            return topo.post(body)
        finally:
            connection.close()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_same_batch_id_at_once_is_stored_once(topo) -> None:
    body = {"batch_id": "race-1", "samples": [topo.sample(i) for i in range(200)]}
    results = _post_all(topo, [body, body, body])
    statuses = sorted(s for s, _ in results)
    assert statuses == [200, 200, 201], results
    assert TelemetryBatch.objects.count() == 1
    assert raw_sample_count() == 200
    assert TelemetryMinute.objects.get().count == 200


def test_overlapping_batches_merge_every_sample(topo) -> None:
    # four batches, each touching the same 3 series × 1 minute: upserts must all land
    bodies = [
        {
            "batch_id": f"ov-{k}",
            "samples": [
                topo.sample(i, node=["sg-edge-1", "sg-edge-2", None][i % 3]) for i in range(90)
            ],
        }
        for k in range(4)
    ]
    results = _post_all(topo, bodies)
    assert [s for s, _ in results] == [201] * 4, results
    assert sorted(TelemetryMinute.objects.values_list("count", flat=True)) == [120, 120, 120]
