"""CSV imports of telemetry and footprint: the same validation as the API, one transaction per
file (any bad row: nothing is stored), errors named by CSV line and column.

Telemetry columns: ``ts,service,region,node,carrier,metric,value,weight`` (``node``,
``carrier`` and ``weight`` may be missing or empty). Footprint columns:
``organisation,service,region,carrier,hour,sessions,minutes`` (``carrier`` optional;
``organisation`` is the exact name or the id).
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from relaydesk.core.models import Organisation

from . import footprint as fp
from .batch import BatchError, FieldError, RawBatch, validate
from .store import Resolver, existing_result, limits, store

TELEMETRY_COLUMNS = ("ts", "service", "region", "node", "carrier", "metric", "value", "weight")
TELEMETRY_REQUIRED = ("ts", "service", "region", "metric", "value")
FOOTPRINT_COLUMNS = ("organisation", "service", "region", "carrier", "hour", "sessions", "minutes")
FOOTPRINT_REQUIRED = ("organisation", "service", "region", "hour", "sessions", "minutes")
CSV_SOURCE = "cli"


class ImportError_(Exception):
    """The file is refused; ``str()`` is the message for the operator."""


@dataclass
class ImportResult:
    rows: int
    chunks: int
    duplicate: bool = False
    minutes: int = 0


def _number(text: str) -> Any:
    t = text.strip()
    if t == "":
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t  # the validator names it: "must be a number (got str)"


def _reader(
    data: bytes, columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    text = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise ImportError_(f"line 1 (header): {'; '.join(parts)}; expected {','.join(columns)}")
    for row in reader:
        if None in row:
            raise ImportError_(f"line {reader.line_num}: more cells than header columns")
        yield reader.line_num, row


def _with_lines(exc: BatchError, lines: list[int]) -> str:
    parts = []
    for e in exc.errors[:20]:
        if e.index is not None and e.index < len(lines):
            parts.append(f"line {lines[e.index]}, column {e.field}: {e.message}")
        else:
            parts.append(f"{e.field}: {e.message}")
    more = len(exc.errors) - len(parts)
    return "; ".join(parts) + (f"; … and {more} more" if more > 0 else "")


def import_telemetry(
    path: Path, batch_id: str | None = None, now: float | None = None
) -> ImportResult:
    """Import one CSV file atomically. A file imported before (same content, or the same
    ``batch_id``) is not imported again."""
    data = path.read_bytes()
    base = batch_id or "csv:" + hashlib.sha256(data).hexdigest()[:32]
    if existing_result(CSV_SOURCE, f"{base}#0") is not None:
        return ImportResult(rows=0, chunks=0, duplicate=True)
    lim = limits()
    now = time.time() if now is None else now
    chunks: list[tuple[list[dict[str, Any]], list[int]]] = [([], [])]
    for line, row in _reader(data, TELEMETRY_COLUMNS, TELEMETRY_REQUIRED):
        sample: dict[str, Any] = {}
        for col, cell in row.items():
            cell = (cell or "").strip()
            if cell == "":
                continue
            if col in ("value", "weight") or (col == "ts" and cell.replace(".", "", 1).isdigit()):
                sample[col] = _number(cell)
            elif col == "carrier" and cell.isdigit():
                sample[col] = int(cell)
            else:
                sample[col] = cell
        if len(chunks[-1][0]) >= lim.max_samples:
            chunks.append(([], []))
        chunks[-1][0].append(sample)
        chunks[-1][1].append(line)
    if not chunks[0][0]:
        raise ImportError_("the file has no data rows")
    total = 0
    minutes = 0
    with transaction.atomic():
        for k, (samples, lines) in enumerate(chunks):
            resolver = Resolver()
            try:
                valid = validate(RawBatch(f"{base}#{k}", samples), resolver, now, lim)
            except BatchError as exc:
                raise ImportError_(_with_lines(exc, lines)) from None
            result = store(valid, resolver, CSV_SOURCE, f"{base}#{k}")
            total += result["accepted"]
            minutes += result["minutes"]
    return ImportResult(rows=total, chunks=len(chunks), minutes=minutes)


def import_footprint(path: Path) -> ImportResult:
    """Import footprint rows atomically (rows replace the same organisation/place/hour)."""
    data = path.read_bytes()
    names = set(Organisation.objects.values_list("name", flat=True))
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for line, row in _reader(data, FOOTPRINT_COLUMNS, FOOTPRINT_REQUIRED):
        out: dict[str, Any] = {}
        for col, cell in row.items():
            cell = (cell or "").strip()
            if cell == "":
                continue
            if col in ("sessions", "minutes"):
                out[col] = _number(cell)
            elif col == "hour" and cell.replace(".", "", 1).isdigit():
                out[col] = _number(cell)
            elif col == "carrier" and cell.isdigit():
                out[col] = int(cell)
            elif col == "organisation" and cell not in names and cell.isdigit():
                out[col] = int(cell)
            else:
                out[col] = cell
        rows.append(out)
        lines.append(line)
    if not rows:
        raise ImportError_("the file has no data rows")
    chunk = 10_000
    written = 0
    with transaction.atomic():
        for start in range(0, len(rows), chunk):
            try:
                valid = fp.validate_rows(
                    rows[start : start + chunk], max_rows=chunk, first_index=start
                )
            except BatchError as exc:
                raise ImportError_(_with_lines(exc, lines)) from None
            written += fp.write_rows(valid)
    return ImportResult(rows=written, chunks=(len(rows) + chunk - 1) // chunk)


__all__ = ["FieldError", "ImportError_", "ImportResult", "import_footprint", "import_telemetry"]
