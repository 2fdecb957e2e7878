"""Self-diagnosis — "is it us or the network?" — for one organisation, region, service and
time window (at most 24 h).

What it gathers (all read-only):

* per quality metric, per carrier (and for the region as a whole), the per-minute values of
  the window from the telemetry rollups (``monitoring.store.read_series_by``) against the
  usual level: for each hour of the window, the median over the previous
  ``BASELINE_DAYS`` days of that same *local* hour's weighted mean (so DST is followed);
* minutes that are worse than the usual level by more than the metric's smallest change
  that matters (``detection.metrics``: ``min_abs`` and ``min_rel``, in its "worse"
  direction; for a rate where lower is worse, judged on the failure share) and runs of at
  least ``MIN_RUN`` such minutes (gaps of up to ``MAX_GAP`` minutes bridged);
* incidents of the service and region overlapping the window (public fields only);
* the organisation's own footprint in the place and window (never another organisation's);
* three knowledge-base articles for the region/service/symptom, as the reader may see them;
* a verdict sentence in the reader's language (``en`` / ``zh-Hans``).

A pasted channel/room name is matched to the organisation's recent tickets (typed context)
to fill region, window and app ID when they were not given.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import numpy as np
from django.db.models import Q, Sum

from relaydesk.core.models import Organisation, Region, Service, User
from relaydesk.detection.metrics import METRICS, QUALITY_METRICS, MetricSpec
from relaydesk.incidents.models import Incident
from relaydesk.monitoring.footprint import footprint_rows
from relaydesk.monitoring.models import Carrier
from relaydesk.monitoring.store import read_series_by
from relaydesk.tickets.models import Ticket

from . import search

MAX_WINDOW = timedelta(hours=24)
BASELINE_DAYS = 7
MIN_RUN = 3  # minutes
MAX_GAP = 2  # minutes bridged inside a run
CHANNEL_LOOKBACK = timedelta(days=30)
DEFAULT_SERVICE = "rtc"
LANGS = ("en", "zh-Hans")
REGION_KEY = "region"  # the place as a whole (all carriers merged)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "degraded_carrier": "Degradation on carrier {carrier} in region {region} from {start} to {end}",
        "degraded_region": "Degradation in region {region} from {start} to {end}",
        "incident": " (incident #{id})",
        "incident_only": "No anomaly in the measurements we have for region {region} then, but incident #{id} ({title}) overlapped your window.",
        "clean": "No network anomaly in your region then — check these articles.",
        "no_data": "We have no network measurements for region {region} in that window — check these articles.",
        "subject": "Problem in {region} ({service}) {start}–{end}",
        "title": "Is it us or the network?",
        "metrics": "Network quality against the usual level",
        "incidents": "Incidents in that window",
        "footprint": "Your traffic there",
        "articles": "Articles that may help",
        "file": "File a ticket with this diagnosis",
        "none": "None.",
        "sessions": "sessions",
        "minutes": "session-minutes",
        "metric": "Metric",
        "carrier": "Carrier",
        "usual": "Usual",
        "worst": "Worst",
        "bad_minutes": "Degraded minutes",
        "all_carriers": "All carriers",
        "region": "Region",
        "service": "Service",
        "start": "From",
        "end": "To",
        "app_id": "App ID",
        "channel": "Channel / room",
        "check": "Diagnose",
        "channel_help": "Paste a channel or room name from your logs to use the region and time of your ticket about it.",
    },
    "zh-Hans": {
        "degraded_carrier": "{region} 区域的运营商 {carrier} 在 {start} 至 {end} 期间网络质量下降",
        "degraded_region": "{region} 区域在 {start} 至 {end} 期间网络质量下降",
        "incident": "（故障 #{id}）",
        "incident_only": "当时 {region} 区域的测量数据未见异常，但故障 #{id}（{title}）与您选择的时间段重叠。",
        "clean": "当时您所在区域没有网络异常——请查看以下文章。",
        "no_data": "该时间段内我们没有 {region} 区域的网络测量数据——请查看以下文章。",
        "subject": "{region}（{service}）{start}–{end} 出现问题",
        "title": "是我们的问题还是网络的问题？",
        "metrics": "网络质量与平常水平对比",
        "incidents": "该时间段内的故障",
        "footprint": "您在该区域的流量",
        "articles": "可能有帮助的文章",
        "file": "附上此诊断提交工单",
        "none": "无。",
        "sessions": "会话",
        "minutes": "会话分钟",
        "metric": "指标",
        "carrier": "运营商",
        "usual": "平常",
        "worst": "最差",
        "bad_minutes": "异常分钟数",
        "all_carriers": "全部运营商",
        "region": "区域",
        "service": "服务",
        "start": "开始",
        "end": "结束",
        "app_id": "App ID",
        "channel": "频道 / 房间",
        "check": "诊断",
        "channel_help": "粘贴日志中的频道或房间名，即可使用您相关工单中的区域和时间。",
    },
}

# Words searched in the KB for a degraded metric (symptom), per language.
SYMPTOMS: dict[str, tuple[str, str]] = {
    "rtt_ms": ("latency delay", "延迟"),
    "jitter_ms": ("jitter stutter", "抖动 卡顿"),
    "packet_loss_pct": ("packet loss stutter", "丢包 卡顿"),
    "join_success_rate": ("join failure", "加入失败"),
    "join_in_5s_rate": ("slow join first frame", "首帧慢"),
    "video_freeze_rate": ("video freeze stutter rebuffering", "视频卡顿"),
    "audio_freeze_rate": ("audio freeze echo", "音频卡顿"),
    "bitrate_kbps": ("low bitrate quality", "码率低"),
}


class DiagnosisError(Exception):
    """Bad input (``status`` 422, ``field`` named) or not found (404)."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


@dataclass
class Query:
    organisation: Organisation
    region: Region
    service: Service
    start: datetime
    end: datetime
    app_id: str = ""
    channel: str = ""
    ticket_number: int | None = None  # the ticket the channel was matched to


@dataclass
class Run:
    start: datetime
    end: datetime  # exclusive (end of the last degraded minute)
    metrics: list[str]


@dataclass
class Diagnosis:
    query: Query
    lang: str
    verdict: str
    degraded: bool
    carriers: list[dict[str, Any]] = field(default_factory=list)  # per carrier + region
    incidents: list[dict[str, Any]] = field(default_factory=list)
    footprint: dict[str, Any] = field(default_factory=dict)
    articles: list[dict[str, Any]] = field(default_factory=list)
    ticket_url: str = ""
    summary: str = ""
    timezone: str = "UTC"  # the zone of the times in the verdict (the viewer's)


# -- input ------------------------------------------------------------------------------------


def language(value: str | None, user: User | None = None) -> str:
    for v in (value, getattr(user, "language", None)):
        if v in LANGS:
            return str(v)
        if isinstance(v, str) and v.lower() == "zh-hans":
            return "zh-Hans"
    return "en"


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def parse_time(value: Any, name: str, tz: zoneinfo.ZoneInfo) -> datetime | None:
    """ISO 8601 date-time (a value without offset is read in ``tz``); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if len(text) > 40:
            raise DiagnosisError(name, "not a date-time (use ISO 8601, e.g. 2026-11-25T19:00)")
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise DiagnosisError(
                name, f"{text!r} is not a date-time (use ISO 8601, e.g. 2026-11-25T19:00)"
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


def organisation_for(user: User, organisation: int | None) -> Organisation:
    """The organisation the caller may diagnose: a customer only their own (another id:
    404, the same answer as a missing one); staff one they may see (required)."""
    from relaydesk.api.auth import visible_organisations

    if user.is_customer:
        if organisation is not None and organisation != user.organisation_id:
            raise DiagnosisError("organisation", f"organisation {organisation} not found", 404)
        own: Organisation = Organisation.objects.get(pk=user.organisation_id)
        return own
    if user.kind != User.KIND_STAFF:
        raise DiagnosisError("organisation", "not available for this account", 404)
    if organisation is None:
        raise DiagnosisError("organisation", "required for staff: the organisation to diagnose")
    org: Organisation | None = visible_organisations(user).filter(pk=organisation).first()
    if org is None:
        raise DiagnosisError("organisation", f"organisation {organisation} not found", 404)
    return org


def build_query(
    user: User,
    *,
    organisation: int | None = None,
    region: str | None = None,
    service: str | None = None,
    start: Any = None,
    end: Any = None,
    app_id: str | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> Query:
    """Check the input (every error names its field) and fill the gaps from the ticket whose
    typed channel/room name matches ``channel``."""
    org = organisation_for(user, organisation)
    now = now or datetime.now(UTC)
    tz = _zone(getattr(user, "timezone", "") or org.timezone)
    app = (app_id or "").strip()
    if len(app) > 100:
        raise DiagnosisError("app_id", "at most 100 characters")
    chan = (channel or "").strip()
    if len(chan) > 200:
        raise DiagnosisError("channel", "at most 200 characters")
    t0 = parse_time(start, "start", tz)
    t1 = parse_time(end, "end", tz)
    region_code = (region or "").strip()
    ticket = None
    if chan:
        ticket = (
            Ticket.objects.filter(
                organisation=org,
                channel_name__iexact=chan,
                created_at__gte=now - CHANNEL_LOOKBACK,
            )
            .select_related("region")
            .order_by("-created_at")
            .first()
        )
        if ticket is not None:
            if not region_code and ticket.region is not None:
                region_code = ticket.region.code
            if t0 is None and t1 is None and ticket.problem_start is not None:
                t0 = ticket.problem_start
                t1 = ticket.problem_end or min(t0 + timedelta(hours=1), now)
            app = app or ticket.app_id
    hint = (
        f" (no ticket of the last {CHANNEL_LOOKBACK.days} days names channel {chan!r})"
        if chan and ticket is None
        else ""
    )
    if not region_code:
        raise DiagnosisError("region", "required" + hint)
    reg = Region.objects.filter(code=region_code).first()
    if reg is None:
        raise DiagnosisError("region", f"unknown region {region_code!r}")
    svc_code = (service or "").strip()
    if svc_code:
        svc = Service.objects.filter(code=svc_code).first()
        if svc is None:
            raise DiagnosisError("service", f"unknown service {svc_code!r}")
    else:
        svc = (
            Service.objects.filter(code=DEFAULT_SERVICE).first()
            or Service.objects.order_by("code").first()
        )
        if svc is None:
            raise DiagnosisError("service", "no service is configured")
    if t0 is None:
        raise DiagnosisError("start", "required" + hint)
    if t1 is None:
        raise DiagnosisError("end", "required" + hint)
    if t1 <= t0:
        raise DiagnosisError("end", "must be after start")
    if t1 - t0 > MAX_WINDOW:
        raise DiagnosisError("end", "the window may be at most 24 hours")
    if t0 > now + timedelta(minutes=5):
        raise DiagnosisError("start", "is in the future")
    return Query(org, reg, svc, t0, t1, app, chan, ticket.number if ticket is not None else None)


# -- the numbers (pure NumPy helpers) ---------------------------------------------------------


def worse_by(spec: MetricSpec, value: Any, usual: Any) -> Any:
    """How much worse than usual (in the metric's unit; <= 0: not worse) and the smallest
    change that matters there; NaN where either is missing."""
    v = np.asarray(value, dtype=np.float64)
    b = np.asarray(usual, dtype=np.float64)
    if spec.worse == "higher":
        delta = v - b
        ref = b
    else:
        delta = b - v
        ref = (spec.scale - b) if spec.is_rate else b  # usual failure share for rates
    need = np.maximum(spec.min_abs, spec.min_rel * np.abs(ref))
    return delta, need


def degraded_mask(spec: MetricSpec, value: Any, usual: Any) -> Any:
    delta, need = worse_by(spec, value, usual)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(delta, nan=-1.0) >= need


def runs(mask: Any, min_run: int = MIN_RUN, max_gap: int = MAX_GAP) -> list[tuple[int, int]]:
    """Index ranges [i, j) of True runs of at least ``min_run`` after bridging gaps of up to
    ``max_gap`` False entries between True ones."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    out: list[tuple[int, int]] = []
    if idx.size == 0:
        return out
    lo = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i - prev - 1 > max_gap:
            out.append((lo, prev + 1))
            lo = i
        prev = i
    out.append((lo, prev + 1))
    return [(a, b) for a, b in out if int(np.count_nonzero(np.asarray(mask)[a:b])) >= min_run]


def _merge(parts: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Weighted merge of (mean, weight) series on the same grid."""
    if not parts:
        return np.zeros(0), np.zeros(0)
    w = np.sum([np.where(np.isnan(m), 0.0, wt) for m, wt in parts], axis=0)
    vw = np.sum([np.where(np.isnan(m), 0.0, m * wt) for m, wt in parts], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, vw / w, np.nan), w


def _hour_mean(ts: Any, mean: Any, weight: Any, hour_start: int) -> float:
    sel = (ts >= hour_start) & (ts < hour_start + 3600) & ~np.isnan(mean)
    if not np.any(sel):
        return float("nan")
    w = weight[sel]
    if float(w.sum()) > 0:
        return float(np.sum(mean[sel] * w) / w.sum())
    return float(np.mean(mean[sel]))


# -- gathering ----------------------------------------------------------------------------------


def _ref_hours(hours: list[datetime], tz: zoneinfo.ZoneInfo, days: int) -> list[datetime]:
    """The same local hour ``days`` days before each UTC hour start."""
    out = []
    for h in hours:
        local = h.astimezone(tz)
        ref = (local - timedelta(days=days)).astimezone(UTC)
        out.append(ref.replace(minute=0, second=0, microsecond=0))
    return out


def _metric_series(q: Query) -> dict[str, dict[Any, dict[str, Any]]]:
    """metric -> key (ASN, or REGION_KEY) -> {"ts", "value", "weight", "usual"} on the
    window's minute grid."""
    tz = _zone(q.region.timezone)
    h0 = q.start.replace(minute=0, second=0, microsecond=0)
    hours: list[datetime] = []
    h = h0
    while h < q.end:
        hours.append(h)
        h += timedelta(hours=1)
    out: dict[str, dict[Any, dict[str, Any]]] = {}
    for metric in QUALITY_METRICS:
        now_series = read_series_by(q.service, q.region, metric, q.start, q.end)
        if not now_series:
            continue
        keyed = _keyed(now_series)
        ts = next(iter(now_series.values())).timestamps
        hour_of = ((ts - int(h0.timestamp())) // 3600).astype(np.int64)
        # usual[key][hour index] = median over days of that day's same-local-hour mean
        refs: dict[Any, list[list[float]]] = {k: [] for k in keyed}
        for d in range(1, BASELINE_DAYS + 1):
            ref_h = _ref_hours(hours, tz, d)
            lo, hi = min(ref_h), max(ref_h) + timedelta(hours=1)
            past = read_series_by(q.service, q.region, metric, lo, hi)
            past_keyed = _keyed(past)
            pts = next(iter(past.values())).timestamps if past else np.zeros(0, np.int64)
            for k in keyed:
                if k not in past_keyed:
                    refs[k].append([float("nan")] * len(hours))
                    continue
                m, w = past_keyed[k]
                refs[k].append([_hour_mean(pts, m, w, int(r.timestamp())) for r in ref_h])
        per_key: dict[Any, dict[str, Any]] = {}
        for k, (mean, weight) in keyed.items():
            table = np.array(refs[k], dtype=np.float64).reshape(BASELINE_DAYS, len(hours))
            with np.errstate(all="ignore"):
                usual_h = (
                    np.nanmedian(table, axis=0)
                    if np.any(~np.isnan(table))
                    else np.full(len(hours), np.nan)
                )
            usual = usual_h[np.clip(hour_of, 0, len(hours) - 1)]
            per_key[k] = {"ts": ts, "value": mean, "weight": weight, "usual": usual}
        out[metric] = per_key
    return out


def _keyed(series: dict[Any, Any]) -> dict[Any, tuple[Any, Any]]:
    """Per carrier ASN its (mean, weight), and the place as a whole (every series merged,
    samples sent without a carrier included) under REGION_KEY."""
    out: dict[Any, tuple[Any, Any]] = {
        k: (s.mean, s.weight) for k, s in series.items() if k is not None
    }
    if series:
        out[REGION_KEY] = _merge([(s.mean, s.weight) for s in series.values()])
    return out


def _fmt(dt: datetime, tz: zoneinfo.ZoneInfo, with_date: bool) -> str:
    local = dt.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def _carrier_names(asns: list[int]) -> dict[int, str]:
    return {
        asn: f"{name} (AS{asn})"
        for asn, name in Carrier.objects.filter(asn__in=asns).values_list("asn", "name")
    }


def _overlapping_incidents(q: Query, lang: str) -> list[dict[str, Any]]:
    from relaydesk.incidents.notices import status_url

    qs = (
        Incident.objects.filter(service=q.service, region=q.region, started_at__lt=q.end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=q.start))
        .order_by("started_at", "id")
    )
    return [
        {
            "id": i.pk,
            "title": i.title(lang),
            "status": i.status,
            "impact": i.impact,
            "severity": i.severity,
            "carriers": [str(c) for c in i.carriers],
            "started_at": i.started_at,
            "resolved_at": i.resolved_at,
            "url": status_url(i.pk),
        }
        for i in qs[:20]
    ]


def _footprint(q: Query) -> dict[str, Any]:
    h0 = q.start.replace(minute=0, second=0, microsecond=0)
    h1 = q.end.replace(minute=0, second=0, microsecond=0)
    if h1 < q.end:
        h1 += timedelta(hours=1)
    rows = footprint_rows(
        [q.organisation.pk],
        service=q.service.code,
        region=q.region.code,
        since=h0,
        until=h1,
    )
    totals = rows.filter(carrier_key=0).aggregate(s=Sum("sessions"), m=Sum("minutes"))
    per_carrier = [
        {
            "carrier": f"{name} (AS{asn})",
            "asn": asn,
            "sessions": int(s or 0),
            "minutes": float(m or 0),
        }
        for asn, name, s, m in rows.exclude(carrier_key=0)
        .values_list("carrier__asn", "carrier__name")
        .annotate(s=Sum("sessions"), m=Sum("minutes"))
        .values_list("carrier__asn", "carrier__name", "s", "m")
        .order_by("-m")
    ]
    sessions = int(totals["s"] or 0)
    minutes = float(totals["m"] or 0.0)
    if not sessions and per_carrier:  # only carrier rows: their sum is the total
        sessions = sum(c["sessions"] for c in per_carrier)
        minutes = sum(c["minutes"] for c in per_carrier)
    return {
        "organisation": q.organisation.name,
        "sessions": sessions,
        "minutes": minutes,
        "by_carrier": per_carrier,
    }


def _articles(q: Query, user: User, lang: str, metrics: list[str]) -> list[dict[str, Any]]:
    """Up to three articles as the organisation's customers see them (so staff diagnosing on
    their behalf get the same, shareable links, never internal ones)."""
    if not user.is_customer:
        reader = User.objects.filter(
            organisation=q.organisation, kind=User.KIND_CUSTOMER, is_active=True
        ).first()
        user = reader if reader is not None else None  # type: ignore[assignment]
    words = [q.region.name, q.service.name]
    if metrics:
        words += [SYMPTOMS[m][1 if lang == "zh-Hans" else 0] for m in metrics if m in SYMPTOMS]
    else:
        words.append("卡顿 网络 质量" if lang == "zh-Hans" else "stutter network quality")
    hits: list[Any] = []
    for text_q in (" ".join(words), " ".join(words[2:]) or words[0]):
        for lang_try in (lang, None):
            if len(hits) >= 3:
                break
            found = search.search(text_q[:400], user=user, lang=lang_try, limit=5, snippets=False)
            seen = {h.article_id for h in hits}
            hits += [h for h in found.hits if h.article_id not in seen]
    return [
        {
            "id": h.article_id,
            "title": h.title,
            "lang": h.lang,
            "url": f"/api/v1/kb/articles/{h.article_id}?lang={h.lang}",
        }
        for h in hits[:3]
    ]


def diagnose(user: User, q: Query, lang: str = "en") -> Diagnosis:
    """The diagnosis of an already checked :class:`Query` for ``user`` (who may see it)."""
    lang = lang if lang in LANGS else "en"
    words = WORDS[lang]
    viewer_tz = _zone(getattr(user, "timezone", "") or q.organisation.timezone)
    multi_day = q.start.astimezone(viewer_tz).date() != q.end.astimezone(viewer_tz).date()
    series = _metric_series(q)
    asns = sorted({k for per in series.values() for k in per if k != REGION_KEY})
    names = _carrier_names(asns)
    keys: list[Any] = [*asns, REGION_KEY] if series else []
    found_runs: dict[Any, list[Run]] = {}
    table: list[dict[str, Any]] = []
    for k in keys:
        label = words["all_carriers"] if k == REGION_KEY else names.get(k, f"AS{k}")
        masks: list[Any] = []
        masks_by_metric: dict[str, Any] = {}
        rows = []
        ts = None
        for metric, per in series.items():
            if k not in per:
                continue
            spec = METRICS[metric]
            s = per[k]
            ts = s["ts"]
            mask = degraded_mask(spec, s["value"], s["usual"])
            masks.append(mask)
            masks_by_metric[metric] = mask
            vals = s["value"]
            present = ~np.isnan(vals)
            worst = float("nan")
            if np.any(present):
                worst = float(np.nanmax(vals) if spec.worse == "higher" else np.nanmin(vals))
            usual = s["usual"]
            rows.append(
                {
                    "metric": metric,
                    "unit": spec.unit,
                    "usual": _num(float(np.nanmedian(usual)) if np.any(~np.isnan(usual)) else None),
                    "worst": _num(worst),
                    "degraded_minutes": int(np.count_nonzero(mask)),
                    "minutes": [
                        {
                            "at": datetime.fromtimestamp(int(t), UTC),
                            "value": _num(float(v)),
                            "usual": _num(float(u)),
                            "degraded": bool(d),
                        }
                        for t, v, u, d in zip(ts, vals, usual, mask, strict=True)
                        if not np.isnan(v)
                    ],
                }
            )
        k_runs: list[Run] = []
        if masks and ts is not None:
            any_bad = np.logical_or.reduce(masks)
            for a, b in runs(any_bad):
                run_metrics = [m for m, mk in masks_by_metric.items() if np.any(mk[a:b])]
                k_runs.append(
                    Run(
                        datetime.fromtimestamp(int(ts[a]), UTC),
                        datetime.fromtimestamp(int(ts[b - 1]) + 60, UTC),
                        run_metrics,
                    )
                )
        found_runs[k] = k_runs
        table.append(
            {
                "carrier": None if k == REGION_KEY else k,
                "label": label,
                "degraded": bool(k_runs),
                "runs": [{"start": r.start, "end": r.end, "metrics": r.metrics} for r in k_runs],
                "metrics": rows,
            }
        )
    incidents = _overlapping_incidents(q, lang)
    region_name = q.region.name
    bad_carriers = [k for k in asns if found_runs.get(k)]
    sentences: list[str] = []
    bad_metrics: list[str] = []

    def incident_for(start: datetime, end: datetime, asn: Any) -> dict[str, Any] | None:
        over = [
            i
            for i in incidents
            if i["started_at"] < end and (i["resolved_at"] is None or i["resolved_at"] > start)
        ]
        for i in over:
            if asn is not None and any(
                str(asn) in c or names.get(asn, "\0").split(" (")[0] in c for c in i["carriers"]
            ):
                return i
        return over[0] if over else None

    def sentence(k: Any) -> str:
        rs = found_runs[k]
        start, end = rs[0].start, rs[-1].end
        for r in rs:
            bad_metrics.extend(m for m in r.metrics if m not in bad_metrics)
        fmt = {
            "region": region_name,
            "start": _fmt(start, viewer_tz, multi_day),
            "end": _fmt(end, viewer_tz, multi_day),
        }
        if k == REGION_KEY:
            text = words["degraded_region"].format(**fmt)
        else:
            text = words["degraded_carrier"].format(carrier=names.get(k, f"AS{k}"), **fmt)
        inc = incident_for(start, end, None if k == REGION_KEY else k)
        if inc is not None:
            text += words["incident"].format(id=inc["id"])
        return text

    if bad_carriers:
        sentences = [sentence(k) for k in bad_carriers]
    elif found_runs.get(REGION_KEY):
        sentences = [sentence(REGION_KEY)]
    degraded = bool(sentences)
    if degraded:
        verdict = ("；" if lang == "zh-Hans" else "; ").join(sentences) + (
            "。" if lang == "zh-Hans" else "."
        )
    elif incidents:
        verdict = words["incident_only"].format(
            region=region_name, id=incidents[0]["id"], title=incidents[0]["title"]
        )
    elif not series:
        verdict = words["no_data"].format(region=region_name)
    else:
        verdict = words["clean"]
    result = Diagnosis(
        query=q,
        lang=lang,
        verdict=verdict,
        degraded=degraded,
        carriers=table,
        incidents=incidents,
        footprint=_footprint(q),
        articles=_articles(q, user, lang, bad_metrics),
    )
    result.timezone = viewer_tz.key
    result.summary = summary(result, viewer_tz)
    result.ticket_url = ticket_url(result, viewer_tz)
    return result


def _num(x: float | None) -> float | None:
    if x is None or x != x:  # NaN
        return None
    return round(x, 4)


def summary(d: Diagnosis, tz: zoneinfo.ZoneInfo) -> str:
    """Plain text attached to a ticket filed from the diagnosis."""
    q = d.query
    lines = [
        f"Self-diagnosis ({q.service.code}, {q.region.code}, "
        f"{_fmt(q.start, tz, True)} – {_fmt(q.end, tz, True)} {tz.key}):",
        d.verdict,
    ]
    for c in d.carriers:
        for r in c["runs"]:
            lines.append(
                f"- {c['label']}: {_fmt(r['start'], tz, True)}–{_fmt(r['end'], tz, False)} "
                f"({', '.join(r['metrics'])})"
            )
    for i in d.incidents:
        lines.append(f"- incident #{i['id']}: {i['title']} [{i['status']}]")
    return "\n".join(lines)[:4000]


def ticket_url(d: Diagnosis, tz: zoneinfo.ZoneInfo) -> str:
    """The portal's new-ticket form pre-filled with the typed context and the diagnosis (the
    form's own field names; times as its datetime-local inputs in the viewer's zone)."""
    q = d.query
    words = WORDS[d.lang]
    params = {
        "subject": words["subject"].format(
            region=q.region.name,
            service=q.service.name,
            start=_fmt(q.start, tz, True),
            end=_fmt(q.end, tz, False),
        )[:250],
        "description": d.summary,
        "category": "stream_quality",
        "region": q.region.code,
        "app_id": q.app_id,
        "channel_name": q.channel,
        "problem_start": q.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "problem_end": q.end.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
    }
    return "/portal/tickets/new/?" + urlencode({k: v for k, v in params.items() if v})


def as_json(d: Diagnosis) -> dict[str, Any]:
    q = d.query
    return {
        "organisation": q.organisation.pk,
        "region": q.region.code,
        "service": q.service.code,
        "start": q.start,
        "end": q.end,
        "app_id": q.app_id,
        "channel": q.channel,
        "matched_ticket": q.ticket_number,
        "lang": d.lang,
        "verdict": d.verdict,
        "timezone": d.timezone,
        "degraded": d.degraded,
        "carriers": d.carriers,
        "incidents": d.incidents,
        "footprint": d.footprint,
        "articles": d.articles,
        "summary": d.summary,
        "ticket_url": d.ticket_url,
    }
