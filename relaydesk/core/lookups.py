"""Small per-process caches for reference data read on every write (regions by code).

Regions change rarely and are never deleted while tickets point at them (PROTECT); a cached
hit is therefore always a valid region, and a miss falls through to the database, so a new
region is usable at once. Renames in another process show within ``TTL_S``.
"""

from __future__ import annotations

import threading
import time

from .models import Region

TTL_S = 30.0
_lock = threading.Lock()
_regions: dict[str, tuple[float, Region]] = {}


def region_by_code(code: str) -> Region | None:
    now = time.monotonic()
    hit = _regions.get(code)
    if hit is not None and now - hit[0] < TTL_S:
        return hit[1]
    region = Region.objects.filter(code=code).first()
    if region is not None:
        with _lock:
            if len(_regions) > 1000:
                _regions.clear()
            _regions[code] = (now, region)
    return region


def forget() -> None:
    with _lock:
        _regions.clear()
