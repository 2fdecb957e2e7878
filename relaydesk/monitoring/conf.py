"""Monitoring settings, each with a default: a Django setting of the same name wins, then the
environment variable, then the default (so this app works before settings.py lists them)."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS: dict[str, float] = {
    # Largest telemetry batch: samples and request bytes (413 beyond either).
    "RELAYDESK_TELEMETRY_MAX_SAMPLES": 10_000,
    "RELAYDESK_TELEMETRY_MAX_BYTES": 4 * 1024 * 1024,
    # A sample stamped later than now + this is refused (clock skew allowance).
    "RELAYDESK_TELEMETRY_FUTURE_TOLERANCE_S": 300,
    # Raw samples are kept this long (0: raw samples are not stored, only rollups).
    "RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS": 48,
    # Batch ids are remembered this long for idempotent repeats.
    "RELAYDESK_TELEMETRY_BATCH_RETENTION_HOURS": 7 * 24,
    # Footprint rows per POST / CSV chunk.
    "RELAYDESK_FOOTPRINT_MAX_ROWS": 10_000,
}


def get(name: str) -> float:
    value = getattr(settings, name, None)
    if value is None:
        env = os.environ.get(name)
        value = float(env) if env else DEFAULTS[name]
    return float(value)


def get_int(name: str) -> int:
    return int(get(name))
