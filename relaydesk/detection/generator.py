"""Realistic synthetic telemetry with labelled incidents, for tests, the demo and the bench.

Per service × region × carrier, one sample per minute of every metric in the catalogue:

* **Traffic** follows each region's *local* time (its ``zoneinfo`` zone, DST included): a
  night trough around 04:00, a lunchtime bump and the live-show peak around 21:00; busier
  Friday/Saturday evenings and weekend afternoons; public holidays (``holidays`` package)
  shaped like a Sunday; Ramadan nights in Dubai peak later.  Day-to-day volume wobbles.
* **Quality** depends on load (RTT, loss, freezes rise a little at the evening peak) with
  day-level drift, heavy-ish minute noise (log-normal, over-dispersed rates), sampling noise
  that shrinks with the number of sessions, and short route blips (1–2 minutes).
* **Gaps**: collector outages per carrier (all metrics missing for minutes) and single
  missing minutes.  A minute without joins has no join rates (NaN), never zero.
* **Incidents** (labelled): sudden or gradual, one carrier, two carriers or the whole
  region, one metric group (route, joins, latency, video), with the share of the region's
  traffic they affect.

Seeded (``numpy.random.default_rng``) and deterministic; vectorised over time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import numpy as np
from numpy.typing import NDArray

from relaydesk.detection.metrics import METRIC_NAMES

F64 = NDArray[np.float64]
MINUTE = 60


@dataclass(frozen=True)
class RegionProfile:
    code: str
    name: str
    tz: str
    country: str
    subdivision: str
    carriers: tuple[str, ...]
    shares: tuple[float, ...]  # of the region's sessions, per carrier
    peak_sessions: float  # concurrent sessions at the usual evening peak (all carriers)
    base_rtt_ms: float
    ramadan: tuple[tuple[date, date], ...] = ()


# Region codes follow the demo world (relaydesk/demo/world.py).
REGIONS: tuple[RegionProfile, ...] = (
    RegionProfile("sg", "Singapore", "Asia/Singapore", "SG", "",
                  ("Singtel", "StarHub", "M1"), (0.50, 0.41, 0.09), 6_000, 32.0),
    RegionProfile("id", "Jakarta", "Asia/Jakarta", "ID", "",
                  ("Telkomsel", "Indosat", "XL"), (0.55, 0.30, 0.15), 20_000, 68.0),
    RegionProfile("de", "Frankfurt", "Europe/Berlin", "DE", "HE",
                  ("Deutsche Telekom", "Vodafone", "O2"), (0.45, 0.35, 0.20), 8_000, 28.0),
    RegionProfile("br", "São Paulo", "America/Sao_Paulo", "BR", "SP",
                  ("Vivo", "Claro", "TIM"), (0.42, 0.33, 0.25), 12_000, 58.0),
    RegionProfile("us", "Virginia", "America/New_York", "US", "VA",
                  ("Verizon", "AT&T", "T-Mobile"), (0.40, 0.35, 0.25), 15_000, 38.0),
    RegionProfile("ae", "Dubai", "Asia/Dubai", "AE", "",
                  ("e&", "du", "Virgin Mobile"), (0.55, 0.37, 0.08), 4_000, 45.0,
                  ((date(2026, 2, 18), date(2026, 3, 19)), (date(2027, 2, 8), date(2027, 3, 9)))),
)  # fmt: skip
REGION_BY_CODE = {r.code: r for r in REGIONS}

SERVICE_VOLUME = {"rtc": 1.0, "live-delivery": 0.8, "signalling": 1.2, "cloud-recording": 0.1}

METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "route": ("rtt_ms", "jitter_ms", "packet_loss_pct", "video_freeze_rate",
              "audio_freeze_rate", "join_in_5s_rate", "bitrate_kbps"),
    "joins": ("join_success_rate", "join_in_5s_rate"),
    "latency": ("rtt_ms", "jitter_ms"),
    "video": ("video_freeze_rate", "bitrate_kbps"),
}  # fmt: skip


@dataclass(frozen=True)
class InjectedIncident:
    """A labelled incident: what was injected where, and how much traffic it touched."""

    id: int
    service: str
    region: str
    carriers: tuple[str, ...]
    scope: str  # "carrier", "carriers" or "region"
    group: str  # key of METRIC_GROUPS
    metrics: tuple[str, ...]
    kind: str  # "sudden" or "gradual"
    start: float  # epoch seconds (not necessarily on a minute)
    end: float
    ramp_s: float
    severity: float  # 0.3 .. 1.6; 1 ≈ a clearly user-visible problem
    traffic_share: float  # affected carriers' share of the region's sessions meanwhile


@dataclass
class Telemetry:
    """Generated data.  ``values``/``weights``: ``[service, region, carrier, metric, minute]``
    (weights NaN where a metric has none); ``traffic``: sessions ``[service, region, carrier,
    minute]`` (the ``concurrent_users`` value before gaps)."""

    start: float
    timestamps: F64
    services: tuple[str, ...]
    regions: tuple[RegionProfile, ...]
    metrics: tuple[str, ...]
    values: F64
    weights: F64
    traffic: F64
    incidents: list[InjectedIncident] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return len(self.timestamps)

    def index(self, service: str, region: str, carrier: str, metric: str) -> tuple[int, ...]:
        si = self.services.index(service)
        ri = next(i for i, r in enumerate(self.regions) if r.code == region)
        ci = self.regions[ri].carriers.index(carrier)
        return si, ri, ci, self.metrics.index(metric)

    def series(self) -> Iterator[tuple[tuple[str, str, str, str], F64, F64 | None]]:
        """Every series as ``((service, region, carrier, metric), values, weights)``."""
        for si, svc in enumerate(self.services):
            for ri, reg in enumerate(self.regions):
                for ci, car in enumerate(reg.carriers):
                    for mi, met in enumerate(self.metrics):
                        w = self.weights[si, ri, ci, mi]
                        yield (
                            (svc, reg.code, car, met),
                            self.values[si, ri, ci, mi],
                            None if met == "concurrent_users" else w,
                        )

    def samples(self, t0: float, t1: float) -> Iterator[dict[str, object]]:
        """Telemetry samples with ``t0 <= ts < t1`` in the ingest format
        ``{ts, service, region, carrier, metric, value, weight?}`` (missing minutes left out)."""
        lo = int(np.searchsorted(self.timestamps, t0))
        hi = int(np.searchsorted(self.timestamps, t1))
        for k in range(lo, hi):
            ts = float(self.timestamps[k])
            for (svc, reg, car, met), vals, wts in self.series():
                v = float(vals[k])
                if np.isnan(v):
                    continue
                sample: dict[str, object] = {
                    "ts": ts, "service": svc, "region": reg, "carrier": car,
                    "metric": met, "value": v,
                }  # fmt: skip
                if wts is not None and not np.isnan(wts[k]):
                    sample["weight"] = float(wts[k])
                yield sample


# -- traffic shape ----------------------------------------------------------------------------


def _bump(h: F64, centre: float, width: float) -> F64:
    d = np.abs(((h - centre + 12.0) % 24.0) - 12.0)
    return np.exp(-0.5 * (d / width) ** 2)


def _local_clock(ts: F64, region: RegionProfile) -> tuple[F64, NDArray[np.int64], list[date]]:
    """Local hour of day (float), local day number, and the distinct local dates."""
    zone = ZoneInfo(region.tz)
    hours = np.floor(ts / 3600).astype(np.int64)
    uniq, inv = np.unique(hours, return_inverse=True)
    offs = np.array(
        [
            (datetime.fromtimestamp(int(h) * 3600, UTC).astimezone(zone).utcoffset()
             or timedelta(0)).total_seconds()
            for h in uniq
        ]
    )[inv]  # fmt: skip
    local = ts + offs
    day = np.floor(local / 86400).astype(np.int64)
    hod = (local - day * 86400) / 3600.0
    days = [date(1970, 1, 1) + timedelta(days=int(d)) for d in np.unique(day)]
    return hod, day, days


def traffic_profile(ts: F64, region: RegionProfile) -> F64:
    """Relative load (about 1.0 at a usual evening peak) at each timestamp, deterministic."""
    hod, day, days = _local_clock(ts, region)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    years = sorted({d.year for d in days})
    hols = holidays_lib.country_holidays(
        region.country, subdiv=region.subdivision or None, years=years
    )
    _, which = np.unique(day, return_inverse=True)
    is_hol = np.array([d in hols for d in days], dtype=bool)[which]
    in_ramadan = np.zeros(len(ts), dtype=bool)
    for a, b in region.ramadan:
        lo = (a - date(1970, 1, 1)).days
        hi = (b - date(1970, 1, 1)).days
        in_ramadan |= (day >= lo) & (day <= hi)

    weekend = (weekday >= 5) | is_hol
    evening_plus = (weekday == 4) | (weekday == 5)
    peak_c = np.where(in_ramadan, 23.3, 21.3)
    d = np.abs(((hod - peak_c + 12.0) % 24.0) - 12.0)
    evening = np.exp(-0.5 * (d / 2.3) ** 2)
    prof = (
        0.07
        + 0.12 * _bump(hod, 8.5, 1.4)
        + np.where(weekend, 0.42, 0.26) * _bump(hod, 13.5, 2.8)
        + np.where(evening_plus, 0.98, 0.86) * evening
    )
    prof = np.where(in_ramadan & (hod > 9) & (hod < 18), prof * 0.8, prof)
    return np.asarray(prof * np.where(is_hol, 1.12, 1.0), dtype=np.float64)


# -- generation -----------------------------------------------------------------------------------


def _minute_strength(ts: F64, start: float, end: float, ramp_s: float) -> F64:
    """Mean incident strength (0..1) over each minute ``[t, t + 60)``: the incident covers
    ``[start, end)`` and ramps linearly from 0 to 1 over its first ``ramp_s`` seconds (0: at
    once).  The exact average, so the minute in which a ramp begins carries the part of
    the ramp inside it, and a minute only partly inside a sudden incident its share."""
    lo = np.maximum(ts, start) - start
    hi = np.minimum(ts + MINUTE, end) - start
    covered = hi > lo

    def integral(x: F64) -> F64:  # of the strength from ``start`` to ``start + x``
        if ramp_s <= 0:
            return x
        return np.where(x <= ramp_s, x * x / (2.0 * ramp_s), x - ramp_s / 2.0)

    with np.errstate(invalid="ignore"):
        mean = (integral(np.maximum(hi, 0.0)) - integral(np.maximum(lo, 0.0))) / MINUTE
    return np.where(covered, np.clip(mean, 0.0, 1.0), 0.0)


def _lognorm(rng: np.random.Generator, sigma: float, shape: tuple[int, ...]) -> F64:
    return np.exp(rng.normal(0.0, sigma, shape) - 0.5 * sigma * sigma)


def _day_factor(rng: np.random.Generator, day_idx: NDArray[np.int64], sigma: float) -> F64:
    per_day = _lognorm(rng, sigma, (int(day_idx.max()) + 1,))
    return per_day[day_idx]


def _plan_incidents(
    rng: np.random.Generator,
    services: tuple[str, ...],
    regions: tuple[RegionProfile, ...],
    t0: float,
    minutes: int,
    per_week: float,
    warmup_days: float,
) -> list[tuple[int, int, InjectedIncident]]:
    """Incidents per service × region (no overlap within one), with indexes; traffic share
    is filled in later from the generated traffic."""
    out: list[tuple[int, int, InjectedIncident]] = []
    span = minutes * MINUTE
    lo = t0 + warmup_days * 86400
    hi = t0 + span - 4 * 3600
    if hi <= lo:
        return out
    weeks = (hi - lo) / (7 * 86400)
    next_id = 1
    for si, svc in enumerate(services):
        for ri, reg in enumerate(regions):
            count = int(rng.poisson(per_week * weeks))
            taken: list[tuple[float, float]] = []
            tries = 0
            while len(taken) < count and tries < count * 50:
                tries += 1
                start = float(rng.uniform(lo, hi))
                dur = float(np.exp(rng.uniform(np.log(15 * 60), np.log(180 * 60))))
                end = min(start + dur, t0 + span - 60)
                if any(start < b + 6 * 3600 and end > a - 6 * 3600 for a, b in taken):
                    continue
                taken.append((start, end))
                u = rng.random()
                picks: tuple[int, ...]
                if u < 0.6:
                    scope = "carrier"
                    picks = (int(rng.integers(len(reg.carriers))),)
                elif u < 0.7:
                    scope = "carriers"
                    picks = tuple(
                        sorted(int(c) for c in rng.choice(len(reg.carriers), 2, replace=False))
                    )
                else:
                    scope = "region"
                    picks = tuple(range(len(reg.carriers)))
                group = str(rng.choice(list(METRIC_GROUPS), p=[0.5, 0.2, 0.15, 0.15]))
                gradual = rng.random() < 0.35
                ramp = float(min(rng.uniform(5, 30) * 60, (end - start) / 2)) if gradual else 0.0
                inc = InjectedIncident(
                    id=next_id,
                    service=svc,
                    region=reg.code,
                    carriers=tuple(reg.carriers[c] for c in picks),
                    scope=scope,
                    group=group,
                    metrics=METRIC_GROUPS[group],
                    kind="gradual" if gradual else "sudden",
                    start=start,
                    end=end,
                    ramp_s=ramp,
                    severity=float(rng.uniform(0.3, 1.6)),
                    traffic_share=0.0,
                )
                next_id += 1
                out.append((si, ri, inc))
    return out


def generate(
    *,
    seed: int = 1,
    start: datetime | None = None,
    days: float = 28.0,
    regions: tuple[str, ...] | None = None,
    services: tuple[str, ...] = ("rtc",),
    incidents_per_week: float = 2.0,
    warmup_days: float = 3.0,
    gaps: bool = True,
    blips: bool = True,
    incident_scale: float = 1.0,
) -> Telemetry:
    """Generate ``days`` of per-minute telemetry (see the module docstring).

    Same arguments, same output.  ``start`` defaults to 2026-10-05 00:00 UTC (a Monday; the
    4 weeks after it include the European and US DST changes).  Incidents start after
    ``warmup_days`` (the detector needs history first).  ``incident_scale`` multiplies
    every incident's effect (0.5: half as bad), to probe where detection stops.
    """
    rng = np.random.default_rng(seed)
    t0 = (start or datetime(2026, 10, 5, tzinfo=UTC)).timestamp()
    t0 = float(np.floor(t0 / MINUTE) * MINUTE)
    n_min = round(days * 1440)
    ts = t0 + MINUTE * np.arange(n_min, dtype=np.float64)
    regs = REGIONS if regions is None else tuple(REGION_BY_CODE[c] for c in regions)
    metrics = METRIC_NAMES
    n_car = max(len(r.carriers) for r in regs)
    shape = (len(services), len(regs), n_car, len(metrics), n_min)
    values = np.full(shape, np.nan)
    weights = np.full(shape, np.nan)
    traffic = np.zeros((len(services), len(regs), n_car, n_min))
    mi = {m: i for i, m in enumerate(metrics)}

    plans = _plan_incidents(rng, services, regs, t0, n_min, incidents_per_week, warmup_days)
    labelled: list[InjectedIncident] = []

    for si, svc in enumerate(services):
        vol = SERVICE_VOLUME.get(svc, 1.0)
        for ri, reg in enumerate(regs):
            prof = traffic_profile(ts, reg)
            _, day, _ = _local_clock(ts, reg)
            day_idx = day - day.min()
            region_day = _day_factor(rng, day_idx, 0.05)
            effects = np.zeros((n_car, len(metrics), n_min))  # 0..1 incident strength
            sev = np.zeros((n_car, len(metrics), n_min))
            for psi, pri, inc in plans:
                if psi != si or pri != ri:
                    continue
                strength = _minute_strength(ts, inc.start, inc.end, inc.ramp_s)
                for car in inc.carriers:
                    ci = reg.carriers.index(car)
                    for met in inc.metrics:
                        effects[ci, mi[met]] = np.maximum(effects[ci, mi[met]], strength)
                        sev[ci, mi[met]] = np.where(strength > 0, inc.severity, sev[ci, mi[met]])
            sessions_all = np.zeros((n_car, n_min))
            for ci, share in enumerate(reg.shares):
                lam = reg.peak_sessions * vol * share * prof * region_day
                lam = lam * _day_factor(rng, day_idx, 0.04)
                sessions = rng.poisson(lam).astype(np.float64)
                sessions_all[ci] = sessions
                traffic[si, ri, ci] = sessions
                load = prof
                n = np.maximum(sessions, 1.0)
                cf = float(rng.uniform(0.85, 1.25))
                blip = np.zeros(n_min, dtype=bool)
                if blips:
                    starts = rng.random(n_min) < 0.002
                    blip = starts.copy()
                    two = starts & (rng.random(n_min) < 0.2)
                    blip[1:] |= two[:-1]
                blip_f = np.where(blip, rng.uniform(1.3, 2.5, n_min), 1.0)
                e = effects[ci]
                s = sev[ci]

                def hit(name: str, a: float, b: float, e: F64 = e, s: F64 = s) -> F64:
                    """Incident amount: strength x (a + b x severity)."""
                    amount = e[mi[name]] * (a + b * s[mi[name]]) * incident_scale
                    return np.asarray(amount, dtype=np.float64)

                # RTT
                rtt = reg.base_rtt_ms * cf * (1 + 0.12 * load**2) * _day_factor(rng, day_idx, 0.03)
                rtt = rtt * _lognorm(rng, 0.04, (n_min,)) * blip_f
                rtt = rtt + hit("rtt_ms", 100, 150)
                rtt = rtt + rng.normal(0, 1, n_min) * 0.6 * rtt / np.sqrt(n)
                values[si, ri, ci, mi["rtt_ms"]] = np.maximum(rtt, 1.0)
                # jitter
                jit = 8.0 * cf * (1 + 0.3 * load**2) * _day_factor(rng, day_idx, 0.05)
                jit = jit * _lognorm(rng, 0.08, (n_min,)) * blip_f
                jit = jit + hit("jitter_ms", 15, 25)
                jit = jit + rng.normal(0, 1, n_min) * 0.8 * jit / np.sqrt(n)
                values[si, ri, ci, mi["jitter_ms"]] = np.maximum(jit, 0.1)
                # packet loss (percent; measured over packets, so no session sampling noise)
                loss = 0.4 * cf * (1 + 0.6 * load**2) * _day_factor(rng, day_idx, 0.1)
                loss = loss * _lognorm(rng, 0.25, (n_min,)) * blip_f**2
                loss = loss + hit("packet_loss_pct", 3, 5)
                values[si, ri, ci, mi["packet_loss_pct"]] = np.clip(loss, 0.0, 100.0)
                # joins: attempts per minute, success, success within 5 s
                attempts = rng.poisson(sessions * 0.12).astype(np.float64)
                p_fail = (0.015 + 0.006 * load) * _lognorm(rng, 0.2, (n_min,))
                p_fail = p_fail + hit("join_success_rate", 0.04, 0.08)
                p_fail = np.clip(p_fail * np.where(blip, 1.5, 1.0), 0, 1)
                ok = rng.binomial(attempts.astype(np.int64), 1 - p_fail).astype(np.float64)
                p_slow = (0.05 + 0.03 * load) * _lognorm(rng, 0.15, (n_min,))
                p_slow = p_slow + hit("join_in_5s_rate", 0.10, 0.15)
                p_slow = np.clip(p_slow * blip_f, 0, 1)
                fast = rng.binomial(ok.astype(np.int64), 1 - p_slow).astype(np.float64)
                with np.errstate(invalid="ignore", divide="ignore"):
                    js = np.where(attempts > 0, ok / attempts, np.nan)
                    j5 = np.where(attempts > 0, fast / attempts, np.nan)
                values[si, ri, ci, mi["join_success_rate"]] = js
                values[si, ri, ci, mi["join_in_5s_rate"]] = j5
                weights[si, ri, ci, mi["join_success_rate"]] = attempts
                weights[si, ri, ci, mi["join_in_5s_rate"]] = attempts
                # freezes: share of viewing time frozen, over-dispersed across minutes
                for name, base, add in (
                    ("video_freeze_rate", 0.012, 0.04),
                    ("audio_freeze_rate", 0.006, 0.02),
                ):
                    p = base * cf * (1 + 0.5 * load) * _day_factor(rng, day_idx, 0.08)
                    p = p * _lognorm(rng, 0.15, (n_min,)) * blip_f
                    p = p + hit(name, add, 1.5 * add)
                    p = np.clip(p, 0, 1)
                    frozen = rng.binomial(sessions.astype(np.int64), p).astype(np.float64)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        values[si, ri, ci, mi[name]] = np.where(
                            sessions > 0, frozen / sessions, np.nan
                        )
                # bitrate
                br = 1500 * (1.1 - 0.1 * cf) * (1 - 0.08 * load) * _day_factor(rng, day_idx, 0.02)
                br = br * _lognorm(rng, 0.03, (n_min,)) / np.sqrt(blip_f)
                br = br * (1 - hit("bitrate_kbps", 0.25, 0.2))
                br = br + rng.normal(0, 1, n_min) * 400 / np.sqrt(n)
                values[si, ri, ci, mi["bitrate_kbps"]] = np.maximum(br, 10.0)
                values[si, ri, ci, mi["concurrent_users"]] = sessions
                for name in metrics:
                    if name not in ("join_success_rate", "join_in_5s_rate", "concurrent_users"):
                        weights[si, ri, ci, mi[name]] = sessions
                no_sess = sessions <= 0
                for name in ("rtt_ms", "jitter_ms", "packet_loss_pct", "bitrate_kbps"):
                    values[si, ri, ci, mi[name], no_sess] = np.nan
                if gaps:
                    weeks = n_min / (7 * 1440)
                    for _ in range(int(rng.poisson(3 * weeks))):
                        g0 = int(rng.integers(n_min))
                        glen = int(min(60, 1 + rng.geometric(1 / 8)))
                        values[si, ri, ci, :, g0 : g0 + glen] = np.nan
                    single = rng.random((len(metrics), n_min)) < 0.001
                    values[si, ri, ci][single] = np.nan
                weights[si, ri, ci][np.isnan(values[si, ri, ci])] = np.nan
            region_total = sessions_all.sum(axis=0)
            for psi, pri, inc in plans:
                if psi != si or pri != ri:
                    continue
                span = (ts >= inc.start - MINUTE) & (ts < inc.end)
                cis = [reg.carriers.index(c) for c in inc.carriers]
                tot = float(region_total[span].sum())
                share = float(sessions_all[cis][:, span].sum()) / tot if tot > 0 else 0.0
                labelled.append(
                    InjectedIncident(**{**inc.__dict__, "traffic_share": round(share, 4)})
                )
    labelled.sort(key=lambda i: i.id)
    return Telemetry(
        start=t0,
        timestamps=ts,
        services=tuple(services),
        regions=regs,
        metrics=metrics,
        values=values,
        weights=weights,
        traffic=traffic,
        incidents=labelled,
    )
