#!/usr/bin/env python
"""Staffing models and the queue simulation, pure Python + NumPy (no Django, no database).

Results (one JSON line each, median of the rounds):

* ``sim_week_s`` — one simulated week with ``arrivals`` tickets (a daily shape: busy 08–20 h,
  quiet at night), exponential handling of 600 s, a rota of 168 hourly counts, no warm-up;
  the target is a week of 10,000 arrivals in under a second;
* ``sim_week_abandon_s`` — the same with exponential patience (abandonment);
* ``plan_erlang_c_ms`` / ``plan_erlang_a_ms`` — agents needed for all 168 hours of a week
  (no simulation);
* ``plan_full_s`` — the whole plan as the API computes it: Erlang C per hour, then two
  simulations (the rota and the computed need) of ``weeks`` weeks after one warm-up week;
* ``agents_needed_big_ms`` — one Erlang C and one Erlang A staffing search at 100,000 tickets
  per hour (≈16,700 Erlangs): the numerically hard case.

``--quick`` runs fewer rounds and finishes in a few seconds; every loop is bounded by a round
count and a time budget.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, log
from relaydesk.domain import simulation as sim
from relaydesk.domain import staffing as model

BENCH = "staffing"


def shape(total: float) -> list[float]:
    """168 hourly rates summing to ``total``: days three times as busy as nights."""
    weights = [3.0 if 8 <= h % 24 < 20 else 1.0 for h in range(168)]
    scale = total / sum(weights)
    return [w * scale for w in weights]


def timed(fn: Callable[[], object], rounds: int, budget_s: float) -> float:
    """Median seconds of up to ``rounds`` calls, stopping early once ``budget_s`` is spent."""
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() > deadline:
            break
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a few seconds)")
    ap.add_argument("--arrivals", type=int, default=10_000, help="tickets per simulated week")
    ap.add_argument("--weeks", type=int, default=4, help="simulated weeks in plan_full_s")
    args = ap.parse_args(argv)
    if not 1 <= args.arrivals <= 1_000_000:
        ap.error("--arrivals must be 1–1,000,000")
    if not 1 <= args.weeks <= 8:
        ap.error("--weeks must be 1–8")
    rounds = 3 if args.quick else 9
    budget = 10.0 if args.quick else 40.0

    arrivals = shape(args.arrivals)
    aht = 600.0
    needed = [model.agents_needed(a, aht, 0.9, 300) for a in arrivals]
    rota = [max(0, n - 1) if 8 <= h % 24 < 20 else n for h, n in enumerate(needed)]
    cap = sim.Capacity.from_hourly(rota)

    def week(patience: float | None) -> Callable[[], object]:
        cfg = sim.SimulationConfig(
            arrivals_per_hour=arrivals,
            aht_s=aht,
            within_s=300,
            patience_s=patience,
            weeks=1,
            warmup_weeks=0,
            seed=1,
        )
        return lambda: sim.simulate(cfg, cap)

    log(f"{BENCH}: {args.arrivals} arrivals/week, rounds={rounds}")
    emit(BENCH, "sim_week_s", timed(week(None), rounds, budget), "s", arrivals=args.arrivals)
    emit(
        BENCH,
        "sim_week_abandon_s",
        timed(week(900.0), rounds, budget),
        "s",
        arrivals=args.arrivals,
        patience_s=900,
    )
    t = timed(lambda: model.plan(arrivals, aht, 0.9, 300, simulate=False), rounds, budget)
    emit(BENCH, "plan_erlang_c_ms", 1000 * t, "ms", arrivals=args.arrivals)
    t = timed(
        lambda: model.plan(arrivals, aht, 0.9, 300, patience_s=900, simulate=False), rounds, budget
    )
    emit(BENCH, "plan_erlang_a_ms", 1000 * t, "ms", arrivals=args.arrivals, patience_s=900)
    t = timed(
        lambda: model.plan(arrivals, aht, 0.9, 300, rota=rota, weeks=args.weeks), rounds, budget
    )
    emit(BENCH, "plan_full_s", t, "s", arrivals=args.arrivals, weeks=args.weeks)
    t = timed(lambda: model.agents_needed_erlang_c(100_000, aht, 0.9, 20), rounds, budget)
    emit(
        BENCH,
        "agents_needed_big_ms",
        1000 * t,
        "ms",
        model="erlang_c",
        erlangs=round(100_000 * aht / 3600),
    )
    t = timed(lambda: model.agents_needed_erlang_a(100_000, aht, 0.9, 20, 300), rounds, budget)
    emit(
        BENCH,
        "agents_needed_big_ms",
        1000 * t,
        "ms",
        model="erlang_a",
        erlangs=round(100_000 * aht / 3600),
    )


if __name__ == "__main__":
    main()
