"""Parse, validate and aggregate a telemetry batch (pure: plain data and NumPy, no Django).

A batch is a client batch id plus samples ``{ts, service, region, node?, carrier?, metric,
value, weight?}``. Validation is column-wise: each field is pulled out of every sample once
and checked with a tight loop or a NumPy comparison, which is ~20x cheaper than building a
model object per sample. Names (service, region, node, carrier) are checked by a resolver the
caller passes in, once per distinct series in the batch, not once per sample.

Every error names the sample index (0-based, in the order sent) and the field; NDJSON errors
also name the line. Nothing here writes anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from pydantic_core import from_json

from .metrics import METRIC_NAMES, METRICS

FIELDS: Final = ("ts", "service", "region", "node", "carrier", "metric", "value", "weight")
ALLOWED_FIELDS: Final = frozenset(FIELDS)
BATCH_ID_RE: Final = re.compile(r"[\x21-\x7e]{1,128}")
MAX_ERRORS: Final = 20
OLDEST_TS: Final = 946_684_800.0  # 2000-01-01T00:00:00Z: anything earlier is a unit mistake
MAX_WEIGHT: Final = 1e12

_NUMBER_TYPES: Final = frozenset({int, float})
_METRIC_INDEX: Final = {name: i for i, name in enumerate(METRIC_NAMES)}
_LOW: Final = np.array([METRICS[m].low for m in METRIC_NAMES], dtype=np.float64)
_HIGH: Final = np.array([METRICS[m].high for m in METRIC_NAMES], dtype=np.float64)

# A series as sent: (service, region, node, carrier, metric). Carrier may be an ASN number or
# "AS1234"; the resolver normalises it.
SeriesKey = tuple[str, str, str | None, int | str | None, str]
# key -> series id for the good keys, key -> (field, message) for the bad ones.
Resolution = tuple[dict[SeriesKey, int], dict[SeriesKey, tuple[str, str]]]
Resolver = Callable[[Sequence[SeriesKey]], Resolution]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FieldError:
    """One problem: ``index`` is the sample's position (None for the batch itself)."""

    index: int | None
    field: str
    message: str
    line: int | None = None

    @property
    def where(self) -> str:
        if self.index is None:
            return self.field
        at = f"samples[{self.index}].{self.field}"
        return f"{at} (line {self.line})" if self.line is not None else at

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "field": self.field, "message": self.message}
        if self.line is not None:
            out["line"] = self.line
        return out


class BatchError(Exception):
    """The batch is refused as a whole: 422 (invalid) or 413 (too large)."""

    def __init__(self, status: int, errors: Sequence[FieldError]) -> None:
        self.status = status
        self.errors = sorted(errors, key=lambda e: (-1 if e.index is None else e.index, e.field))
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        shown = self.errors[:MAX_ERRORS]
        text = "; ".join(f"{e.where}: {e.message}" for e in shown)
        if len(self.errors) > len(shown):
            text += f"; … and {len(self.errors) - len(shown)} more"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "detail": self.detail,
            "errors": [e.as_dict() for e in self.errors[:MAX_ERRORS]],
        }


@dataclass(frozen=True)
class Limits:
    max_samples: int = 10_000
    max_bytes: int = 4 * 1024 * 1024
    future_tolerance_s: float = 300.0


@dataclass
class RawBatch:
    """What was sent, parsed but not validated. ``lines``: NDJSON line number of each sample."""

    batch_id: str | None
    samples: list[Any]
    lines: list[int] | None = None


@dataclass
class Validated:
    """Good samples as columns: series id, epoch seconds, value, weight (sessions)."""

    series_id: I64
    ts: F64
    value: F64
    weight: F64

    def __len__(self) -> int:
        return int(self.series_id.shape[0])


@dataclass
class Rollup:
    """One row per (series, minute) of a batch; ``minute`` is epoch seconds // 60."""

    series_id: I64
    minute: I64
    count: I64
    sum_w: F64
    sum_vw: F64
    min: F64
    max: F64

    def __len__(self) -> int:
        return int(self.series_id.shape[0])


@dataclass
class _Errors:
    items: list[FieldError] = field(default_factory=list)
    lines: list[int] | None = None

    def add(self, index: int | None, name: str, message: str) -> None:
        line = None
        if index is not None and self.lines is not None and index < len(self.lines):
            line = self.lines[index]
        self.items.append(FieldError(index, name, message, line))

    def add_many(self, indices: Iterable[int], name: str, message: Callable[[int], str]) -> None:
        for n, i in enumerate(indices):
            if n >= MAX_ERRORS:
                break
            self.add(i, name, message(i))

    def raise_if_any(self) -> None:
        if self.items:
            raise BatchError(422, self.items)


# -- parsing -----------------------------------------------------------------------------------


def _check_batch_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not BATCH_ID_RE.fullmatch(value):
        raise BatchError(
            422,
            [FieldError(None, where, "must be 1–128 printable ASCII characters without spaces")],
        )
    return value


def _loads(text: bytes | str, where: str) -> Any:
    """JSON -> Python objects. pydantic-core's parser (already installed with django-ninja)
    is ~35 % faster than the standard library's on a 5,000-sample batch, mostly because it
    creates each repeated key and code string once (``cache_strings``)."""
    try:
        return from_json(text, cache_strings="all")
    except (ValueError, RecursionError) as exc:
        raise BatchError(422, [FieldError(None, where, f"is not valid JSON: {exc}")]) from None


def parse_json(body: bytes, header_batch_id: str | None = None) -> RawBatch:
    """``{"batch_id": "...", "samples": [...]}``; the batch id may come from the header instead."""
    doc = _loads(body, "body")
    if not isinstance(doc, dict):
        raise BatchError(422, [FieldError(None, "body", "must be a JSON object")])
    unknown = sorted(set(doc) - {"batch_id", "samples"})
    if unknown:
        raise BatchError(422, [FieldError(None, k, "unknown field") for k in unknown])
    samples = doc.get("samples")
    if not isinstance(samples, list):
        what = "required" if samples is None else "must be a list of samples"
        raise BatchError(422, [FieldError(None, "samples", what)])
    batch_id = _pick_batch_id(doc.get("batch_id"), header_batch_id, "batch_id")
    return RawBatch(batch_id, samples)


def parse_ndjson(body: bytes, header_batch_id: str | None = None) -> RawBatch:
    """One JSON object per line. The batch id comes from the ``X-Batch-ID`` header, or from a
    first line that holds only ``{"batch_id": "..."}``. Blank lines are skipped."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BatchError(422, [FieldError(None, "body", f"is not UTF-8: {exc}")]) from None
    numbered = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    try:  # one parse of the whole body is much faster than one per line
        objs = from_json("[" + ",".join(line for _, line in numbered) + "]", cache_strings="all")
    except (ValueError, RecursionError):
        objs = [_loads(line, f"line {n}") for n, line in numbered]
    first_id: Any = None
    if objs and isinstance(objs[0], dict) and set(objs[0]) == {"batch_id"}:
        first_id = objs[0]["batch_id"]
        objs = objs[1:]
        numbered = numbered[1:]
    batch_id = _pick_batch_id(first_id, header_batch_id, "batch_id")
    return RawBatch(batch_id, objs, [n for n, _ in numbered])


def _pick_batch_id(in_body: Any, in_header: str | None, where: str) -> str:
    if in_body is None and not in_header:
        raise BatchError(
            422,
            [
                FieldError(
                    None,
                    where,
                    'required: send it in the body (JSON: "batch_id"; NDJSON: a first line '
                    '{"batch_id": "…"}) or in the X-Batch-ID header',
                )
            ],
        )
    if in_body is not None and in_header and in_body != in_header:
        raise BatchError(
            422, [FieldError(None, where, "the body and the X-Batch-ID header disagree")]
        )
    return _check_batch_id(in_body if in_body is not None else in_header, where)


# -- validation ----------------------------------------------------------------------------------


def _parse_ts(value: str) -> float:
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. '2026-11-25T19:00:00Z'")
    return dt.timestamp()


def _timestamps(col: list[Any], errs: _Errors) -> F64:
    """ISO 8601 strings (with offset) or epoch seconds -> epoch seconds; each distinct value
    is parsed once (a batch repeats the same few timestamps across its series)."""
    try:
        distinct: dict[Any, Any] = dict.fromkeys(col)
    except TypeError:
        distinct = {}
        bad = [i for i, t in enumerate(col) if type(t) not in (str, int, float)]
        errs.add_many(bad, "ts", lambda i: "must be an ISO 8601 date-time string or epoch seconds")
        return np.zeros(len(col))
    conv: dict[Any, float] = {}
    failed: dict[Any, str] = {}
    for t in distinct:
        tt = type(t)
        if tt is str:
            try:
                conv[t] = _parse_ts(t)
            except ValueError as exc:
                msg = str(exc) if "UTC offset" in str(exc) else "not an ISO 8601 date-time"
                failed[t] = f"{msg} (got {t[:40]!r})"
        elif tt is float or tt is int:
            conv[t] = float(t)
        else:
            failed[t] = "must be an ISO 8601 date-time string or epoch seconds"
    if failed:
        bad = [i for i, t in enumerate(col) if t in failed or type(t) is bool]
        errs.add_many(bad, "ts", lambda i: failed.get(col[i], "must be a date-time, not a boolean"))
        return np.zeros(len(col))
    return np.fromiter(map(conv.__getitem__, col), dtype=np.float64, count=len(col))


def _columns(samples: list[dict[str, Any]]) -> list[list[Any]]:
    """The eight fields as columns (None where a field is absent)."""
    return [[s.get(f) for s in samples] for f in FIELDS]


def _numbers(col: list[Any], name: str, errs: _Errors) -> F64:
    if _NUMBER_TYPES.issuperset(map(type, col)):
        bad = []
    else:
        bad = [i for i, v in enumerate(col) if type(v) is not float and type(v) is not int]
    if bad:
        errs.add_many(bad, name, lambda i: f"must be a number (got {type(col[i]).__name__})")
        return np.zeros(len(col))
    try:
        return np.array(col, dtype=np.float64)
    except OverflowError:
        huge = [i for i, v in enumerate(col) if type(v) is int and abs(v) > 1e300]
        errs.add_many(huge, name, lambda i: "is out of range")
        return np.zeros(len(col))


def validate(
    raw: RawBatch, resolve: Resolver, now: float, limits: Limits | None = None
) -> Validated:
    """Check every sample; raise :class:`BatchError` naming each bad sample and field."""
    limits = limits or Limits()
    samples = raw.samples
    n = len(samples)
    if n == 0:
        raise BatchError(422, [FieldError(None, "samples", "must hold at least one sample")])
    if n > limits.max_samples:
        raise BatchError(
            413,
            [
                FieldError(
                    None,
                    "samples",
                    f"too many samples: {n} in one batch; the limit is {limits.max_samples} "
                    f"samples and {limits.max_bytes} bytes — split the batch",
                )
            ],
        )
    errs = _Errors(lines=raw.lines)
    if set(map(type, samples)) != {dict}:  # C-level pass; the loop only when one is bad
        not_obj = [i for i, s in enumerate(samples) if type(s) is not dict]
        errs.add_many(not_obj, "sample", lambda i: "must be a JSON object")
        errs.raise_if_any()
    extra: list[int] = []
    if not ALLOWED_FIELDS.issuperset(set().union(*samples)):  # one C-level pass over the keys
        extra = [i for i, s in enumerate(samples) if not s.keys() <= ALLOWED_FIELDS]
    for i in extra[:MAX_ERRORS]:
        for k in sorted(set(samples[i]) - ALLOWED_FIELDS, key=str)[:3]:
            errs.add(i, str(k), f"unknown field; allowed: {', '.join(FIELDS)}")

    ts_col, svc_col, reg_col, node_col, car_col, met_col, val_col, w_col = _columns(samples)

    for name, col in (
        ("ts", ts_col),
        ("service", svc_col),
        ("region", reg_col),
        ("metric", met_col),
        ("value", val_col),
    ):
        if None in col:
            missing = [i for i, v in enumerate(col) if v is None]
            errs.add_many(missing, name, lambda i: "required")
    errs.raise_if_any()

    # Names are checked once per distinct series key, not once per sample.
    keys: list[SeriesKey] = list(zip(svc_col, reg_col, node_col, car_col, met_col, strict=True))
    distinct: dict[SeriesKey, int] = {}
    try:  # each distinct key gets a number; kidx[i] is sample i's key number
        kidx = np.array([distinct.setdefault(k, len(distinct)) for k in keys], dtype=np.intp)
    except TypeError:  # a list or object where a name belongs
        distinct = {}
    if not distinct or not all(_key_types_ok(k) for k in distinct):
        _name_type_errors(svc_col, reg_col, node_col, car_col, met_col, errs)
        errs.raise_if_any()
    key_metric = {k: _METRIC_INDEX.get(k[4], -1) for k in distinct}
    mi = np.array(list(key_metric.values()), dtype=np.intp)[kidx]
    if -1 in key_metric.values():
        unknown = np.flatnonzero(mi == -1).tolist()
        errs.add_many(
            unknown,
            "metric",
            lambda i: f"unknown metric {met_col[i]!r}; choose from {', '.join(METRIC_NAMES)}",
        )

    n_before = len(errs.items)
    ts = _timestamps(ts_col, errs)
    values = _numbers(val_col, "value", errs)
    if None in w_col:
        w_col = [1.0 if w is None else w for w in w_col]
    weights = _numbers(w_col, "weight", errs)
    if len(errs.items) > n_before:  # wrong types: ranges would be checked on placeholders
        errs.raise_if_any()

    low, high = _LOW[mi], _HIGH[mi]
    known_metric = mi >= 0
    bad_v = np.flatnonzero(~((values >= low) & (values <= high)) & known_metric)
    errs.add_many(
        bad_v.tolist(),
        "value",
        lambda i: (
            f"{val_col[i]!r} is outside the valid range of {met_col[i]} "
            f"[{_fmt(low[i])}, {_fmt(high[i])}] {METRICS[str(met_col[i])].unit}"
        ),
    )
    bad_w = np.flatnonzero(~((weights > 0) & (weights <= MAX_WEIGHT)))
    errs.add_many(bad_w.tolist(), "weight", lambda i: "must be a positive number of sessions (> 0)")
    horizon = now + limits.future_tolerance_s
    bad_t = np.flatnonzero(~((ts >= OLDEST_TS) & (ts <= horizon)))
    errs.add_many(
        bad_t.tolist(),
        "ts",
        lambda i: (
            f"is more than {limits.future_tolerance_s:g} s in the future"
            + (" (milliseconds? send seconds)" if ts[i] > 1e11 else "")
            if ts[i] > horizon
            else ("is before 2000-01-01" if ts[i] < OLDEST_TS else "is not a finite time")
        ),
    )

    known = [k for k, m in key_metric.items() if m >= 0]
    resolved, failed = resolve(known)
    if failed:
        first: dict[SeriesKey, int] = {}
        for i, k in enumerate(keys):
            if k in failed and k not in first:
                first[k] = i
        for k, i in sorted(first.items(), key=lambda kv: kv[1])[:MAX_ERRORS]:
            fld, msg = failed[k]
            errs.add(i, fld, msg)
    errs.raise_if_any()
    sid = np.array([resolved[k] for k in distinct], dtype=np.int64)[kidx]
    return Validated(series_id=sid, ts=ts, value=values, weight=weights)


def _code_ok(v: Any) -> bool:
    return type(v) is str and 0 < len(v) <= 64


def _key_types_ok(k: SeriesKey) -> bool:
    service, region, node, carrier, metric = k
    return (
        _code_ok(service)
        and _code_ok(region)
        and _code_ok(metric)
        and (node is None or _code_ok(node))
        and (carrier is None or type(carrier) is int or _code_ok(carrier))
    )


def _name_type_errors(
    svc: list[Any], reg: list[Any], node: list[Any], car: list[Any], met: list[Any], errs: _Errors
) -> None:
    for name, col in (("service", svc), ("region", reg), ("metric", met)):
        bad = [i for i, v in enumerate(col) if not _code_ok(v)]
        errs.add_many(bad, name, lambda i: "must be a non-empty code of at most 64 characters")
    bad = [i for i, v in enumerate(node) if v is not None and not _code_ok(v)]
    errs.add_many(bad, "node", lambda i: "must be a node code (string) or absent")
    bad = [i for i, v in enumerate(car) if v is not None and type(v) is not int and not _code_ok(v)]
    errs.add_many(bad, "carrier", lambda i: "must be an ASN (1234 or 'AS1234') or absent")


def _fmt(x: float) -> str:
    return f"{x:g}" if math.isfinite(x) else str(x)


# -- aggregation ------------------------------------------------------------------------------------


def aggregate(batch: Validated) -> Rollup:
    """Per (series, minute): count, sum of weights, sum of value × weight, min and max —
    sorted by (series, minute) so concurrent writers lock rows in the same order."""
    minute = np.floor_divide(batch.ts, 60.0).astype(np.int64)
    key = batch.series_id * np.int64(1 << 32) + minute
    uniq, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    m = uniq.shape[0]
    count = np.bincount(inv, minlength=m).astype(np.int64)
    sum_w = np.bincount(inv, weights=batch.weight, minlength=m)
    sum_vw = np.bincount(inv, weights=batch.value * batch.weight, minlength=m)
    order = np.argsort(inv, kind="stable")
    starts = np.concatenate(([0], np.cumsum(count)[:-1])).astype(np.intp)
    v_sorted = batch.value[order]
    vmin = np.minimum.reduceat(v_sorted, starts)
    vmax = np.maximum.reduceat(v_sorted, starts)
    return Rollup(
        series_id=(uniq >> 32).astype(np.int64),
        minute=(uniq & np.int64((1 << 32) - 1)).astype(np.int64),
        count=count,
        sum_w=sum_w,
        sum_vw=sum_vw,
        min=vmin,
        max=vmax,
    )
