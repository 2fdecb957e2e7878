#!/usr/bin/env python
"""SLA due-time arithmetic on business calendars, pure Python (no Django, no database).

Six calendars of different shapes (Shanghai split shift with Chinese holidays and make-up
days, Berlin office hours, São Paulo, New York, a Berlin overnight desk and 24×7), random
start instants over two years (2026–2027) and durations from 5 minutes to 5 business days
(40 h of open time), spread log-uniformly.  The year tables are built before timing starts
(``warm_ms`` says how long that took), so the figures are the steady state a worker sees.

Measured in the same run, so the ratios hold on a noisy machine:

* ``due_per_s`` — ``add_business_seconds(start_us, dur_us)``, the integer core the SLA clock
  calls; ``due_datetime_per_s`` — the same through ``add_business_time(datetime, timedelta)``;
* ``due_scattered_per_s`` — the same calls visited in random memory order (a few cache
  misses per call, as when the inputs come from scattered objects);
* ``between_per_s`` — ``business_us_between(a_us, b_us)`` for spans up to 10 days;
* ``call_p50_us`` / ``call_p99_us`` — single due-time calls timed one by one with
  ``perf_counter_ns`` (the timer's own cost, ``timer_overhead_ns``, is *not* subtracted);
* ``calendar_due_per_s`` — the due-time rate per calendar (one line each);
* ``baseline_calls_per_s`` — a trivial ``start + dur`` Python function driven by the very same
  loop (what a 24×7 clock would cost), and ``due_to_baseline_ratio``.

Throughputs are the median of several rounds over the same pre-generated work list.  One JSON
line per result on stdout, progress on stderr.  ``--quick`` finishes in well under a minute,
the default run in well under two.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relaydesk.domain.calendar import BusinessCalendar, from_us, to_us

BENCH = "sla_clock"
US = 1_000_000
MIN_US = 60 * US
HOUR_US = 60 * MIN_US
DAY_US = 24 * HOUR_US
START_LO = to_us(datetime(2026, 1, 1, tzinfo=UTC))
START_HI = to_us(datetime(2028, 1, 1, tzinfo=UTC))
DUR_LO = 5 * MIN_US
DUR_HI = 5 * 8 * HOUR_US  # five business days of eight hours
WORKWEEK = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = (*WORKWEEK, "sat", "sun")
TARGET_DUE_PER_S = 200_000


def emit(metric: str, value: float | int | None, unit: str, **params: Any) -> None:
    if isinstance(value, float):
        value = None if math.isnan(value) or math.isinf(value) else round(value, 4)
    record: dict[str, Any] = {"bench": BENCH, "metric": metric, "value": value, "unit": unit}
    record.update({k: round(v, 4) if isinstance(v, float) else v for k, v in params.items()})
    print(json.dumps(record, ensure_ascii=False), flush=True)


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def calendars() -> dict[str, BusinessCalendar]:
    def on(days: Sequence[str], *ranges: str) -> dict[str, list[str]]:
        return {d: list(ranges) for d in days}

    return {
        "shanghai-split-cn": BusinessCalendar(
            tz="Asia/Shanghai",
            hours=on(WORKWEEK, "09:00-12:00", "13:00-18:00"),
            holiday_country="CN",
        ),
        "berlin-office-de": BusinessCalendar(
            tz="Europe/Berlin",
            hours=on(WORKWEEK, "09:00-18:00"),
            holiday_country="DE",
            closed_dates=["2026-12-24", "2027-12-24"],
        ),
        "sao-paulo-br": BusinessCalendar(
            tz="America/Sao_Paulo",
            hours={**on(WORKWEEK, "08:00-12:00", "13:00-17:00"), "sat": ["08:00-12:00"]},
            holiday_country="BR",
        ),
        "new-york-us": BusinessCalendar(
            tz="America/New_York", hours=on(WORKWEEK, "09:00-17:00"), holiday_country="US"
        ),
        "berlin-night-de": BusinessCalendar(
            tz="Europe/Berlin", hours=on(EVERY_DAY, "22:00-06:00"), holiday_country="DE"
        ),
        "24x7": BusinessCalendar.twenty_four_seven("UTC"),
    }


def warm(cals: dict[str, BusinessCalendar]) -> float:
    """Build every year table the work list can touch; returns milliseconds."""
    t0 = time.perf_counter()
    for cal in cals.values():
        cal.business_us_between(START_LO - 2 * DAY_US, START_HI + 400 * DAY_US)
    return (time.perf_counter() - t0) * 1000


def log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def work_list(
    rng: random.Random, cals: dict[str, BusinessCalendar], n: int
) -> tuple[list[tuple[Callable[[int, int], int], int, int]], list[BusinessCalendar]]:
    picked = [rng.choice(list(cals.values())) for _ in range(n)]
    work = [
        (
            cal.add_business_seconds,
            rng.randrange(START_LO, START_HI),
            log_uniform(rng, DUR_LO, DUR_HI),
        )
        for cal in picked
    ]
    return work, picked


def linear(start_us: int, dur_us: int) -> int:
    """The baseline: what a due time costs when the calendar is 24×7 and trivial."""
    return start_us + dur_us


def run_rounds(loop: Callable[[], None], calls: int, rounds: int, budget_s: float) -> list[float]:
    """Calls per second of each round (at least one round; stops early past the budget)."""
    rates: list[float] = []
    deadline = time.perf_counter() + budget_s
    for _ in range(rounds):
        t0 = time.perf_counter()
        loop()
        rates.append(calls / (time.perf_counter() - t0))
        if time.perf_counter() > deadline:
            break
    return rates


def percentile(values: Sequence[float], p: float) -> float:
    data = sorted(values)
    if not data:
        return math.nan
    rank = (len(data) - 1) * p / 100
    lo = math.floor(rank)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (rank - lo)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="smaller run, well under a minute")
    ap.add_argument("--calls", type=int, default=None, help="work-list length per round")
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds per metric")
    ap.add_argument("--seed", type=int, default=20260329)
    args = ap.parse_args(argv)

    calls = args.calls or (200_000 if args.quick else 1_000_000)
    rounds = args.rounds or (3 if args.quick else 5)
    budget_s = 8.0 if args.quick else 20.0  # per metric; keeps the whole run bounded
    sample = 20_000 if args.quick else 100_000
    rng = random.Random(args.seed)
    started = time.perf_counter()

    cals = calendars()
    k = len(cals)
    warm_ms = warm(cals)
    log(f"sla_clock: {k} calendars warmed in {warm_ms:.0f} ms; building {calls} calls")
    work, picked = work_list(rng, cals, calls)
    common = {"calls": calls, "calendars": k}

    # Sanity, not timed: the datetime API and the integer core agree, dues are never closed.
    for cal, (fn, s, d) in zip(picked[:2000], work[:2000], strict=True):
        due = fn(s, d)
        assert to_us(cal.add_business_time(from_us(s), timedelta(microseconds=d))) == due
        assert cal.is_open_us(due - 1) and cal.business_us_between(s, due) == d

    def due_loop() -> None:
        for fn, s, d in work:
            fn(s, d)

    baseline_work = [(linear, s, d) for _, s, d in work]

    def baseline_loop() -> None:
        for fn, s, d in baseline_work:
            fn(s, d)

    # Interleave the two so that machine noise hits both alike.
    due_rates: list[float] = []
    base_rates: list[float] = []
    for _ in range(rounds):
        base_rates += run_rounds(baseline_loop, calls, 1, budget_s)
        due_rates += run_rounds(due_loop, calls, 1, budget_s)
        if time.perf_counter() - started > (25 if args.quick else 60):
            break
    due_per_s = statistics.median(due_rates)
    base_per_s = statistics.median(base_rates)
    log(f"sla_clock: due rounds {[round(r) for r in due_rates]}")

    n_dt = min(calls, 200_000)
    dt_work = [
        (cal.add_business_time, from_us(s), timedelta(microseconds=d))
        for cal, (_, s, d) in zip(picked[:n_dt], work[:n_dt], strict=True)
    ]

    def datetime_loop() -> None:
        for fn, s, d in dt_work:
            fn(s, d)

    dt_per_s = statistics.median(run_rounds(datetime_loop, n_dt, rounds, budget_s))

    between_work = [
        (cal.business_us_between, s, s + rng.randrange(0, 10 * DAY_US))
        for cal, (_, s, _) in zip(picked, work, strict=True)
    ]

    def between_loop() -> None:
        for fn, a, b in between_work:
            fn(a, b)

    between_per_s = statistics.median(run_rounds(between_loop, calls, rounds, budget_s))

    # Per-call latency on a sample; the timer itself costs about timer_overhead_ns.
    clock = time.perf_counter_ns
    overhead = []
    for _ in range(10_000):
        t0 = clock()
        overhead.append(clock() - t0)
    timer_ns = statistics.median(overhead)
    per_call: list[float] = []
    for fn, s, d in work[:sample]:
        t0 = clock()
        fn(s, d)
        per_call.append((clock() - t0) / 1000)

    # One calendar at a time (shows what the 24×7 fast path contributes).  Each list is freshly
    # built, like the mixed one: a sub-list of the mixed list would be scattered in memory.
    by_cal: dict[str, float] = {}
    for name, cal in cals.items():
        mine, _ = work_list(rng, {name: cal}, calls // k)

        def cal_loop(mine: list[tuple[Callable[[int, int], int], int, int]] = mine) -> None:
            for fn, s, d in mine:
                fn(s, d)

        by_cal[name] = statistics.median(run_rounds(cal_loop, len(mine), rounds, budget_s))

    # The mixed list again, visited in random order: its tuples and integers no longer sit
    # in memory in the order they are used, which costs a few cache misses per call.  Closer
    # to a worker whose inputs come from scattered objects; reported separately.
    scattered = work[:]
    rng.shuffle(scattered)

    def scattered_loop() -> None:
        for fn, s, d in scattered:
            fn(s, d)

    scattered_per_s = statistics.median(run_rounds(scattered_loop, calls, rounds, budget_s))

    elapsed = time.perf_counter() - started
    emit("due_per_s", due_per_s, "1/s", **common, target=TARGET_DUE_PER_S)
    emit("due_scattered_per_s", scattered_per_s, "1/s", **common)
    emit("due_datetime_per_s", dt_per_s, "1/s", calls=n_dt, calendars=k)
    emit("between_per_s", between_per_s, "1/s", **common)
    emit("call_p50_us", percentile(per_call, 50), "us", calls=len(per_call), calendars=k)
    emit("call_p99_us", percentile(per_call, 99), "us", calls=len(per_call), calendars=k)
    for name, rate in by_cal.items():
        emit("calendar_due_per_s", rate, "1/s", calendar=name, calls=calls // k)
    emit("timer_overhead_ns", timer_ns, "ns", calls=len(overhead))
    emit("baseline_calls_per_s", base_per_s, "1/s", **common)
    emit("due_to_baseline_ratio", due_per_s / base_per_s, "ratio", **common)
    emit("warm_ms", warm_ms, "ms", calendars=k, start_years=2)
    emit("elapsed_s", elapsed, "s", quick=args.quick)
    verdict = "meets" if due_per_s >= TARGET_DUE_PER_S else "MISSES"
    log(f"sla_clock: {due_per_s:,.0f} due/s {verdict} the {TARGET_DUE_PER_S:,} target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
