"""From per-series scores to incident candidates: corroboration across series and grouping
by service × region × time, one candidate per problem (not per series), with severity from
impact.  Pure functions over arrays; ``relaydesk.incidents`` turns candidates into records.

Inputs share one time grid: ``timestamps`` (T,) of equally spaced minute starts, and a
``scores`` matrix (series × T) from :func:`relaydesk.detection.score_series` (NaN = no data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from relaydesk.detection.detector import DEFAULT_PARAMS, DetectorParams, score_series_detailed

F64 = NDArray[np.float64]

Severity = Literal["minor", "major", "critical"]
COMPONENT_STATUS: dict[str, str] = {
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "major_outage",
}


@dataclass(frozen=True)
class SeriesKey:
    """Where a series comes from.  ``location`` is the carrier or edge node ("" for the
    region as a whole)."""

    service: str
    region: str
    location: str
    metric: str


@dataclass(frozen=True)
class GroupingParams:
    floor: float = 0.2  # scores below this are ignored when combining
    open_threshold: float = 0.9  # region evidence that opens an incident
    close_threshold: float = 0.25  # evidence below this (with data) is a quiet minute
    merge_minutes: int = 30  # quiet minutes that separate two incidents
    resolve_after_minutes: int = 15  # quiet minutes before proposing to resolve
    series_threshold: float = 0.5  # a series at/above this counts as affected
    # Corroborated minutes: when at least ``fast_locations`` locations (carriers, nodes) of a
    # service × region are at or above ``fast_threshold`` in the same minute by their
    # instantaneous score, those scores count without waiting for persistence (independent
    # witnesses agreeing is the confirmation).  Needs ``instant`` in ``group_incidents``.
    fast_threshold: float = 0.5
    fast_locations: int = 2
    # Severe minutes: a location with at least ``severe_metrics`` metrics at or above
    # ``severe_threshold`` by their instantaneous scores in the same minute (twice the
    # user-visible tolerance on two metrics, by default) counts at once: the worse a
    # minute, the less confirmation it needs.  0 turns this off.  Needs ``instant``.
    severe_threshold: float = 1.0
    severe_metrics: int = 2
    # Early agreement: when at least ``early_locations`` locations have the *same metric* at
    # or above ``early_threshold`` by their early score (the test against the statistical
    # tolerance alone, ``SeriesScores.early``), the minute opens and those early scores
    # count.  A ramp still below the user-visible minimum but plainly worse on every
    # carrier at once opens before it is bad enough on each.  Needs ``early``.
    early_threshold: float = 0.3
    early_locations: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.floor <= self.close_threshold <= self.open_threshold <= 1:
            raise ValueError("need 0 <= floor <= close_threshold <= open_threshold <= 1")
        if not 0 < self.fast_threshold <= 1 or self.fast_locations < 2:
            raise ValueError("need 0 < fast_threshold <= 1 and fast_locations >= 2")
        if not 0 < self.severe_threshold <= 1 or self.severe_metrics < 0:
            raise ValueError("need 0 < severe_threshold <= 1 and severe_metrics >= 0")
        if not 0 < self.early_threshold <= 1 or self.early_locations < 2:
            raise ValueError("need 0 < early_threshold <= 1 and early_locations >= 2")
        if self.merge_minutes < 1 or self.resolve_after_minutes < 1:
            raise ValueError("merge_minutes and resolve_after_minutes must be >= 1")


DEFAULT_GROUPING = GroupingParams()


# -- corroboration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Region-level evidence per minute from several series (e.g. one metric on every
    carrier of a region): ``evidence`` in [0, 1] (NaN: no series had data), how many series
    alarm (score >= threshold) and support (>= floor), and the traffic share of the
    alarming series."""

    evidence: F64
    alarming: NDArray[np.int64]
    supporting: NDArray[np.int64]
    affected_share: F64
    coverage: F64  # share of series with data that minute


def corroborate(
    scores: ArrayLike,
    traffic: ArrayLike | None = None,
    *,
    threshold: float = 0.5,
    floor: float = 0.2,
) -> Evidence:
    """Combine per-series scores (series × T) into region-level evidence.

    Evidence is the noisy-OR of the scores at or above ``floor``: one series at 0.5 gives
    0.5, two agreeing series at 0.35 give 0.58, three at 0.3 give 0.66 — several carriers
    (or metrics) worse at once is stronger evidence than one.  ``traffic`` (series × T or
    series,) weighs the affected share; without it each series counts equally.
    """
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    present = ~np.isnan(s)
    filled = np.where(present & (s >= floor), s, 0.0)
    evidence = 1.0 - np.prod(1.0 - filled, axis=0)
    any_data = present.any(axis=0)
    evidence = np.where(any_data, evidence, np.nan)
    alarming = (present & (s >= threshold)).sum(axis=0).astype(np.int64)
    supporting = (present & (s >= floor)).sum(axis=0).astype(np.int64)
    if traffic is None:
        w = np.ones_like(s)
    else:
        w = np.asarray(traffic, dtype=np.float64)
        w = np.broadcast_to(w[:, None] if w.ndim == 1 else w, s.shape)
        w = np.nan_to_num(w, nan=0.0)
    total = w.sum(axis=0)
    hit = np.where(present & (s >= threshold), w, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, hit / total, np.nan)
    coverage = present.mean(axis=0) if s.shape[0] else np.zeros(s.shape[1])
    return Evidence(evidence, alarming, supporting, share, coverage)


# -- grouping --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentCandidate:
    """One problem in one service × region over time.  Times are epoch seconds: ``start`` is
    the first minute of the bad stretch, ``detected_at`` the end of the minute whose
    evidence opened it, ``last_bad`` the start of the last bad minute.  ``recovered_at`` is
    the first quiet minute with data after it (minutes without data prove nothing);
    ``propose_resolve_at`` the end of the ``resolve_after_minutes``-th quiet minute (ask an
    operator to resolve); ``ongoing`` is False once ``merge_minutes`` quiet minutes have
    passed (a relapse after that is a new candidate)."""

    key: str
    service: str
    region: str
    start: float
    detected_at: float
    last_bad: float
    recovered_at: float | None
    propose_resolve_at: float | None
    ongoing: bool
    locations: tuple[str, ...]
    metrics: tuple[str, ...]
    peak_score: float
    traffic_share: float
    severity: Severity
    component_status: str
    series_peaks: dict[tuple[str, str], float] = field(default_factory=dict)


def severity_from_impact(traffic_share: float, peak_score: float) -> Severity:
    """Impact = how much of the region's traffic is affected × how bad it is."""
    if traffic_share >= 0.5 and peak_score >= 0.9:
        return "critical"
    if traffic_share >= 0.5 or (traffic_share >= 0.2 and peak_score >= 0.75):
        return "major"
    return "minor"


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs."""
    if not mask.any():
        return []
    m = np.concatenate([[False], mask, [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _loc_max(mat: F64, locs: Sequence[str], loc: str) -> F64:
    """Per minute, the largest value among the rows of one location (NaN if none has data)."""
    mine = mat[[j for j, x in enumerate(locs) if x == loc]]
    has = ~np.isnan(mine).all(axis=0)
    return np.where(has, np.nanmax(np.where(np.isnan(mine), -1.0, mine), axis=0), np.nan)


def _corroborated(
    sub: F64,
    inst: F64 | None,
    early: F64 | None,
    locs: Sequence[str],
    mets: Sequence[str],
    params: GroupingParams,
) -> tuple[F64, NDArray[np.bool_]]:
    """Scores of one service × region (rows: series at ``locs`` × ``mets``), raised in the
    minutes that need no persistence, and the minutes an early agreement opens:

    * several locations bad at once (``fast_*``): their instantaneous scores count;
    * one location severely bad on several metrics (``severe_*``): those metrics'
      instantaneous scores count;
    * ``early_locations`` locations agreeing on one metric by the early score
      (``early_*``): the minute opens and those early scores count.
    """
    names = sorted(set(locs))
    out = sub.copy()
    opens = np.zeros(sub.shape[1], dtype=bool)
    if inst is not None:
        filled = np.nan_to_num(inst, nan=0.0)
        if len(names) >= params.fast_locations:
            bad = np.zeros(sub.shape[1], dtype=np.int64)
            for loc in names:
                bad += np.nan_to_num(_loc_max(inst, locs, loc), nan=0.0) >= params.fast_threshold
            agree = bad >= params.fast_locations
            if agree.any():
                lift = agree[None, :] & ~np.isnan(inst) & ~np.isnan(out)
                out = np.where(lift, np.fmax(out, inst), out)
        if params.severe_metrics > 0:
            hot = (filled >= params.severe_threshold) & ~np.isnan(sub)
            for loc in names:
                mine = [j for j, x in enumerate(locs) if x == loc]
                severe = hot[mine].sum(axis=0) >= params.severe_metrics
                for j in mine:
                    lift = severe & hot[j]
                    out[j] = np.where(lift, np.fmax(out[j], inst[j]), out[j])
    if early is None or len(names) < params.early_locations:
        return out, opens
    # only minutes that are scored vote (``score_from``: earlier minutes are history)
    hot = (np.nan_to_num(early, nan=0.0) >= params.early_threshold) & ~np.isnan(sub)
    for met in sorted(set(mets)):
        rows = [j for j, m in enumerate(mets) if m == met]
        # one vote per location (a location may have several series of one metric)
        votes = np.zeros(sub.shape[1], dtype=np.int64)
        for loc in sorted({locs[j] for j in rows}):
            votes += hot[[j for j in rows if locs[j] == loc]].any(axis=0)
        agree = votes >= params.early_locations
        if not agree.any():
            continue
        opens |= agree
        for j in rows:
            lift = agree & hot[j]
            out[j] = np.where(lift, np.fmax(out[j], early[j]), out[j])
    return out, opens


def group_incidents(
    timestamps: ArrayLike,
    keys: Sequence[SeriesKey],
    scores: ArrayLike,
    traffic: Mapping[tuple[str, str, str], ArrayLike] | None = None,
    params: GroupingParams = DEFAULT_GROUPING,
    instant: ArrayLike | None = None,
    early: ArrayLike | None = None,
) -> list[IncidentCandidate]:
    """Group per-series scores into incident candidates (sorted by start).

    ``traffic`` maps ``(service, region, location)`` to sessions per minute (T,) — the
    ``concurrent_users`` of that carrier or node — and gives the affected traffic share;
    without it every location of a region weighs the same.  Within one service × region,
    evidence is the noisy-OR of all its series (so several metrics or carriers at once
    corroborate each other); an incident opens at ``open_threshold``, continues while
    evidence stays at or above ``close_threshold`` and ends after ``merge_minutes`` quiet
    minutes (minutes without any data are neither bad nor quiet).  Within one location the
    strongest metric counts (metrics of one route move together); locations corroborate
    each other by noisy-OR.

    ``instant`` (series × T, optional): the instantaneous scores beside ``scores``
    (``score_series_detailed(...).instant``).  With it, a minute in which at least
    ``params.fast_locations`` locations are at or above ``params.fast_threshold`` uses the
    instantaneous scores of that minute where they exceed the persistent ones: a problem on
    several carriers at once opens without waiting for its second minute (a route blip hits
    one carrier, so this does not let blips through).  A minute in which one location is at
    or above ``params.severe_threshold`` on at least ``params.severe_metrics`` metrics also
    counts at once (twice the user-visible tolerance on two metrics: the worse a minute,
    the less confirmation it needs).

    ``early`` (series × T, optional): the early scores (``score_series_detailed(...).early``,
    the same test against the statistical tolerance alone).  A minute in which at least
    ``params.early_locations`` locations have the same metric at or above
    ``params.early_threshold`` by it opens an incident, with those early scores as the
    series' scores: a ramp on every carrier at once is found while it is still below the
    user-visible minimum on each.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    sc = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if sc.shape != (len(keys), len(ts)):
        raise ValueError(f"scores must be (series, T) = ({len(keys)}, {len(ts)})")
    inst: F64 | None = None
    if instant is not None:
        inst = np.atleast_2d(np.asarray(instant, dtype=np.float64))
        if inst.shape != sc.shape:
            raise ValueError(f"instant must be (series, T) = ({len(keys)}, {len(ts)})")
    ear: F64 | None = None
    if early is not None:
        ear = np.atleast_2d(np.asarray(early, dtype=np.float64))
        if ear.shape != sc.shape:
            raise ValueError(f"early must be (series, T) = ({len(keys)}, {len(ts)})")
    if len(ts) == 0:
        return []
    step = float(np.median(np.diff(ts))) if len(ts) > 1 else 60.0
    groups: dict[tuple[str, str], list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault((k.service, k.region), []).append(i)

    out: list[IncidentCandidate] = []
    for (service, region), rows in sorted(groups.items()):
        sub = sc[rows]
        locations = sorted({keys[i].location for i in rows})
        agreed = np.zeros(len(ts), dtype=bool)
        if inst is not None or ear is not None:
            sub, agreed = _corroborated(
                sub,
                None if inst is None else inst[rows],
                None if ear is None else ear[rows],
                [keys[i].location for i in rows],
                [keys[i].metric for i in rows],
                params,
            )
        # Metrics of one location move together (one route blip raises RTT, loss and
        # freezes at once), so within a location the strongest metric speaks for it;
        # different locations are independent witnesses and corroborate (noisy-OR).
        per_loc = np.full((len(locations), len(ts)), np.nan)
        row_locs = [keys[i].location for i in rows]
        for li, loc in enumerate(locations):
            per_loc[li] = _loc_max(sub, row_locs, loc)
        ev = corroborate(per_loc, floor=params.floor).evidence
        ev = np.where(agreed, np.fmax(ev, params.open_threshold), ev)
        known = ~np.isnan(ev)
        bad = known & (ev >= params.close_threshold)
        opening = known & (ev >= params.open_threshold)
        quiet = known & (ev < params.close_threshold)
        quiet_cum = np.concatenate([[0], np.cumsum(quiet)])

        # Bad runs, merged when fewer than merge_minutes quiet minutes lie between them.
        clusters: list[list[tuple[int, int]]] = []
        for a, b in _runs(bad):
            if clusters and quiet_cum[a] - quiet_cum[clusters[-1][-1][1]] < params.merge_minutes:
                clusters[-1].append((a, b))
            else:
                clusters.append([(a, b)])

        loc_traffic: dict[str, F64] = {}
        for loc in locations:
            if traffic is None:  # no traffic known: every location weighs the same
                loc_traffic[loc] = np.ones(len(ts))
                continue
            t = traffic.get((service, region, loc))  # a location without traffic weighs 0
            loc_traffic[loc] = (
                np.zeros(len(ts)) if t is None else np.nan_to_num(np.asarray(t, np.float64))
            )
        total_traffic = np.sum([loc_traffic[loc] for loc in locations], axis=0)

        for runs in clusters:
            opens = [r for r in runs if opening[r[0] : r[1]].any()]
            if not opens:
                continue
            first = opens[0]
            kept = [r for r in runs if r[0] >= first[0]]
            a0 = first[0]
            first_open = a0 + int(np.argmax(opening[first[0] : first[1]]))
            last = kept[-1][1] - 1
            span = slice(a0, last + 1)
            peaks = np.nanmax(np.where(np.isnan(sub[:, span]), -1.0, sub[:, span]), axis=1)
            hit_rows = [rows[j] for j in range(len(rows)) if peaks[j] >= params.series_threshold]
            if not hit_rows:  # opened by corroboration of weaker series: take the strongest
                hit_rows = [rows[int(np.argmax(peaks))]]
            series_peaks = {
                (keys[rows[j]].location, keys[rows[j]].metric): float(peaks[j])
                for j in range(len(rows))
                if peaks[j] >= params.floor
            }
            locs = tuple(sorted({keys[i].location for i in hit_rows}))
            mets = tuple(sorted({keys[i].metric for i in hit_rows}))
            aff = np.sum([loc_traffic[loc][span] for loc in locs], axis=0)
            tot = total_traffic[span]
            share = float(aff.sum() / tot.sum()) if tot.sum() > 0 else 0.0
            peak = float(np.nanmax(sub[:, span]))
            # Recovery needs evidence: quiet minutes *with data* after the last bad one.
            quiet_after = np.flatnonzero(quiet[last + 1 :]) + last + 1
            after = len(quiet_after)
            recovered = float(ts[quiet_after[0]]) if after > 0 else None
            propose = (
                float(ts[quiet_after[params.resolve_after_minutes - 1]] + step)
                if after >= params.resolve_after_minutes
                else None
            )
            sev = severity_from_impact(share, peak)
            out.append(
                IncidentCandidate(
                    key=f"{service}:{region}:{int(ts[a0])}",
                    service=service,
                    region=region,
                    start=float(ts[a0]),
                    detected_at=float(ts[first_open] + step),
                    last_bad=float(ts[last]),
                    recovered_at=recovered,
                    propose_resolve_at=propose,
                    ongoing=after < params.merge_minutes,
                    locations=locs,
                    metrics=mets,
                    peak_score=peak,
                    traffic_share=round(share, 4),
                    severity=sev,
                    component_status=COMPONENT_STATUS[sev],
                    series_peaks=series_peaks,
                )
            )
    out.sort(key=lambda c: (c.start, c.service, c.region))
    return out


def detect_incidents(
    timestamps: ArrayLike,
    series: Mapping[SeriesKey, tuple[ArrayLike, ArrayLike | None]],
    *,
    traffic: Mapping[tuple[str, str, str], ArrayLike] | None = None,
    tz_by_region: Mapping[str, str] | None = None,
    params: DetectorParams = DEFAULT_PARAMS,
    grouping: GroupingParams = DEFAULT_GROUPING,
    score_from: float | None = None,
) -> list[IncidentCandidate]:
    """Score every series on one minute grid and group the scores: the whole pipeline.

    ``series`` maps a key to ``(values, weights)`` aligned with ``timestamps`` (NaN where a
    minute has no rollup).  ``tz_by_region`` gives each region's time zone (UTC if absent).
    With ``score_from`` only the minutes from then on are scored (the earlier ones are
    history), so a periodic job can pass weeks of rollups and look at the last hours.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    keys = list(series)
    zones = tz_by_region or {}
    rows = [
        score_series_detailed(
            ts,
            series[k][0],
            series[k][1],
            k.metric,
            params=params,
            tz=zones.get(k.region),
            score_from=score_from,
        )
        for k in keys
    ]
    scores = np.vstack([r.scores for r in rows]) if rows else np.zeros((0, len(ts)))
    inst = np.vstack([r.instant for r in rows]) if rows else np.zeros((0, len(ts)))
    early = np.vstack([r.early for r in rows]) if rows else np.zeros((0, len(ts)))
    return group_incidents(ts, keys, scores, traffic, grouping, instant=inst, early=early)
