"""The demo's live telemetry feed (registered only with ``RELAYDESK_DEMO_LIVE=1``).

Every worker tick, ``feed_tick`` ingests the minutes that have ended since the last fed minute,
one batch per minute (``source="demo-live"``, batch id ``live:<epoch minute>``, so two workers
feeding at once store each minute once). The values continue the demo history's own
generation (``demo.Generation``: same seed, same series, no jump at the hand-over); past the
generated span the next chunk continues with the next seed.

``RELAYDESK_DEMO_DEGRADE_AFTER_S`` (default 180) seconds after the feed started in this
process, carrier ``RELAYDESK_DEMO_DEGRADE_CARRIER`` (default AS4657, StarHub) in region
``RELAYDESK_DEMO_DEGRADE_REGION`` (default ``sg``) degrades for
``RELAYDESK_DEMO_DEGRADE_MINUTES`` (default 20): packet loss, RTT, jitter and freezes up, join
success down — so a visitor watches detection → incident → notices → status page. A negative
delay turns the degradation off.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from relaydesk.detection.generator import Telemetry

from .demo import LIVE_SOURCE, Generation, current_generation, samples
from .models import TelemetryBatch
from .store import ingest_samples, parse_asn

log = logging.getLogger("relaydesk.monitoring.live")

MAX_MINUTES_PER_TICK = 60  # catch-up per tick (a long pause is fed over several ticks)
MAX_BACKFILL_MIN = 6 * 60  # a feed resumed after longer than this leaves a gap (no data)


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default) or default


@dataclass(frozen=True)
class Degradation:
    region: str
    asn: int
    start: float  # epoch seconds
    end: float

    def applies(self, sample: dict[str, Any]) -> bool:
        return (
            sample["region"] == self.region
            and sample.get("carrier") == self.asn
            and self.start <= float(sample["ts"]) < self.end
        )


# metric -> (add, lower bound, upper bound): how the degraded carrier looks
EFFECT: dict[str, tuple[float, float, float]] = {
    "packet_loss_pct": (7.0, 0.0, 100.0),
    "rtt_ms": (140.0, 0.0, 60_000.0),
    "jitter_ms": (30.0, 0.0, 10_000.0),
    "video_freeze_rate": (0.09, 0.0, 1.0),
    "audio_freeze_rate": (0.05, 0.0, 1.0),
    "join_success_rate": (-0.12, 0.0, 1.0),
    "join_in_5s_rate": (-0.25, 0.0, 1.0),
}


def degrade(sample: dict[str, Any]) -> dict[str, Any]:
    effect = EFFECT.get(str(sample["metric"]))
    if effect is None:
        return sample
    add, lo, hi = effect
    out = dict(sample)
    out["value"] = float(min(max(float(sample["value"]) + add, lo), hi))
    return out


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: float | None = None
        self.chunks: dict[int, Telemetry] = {}

    def reset(self) -> None:
        with self.lock:
            self.started = None
            self.chunks.clear()


_state = _State()


def reset() -> None:
    """Forget the feed's start and the cached generation (tests)."""
    _state.reset()


def degradation(started: float) -> Degradation | None:
    after = float(_env("RELAYDESK_DEMO_DEGRADE_AFTER_S", "180"))
    if after < 0:
        return None
    minutes = float(_env("RELAYDESK_DEMO_DEGRADE_MINUTES", "20"))
    asn = parse_asn(_env("RELAYDESK_DEMO_DEGRADE_CARRIER", "AS4657")) or 4657
    region = _env("RELAYDESK_DEMO_DEGRADE_REGION", "sg")
    start = started + after
    return Degradation(region, asn, start, start + minutes * 60)


def _chunk(gen: Generation, k: int) -> Telemetry:
    tel = _state.chunks.get(k)
    if tel is None:
        tel = gen.telemetry(k)
        for old in sorted(_state.chunks)[:-1]:  # keep at most two generations in memory
            del _state.chunks[old]
        _state.chunks[k] = tel
    return tel


def minute_samples(gen: Generation, minute: int) -> list[dict[str, Any]]:
    """The generated samples of one minute (epoch seconds of its start)."""
    span = int(gen.days * 86400)
    k = (minute - gen.start) // span
    tel = _chunk(gen, k)
    i = (minute - gen.start - k * span) // 60
    return list(samples(tel, i, i + 1))


def last_fed_minute(gen: Generation) -> int:
    last = (
        TelemetryBatch.objects.filter(source=LIVE_SOURCE, batch_id__startswith="live:")
        .order_by("-batch_id")
        .values_list("batch_id", flat=True)
        .first()
    )
    if last is None:
        return gen.history_end - 60
    return int(last.split(":")[1]) * 60


def feed(now: datetime | None = None) -> dict[str, Any]:
    """Ingest the generated minutes that ended since the last fed one (bounded per call).
    Returns counts and whether the degradation is on."""
    t = (now or datetime.now(UTC)).timestamp()
    gen = current_generation()
    if gen is None:
        return {"skipped": "no demo telemetry history (run the demo loader first)"}
    with _state.lock:
        if _state.started is None:
            _state.started = t
        started = _state.started
        bad = degradation(started)
        done = int(t) // 60 * 60  # minutes before this one have ended
        first = last_fed_minute(gen) + 60
        first = max(first, done - MAX_BACKFILL_MIN * 60)
        minutes = list(range(first, done, 60))[:MAX_MINUTES_PER_TICK]
        fed = degraded = 0
        for minute in minutes:
            batch = minute_samples(gen, minute)
            if bad is not None:
                batch = [degrade(s) if bad.applies(s) else s for s in batch]
                degraded += sum(1 for s in batch if bad.applies(s))
            if batch:
                ingest_samples(batch, f"live:{minute // 60:010d}", source=LIVE_SOURCE, now=t)
                fed += len(batch)
    return {
        "minutes": len(minutes),
        "samples": fed,
        "degraded_samples": degraded,
        "degrading": bad is not None and bad.start <= t < bad.end + 60,
    }


def feed_tick() -> dict[str, Any]:
    """The periodic entry (worker tick)."""
    started = time.perf_counter()
    out = feed()
    if out.get("minutes"):
        out["seconds"] = round(time.perf_counter() - started, 3)
        log.info("demo live feed: %s", out)
    return out


__all__ = ["Degradation", "degradation", "degrade", "feed", "feed_tick", "minute_samples", "reset"]
