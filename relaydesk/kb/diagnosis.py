"""Self-diagnosis — "is it us or the network?" — for one organisation, region, service and
time window (at most 24 h).

What it gathers (all read-only):

* the incident detector's view of the place over the window (``monitoring.detect``'s
  ``score_window``: the detection sweep's own reads of the telemetry rollups, per-series
  scores against the seasonal baseline and grouping into incident candidates), so the
  customer's answer is what monitoring concludes: per quality metric and carrier (or edge
  node), and for the region as a whole, the per-minute values against the usual level, the
  detector's scores and the minutes it judges degraded (``bad_minutes``);
* incidents of the service and region overlapping the window (public fields only);
* the organisation's own footprint in the place and window (never another organisation's);
* three knowledge-base articles for the region/service/symptom, as the reader may see them;
* a verdict sentence in the reader's language (``en`` / ``zh-Hans``): each carrier the
  detector's grouping found affected, when, and its worst metrics against the usual level,
  explained with the field's conventions from the domain primer (``DOMAIN_LEVELS``: "packet
  loss 9.4 % against a usual 0.4 % — above the 5 % at which quality is poor"); the levels
  explain, they do not decide.

Windows longer than ``LONG_WINDOW`` come back in ``BUCKET_MIN``-minute buckets that keep each
bucket's worst minute (``points``; the answer's ``series_resolution`` says which).

A pasted channel/room name is matched to the organisation's recent tickets (typed context)
to fill region, window and app ID when they were not given. ``run`` is the one entry for the
API and both pages: raw parameters in, a :class:`Diagnosis` or a :class:`DiagnosisError` out.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import numpy as np
from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import override, pgettext_lazy

from relaydesk.core.models import Organisation, Region, Service, User
from relaydesk.detection import DEFAULT_GROUPING as GROUPING
from relaydesk.detection import score_series_detailed
from relaydesk.detection.metrics import METRICS, QUALITY_METRICS, MetricSpec
from relaydesk.incidents.models import Incident
from relaydesk.monitoring.detect import PlaceScores, score_window
from relaydesk.monitoring.footprint import footprint_rows
from relaydesk.monitoring.models import Carrier
from relaydesk.tickets.models import Ticket

from . import search

MAX_WINDOW = timedelta(hours=24)
LONG_WINDOW = timedelta(hours=6)  # longer windows: one point per BUCKET_MIN minutes
BUCKET_MIN = 5
CHANNEL_LOOKBACK = timedelta(days=30)
DEFAULT_SERVICE = "rtc"
LANGS = ("en", "zh-Hans")
REGION_KEY = "region"  # the place as a whole (all carriers merged)

# What the answer's series are made of (``points``), by step in minutes.
RESOLUTIONS: dict[int, dict[str, Any]] = {
    1: {
        "step_minutes": 1,
        "point": "minute",
        "explain": "one point per minute with data: the minute's session-weighted mean",
    },
    BUCKET_MIN: {
        "step_minutes": BUCKET_MIN,
        "point": "worst",
        "explain": f"windows over {LONG_WINDOW.seconds // 3600} h: one point per "
        f"{BUCKET_MIN}-minute bucket with data, its worst minute (highest where higher is "
        "worse, lowest otherwise) with that minute's usual level; degraded if any minute of "
        "the bucket was, score the bucket's highest",
    },
}

# Conventions of the field (shared DOMAIN.md, "Network quality metrics") that explain a
# finding: the first level a value is beyond names what it means. The verdict is the
# detector's; these only say what the number means to a user.
DOMAIN_LEVELS: dict[str, tuple[tuple[float, str], ...]] = {
    "rtt_ms": ((400.0, "sdk_warns"),),
    "jitter_ms": ((30.0, "sdk_warns"),),
    "packet_loss_pct": ((5.0, "loss_poor"), (1.0, "loss_noticeable")),
}

# The words of the self-diagnosis page and verdict, in English; the zh-Hans text is in the kb
# app's catalog (relaydesk/kb/locale) under the message context "self-diagnosis", so a
# short word ("To", "None.") cannot pick up another page's translation.
MESSAGES: dict[str, Any] = {
    "degraded_carrier": pgettext_lazy("self-diagnosis", "Degradation on carrier {carrier} in region {region} from {start} to {end}"),
    "degraded_region": pgettext_lazy("self-diagnosis", "Degradation in region {region} from {start} to {end}"),
    "degraded_node": pgettext_lazy("self-diagnosis", "Degradation at edge node {node} in region {region} from {start} to {end}"),
    "incident": pgettext_lazy("self-diagnosis", " (incident #{id})"),
    "detail": pgettext_lazy("self-diagnosis", ": "),
    "finding": pgettext_lazy("self-diagnosis", "{metric} {value} against a usual {usual}{tail}"),
    "finding_sep": pgettext_lazy("self-diagnosis", ", "),
    "sdk_warns": pgettext_lazy("self-diagnosis", " — above the {level} at which common RTC SDKs warn"),
    "loss_poor": pgettext_lazy("self-diagnosis", " — above the {level} at which quality is poor"),
    "loss_noticeable": pgettext_lazy("self-diagnosis", " — above the {level} that users notice when it lasts"),
    "points_below": pgettext_lazy("self-diagnosis", " — {n} points below usual"),
    "pct_below": pgettext_lazy("self-diagnosis", " — {p} % below usual"),
    "times_usual": pgettext_lazy("self-diagnosis", " — {x}× the usual level"),
    "incident_only": pgettext_lazy("self-diagnosis", "No anomaly in the measurements we have for region {region} then, but incident #{id} ({title}) overlapped your window."),
    "clean": pgettext_lazy("self-diagnosis", "No network anomaly in your region then — check these articles."),
    "no_data": pgettext_lazy("self-diagnosis", "We have no network measurements for region {region} in that window — check these articles."),
    "no_baseline": pgettext_lazy("self-diagnosis", "We have network measurements for region {region} in that window, but not yet enough history to know its usual level — check these articles."),
    "subject": pgettext_lazy("self-diagnosis", "Problem in {region} ({service}) {start}–{end}"),
    "title": pgettext_lazy("self-diagnosis", "Is it us or the network?"),
    "metrics": pgettext_lazy("self-diagnosis", "Network quality against the usual level"),
    "incidents": pgettext_lazy("self-diagnosis", "Incidents in that window"),
    "footprint": pgettext_lazy("self-diagnosis", "Your traffic there"),
    "articles": pgettext_lazy("self-diagnosis", "Articles that may help"),
    "file": pgettext_lazy("self-diagnosis", "File a ticket with this diagnosis"),
    "none": pgettext_lazy("self-diagnosis", "None."),
    "sessions": pgettext_lazy("self-diagnosis", "sessions"),
    "minutes": pgettext_lazy("self-diagnosis", "session-minutes"),
    "metric": pgettext_lazy("self-diagnosis", "Metric"),
    "carrier": pgettext_lazy("self-diagnosis", "Carrier"),
    "usual": pgettext_lazy("self-diagnosis", "Usual"),
    "worst": pgettext_lazy("self-diagnosis", "Worst"),
    "bad_minutes": pgettext_lazy("self-diagnosis", "Degraded minutes"),
    "all_carriers": pgettext_lazy("self-diagnosis", "All carriers"),
    "no_carrier": pgettext_lazy("self-diagnosis", "Without a carrier"),
    "region": pgettext_lazy("self-diagnosis", "Region"),
    "service": pgettext_lazy("self-diagnosis", "Service"),
    "start": pgettext_lazy("self-diagnosis", "From"),
    "end": pgettext_lazy("self-diagnosis", "To"),
    "app_id": pgettext_lazy("self-diagnosis", "App ID"),
    "channel": pgettext_lazy("self-diagnosis", "Channel / room"),
    "check": pgettext_lazy("self-diagnosis", "Diagnose"),
    "channel_help": pgettext_lazy("self-diagnosis", "Paste a channel or room name from your logs to use the region and time of your ticket about it."),
    # metric names (by catalogue name)
    "rtt_ms": pgettext_lazy("self-diagnosis", "round-trip time"),
    "jitter_ms": pgettext_lazy("self-diagnosis", "jitter"),
    "packet_loss_pct": pgettext_lazy("self-diagnosis", "packet loss"),
    "join_success_rate": pgettext_lazy("self-diagnosis", "join success"),
    "join_in_5s_rate": pgettext_lazy("self-diagnosis", "joins within 5 s"),
    "video_freeze_rate": pgettext_lazy("self-diagnosis", "video freeze"),
    "audio_freeze_rate": pgettext_lazy("self-diagnosis", "audio freeze"),
    "bitrate_kbps": pgettext_lazy("self-diagnosis", "bitrate"),
}


class _Words(Mapping[str, dict[str, str]]):
    """``WORDS[lang]``: every message of ``MESSAGES`` in that language (``en``/``zh-Hans``)."""

    def __getitem__(self, lang: str) -> dict[str, str]:
        if lang not in LANGS:
            raise KeyError(lang)
        with override(lang):
            return {k: str(v) for k, v in MESSAGES.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(LANGS)

    def __len__(self) -> int:
        return len(LANGS)


WORDS = _Words()

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
    verdict_kind: str = ""  # network, incident, not_network, no_data, no_baseline
    carriers: list[dict[str, Any]] = field(default_factory=list)  # per carrier + region
    findings: list[dict[str, Any]] = field(default_factory=list)  # bad metrics, worst first
    detections: list[dict[str, Any]] = field(default_factory=list)  # detector's candidates
    coverage: float = 0.0  # share of the window's minutes with measurements
    resolution: dict[str, Any] = field(default_factory=dict)  # what a series point is
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


def run(
    user: User,
    params: Mapping[str, Any],
    lang: str | None = None,
    *,
    now: datetime | None = None,
) -> Diagnosis:
    """The whole self-diagnosis from raw parameters (``organisation``, ``region``,
    ``service``, ``start``, ``end``, ``app_id``, ``channel``; missing or empty ones are not
    given), as the API and the customer and staff pages receive them. ``organisation`` may
    be the number as text (a form). Raises :class:`DiagnosisError` naming the field."""
    org = params.get("organisation")
    if isinstance(org, str):
        org = org.strip()
        if org and not org.isdigit():
            raise DiagnosisError("organisation", _("give the organisation's number"))
        org = int(org) if org else None
    q = build_query(
        user,
        organisation=org,
        region=params.get("region"),
        service=params.get("service"),
        start=params.get("start"),
        end=params.get("end"),
        app_id=params.get("app_id"),
        channel=params.get("channel"),
        now=now,
    )
    return diagnose(user, q, language(lang, user))


# -- the numbers (pure NumPy helpers) ---------------------------------------------------------


def bad_minutes(score: Any, instant: Any) -> Any:
    """Minutes the detector judges degraded, on the minutes themselves: its score reaches the
    grouping's ``series_threshold`` at the minute or at the next one (persistence confirms a
    minute one minute late), and the minute itself scored at least the grouping's ``floor``
    (so the confirmation's one-minute tail after a problem is not counted). NaN: not bad."""
    s = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=0.0)
    i = np.nan_to_num(np.asarray(instant, dtype=np.float64), nan=0.0)
    confirmed = s >= GROUPING.series_threshold
    confirmed_next = np.concatenate([confirmed[1:], [False]])
    return (confirmed | confirmed_next) & (i >= GROUPING.floor)


def worst_index(spec: MetricSpec, value: Any, where: Any) -> int | None:
    """Index of the worst value (in the metric's worse direction) among ``where``; None if no
    value there."""
    v = np.asarray(value, dtype=np.float64)
    sel = np.asarray(where, dtype=bool) & ~np.isnan(v)
    if not np.any(sel):
        return None
    pick = np.where(sel, v if spec.worse == "higher" else -v, -np.inf)
    return int(np.argmax(pick))


def points(
    spec: MetricSpec, ts: Any, value: Any, usual: Any, score: Any, bad: Any, step: int
) -> list[dict[str, Any]]:
    """The series for the JSON answer. ``step`` 1: one point per minute with data (the
    minute's session-weighted mean). ``step`` > 1: one point per ``step``-minute bucket with
    data: its worst minute (value and usual level of that minute), ``degraded`` if any of
    its minutes was, ``score`` the highest; a spike is never averaged away. Minutes without
    data give no point (no data is not zero)."""
    n = len(ts)
    k = -(-n // step)

    def buckets(a: Any, fill: Any) -> Any:
        a = np.asarray(a)
        return np.concatenate([a, np.full(k * step - n, fill, dtype=a.dtype)]).reshape(k, step)

    v = buckets(np.asarray(value, dtype=np.float64), np.nan)
    signed = np.where(np.isnan(v), -np.inf, v if spec.worse == "higher" else -v)
    j = np.argmax(signed, axis=1)
    rows = np.arange(k)
    worst = v[rows, j]
    at = np.asarray(ts)[rows * step]
    normal = buckets(np.asarray(usual, dtype=np.float64), np.nan)[rows, j]
    degraded = buckets(np.asarray(bad, dtype=bool), False).any(axis=1)
    top = np.nan_to_num(buckets(np.asarray(score, dtype=np.float64), np.nan), nan=-1.0).max(1)
    return [
        {
            "at": datetime.fromtimestamp(int(at[i]), UTC),
            "value": _num(float(worst[i])),
            "usual": _num(float(normal[i])),
            "degraded": bool(degraded[i]),
            "score": _num(float(top[i])) if top[i] >= 0 else None,
        }
        for i in np.flatnonzero(~np.isnan(worst))
    ]


def show_value(spec: MetricSpec, value: float) -> str:
    """A value as people read it: ratios as percentages, one decimal for percentages."""
    if spec.unit == "ratio":
        return f"{value * 100:.1f} %"
    if spec.unit == "%":
        return f"{value:.1f} %"
    return f"{value:.0f} {spec.unit}"


def explain(
    spec: MetricSpec, value: float, usual: float | None, lang: str
) -> tuple[str, float | None]:
    """The explanatory tail of a finding and the DOMAIN level it crosses (None if none):
    "above the 5 % at which quality is poor" for the metrics the field has a fixed level for
    (DOMAIN_LEVELS), else how far from the usual level. The verdict itself is the
    detector's; these levels only say what the number means."""
    w = WORDS[lang]
    for level, why in DOMAIN_LEVELS.get(spec.name, ()):
        crossed = value > level if spec.worse == "higher" else value < level
        if crossed:
            return w[why].format(level=f"{level:g} {spec.unit}"), level
    if usual is None or usual != usual:
        return "", None
    if spec.is_rate and spec.worse == "lower":
        points_below = (usual - value) * (100.0 / spec.scale)
        return w["points_below"].format(n=f"{points_below:.1f}"), None
    if spec.worse == "lower" and usual > 0:
        return w["pct_below"].format(p=f"{(1 - value / usual) * 100:.0f}"), None
    if spec.worse == "higher" and usual > 0:
        return w["times_usual"].format(x=f"{value / usual:.1f}"), None
    return "", None


def _merge(parts: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Weighted merge of (mean, weight) series on the same grid."""
    if not parts:
        return np.zeros(0), np.zeros(0)
    w = np.sum([np.where(np.isnan(m), 0.0, wt) for m, wt in parts], axis=0)
    vw = np.sum([np.where(np.isnan(m), 0.0, m * wt) for m, wt in parts], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, vw / w, np.nan), w


# -- gathering ----------------------------------------------------------------------------------


@dataclass
class _Judged:
    """One series over the window as the detector judged it (arrays over the window minutes)."""

    location: str  # "AS<asn>", an edge node code, "" (no carrier) or REGION_KEY
    metric: str
    value: Any
    usual: Any
    score: Any
    instant: Any
    bad: Any


def _judge(ps: PlaceScores, tz: str) -> list[_Judged]:
    """Every scored series of the place, and per metric the place as a whole (all locations
    merged, scored by the same detector; shown, not grouped)."""
    out = []
    win = ps.in_window
    for k, sc, inst, base in zip(ps.keys, ps.scores, ps.instant, ps.baseline, strict=True):
        value = ps.data[k.metric][k.location][0][win]
        out.append(_Judged(k.location, k.metric, value, base, sc, inst, bad_minutes(sc, inst)))
    w0 = float(ps.window_ts[0])
    for metric in sorted({k.metric for k in ps.keys}, key=QUALITY_METRICS.index):
        mean, weight = _merge(list(ps.data[metric].values()))
        if not np.any(weight[win] > 0):
            continue
        got = score_series_detailed(ps.ts, mean, weight, metric, tz=tz, score_from=w0)
        sc, inst = got.scores[win], got.instant[win]
        out.append(
            _Judged(
                REGION_KEY, metric, mean[win], got.baseline[win], sc, inst, bad_minutes(sc, inst)
            )
        )
    return out


def _stretch(rows: list[_Judged], a: int, b: int) -> tuple[int, int, list[str]] | None:
    """The bad minutes of ``rows`` (one location) inside [a, b]: first, last + 1 and the
    metrics with any; None if none."""
    mask = np.zeros(b + 1 - a, dtype=bool)
    metrics = []
    for r in rows:
        m = r.bad[a : b + 1]
        if np.any(m):
            mask |= m
            metrics.append(r.metric)
    if not np.any(mask):
        return None
    idx = np.flatnonzero(mask)
    return a + int(idx[0]), a + int(idx[-1]) + 1, metrics


def _fmt(dt: datetime, tz: zoneinfo.ZoneInfo, with_date: bool) -> str:
    local = dt.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def _location_labels(locations: list[str], words: dict[str, str]) -> dict[str, str]:
    """Display names: "StarHub (AS4657)" for carriers, the code for edge nodes."""
    asns = [int(loc[2:]) for loc in locations if loc.startswith("AS") and loc[2:].isdigit()]
    names = {
        f"AS{asn}": f"{name} (AS{asn})"
        for asn, name in Carrier.objects.filter(asn__in=asns).values_list("asn", "name")
    }
    labels = {loc: names.get(loc, loc) for loc in locations}
    labels[""] = words["no_carrier"]
    labels[REGION_KEY] = words["all_carriers"]
    return labels


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


def _location_order(loc: str) -> tuple[int, int, str]:
    """Carriers by ASN, then edge nodes by code, then samples without a location."""
    if loc.startswith("AS") and loc[2:].isdigit():
        return (0, int(loc[2:]), "")
    return (1, 0, loc) if loc else (2, 0, "")


def _minute_at(ts: Any, i: int) -> datetime:
    """Start of window minute ``i``; ``i == len(ts)``: the end of the window."""
    return datetime.fromtimestamp(int(ts[i]) if i < len(ts) else int(ts[-1]) + 60, UTC)


def _candidate_runs(
    ps: PlaceScores | None, by_loc: dict[str, list[_Judged]], ts: Any
) -> dict[str, list[Run]]:
    """Per location (and REGION_KEY), its bad stretch in each of the detector's incident
    candidates: from its first to its last bad minute there, with the metrics that had any."""
    out: dict[str, list[Run]] = {loc: [] for loc in by_loc}
    index = {int(t): i for i, t in enumerate(ts)}
    for c in ps.candidates if ps is not None else []:
        a, b = index[int(c.start)], index[int(c.last_bad)]
        spans = []
        for loc in c.locations:
            got = _stretch(by_loc.get(loc, []), a, b)
            if got is None:  # opened on corroborated instantaneous scores: the whole candidate
                peaks = [
                    m
                    for (where, m), p in sorted(c.series_peaks.items())
                    if where == loc and p >= GROUPING.series_threshold
                ]
                got = (a, b + 1, peaks or list(c.metrics))
            out[loc].append(Run(_minute_at(ts, got[0]), _minute_at(ts, got[1]), got[2]))
            spans.append(got)
        if spans:
            mets = [m for m in QUALITY_METRICS if any(m in s[2] for s in spans)]
            lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
            out[REGION_KEY].append(Run(_minute_at(ts, lo), _minute_at(ts, hi), mets))
    return out


def _metric_rows(rows: list[_Judged], ts: Any, step: int) -> list[dict[str, Any]]:
    """The table of one location: per metric the usual level, the worst value, the minutes
    judged and degraded, the detector's peak score and the series (``points``)."""
    out = []
    for j in rows:
        spec = METRICS[j.metric]
        worst = worst_index(spec, j.value, np.ones(len(ts), dtype=bool))
        scored = ~np.isnan(j.score)
        has_usual = np.any(~np.isnan(j.usual))
        out.append(
            {
                "metric": j.metric,
                "unit": spec.unit,
                "usual": _num(float(np.nanmedian(j.usual))) if has_usual else None,
                "worst": _num(float(j.value[worst])) if worst is not None else None,
                "degraded_minutes": int(np.count_nonzero(j.bad)),
                "peak_score": _num(float(np.max(j.score[scored]))) if np.any(scored) else None,
                "judged_minutes": int(np.count_nonzero(scored)),
                "minutes": points(spec, ts, j.value, j.usual, j.score, j.bad, step),
            }
        )
    return out


def _findings(
    rows: list[_Judged], runs: list[Run], ts: Any, label: str, lang: str
) -> list[dict[str, Any]]:
    """The bad metrics of one location during its runs, each with its worst value against the
    usual level and what it means; those beyond a DOMAIN level first, then by score."""
    during = np.zeros(len(ts), dtype=bool)
    for r in runs:
        during |= (ts >= r.start.timestamp()) & (ts < r.end.timestamp())
    found: list[dict[str, Any]] = []
    for j in rows:
        i = worst_index(METRICS[j.metric], j.value, during)
        if i is None or not any(j.metric in r.metrics for r in runs):
            continue
        spec = METRICS[j.metric]
        value, usual = float(j.value[i]), _num(float(j.usual[i]))
        tail, level = explain(spec, value, usual, lang)
        peak = j.score[during & ~np.isnan(j.score)]
        found.append(
            {
                "location": j.location,
                "label": label,
                "metric": j.metric,
                "unit": spec.unit,
                "value": _num(value),
                "usual": usual,
                "at": _minute_at(ts, i),
                "score": _num(float(peak.max())) if len(peak) else None,
                "domain_level": level,
                "text": WORDS[lang]["finding"].format(
                    metric=WORDS[lang][j.metric],
                    value=show_value(spec, value),
                    usual="—" if usual is None else show_value(spec, usual),
                    tail=tail,
                ),
            }
        )
    found.sort(
        key=lambda f: (
            f["domain_level"] is None,
            -(f["score"] or 0.0),
            QUALITY_METRICS.index(f["metric"]),
        )
    )
    return found


def _incident_for(
    incidents: list[dict[str, Any]], start: datetime, end: datetime, loc: str, label: str
) -> dict[str, Any] | None:
    """The incident overlapping [start, end) that names this carrier or node (else the first
    overlapping one)."""
    over = [
        i
        for i in incidents
        if i["started_at"] < end and (i["resolved_at"] is None or i["resolved_at"] > start)
    ]
    names = {loc, label.split(" (")[0], loc[2:] if loc[:2] == "AS" else loc} - {""}
    for i in over:
        if loc and any(n in c for n in names for c in i["carriers"]):
            return i
    return over[0] if over else None


def diagnose(user: User, q: Query, lang: str = "en") -> Diagnosis:
    """The diagnosis of an already checked :class:`Query` for ``user`` (who may see it).

    The numbers are the incident detector's (``monitoring.detect.score_window``: the sweep's
    reads, scores and grouping over this window), so the answer agrees with what monitoring
    concludes: "network" when the detector's grouping finds an incident candidate in the
    window, naming each affected carrier (or edge node), when, and the metrics that were bad
    with their worst value against the usual level."""
    lang = lang if lang in LANGS else "en"
    words = WORDS[lang]
    viewer_tz = _zone(getattr(user, "timezone", "") or q.organisation.timezone)
    multi_day = q.start.astimezone(viewer_tz).date() != q.end.astimezone(viewer_tz).date()
    ps = score_window(q.service.code, q.region.code, q.start, q.end, q.region.timezone or None)
    judged = _judge(ps, q.region.timezone) if ps is not None else []
    ts = ps.window_ts.astype(np.int64) if ps is not None else np.zeros(0, np.int64)
    step = BUCKET_MIN if q.end - q.start > LONG_WINDOW else 1
    locations = sorted({j.location for j in judged} - {REGION_KEY}, key=_location_order)
    labels = _location_labels(locations, words)
    by_loc = {loc: [j for j in judged if j.location == loc] for loc in [*locations, REGION_KEY]}
    for rows_of_loc in by_loc.values():
        rows_of_loc.sort(key=lambda j: QUALITY_METRICS.index(j.metric))
    loc_runs = _candidate_runs(ps, by_loc, ts)
    table = [
        {
            "carrier": _location_order(loc)[1] if _location_order(loc)[0] == 0 else None,
            "location": None if loc == REGION_KEY else loc,
            "label": labels[loc],
            "degraded": bool(loc_runs[loc]),
            "runs": [{"start": r.start, "end": r.end, "metrics": r.metrics} for r in loc_runs[loc]],
            "metrics": _metric_rows(rows_of_loc, ts, step),
        }
        for loc, rows_of_loc in by_loc.items()
        if rows_of_loc
    ]

    incidents = _overlapping_incidents(q, lang)
    region_name = q.region.name
    findings: list[dict[str, Any]] = []
    sentences: list[str] = []
    for loc in locations:
        rs = loc_runs[loc]
        if not rs:
            continue
        found = _findings(by_loc[loc], rs, ts, labels[loc], lang)
        findings += found
        start, end = rs[0].start, rs[-1].end
        fmt = {
            "region": region_name,
            "start": _fmt(start, viewer_tz, multi_day),
            "end": _fmt(end, viewer_tz, multi_day),
        }
        if not loc:
            text = words["degraded_region"].format(**fmt)
        elif ps is not None and ps.by == "node":
            text = words["degraded_node"].format(node=labels[loc], **fmt)
        else:
            text = words["degraded_carrier"].format(carrier=labels[loc], **fmt)
        inc = _incident_for(incidents, start, end, loc, labels[loc])
        if inc is not None:
            text += words["incident"].format(id=inc["id"])
        if found:
            text += words["detail"] + words["finding_sep"].join(f["text"] for f in found[:3])
        sentences.append(text)

    if sentences:
        kind = "network"
        verdict = ("；" if lang == "zh-Hans" else "; ").join(sentences) + (
            "。" if lang == "zh-Hans" else "."
        )
    elif incidents:
        kind = "incident"
        verdict = words["incident_only"].format(
            region=region_name, id=incidents[0]["id"], title=incidents[0]["title"]
        )
    elif ps is None:
        kind = "no_data"
        verdict = words["no_data"].format(region=region_name)
    elif not any(np.any(~np.isnan(j.score)) for j in judged):
        kind = "no_baseline"
        verdict = words["no_baseline"].format(region=region_name)
    else:
        kind = "not_network"
        verdict = words["clean"]
    result = Diagnosis(
        query=q,
        lang=lang,
        verdict=verdict,
        degraded=kind == "network",
        verdict_kind=kind,
        carriers=table,
        findings=findings,
        detections=[
            {
                "start": datetime.fromtimestamp(c.start, UTC),
                "end": datetime.fromtimestamp(c.last_bad + 60, UTC),
                "detected_at": datetime.fromtimestamp(c.detected_at, UTC),
                "locations": list(c.locations),
                "metrics": list(c.metrics),
                "peak_score": _num(c.peak_score),
            }
            for c in (ps.candidates if ps is not None else [])
        ],
        coverage=_coverage(ps),
        resolution=RESOLUTIONS[step],
        incidents=incidents,
        footprint=_footprint(q),
        articles=_articles(q, user, lang, list(dict.fromkeys(f["metric"] for f in findings))),
    )
    result.timezone = viewer_tz.key
    result.summary = summary(result, viewer_tz)
    result.ticket_url = ticket_url(result, viewer_tz)
    return result


def _coverage(ps: PlaceScores | None) -> float:
    """Share of the window's minutes with any measurement of the place."""
    if ps is None:
        return 0.0
    have = np.zeros(int(np.count_nonzero(ps.in_window)), dtype=bool)
    for per_loc in ps.data.values():
        for _mean, weight in per_loc.values():
            have |= weight[ps.in_window] > 0
    return round(float(np.mean(have)), 4) if len(have) else 0.0


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
        "verdict_kind": d.verdict_kind,
        "findings": d.findings,
        "detections": d.detections,
        "coverage": d.coverage,
        "series_resolution": d.resolution,
        "carriers": d.carriers,
        "incidents": d.incidents,
        "footprint": d.footprint,
        "articles": d.articles,
        "summary": d.summary,
        "ticket_url": d.ticket_url,
    }
