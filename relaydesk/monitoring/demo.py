"""The monitoring part of the demo world (``relaydesk.demo.CAPABILITIES``).

``load(seed, now)`` adds, idempotently, in the caller's transaction:

* carriers (real operators with their ASNs, 2–3 per demo region) and two edge nodes per region;
* hourly footprint for every demo organisation over the last 4 weeks: its home region and its
  other markets, on the services its kind of app uses, shaped by each region's local day
  (the telemetry generator's traffic profile); key accounts are bigger;
* per-minute telemetry history for the ``rtc`` service in every region and carrier from
  ``relaydesk.detection.generator.generate`` (no injected incidents), ingested through
  ``store.ingest_samples`` in batches of ``BATCH_SAMPLES``.

History length: the detector's weekly profile wants 4 weeks, but its daily profile works
from 2 days and a clean day scores no false incidents with 3 days of history (measured on
generated data). Ingesting 4 weeks × 6 regions × 3 carriers × 9 metrics (6 M samples) would
take minutes on SQLite, so the default is ``DEFAULT_HISTORY_DAYS`` (override with
``RELAYDESK_DEMO_TELEMETRY_DAYS``). Raw samples of the history are not stored (synthetic; the
rollups are what everything reads).

The live feed (``live.py``) continues the very same generated series: the history is the
first part of one generation of ``GENERATED_DAYS_AFTER`` days beyond ``now``, whose
parameters are written into the history's batch ids.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.test.utils import override_settings

from relaydesk.core.models import Organisation, Region, Service
from relaydesk.detection.generator import REGION_BY_CODE, Telemetry, generate, traffic_profile

from .models import Carrier, EdgeNode, FootprintHour, TelemetryBatch
from .store import clear_caches, ingest_samples

SOURCE = "demo"
LIVE_SOURCE = "demo-live"
SERVICES = ("rtc",)  # services with telemetry in the demo
DEFAULT_HISTORY_DAYS = 7.0
GENERATED_DAYS_AFTER = 2.0  # the live feed continues this long inside the same generation
BATCH_SAMPLES = 10_000
FOOTPRINT_DAYS = 28

# Generator carrier name -> (operator name, ASN, country). The generator's third Dubai carrier
# (an MVNO without its own network) is left out: Dubai has two carriers in the demo.
CARRIERS: dict[str, dict[str, tuple[str, int, str]]] = {
    "sg": {"Singtel": ("Singtel", 7473, "SG"), "StarHub": ("StarHub", 4657, "SG"),
           "M1": ("M1", 17547, "SG")},
    "id": {"Telkomsel": ("Telkomsel", 23693, "ID"), "Indosat": ("Indosat Ooredoo", 4761, "ID"),
           "XL": ("XL Axiata", 24203, "ID")},
    "de": {"Deutsche Telekom": ("Deutsche Telekom", 3320, "DE"),
           "Vodafone": ("Vodafone Germany", 3209, "DE"), "O2": ("Telefónica Germany (O2)", 6805, "DE")},
    "br": {"Vivo": ("Vivo (Telefônica Brasil)", 26599, "BR"), "Claro": ("Claro Brasil", 28573, "BR"),
           "TIM": ("TIM Brasil", 26615, "BR")},
    "us": {"Verizon": ("Verizon", 701, "US"), "AT&T": ("AT&T", 7018, "US"),
           "T-Mobile": ("T-Mobile US", 21928, "US")},
    "ae": {"e&": ("e& (Etisalat)", 5384, "AE"), "du": ("du", 15802, "AE")},
}  # fmt: skip

# Services an organisation's kind of app uses, and average session length (minutes).
KIND_SERVICES: dict[str, tuple[str, ...]] = {
    "live": ("live-delivery", "rtc", "signalling"),
    "social": ("rtc", "signalling"),
    "edtech": ("rtc", "cloud-recording"),
    "gaming": ("rtc", "signalling"),
    "voice": ("rtc", "signalling"),
    "fitness": ("live-delivery", "rtc"),
}
SESSION_MIN = {"live": 38.0, "social": 9.0, "edtech": 45.0, "gaming": 22.0, "voice": 31.0,
               "fitness": 40.0}  # fmt: skip


@dataclass(frozen=True)
class Generation:
    """What the history was generated with (the live feed regenerates the same series)."""

    seed: int
    start: int  # epoch seconds of the first minute
    history_end: int  # epoch seconds: first minute not in the history (live starts here)
    days: float  # length of the generation

    def batch_id(self, i: int) -> str:
        return f"history:{self.seed}:{self.start}:{self.history_end}:{self.days:g}:{i:05d}"

    @classmethod
    def from_batch_id(cls, batch_id: str) -> Generation:
        _, seed, start, end, days, _i = batch_id.split(":")
        return cls(int(seed), int(start), int(end), float(days))

    def telemetry(self, chunk: int = 0) -> Telemetry:
        """Chunk 0 is the history's generation; later chunks continue with the next seeds."""
        span = int(self.days * 86400)
        return generate(
            seed=self.seed + chunk,
            start=datetime.fromtimestamp(self.start + chunk * span, UTC),
            days=self.days,
            services=SERVICES,
            incidents_per_week=0.0,
        )


def history_days() -> float:
    env = os.environ.get("RELAYDESK_DEMO_TELEMETRY_DAYS")
    return float(env) if env else DEFAULT_HISTORY_DAYS


def current_generation() -> Generation | None:
    first = (
        TelemetryBatch.objects.filter(source=SOURCE, batch_id__startswith="history:")
        .order_by("batch_id")
        .values_list("batch_id", flat=True)
        .first()
    )
    return Generation.from_batch_id(first) if first else None


def carrier_asn(region: str, generator_name: str) -> int | None:
    found = CARRIERS.get(region, {}).get(generator_name)
    return found[1] if found else None


def samples(tel: Telemetry, lo: int, hi: int) -> Iterator[dict[str, Any]]:
    """The ingest samples of minutes ``[lo, hi)`` (indexes into ``tel.timestamps``), carriers
    by ASN; minutes without a value are left out (no data, never zero)."""
    ts = tel.timestamps[lo:hi]
    for si, svc in enumerate(tel.services):
        for ri, reg in enumerate(tel.regions):
            for ci, car in enumerate(reg.carriers):
                asn = carrier_asn(reg.code, car)
                if asn is None:
                    continue
                for mi, met in enumerate(tel.metrics):
                    v = tel.values[si, ri, ci, mi, lo:hi]
                    idx = np.flatnonzero(~np.isnan(v))
                    if not len(idx):
                        continue
                    tl = ts[idx].tolist()
                    vl = v[idx].tolist()
                    if met == "concurrent_users":
                        for t, x in zip(tl, vl, strict=True):
                            yield {"ts": t, "service": svc, "region": reg.code,
                                   "carrier": asn, "metric": met, "value": x}  # fmt: skip
                        continue
                    w = tel.weights[si, ri, ci, mi, lo:hi][idx]
                    wl = np.where(np.isnan(w) | (w <= 0), 0.0, w).tolist()
                    for t, x, wt in zip(tl, vl, wl, strict=True):
                        s = {"ts": t, "service": svc, "region": reg.code, "carrier": asn,
                             "metric": met, "value": x}  # fmt: skip
                        if wt > 0:
                            s["weight"] = wt
                        yield s


def _topology() -> tuple[int, int]:
    carriers = nodes = 0
    for code, table in CARRIERS.items():
        region = Region.objects.filter(code=code).first()
        if region is None:
            continue
        for name, asn, country in table.values():
            carrier, made = Carrier.objects.get_or_create(
                asn=asn, defaults={"name": name, "country": country}
            )
            carrier.regions.add(region)
            carriers += made
        for i in (1, 2):
            _, made = EdgeNode.objects.get_or_create(
                code=f"{code}-edge-{i:02d}",
                defaults={"region": region, "name": f"{region.name} edge {i}"},
            )
            nodes += made
    return carriers, nodes


def _footprint(seed: int, now: datetime) -> int:
    """Hourly sessions and minutes per demo organisation × service × region, 4 weeks."""
    from relaydesk.demo.world import ORGS

    if FootprintHour.objects.filter(organisation__name__in=[o.name for o in ORGS]).exists():
        return 0
    rng = np.random.default_rng(seed + 5)
    orgs = dict(
        Organisation.objects.filter(name__in=[o.name for o in ORGS]).values_list("name", "id")
    )
    keys = dict(
        Organisation.objects.filter(pk__in=orgs.values()).values_list("id", "is_key_account")
    )
    services = dict(Service.objects.values_list("code", "id"))
    regions = dict(Region.objects.values_list("code", "id"))
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=h) for h in range(FOOTPRINT_DAYS * 24, 0, -1)]
    centres = np.array([h.timestamp() + 1800 for h in hours])
    profiles = {
        c: traffic_profile(centres, REGION_BY_CODE[c]) for c in regions if c in REGION_BY_CODE
    }
    stamp = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
    db_hours = [connection.ops.adapt_datetimefield_value(h) for h in hours]
    rows: list[tuple[Any, ...]] = []
    for spec in ORGS:
        org = orgs.get(spec.name)
        if org is None:
            continue
        scale = 900.0 * spec.weight * (3.0 if keys.get(org) else 1.0)
        places = [(spec.region, 1.0)] + [(m, 0.35) for m in spec.markets]
        for svc_i, svc in enumerate(KIND_SERVICES.get(spec.kind, ("rtc",))):
            if svc not in services:
                continue
            svc_scale = 1.0 if svc_i == 0 else 0.5
            for region, share in places:
                if region not in regions or region not in profiles:
                    continue
                lam = scale * svc_scale * share * profiles[region]
                sessions = rng.poisson(lam * np.exp(rng.normal(0, 0.1, len(hours))))
                minutes = sessions * SESSION_MIN.get(spec.kind, 20.0) * rng.uniform(0.85, 1.15)
                rows += [
                    (org, services[svc], regions[region], h, s, round(m, 1), stamp)
                    for h, s, m in zip(db_hours, sessions.tolist(), minutes.tolist(), strict=True)
                    if s > 0
                ]
    # New rows only (checked above), so one plain executemany: the ORM's bulk_create spends
    # ~10 s compiling 50 k rows on SQLite, and the feed's upsert is slower still.
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {FootprintHour._meta.db_table} "  # noqa: S608 - a model's table name
            "(organisation_id, service_id, region_id, carrier_id, carrier_key, hour, sessions,"
            " minutes, updated_at) VALUES (%s, %s, %s, NULL, 0, %s, %s, %s, %s)",
            rows,
        )
    return len(rows)


def _history(seed: int, now: datetime, days: float) -> tuple[int, int]:
    """Ingest ``days`` of generated telemetry ending at ``now`` (minute); returns (batches,
    samples)."""
    if current_generation() is not None:
        return 0, 0
    end = int(now.timestamp()) // 60 * 60
    start = end - int(days * 86400)
    gen = Generation(seed, start, end, days + GENERATED_DAYS_AFTER)
    tel = gen.telemetry()
    n_hist = (end - start) // 60
    per_minute = (
        len(tel.services)
        * len(tel.metrics)
        * sum(carrier_asn(r.code, c) is not None for r in tel.regions for c in r.carriers)
    )  # series: an upper bound of the samples per minute
    step = max(1, BATCH_SAMPLES // max(per_minute, 1))
    batches = total = 0
    clear_caches()
    with override_settings(RELAYDESK_TELEMETRY_RAW_RETENTION_HOURS=0):
        for i, lo in enumerate(range(0, n_hist, step)):
            chunk = list(samples(tel, lo, min(lo + step, n_hist)))
            if not chunk:
                continue
            # New minutes go straight into the rollup table (no staging rows pile up, even
            # inside one long transaction).
            ingest_samples(chunk, gen.batch_id(i), source=SOURCE, now=float(end))
            batches += 1
            total += len(chunk)
    return batches, total


def load(seed: int, now: datetime, *, days: float | None = None) -> str:
    """Add carriers, edge nodes, footprint and telemetry history (idempotent); one line back."""
    started = time.monotonic()
    carriers, nodes = _topology()
    t_fp = time.monotonic()
    footprint = _footprint(seed, now)
    t_hist = time.monotonic()
    batches, total = _history(seed, now, history_days() if days is None else days)
    t_end = time.monotonic()
    if not (carriers or nodes or footprint or batches):
        return "already loaded (carriers, edge nodes, footprint, telemetry history)"
    return (
        f"{carriers} carriers, {nodes} edge nodes, {footprint} footprint hours, "
        f"{total} telemetry samples in {batches} batches "
        f"({history_days() if days is None else days:g} days of rtc history) "
        f"in {t_end - started:.1f}s (footprint {t_hist - t_fp:.1f}s, telemetry {t_end - t_hist:.1f}s)"
    )
