"""Telemetry storage: name resolution, the atomic batch write (rollup upsert + raw samples),
the series read for detectors and incidents, and the raw-sample retention purge.

Writes are one transaction per batch: the batch record with its result (its unique key makes a
repeat a no-op), any new series, one row per (series, minute) of the batch, and the raw samples
as one row of columns. On PostgreSQL the rollups go in as one binary ``COPY`` built with NumPy
straight into the rollup table (a batch of new minutes, the usual case) or, when a minute
exists already, through a staging table and one ``INSERT … ON CONFLICT DO UPDATE``; on SQLite
the rollups are an ``executemany`` of the upsert.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Sum
from django.db.models.signals import post_delete, post_save

from relaydesk.core.models import Region, Service

from . import conf
from .batch import (
    F64,
    I64,
    BatchError,
    FieldError,
    Limits,
    RawBatch,
    Resolution,
    Rollup,
    SeriesKey,
    Validated,
    aggregate,
    validate,
)
from .metrics import METRICS
from .models import (
    Carrier,
    EdgeNode,
    TelemetryBatch,
    TelemetryMinute,
    TelemetryRaw,
    TelemetrySeries,
)

log = logging.getLogger("relaydesk.monitoring")

TOPOLOGY_TTL_S = 60.0
PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 in Unix microseconds


# -- name resolution (cached per process) ------------------------------------------------------


@dataclass
class _Topology:
    loaded_at: float
    services: dict[str, int]
    regions: dict[str, int]
    nodes: dict[str, tuple[int, int, str]]  # code -> (id, region id, region code)
    carriers: dict[int, int]  # asn -> id
    region_codes: dict[int, str]


class _Cache:
    """Codes -> ids and series keys -> series ids. Refreshed every minute, on a miss, and at
    once when a topology row or series changes in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.topology: _Topology | None = None
        self.series: dict[str, int] = {}  # TelemetrySeries.key -> id
        self.keys: dict[SeriesKey, int] = {}  # key as sent -> id

    def clear(self, **_: Any) -> None:
        with self.lock:
            self.topology = None
            self.series = {}
            self.keys = {}

    def get_topology(self, force: bool = False) -> _Topology:
        topo = self.topology
        now = time.monotonic()
        if topo is not None and not force and now - topo.loaded_at < TOPOLOGY_TTL_S:
            return topo
        regions = dict(Region.objects.values_list("code", "id"))
        region_codes = {v: k for k, v in regions.items()}
        topo = _Topology(
            loaded_at=now,
            services=dict(Service.objects.values_list("code", "id")),
            regions=regions,
            nodes={
                code: (pk, rid, region_codes.get(rid, "?"))
                for code, pk, rid in EdgeNode.objects.filter(active=True).values_list(
                    "code", "id", "region_id"
                )
            },
            carriers=dict(Carrier.objects.values_list("asn", "id")),
            region_codes=region_codes,
        )
        with self.lock:
            if not force:
                # The periodic refresh also forgets codes -> series, so a renamed or
                # deactivated node stops being accepted within a minute in every process.
                self.keys = {}
            self.topology = topo
        return topo


_cache = _Cache()


def clear_caches() -> None:
    """Forget cached topology and series ids (tests; after bulk topology edits)."""
    _cache.clear()


for _model in (Service, Region, EdgeNode, Carrier, TelemetrySeries):
    post_save.connect(_cache.clear, sender=_model, dispatch_uid=f"mon-cache-save-{_model.__name__}")
    post_delete.connect(
        _cache.clear, sender=_model, dispatch_uid=f"mon-cache-del-{_model.__name__}"
    )


def parse_asn(value: int | str) -> int | None:
    """7713, "7713", "AS7713" or "as7713" -> 7713; None if it is not an ASN."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 2**32 else None
    text = str(value).strip()
    if text[:2].lower() == "as":
        text = text[2:]
    return int(text) if text.isdigit() and 0 < int(text) < 2**32 else None


class Resolver:
    """Resolves the series keys of one batch to series ids. Series not yet stored get
    temporary negative ids; :func:`store` creates them inside the batch's transaction."""

    def __init__(self) -> None:
        self.pending: dict[int, tuple[int, int, int | None, int | None, str]] = {}

    def __call__(self, keys: Sequence[SeriesKey]) -> Resolution:
        resolved: dict[SeriesKey, int] = {}
        failed: dict[SeriesKey, tuple[str, str]] = {}
        todo = []
        cached = _cache.keys
        for k in keys:
            sid = cached.get(k)
            if sid is not None:
                resolved[k] = sid
            else:
                todo.append(k)
        if not todo:
            return resolved, failed
        topo = _cache.get_topology()
        if any(not self._known(topo, k) for k in todo):
            topo = _cache.get_topology(force=True)
        want: dict[SeriesKey, tuple[int, int, int | None, int | None, str]] = {}
        for k in todo:
            ids = self._ids(topo, k, failed)
            if ids is not None:
                want[k] = ids
        if not want:
            return resolved, failed
        by_key = {TelemetrySeries.make_key(*ids): (k, ids) for k, ids in want.items()}
        found = dict(_cache.series)
        missing = [sk for sk in by_key if sk not in found]
        if missing:
            found.update(TelemetrySeries.objects.filter(key__in=missing).values_list("key", "id"))
        for sk, (k, ids) in by_key.items():
            sid = found.get(sk)
            if sid is None:
                sid = -(len(self.pending) + 1)
                self.pending[sid] = ids
            else:
                _cache.series[sk] = sid
                _cache.keys[k] = sid
            resolved[k] = sid
        return resolved, failed

    @staticmethod
    def _known(topo: _Topology, k: SeriesKey) -> bool:
        service, region, node, carrier, _metric = k
        if service not in topo.services or region not in topo.regions:
            return False
        if node is not None and node not in topo.nodes:
            return False
        if carrier is not None:
            asn = parse_asn(carrier)
            if asn is None or asn not in topo.carriers:
                return False
        return True

    @staticmethod
    def _ids(
        topo: _Topology, k: SeriesKey, failed: dict[SeriesKey, tuple[str, str]]
    ) -> tuple[int, int, int | None, int | None, str] | None:
        service, region, node, carrier, metric = k
        svc = topo.services.get(service)
        if svc is None:
            failed[k] = ("service", f"unknown service {service!r}")
            return None
        reg = topo.regions.get(region)
        if reg is None:
            failed[k] = ("region", f"unknown region {region!r}")
            return None
        node_id = None
        if node is not None:
            found = topo.nodes.get(node)
            if found is None:
                failed[k] = ("node", f"unknown edge node {node!r}")
                return None
            if found[1] != reg:
                failed[k] = (
                    "node",
                    f"edge node {node!r} is in region {found[2]!r}, not {region!r}",
                )
                return None
            node_id = found[0]
        carrier_id = None
        if carrier is not None:
            asn = parse_asn(carrier)
            if asn is None:
                failed[k] = ("carrier", f"{carrier!r} is not an ASN (use 7713 or 'AS7713')")
                return None
            carrier_id = topo.carriers.get(asn)
            if carrier_id is None:
                failed[k] = ("carrier", f"unknown carrier AS{asn}")
                return None
        return svc, reg, node_id, carrier_id, metric


# -- the batch write ----------------------------------------------------------------------------------


def limits() -> Limits:
    return Limits(
        max_samples=conf.get_int("RELAYDESK_TELEMETRY_MAX_SAMPLES"),
        max_bytes=conf.get_int("RELAYDESK_TELEMETRY_MAX_BYTES"),
        future_tolerance_s=conf.get("RELAYDESK_TELEMETRY_FUTURE_TOLERANCE_S"),
    )


@dataclass
class IngestResult:
    body: dict[str, Any]
    duplicate: bool


_BATCH_RESULT = "SELECT result FROM monitoring_telemetrybatch WHERE source = %s AND batch_id = %s"


def existing_result(source: str, batch_id: str) -> dict[str, Any] | None:
    """The stored result of a batch id seen before from this source (one indexed read)."""
    with connection.cursor() as cur:
        cur.execute(_BATCH_RESULT, [source, batch_id])
        row = cur.fetchone()
    if row is None:
        return None
    result = row[0]
    return dict(json.loads(result) if isinstance(result, (str, bytes)) else result)


def ingest(raw: RawBatch, source: str, now: float | None = None) -> IngestResult:
    """Validate and store one batch atomically; a batch id seen before from the same source
    answers with the stored result and writes nothing. Raises :class:`BatchError`."""
    assert raw.batch_id is not None
    prior = existing_result(source, raw.batch_id)
    if prior is not None:
        return IngestResult(prior, duplicate=True)
    now = time.time() if now is None else now
    resolver = Resolver()
    valid = validate(raw, resolver, now, limits())
    try:
        body = store(valid, resolver, source, raw.batch_id)
    except IntegrityError:
        # Another request with the same batch id committed first: answer as a repeat.
        prior = existing_result(source, raw.batch_id)
        if prior is None:
            raise
        return IngestResult(prior, duplicate=True)
    return IngestResult(body, duplicate=False)


def ingest_samples(
    samples: Sequence[dict[str, Any]],
    batch_id: str,
    source: str = "internal",
    now: float | None = None,
) -> IngestResult:
    """In-process ingest (demo feeder, worker jobs): the same validation and atomic write as
    the API. ``source`` scopes the batch id (the API uses ``user:<id>``)."""
    return ingest(RawBatch(batch_id, list(samples)), source, now)


@dataclass(frozen=True)
class SeriesInfo:
    service: str
    region: str
    metric: str
    carrier_asn: int | None
    node: str | None


def list_series(service: str | None = None, region: str | None = None) -> list[SeriesInfo]:
    """Every stored series (optionally of one service/region), for sweeps over all series."""
    qs = TelemetrySeries.objects.all()
    if service:
        qs = qs.filter(service__code=service)
    if region:
        qs = qs.filter(region__code=region)
    rows = qs.values_list("service__code", "region__code", "metric", "carrier__asn", "node__code")
    rows = rows.order_by("service__code", "region__code", "metric", "carrier__asn", "node__code")
    return [SeriesInfo(*r) for r in rows]


def _create_pending(resolver: Resolver, sid: I64) -> I64:
    if not resolver.pending:
        return sid
    rows = {TelemetrySeries.make_key(*ids): ids for ids in resolver.pending.values()}
    TelemetrySeries.objects.bulk_create(
        [
            TelemetrySeries(key=k, service_id=s, region_id=r, node_id=n, carrier_id=c, metric=m)
            for k, (s, r, n, c, m) in rows.items()
        ],
        ignore_conflicts=True,
    )
    ids = dict(TelemetrySeries.objects.filter(key__in=list(rows)).values_list("key", "id"))
    mapping = {tmp: ids[TelemetrySeries.make_key(*t)] for tmp, t in resolver.pending.items()}
    out = sid.copy()
    for tmp, real in mapping.items():
        out[sid == tmp] = real
    return out


_BATCH_INSERT = (
    "INSERT INTO monitoring_telemetrybatch (source, batch_id, received_at, samples, result) "
    "VALUES (%s, %s, %s, %s, %s) RETURNING id"
)


def store(valid: Validated, resolver: Resolver, source: str, batch_id: str) -> dict[str, Any]:
    """The write: batch record, new series, rollups, raw samples — all or nothing. Raises
    :class:`django.db.IntegrityError` if the batch id is stored already (a concurrent repeat
    waits on the unique key until the first one commits)."""
    keep_raw = conf.get("RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS") > 0
    roll = aggregate(valid)  # temporary ids of new series group the same way as real ones
    result = {
        "batch_id": batch_id,
        "accepted": len(valid),
        "series": len(np.unique(roll.series_id)),
        "minutes": len(roll),
        "first_ts": _iso(float(valid.ts.min())),
        "last_ts": _iso(float(valid.ts.max())),
        "raw_stored": keep_raw,
    }
    pg = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            _BATCH_INSERT,
            [
                source,
                batch_id,
                connection.ops.adapt_datetimefield_value(datetime.now(UTC)),
                len(valid),
                json.dumps(result),
            ],
        )
        batch_pk = int(cur.fetchone()[0])
        if resolver.pending:
            valid.series_id = _create_pending(resolver, valid.series_id)
            roll = aggregate(valid)  # again, so rows are written in (real id, minute) order
        if pg:
            _rollups_pg(roll)
        else:
            _upsert_sqlite(roll)
        if keep_raw:
            cur.execute(_RAW_INSERT, [batch_pk, len(valid), raw_columns(valid)])
    return result


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


MINUTE_TABLE = TelemetryMinute._meta.db_table
RAW_TABLE = TelemetryRaw._meta.db_table
assert MINUTE_TABLE == "monitoring_telemetryminute" and RAW_TABLE == "monitoring_telemetryraw"

# When a batch brings minutes that exist already, its rollups reach PostgreSQL as one binary
# COPY into a session-local staging table (created once per connection; emptied at every
# commit), then one INSERT … SELECT … ON CONFLICT.
_PG_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS monitoring_minute_stage (
  series_id bigint, minute timestamptz, count integer, sum_w float8, sum_vw float8,
  min_value float8, max_value float8
) ON COMMIT DELETE ROWS
"""
_PG_UPSERT = """
INSERT INTO monitoring_telemetryminute AS t
  (series_id, minute, count, sum_w, sum_vw, min_value, max_value)
SELECT series_id, minute, count, sum_w, sum_vw, min_value, max_value
FROM monitoring_minute_stage
ORDER BY series_id, minute
ON CONFLICT (series_id, minute) DO UPDATE SET
  count = t.count + EXCLUDED.count,
  sum_w = t.sum_w + EXCLUDED.sum_w,
  sum_vw = t.sum_vw + EXCLUDED.sum_vw,
  min_value = LEAST(t.min_value, EXCLUDED.min_value),
  max_value = GREATEST(t.max_value, EXCLUDED.max_value)
"""

_SQLITE_UPSERT = """
INSERT INTO monitoring_telemetryminute (series_id, minute, count, sum_w, sum_vw, min_value, max_value)
VALUES (?, datetime(?, 'unixepoch'), ?, ?, ?, ?, ?)
ON CONFLICT (series_id, minute) DO UPDATE SET
  count = count + excluded.count,
  sum_w = sum_w + excluded.sum_w,
  sum_vw = sum_vw + excluded.sum_vw,
  min_value = MIN(min_value, excluded.min_value),
  max_value = MAX(max_value, excluded.max_value)
"""


def _pg_cursor() -> Any:
    """A plain psycopg cursor on Django's connection (same transaction), for COPY."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


_PG_COPY_MINUTES = (
    "COPY monitoring_telemetryminute "
    "(series_id, minute, count, sum_w, sum_vw, min_value, max_value) FROM STDIN (FORMAT BINARY)"
)


def _rollups_pg(roll: Rollup) -> None:
    """New minutes (the usual batch) go straight into the table by one COPY; if any (series,
    minute) exists the COPY fails at once inside a savepoint (nothing of it remains) and the
    batch is merged by the upsert instead."""
    payload = rollup_copy_payload(roll)
    with _pg_cursor() as cur:
        try:
            with transaction.atomic(), cur.copy(_PG_COPY_MINUTES) as cp:
                cp.write(payload)
        except psycopg.errors.UniqueViolation:
            _upsert_pg(cur, payload)


def _upsert_pg(cur: Any, payload: bytes) -> None:
    cur.execute(_PG_STAGE)
    # Rows of an earlier batch in the same transaction (a multi-chunk CSV import).
    cur.execute("TRUNCATE monitoring_minute_stage")
    with cur.copy("COPY monitoring_minute_stage FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(payload)
    cur.execute(_PG_UPSERT)


def _upsert_sqlite(roll: Rollup) -> None:
    rows = zip(
        roll.series_id.tolist(),
        (roll.minute * 60).tolist(),
        roll.count.tolist(),
        roll.sum_w.tolist(),
        roll.sum_vw.tolist(),
        roll.min.tolist(),
        roll.max.tolist(),
        strict=True,
    )
    connection.ensure_connection()
    connection.connection.executemany(_SQLITE_UPSERT, rows)


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _copy_dtype(columns: list[tuple[str, str]]) -> np.dtype[Any]:
    """A NumPy record laid out as one row of PostgreSQL's binary COPY format: a field count,
    then a length and big-endian value per column (all fixed width here, none NULL)."""
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, typ in columns:
        fields += [(f"len_{name}", ">i4"), (name, typ)]
    return np.dtype(fields)


_MINUTE_ROW = _copy_dtype(
    [
        ("series", ">i8"),
        ("minute", ">i8"),
        ("count", ">i4"),
        ("sum_w", ">f8"),
        ("sum_vw", ">f8"),
        ("min", ">f8"),
        ("max", ">f8"),
    ]
)


def _copy_records(dtype: np.dtype[Any], n: int) -> np.ndarray[Any, Any]:
    rec = np.empty(n, dtype=dtype)
    names = [f for f in dtype.names or () if not f.startswith("len_") and f != "nfields"]
    rec["nfields"] = len(names)
    for f in names:
        rec[f"len_{f}"] = dtype[f].itemsize
    return rec


def rollup_copy_payload(roll: Rollup) -> bytes:
    rec = _copy_records(_MINUTE_ROW, len(roll))
    rec["series"] = roll.series_id
    rec["minute"] = roll.minute * 60_000_000 - PG_EPOCH_US
    rec["count"] = roll.count
    rec["sum_w"] = roll.sum_w
    rec["sum_vw"] = roll.sum_vw
    rec["min"] = roll.min
    rec["max"] = roll.max
    return _COPY_HEADER + rec.tobytes() + _COPY_TRAILER


# -- raw samples ------------------------------------------------------------------------------------

RAW_DTYPE = np.dtype([("series", "<i8"), ("ts", "<f8"), ("value", "<f8"), ("weight", "<f8")])
_RAW_INSERT = "INSERT INTO monitoring_telemetryraw (batch_id, samples, columns) VALUES (%s, %s, %s)"


def raw_columns(valid: Validated) -> bytes:
    """A batch's samples as one blob of little-endian records, in the order sent."""
    rec = np.empty(len(valid), dtype=RAW_DTYPE)
    rec["series"] = valid.series_id
    rec["ts"] = valid.ts
    rec["value"] = valid.value
    rec["weight"] = valid.weight
    return rec.tobytes()


@dataclass
class RawSamples:
    """The raw samples of one batch, in the order they were sent."""

    series_id: I64
    ts: F64  # epoch seconds
    value: F64
    weight: F64

    def __len__(self) -> int:
        return int(self.series_id.shape[0])


def raw_sample_count() -> int:
    """How many raw samples are stored (all batches)."""
    return int(TelemetryRaw.objects.aggregate(n=Sum("samples"))["n"] or 0)


def raw_samples(batch: TelemetryBatch | int) -> RawSamples | None:
    """The stored raw samples of a batch; None when they were not kept or are purged."""
    pk = batch.pk if isinstance(batch, TelemetryBatch) else batch
    row = TelemetryRaw.objects.filter(batch_id=pk).values_list("samples", "columns").first()
    if row is None:
        return None
    n, blob = row
    rec = np.frombuffer(bytes(blob), dtype=RAW_DTYPE, count=n)
    return RawSamples(
        series_id=rec["series"].astype(np.int64),
        ts=rec["ts"].astype(np.float64),
        value=rec["value"].astype(np.float64),
        weight=rec["weight"].astype(np.float64),
    )


# -- reading series -------------------------------------------------------------------------------------


@dataclass
class Series:
    """A per-minute series on a full grid from ``start`` to ``end`` (exclusive), one entry per
    minute. Minutes without data are gaps: ``mean``/``min``/``max`` NaN, ``weight``/``count`` 0."""

    timestamps: I64  # epoch seconds at the start of each minute
    mean: F64  # weighted mean (sum of value × weight / sum of weights)
    weight: F64  # sum of weights (sessions)
    count: I64  # samples
    min: F64
    max: F64

    @property
    def present(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return self.count > 0


def _code_id(model: Any, value: Any, what: str) -> int:
    if isinstance(value, model):
        return int(value.pk)
    if isinstance(value, int):
        return value
    pk = model.objects.filter(code=value).values_list("pk", flat=True).first()
    if pk is None:
        raise LookupError(f"unknown {what} {value!r}")
    return int(pk)


def _carrier_id(value: Any) -> int:
    if isinstance(value, Carrier):
        return int(value.pk)
    asn = parse_asn(value)
    pk = Carrier.objects.filter(asn=asn).values_list("pk", flat=True).first() if asn else None
    if pk is None:
        raise LookupError(f"unknown carrier {value!r}")
    return int(pk)


def _node_id(value: Any) -> int:
    if isinstance(value, EdgeNode):
        return int(value.pk)
    pk = EdgeNode.objects.filter(code=value).values_list("pk", flat=True).first()
    if pk is None:
        raise LookupError(f"unknown edge node {value!r}")
    return int(pk)


def _minute_floor(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("start and end must be aware datetimes (UTC)")
    return int(dt.timestamp()) // 60


def _series_ids(
    service: Any, region: Any, metric: str, carrier: Any, node: Any
) -> dict[int, tuple[int | None, int | None]]:
    if metric not in METRICS:
        raise LookupError(f"unknown metric {metric!r}")
    qs = TelemetrySeries.objects.filter(
        service_id=_code_id(Service, service, "service"),
        region_id=_code_id(Region, region, "region"),
        metric=metric,
    )
    if carrier is not None:
        qs = qs.filter(carrier_id=_carrier_id(carrier))
    if node is not None:
        qs = qs.filter(node_id=_node_id(node))
    return {pk: (c, n) for pk, c, n in qs.values_list("pk", "carrier_id", "node_id")}


def _grids(groups: dict[Any, list[int]], start: datetime, end: datetime) -> dict[Any, Series]:
    """Per group of series ids, the merged per-minute series over ``[start, end)``: one query
    for all groups, merged by weight in NumPy."""
    m0, m1 = _minute_floor(start), _minute_floor(end - timedelta(microseconds=1)) + 1
    m1 = max(m1, m0)
    n = m1 - m0
    labels = list(groups)
    g_n = len(labels)
    count = np.zeros((g_n, n), dtype=np.int64)
    sum_w = np.zeros((g_n, n))
    sum_vw = np.zeros((g_n, n))
    vmin = np.full((g_n, n), np.inf)
    vmax = np.full((g_n, n), -np.inf)
    ids = sorted({i for pks in groups.values() for i in pks})
    if ids and n > 0:
        if connection.vendor == "postgresql":
            epoch = "EXTRACT(EPOCH FROM minute)::bigint"
            in_ids = "series_id = ANY(%s)"
            params: list[Any] = [ids]
        else:
            epoch = "CAST(strftime('%%s', minute) AS INTEGER)"
            in_ids = f"series_id IN ({','.join(['%s'] * len(ids))})"
            params = list(ids)
        # Only constants and placeholders are composed here.
        sql = (
            f"SELECT series_id, {epoch}, count, sum_w, sum_vw, min_value, max_value "  # noqa: S608
            f"FROM monitoring_telemetryminute WHERE {in_ids} AND minute >= %s AND minute < %s"
        )
        lo: Any = datetime.fromtimestamp(m0 * 60, UTC)
        hi: Any = datetime.fromtimestamp(m1 * 60, UTC)
        if connection.vendor != "postgresql":  # compare as the text Django stores (naive UTC)
            lo, hi = str(lo.replace(tzinfo=None)), str(hi.replace(tzinfo=None))
        with connection.cursor() as cur:
            cur.execute(sql, [*params, lo, hi])
            rows = cur.fetchall()
        if rows:
            arr = np.array(rows, dtype=np.float64)
            group_of = {pk: gi for gi, label in enumerate(labels) for pk in groups[label]}
            g = np.array([group_of[int(x)] for x in arr[:, 0]], dtype=np.intp)
            at = (g, (arr[:, 1].astype(np.int64) // 60 - m0).astype(np.intp))
            np.add.at(count, at, arr[:, 2].astype(np.int64))
            np.add.at(sum_w, at, arr[:, 3])
            np.add.at(sum_vw, at, arr[:, 4])
            np.minimum.at(vmin, at, arr[:, 5])
            np.maximum.at(vmax, at, arr[:, 6])
    ts = np.arange(m0, m1, dtype=np.int64) * 60
    out: dict[Any, Series] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(sum_w > 0, sum_vw / sum_w, np.nan)
    present = count > 0
    for gi, label in enumerate(labels):
        out[label] = Series(
            timestamps=ts.copy(),
            mean=mean[gi],
            weight=sum_w[gi],
            count=count[gi],
            min=np.where(present[gi], vmin[gi], np.nan),
            max=np.where(present[gi], vmax[gi], np.nan),
        )
    return out


def read_series(
    service: Service | str | int,
    region: Region | str | int,
    metric: str,
    start: datetime,
    end: datetime,
    *,
    carrier: Carrier | str | int | None = None,
    node: EdgeNode | str | None = None,
) -> Series:
    """One per-minute series over ``[start, end)``: every stored series of the service,
    region and metric (narrowed to one carrier and/or node when given) merged by weight.
    Service and region by code, id or instance; carrier by ASN (7713/"AS7713") or instance."""
    ids = _series_ids(service, region, metric, carrier, node)
    return _grids({None: sorted(ids)}, start, end)[None]


def read_series_by(
    service: Service | str | int,
    region: Region | str | int,
    metric: str,
    start: datetime,
    end: datetime,
    *,
    by: str = "carrier",
) -> dict[int | None, Series]:
    """One series per carrier (``by="carrier"``, keyed by ASN) or per edge node (``by="node"``,
    keyed by node id) in the place — for corroboration across series. ``None`` keys the
    samples sent without a carrier (or node)."""
    if by not in ("carrier", "node"):
        raise ValueError("by must be 'carrier' or 'node'")
    ids = _series_ids(service, region, metric, None, None)
    groups: dict[int | None, list[int]] = {}
    for pk, (carrier_id, node_id) in ids.items():
        groups.setdefault(carrier_id if by == "carrier" else node_id, []).append(pk)
    labels: dict[int | None, int | None] = {None: None}
    if by == "carrier":
        labels.update(
            Carrier.objects.filter(pk__in=[g for g in groups if g]).values_list("pk", "asn")
        )
    else:
        labels.update({g: g for g in groups if g})
    grids = _grids(groups, start, end)
    return {labels[g]: grids[g] for g in groups}


# -- retention ----------------------------------------------------------------------------------------------

PURGE_CHUNK = 1_000  # batches (up to 10 million raw samples) per short transaction


def purge_raw(now: datetime | None = None, max_batches: int = 100_000) -> dict[str, int]:
    """Delete the raw samples of batches received longer ago than the raw retention (a
    batch-id range: ids grow with arrival), in short chunked transactions, and batch records
    older than theirs (never before their raw samples). Safe in several workers at once.
    Returns the counts: raw samples and batch records deleted."""
    now = now or datetime.now(UTC)
    raw_h = conf.get("RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS")
    batch_h = max(conf.get("RELAYDESK_TELEMETRY_BATCH_RETENTION_HOURS"), raw_h)
    raw_cut = now - timedelta(hours=max(raw_h, 0))
    upto = TelemetryBatch.objects.filter(received_at__lt=raw_cut).aggregate(m=Max("pk"))["m"]
    samples = 0
    if upto is not None:
        with connection.cursor() as cur:
            cur.execute("SELECT MIN(batch_id) FROM monitoring_telemetryraw")
            low = cur.fetchone()[0]
        done = 0
        while low is not None and low <= upto and done < max_batches:
            high = min(low + PURGE_CHUNK - 1, upto)
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(
                    "SELECT COALESCE(SUM(samples), 0) FROM monitoring_telemetryraw "
                    "WHERE batch_id >= %s AND batch_id <= %s",
                    [low, high],
                )
                n = int(cur.fetchone()[0])
                cur.execute(
                    "DELETE FROM monitoring_telemetryraw WHERE batch_id >= %s AND batch_id <= %s",
                    [low, high],
                )
                samples += n if cur.rowcount else 0
            done += high - low + 1
            low = high + 1
    batches, _ = TelemetryBatch.objects.filter(
        received_at__lt=now - timedelta(hours=batch_h)
    ).delete()
    if samples or batches:
        log.info("telemetry purge: %d raw samples, %d batch records", samples, batches)
    return {"raw_samples": samples, "batches": batches}


__all__ = [
    "BatchError",
    "FieldError",
    "IngestResult",
    "RawSamples",
    "Resolver",
    "Series",
    "SeriesInfo",
    "clear_caches",
    "ingest",
    "ingest_samples",
    "list_series",
    "purge_raw",
    "raw_columns",
    "raw_sample_count",
    "raw_samples",
    "read_series",
    "read_series_by",
]
