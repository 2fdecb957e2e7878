#!/usr/bin/env python
"""Detection quality and speed on generated telemetry with labelled incidents (pure NumPy,
no Django, no database).

For each seed: ``relaydesk.detection.generator.generate`` makes ``--days`` (default 28) of
per-minute telemetry for 6 regions × 3 carriers × all 9 metrics of one service, with
incidents injected at ~2 per region-week (sudden and gradual; one carrier, two, or the
whole region; route / joins / latency / video metric groups; severity 0.3–1.6).  Every
series is scored with ``score_series_detailed`` (in the region's time zone) and the scores
are grouped with ``group_incidents`` (with the instantaneous scores, for corroboration
across carriers and severe minutes, and the early scores, for ramps seen on every carrier
at once); candidates are matched to labels by service, region and time overlap (label
start … label end + 15 min).

Metrics (one JSON line each, with ``seed`` and ``split``):

* ``recall`` — share of labelled incidents affecting >= 10 % of the region's traffic that
  a candidate matched (target >= 0.95); ``recall_all``, ``recall_small_share`` (< 10 %);
* ``precision`` — share of candidates that match a label;
* ``median_delay_s`` / ``p95_delay_s`` — ``detected_at`` (end of the minute whose evidence
  opened the candidate) minus the true start (which falls anywhere inside a minute), over
  matched incidents >= 10 % share (target: median <= 120 s); ``median_delay_sudden_s`` and
  ``median_delay_gradual_s`` split it by kind (a gradual incident's start is the start of
  its ramp); ``delay_le_120s_share`` is the share of those delays <= 120 s (the median
  meets its target while this stays above one half; ``labels_big_gradual`` says how many
  of the incidents are gradual, which is what moves it from seed to seed: a ramp of 5–30
  minutes is rarely bad enough to tell from noise within its first two minutes);
* ``false_incidents_per_region_week`` — unmatched candidates per region and week of scored
  time (target <= 1);
* ``samples_scored_per_s`` — batch scoring throughput over every series;
  ``stream_samples_per_s`` — ``SeriesDetector.update`` on a few series (bounded), and
  ``stream_equals_batch`` (1 when the streaming scores equal the batch scores bit for bit).

``--incident-scale 0.5`` makes every injected incident half as bad, to show where
detection stops (the targets are for the default scale).

``split`` is ``tuning`` for the seeds looked at while the parameters were chosen (1–12,
15–20 and 31–46) and ``held_out`` for the others (13, 14, 21–30, 47 on).  ``--quick``: seeds
1 and 3, ~30 s.  Default: seeds 1–5.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench._common import Budget, emit, log, percentile
from relaydesk.detection import (
    SeriesDetector,
    SeriesKey,
    group_incidents,
    score_series,
    score_series_detailed,
)
from relaydesk.detection.generator import InjectedIncident, Telemetry, generate
from relaydesk.detection.incidents import IncidentCandidate

BENCH = "detection"
# looked at while choosing the parameters (docs/decisions/0007-detection.md)
TUNING_SEEDS = (*range(1, 13), *range(15, 21), *range(31, 47))
MATCH_GRACE_S = 15 * 60
SHARE_TARGET = 0.10


def score_all(
    tel: Telemetry,
) -> tuple[list[SeriesKey], np.ndarray, np.ndarray, np.ndarray, float, int]:
    keys: list[SeriesKey] = []
    rows: list[np.ndarray] = []
    inst: list[np.ndarray] = []
    early: list[np.ndarray] = []
    tz = {r.code: r.tz for r in tel.regions}
    samples = 0
    t0 = time.perf_counter()
    for (svc, reg, car, met), vals, wts in tel.series():
        if met == "concurrent_users":
            continue
        got = score_series_detailed(tel.timestamps, vals, wts, met, tz=tz[reg])
        rows.append(got.scores)
        inst.append(got.instant)
        early.append(got.early)
        keys.append(SeriesKey(svc, reg, car, met))
        samples += len(vals)
    elapsed = time.perf_counter() - t0
    return keys, np.vstack(rows), np.vstack(inst), np.vstack(early), elapsed, samples


def evaluate(tel: Telemetry, cands: list[IncidentCandidate], scored_from: float) -> dict[str, Any]:
    labels = tel.incidents
    matched_cands: set[str] = set()
    delays: list[float] = []
    by_kind: dict[str, list[float]] = {"sudden": [], "gradual": []}
    hit: dict[int, bool] = {}
    for lab in labels:
        found = [
            c
            for c in cands
            if c.service == lab.service
            and c.region == lab.region
            and c.start <= lab.end + MATCH_GRACE_S
            and c.last_bad + 60 >= lab.start
        ]
        hit[lab.id] = bool(found)
        for c in found:
            matched_cands.add(c.key)
        if found and lab.traffic_share >= SHARE_TARGET:
            delays.append(min(c.detected_at for c in found) - lab.start)
            by_kind[lab.kind].append(delays[-1])
    big = [lab for lab in labels if lab.traffic_share >= SHARE_TARGET]
    small = [lab for lab in labels if lab.traffic_share < SHARE_TARGET]
    scored = [c for c in cands if c.start >= scored_from]
    false = [c for c in scored if c.key not in matched_cands]
    weeks = (tel.timestamps[-1] + 60 - scored_from) / (7 * 86400)
    region_weeks = weeks * len(tel.regions) * len(tel.services)

    def rec(ls: list[InjectedIncident]) -> float:
        return sum(hit[lab.id] for lab in ls) / len(ls) if ls else math.nan

    missed = [lab for lab in big if not hit[lab.id]]
    return {
        "recall": rec(big),
        "recall_all": rec(labels),
        "recall_small_share": rec(small),
        "precision": (len(scored) - len(false)) / len(scored) if scored else math.nan,
        "median_delay_s": percentile(delays, 50),
        "delay_le_120s_share": (
            sum(d <= 120 for d in delays) / len(delays) if delays else math.nan
        ),
        "p95_delay_s": percentile(delays, 95),
        "median_delay_sudden_s": percentile(by_kind["sudden"], 50),
        "median_delay_gradual_s": percentile(by_kind["gradual"], 50),
        "false_incidents_per_region_week": len(false) / region_weeks,
        "labels": len(labels),
        "labels_big": len(big),
        "labels_big_gradual": sum(lab.kind == "gradual" for lab in big),
        "candidates": len(scored),
        "false_candidates": len(false),
        "missed": missed,
        "false": false,
    }


def stream_check(tel: Telemetry, budget_s: float) -> tuple[float, int, bool]:
    """Streaming throughput over a few series, bounded in time; and equality with batch."""
    picks = ["rtt_ms", "join_success_rate", "video_freeze_rate"]
    done = 0
    equal = True
    t_total = 0.0
    budget = Budget(max_count=len(picks), max_seconds=budget_s)
    series = {k[3]: (k, v, w) for k, v, w in tel.series() if k[1] == tel.regions[0].code}
    for met in picks:
        if not budget.take():
            break
        _, vals, wts = series[met]
        tz = tel.regions[0].tz
        det = SeriesDetector(met, tz=tz)
        n = len(vals)
        out = np.empty(n)
        t0 = time.perf_counter()
        deadline = t0 + budget_s / len(picks)
        k = 0
        while k < n and time.perf_counter() < deadline:
            out[k] = det.update(
                float(tel.timestamps[k]), float(vals[k]), None if wts is None else float(wts[k])
            )
            k += 1
        t_total += time.perf_counter() - t0
        done += k
        batch = score_series(
            tel.timestamps[:k], vals[:k], None if wts is None else wts[:k], met, tz=tz
        )
        equal &= bool(np.array_equal(out[:k], batch, equal_nan=True))
    return (done / t_total if t_total else math.nan), done, equal


def run_seed(seed: int, days: float, quick: bool, stream_s: float, scale: float = 1.0) -> None:
    split = "tuning" if seed in TUNING_SEEDS else "held_out"
    t0 = time.perf_counter()
    tel = generate(seed=seed, days=days, incident_scale=scale)
    gen_s = time.perf_counter() - t0
    n_samples = int(np.prod(tel.values.shape))
    log(
        f"seed {seed}: generated {n_samples:,} samples, {len(tel.incidents)} incidents in {gen_s:.1f} s"
    )
    keys, scores, instant, early, score_s, samples = score_all(tel)
    traffic = {
        (svc, reg.code, car): tel.traffic[si, ri, ci]
        for si, svc in enumerate(tel.services)
        for ri, reg in enumerate(tel.regions)
        for ci, car in enumerate(reg.carriers)
    }
    t1 = time.perf_counter()
    cands = group_incidents(tel.timestamps, keys, scores, traffic, instant=instant, early=early)
    group_s = time.perf_counter() - t1
    scored_from = tel.start + 2 * 86400  # the detector warms up for two days
    res = evaluate(tel, cands, scored_from)
    params = {
        "seed": seed,
        "split": split,
        "days": days,
        "regions": len(tel.regions),
        "carriers": 3,
        "incident_scale": scale,
        "labels": res["labels"],
        "labels_big": res["labels_big"],
        "labels_big_gradual": res["labels_big_gradual"],
        "candidates": res["candidates"],
    }
    emit(BENCH, "recall", res["recall"], "ratio", target=">=0.95",
         ok=res["recall"] >= 0.95, **params)  # fmt: skip
    emit(BENCH, "recall_all", res["recall_all"], "ratio", **params)
    emit(BENCH, "recall_small_share", res["recall_small_share"], "ratio", **params)
    emit(BENCH, "precision", res["precision"], "ratio", **params)
    emit(BENCH, "median_delay_s", res["median_delay_s"], "s", target="<=120",
         ok=res["median_delay_s"] <= 120, **params)  # fmt: skip
    emit(BENCH, "p95_delay_s", res["p95_delay_s"], "s", **params)
    emit(BENCH, "delay_le_120s_share", res["delay_le_120s_share"], "ratio", **params)
    emit(BENCH, "median_delay_sudden_s", res["median_delay_sudden_s"], "s", **params)
    emit(BENCH, "median_delay_gradual_s", res["median_delay_gradual_s"], "s", **params)
    fpw = res["false_incidents_per_region_week"]
    emit(BENCH, "false_incidents_per_region_week", fpw, "count", target="<=1",
         ok=fpw <= 1, false_candidates=res["false_candidates"], **params)  # fmt: skip
    emit(BENCH, "samples_scored_per_s", samples / score_s, "samples/s", samples=samples,
         seconds=score_s, **params)  # fmt: skip
    emit(BENCH, "generate_s", gen_s, "s", samples=n_samples, **params)
    emit(BENCH, "group_s", group_s, "s", series=len(keys), **params)
    for lab in res["missed"]:
        log(f"  missed: {lab.region} {lab.scope} {lab.carriers} {lab.group} {lab.kind} "
            f"sev={lab.severity:.2f} share={lab.traffic_share:.2f} "
            f"dur={(lab.end - lab.start) / 60:.0f}min")  # fmt: skip
    for c in res["false"]:
        log(f"  false: {c.region} {c.locations} {c.metrics} peak={c.peak_score:.2f} "
            f"dur={(c.last_bad - c.start) / 60 + 1:.0f}min")  # fmt: skip
    if not quick or seed == 3:  # --quick: the streaming check on its second seed only
        rate, done, equal = stream_check(tel, stream_s)
        emit(BENCH, "stream_samples_per_s", rate, "samples/s", samples=done, **params)
        emit(BENCH, "stream_equals_batch", int(equal), "bool", samples=done, **params)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="seeds 1 and 3 only (~30 s)")
    ap.add_argument(
        "--seeds", type=int, nargs="*", help="seeds to run (see TUNING_SEEDS for the split)"
    )
    ap.add_argument("--days", type=float, default=28.0, help="days of telemetry per seed")
    ap.add_argument(
        "--incident-scale",
        type=float,
        default=1.0,
        help="multiply every injected incident's effect (e.g. 0.5 to probe weaker ones)",
    )
    ap.add_argument(
        "--stream-seconds", type=float, help="time budget of the streaming check (6 / 20 s)"
    )
    args = ap.parse_args(argv)
    stream_s = args.stream_seconds or (6.0 if args.quick else 20.0)
    if args.incident_scale <= 0:
        ap.error("--incident-scale must be > 0")
    seeds = args.seeds or ([1, 3] if args.quick else [1, 2, 3, 4, 5])
    if args.days < 7:
        ap.error("--days must be at least 7 (the detector learns from the previous week)")
    for seed in seeds:
        run_seed(seed, args.days, args.quick, stream_s, args.incident_scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
