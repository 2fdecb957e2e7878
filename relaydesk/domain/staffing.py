"""Queueing models for staffing: how many agents does a ticket load need to meet a target such
as "90 % answered within 300 s"?  Pure Python + NumPy (no Django), fed with plain numbers.

Models (see ``docs/decisions/0011-staffing.md``):

* **Erlang C** (M/M/n): Poisson arrivals at rate λ, exponential handling with mean ``aht``
  (μ = 1/aht), ``n`` agents, infinite patience.  Offered load ``A = λ·aht`` in Erlangs.
  Erlang B is computed by the recursion ``1/B(k) = 1 + (k/A)·1/B(k-1)`` in log space, so it
  neither overflows nor underflows for loads of many thousands of Erlangs; Erlang C follows
  from B: ``C = B / (1 - (A/n)(1 - B))`` for ``n > A`` (otherwise every arrival waits).
  Service level ``P(W ≤ t) = 1 - C·exp(-(n - A)·t/aht)``, average speed of answer
  ``ASA = C·aht/(n - A)``, occupancy ``A/n``.
* **Erlang A** (Palm's M/M/n+M): the same with exponential patience (mean ``patience``,
  θ = 1/patience); a caller who waits longer than their patience abandons.  The number in
  system is a birth–death chain (birth λ; death ``min(k, n)·μ + max(k - n, 0)·θ``); its
  stationary law is computed in log space relative to state ``n`` and truncated where the
  remaining mass is below 1e-15.  By PASTA an arrival sees that law.  An arrival that finds
  ``j`` callers queued ahead is answered once ``j + 1`` "advances" happened (a service
  completion, rate nμ, or an abandonment of one of the ``m`` still ahead, rate mθ) before
  its own patience runs out (rate θ).  ``P(answered within t)`` is the absorption
  probability of that small Markov chain, computed by uniformisation (all terms positive,
  no cancellation).  Abandonment share ``θ·E[queue]/λ`` (rate balance), mean wait of all
  arrivals ``E[queue]/λ`` (Little).

Service level here is always the share of *all offered* tickets answered within ``t``
(abandoned ones count as missed), which is the stricter of the usual conventions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from relaydesk.domain import simulation as sim

__all__ = [
    "HOURS_PER_WEEK",
    "ErlangA",
    "ErlangC",
    "PlanRow",
    "StaffingError",
    "StaffingPlan",
    "agents_needed",
    "agents_needed_erlang_a",
    "agents_needed_erlang_c",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_measures",
    "hour_label",
    "log_erlang_b",
    "plan",
]

HOURS_PER_WEEK = 168
# Hard ceiling on agents considered for one hour (a load needing more is surely a unit error).
MAX_AGENTS = 100_000
# Stationary mass below this is dropped when the Erlang A chain is truncated.
_TAIL = 1e-15
# Longest queue the Erlang A chain keeps (memory/time bound; reached only for absurd loads).
_MAX_QUEUE = 200_000
# Bound on the uniformisation work of one Erlang A evaluation (≈ a second of NumPy).
_WORK_LIMIT = 60_000_000
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class StaffingError(ValueError):
    """An argument that cannot be used; the message says what to fix and ``field`` (when
    known) names the argument."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise StaffingError(f"{name} must be a positive number, got {value!r}")


def _check_non_negative(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise StaffingError(f"{name} must be a number ≥ 0, got {value!r}")


def _check_agents(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise StaffingError(f"agents must be an integer ≥ 0, got {n!r}")


# -- Erlang B and C ----------------------------------------------------------------------


def _log_inv_b_step(log_inv_b: float, k: int, log_a: float) -> float:
    """``log(1/B(k))`` from ``log(1/B(k-1))``: ``1/B(k) = 1 + (k/A)·1/B(k-1)``."""
    return float(np.logaddexp(0.0, math.log(k) - log_a + log_inv_b))


def log_erlang_b(n: int, load: float) -> float:
    """``log B(n, A)``: the blocking probability of n servers offered A Erlangs (log space)."""
    _check_agents(n)
    _check_non_negative("load", load)
    if load == 0:
        return 0.0 if n == 0 else -math.inf
    log_a = math.log(load)
    log_inv_b = 0.0  # B(0) = 1
    for k in range(1, n + 1):
        log_inv_b = _log_inv_b_step(log_inv_b, k, log_a)
    return -log_inv_b


def erlang_b(n: int, load: float) -> float:
    """Erlang B: share of arrivals blocked with n servers and A Erlangs, no waiting room."""
    return math.exp(log_erlang_b(n, load))


def _c_from_b(b: float, n: int, load: float) -> float:
    if n <= load:
        return 1.0
    rho = load / n
    return min(1.0, b / (1.0 - rho * (1.0 - b)))


def erlang_c(n: int, load: float) -> float:
    """Erlang C: probability that an arrival waits (all n agents busy); 1 when ``n ≤ A``."""
    _check_agents(n)
    _check_non_negative("load", load)
    if load == 0:
        return 0.0
    return _c_from_b(erlang_b(n, load), n, load)


@dataclass(frozen=True)
class ErlangC:
    """Erlang C measures for one staffing level; times in seconds."""

    agents: int
    load: float  # Erlangs
    p_wait: float
    service_level: float  # P(wait ≤ within_s)
    asa_s: float  # mean wait of all arrivals (inf when n ≤ A)
    occupancy: float  # A / n, capped at 1
    within_s: float


def _erlang_c_measures(n: int, load: float, aht_s: float, within_s: float, c: float) -> ErlangC:
    if load == 0:
        return ErlangC(n, 0.0, 0.0, 1.0, 0.0, 0.0, within_s)
    if n <= load:
        return ErlangC(n, load, 1.0, 0.0, math.inf, 1.0, within_s)
    sl = 1.0 - c * math.exp(-(n - load) * within_s / aht_s)
    asa = c * aht_s / (n - load)
    return ErlangC(n, load, c, min(1.0, max(0.0, sl)), asa, load / n, within_s)


def erlang_c_measures(
    agents: int, arrivals_per_hour: float, aht_s: float, within_s: float
) -> ErlangC:
    """P(wait), service level within ``within_s``, ASA and occupancy for ``agents`` agents."""
    _check_agents(agents)
    _check_non_negative("arrivals_per_hour", arrivals_per_hour)
    _check_positive("aht_s", aht_s)
    _check_non_negative("within_s", within_s)
    load = arrivals_per_hour * aht_s / 3600.0
    return _erlang_c_measures(agents, load, aht_s, within_s, erlang_c(agents, load))


def _check_target(target: float) -> None:
    if not (isinstance(target, int | float) and 0 < target < 1):
        raise StaffingError(f"target must be a share strictly between 0 and 1, got {target!r}")


def agents_needed_erlang_c(
    arrivals_per_hour: float,
    aht_s: float,
    target: float,
    within_s: float,
    max_occupancy: float | None = None,
) -> ErlangC:
    """The fewest agents whose Erlang C service level reaches ``target`` (and whose occupancy
    is at most ``max_occupancy`` if given).  Zero arrivals need zero agents."""
    _check_non_negative("arrivals_per_hour", arrivals_per_hour)
    _check_positive("aht_s", aht_s)
    _check_target(target)
    _check_non_negative("within_s", within_s)
    if max_occupancy is not None and not (0 < max_occupancy <= 1):
        raise StaffingError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    load = arrivals_per_hour * aht_s / 3600.0
    if load == 0:
        return _erlang_c_measures(0, 0.0, aht_s, within_s, 0.0)
    log_a = math.log(load)
    log_inv_b = 0.0
    for n in range(1, MAX_AGENTS + 1):
        log_inv_b = _log_inv_b_step(log_inv_b, n, log_a)
        if n <= load:
            continue
        m = _erlang_c_measures(n, load, aht_s, within_s, _c_from_b(math.exp(-log_inv_b), n, load))
        if m.service_level >= target and (max_occupancy is None or m.occupancy <= max_occupancy):
            return m
    raise StaffingError(f"the load of {load:.0f} Erlangs needs more than {MAX_AGENTS} agents")


# -- Erlang A ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErlangA:
    """Erlang A (M/M/n+M) measures for one staffing level; times in seconds."""

    agents: int
    load: float
    p_wait: float  # P(an arrival finds every agent busy)
    service_level: float  # P(answered within within_s) over all offered
    p_abandon: float  # share of offered that abandon
    asa_s: float  # mean wait of all arrivals (abandoned ones until they leave)
    occupancy: float  # mean busy agents / n
    within_s: float


def _log_stationary(n: int, lam: float, mu: float, theta: float) -> tuple[float, np.ndarray]:
    """Log of ``Σ_{k≤n} p_k / p_n`` and the log ratios ``p_{n+j}/p_n`` for j = 0..J."""
    load = lam / mu
    log_below = -log_erlang_b(n, load)  # Σ_{k=0}^{n} p_k / p_n = 1/B(n, A)
    # p_{n+j}/p_n = Π_{i=1}^{j} λ/(nμ + iθ); terms shrink once iθ > λ - nμ.
    i_peak = max(0.0, (lam - n * mu) / theta)
    chunk = 1024
    logs: list[np.ndarray] = [np.zeros(1)]
    last = 0.0
    start = 1
    best = max(0.0, log_below)
    while start <= _MAX_QUEUE:
        i = np.arange(start, min(start + chunk, _MAX_QUEUE + 1), dtype=float)
        steps = math.log(lam) - np.log(n * mu + i * theta)
        part = last + np.cumsum(steps)
        logs.append(part)
        last = float(part[-1])
        best = max(best, float(part.max()))
        start += chunk
        if i[-1] > i_peak and last < best + math.log(_TAIL) - 10.0:
            break
    else:
        raise StaffingError(
            f"Erlang A: the queue would grow beyond {_MAX_QUEUE} tickets at this load; use a "
            "shorter patience or more agents",
            field="patience_s",
        )
    log_queue = np.concatenate(logs)
    # Drop the far tail (relative mass below _TAIL): it only slows the uniformisation down.
    keep = np.nonzero(log_queue >= best + math.log(_TAIL) - 10.0)[0]
    return log_below, log_queue[: int(keep[-1]) + 1 if len(keep) else 1]


def _answered_within(ahead: np.ndarray, n: int, mu: float, theta: float, within_s: float) -> float:
    """Probability that a caller, distributed over "j queued ahead" by ``ahead`` (a
    sub-probability vector), is answered within ``within_s`` before abandoning."""
    total = float(ahead.sum())
    if total <= 0.0:
        return 0.0
    if within_s == 0:
        return 0.0
    j_max = len(ahead) - 1
    m = np.arange(j_max + 1, dtype=float)
    advance = n * mu + m * theta  # rate at which the caller moves one place forward
    out = advance + theta  # plus the caller's own abandonment
    big = float(out[-1])
    x = ahead.astype(float).copy()
    stay = 1.0 - out / big
    move = advance / big
    lt = big * within_s
    # Poisson(lt) weights by recursion from the mode, in log space for large lt.
    k_hi = int(lt + 12.0 * math.sqrt(lt) + 30.0)
    answered = 0.0
    served_so_far = 0.0
    log_lt = math.log(lt) if lt > 0 else -math.inf
    cost_per_step = len(x) + 200  # array work plus the loop's own overhead
    for k in range(k_hi + 1):
        if k * cost_per_step > _WORK_LIMIT:
            raise StaffingError(
                "Erlang A cannot be evaluated in reasonable time for this load "
                f"({len(x)} queue states × {k_hi} steps); use a shorter patience or "
                "threshold, or Erlang C (no patience)",
                field="patience_s",
            )
        w = math.exp(k * log_lt - lt - math.lgamma(k + 1)) if lt > 0 else float(k == 0)
        answered += w * served_so_far
        # one uniformised step
        served_so_far += float(x[0] * move[0])
        nxt = x * stay
        nxt[:-1] += x[1:] * move[1:]
        x = nxt
        if served_so_far >= total * (1 - 1e-15) or float(x.sum()) < 1e-18:
            # remaining Poisson mass multiplies a constant from here on
            tail = 1.0 - _poisson_cdf(k, lt)
            return answered + tail * served_so_far
    tail = 1.0 - _poisson_cdf(k_hi, lt)
    return answered + tail * served_so_far


def _poisson_cdf(k: int, lam: float) -> float:
    if lam == 0:
        return 1.0
    log_lam = math.log(lam)
    terms = [i * log_lam - lam - math.lgamma(i + 1) for i in range(k + 1)]
    return min(1.0, float(np.exp(np.array(terms)).sum()))


def erlang_a(
    agents: int,
    arrivals_per_hour: float,
    aht_s: float,
    patience_s: float,
    within_s: float,
) -> ErlangA:
    """Erlang A measures with exponential patience of mean ``patience_s``."""
    _check_agents(agents)
    _check_non_negative("arrivals_per_hour", arrivals_per_hour)
    _check_positive("aht_s", aht_s)
    _check_positive("patience_s", patience_s)
    _check_non_negative("within_s", within_s)
    lam = arrivals_per_hour / 3600.0
    mu = 1.0 / aht_s
    theta = 1.0 / patience_s
    load = lam / mu
    if lam == 0:
        return ErlangA(agents, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, within_s)
    if agents == 0:
        # Nobody answers: everyone waits and leaves after their patience.
        return ErlangA(0, load, 1.0, 0.0, 1.0, patience_s, 0.0, within_s)
    n = agents
    log_below, log_queue = _log_stationary(n, lam, mu, theta)
    # Normalise in log space: total = Σ_{k<n} + Σ_{j≥0} p_{n+j} (all relative to p_n).
    log_lt_n = _log_sub(log_below, 0.0)  # Σ_{k<n} p_k / p_n
    log_total = float(np.logaddexp(log_lt_n, np.logaddexp.reduce(log_queue)))
    queue_probs = np.exp(log_queue - log_total)  # P(arrival finds n + j in system)
    p_wait = min(1.0, float(queue_probs.sum()))
    j = np.arange(len(queue_probs), dtype=float)
    mean_queue = float((j * queue_probs).sum())
    p_abandon = min(1.0, theta * mean_queue / lam)
    asa = mean_queue / lam
    # Mean busy agents = λ(1 - P(ab))/μ (throughput × service time).
    occupancy = min(1.0, load * (1.0 - p_abandon) / n)
    # An arrival that finds n + j in system has j queued ahead of it.
    answered_waiting = _answered_within(queue_probs, n, mu, theta, within_s)
    sl = (1.0 - p_wait) + answered_waiting
    return ErlangA(n, load, p_wait, min(1.0, max(0.0, sl)), p_abandon, asa, occupancy, within_s)


def _log_sub(log_x: float, log_y: float) -> float:
    """``log(exp(log_x) - exp(log_y))`` for ``log_x ≥ log_y`` (-inf when equal)."""
    if log_x <= log_y:
        return -math.inf
    return log_x + math.log1p(-math.exp(log_y - log_x))


def agents_needed_erlang_a(
    arrivals_per_hour: float,
    aht_s: float,
    target: float,
    within_s: float,
    patience_s: float,
) -> ErlangA:
    """The fewest agents whose Erlang A service level (answered within ``within_s`` over all
    offered, abandoned ones missed) reaches ``target``."""
    _check_non_negative("arrivals_per_hour", arrivals_per_hour)
    _check_positive("aht_s", aht_s)
    _check_target(target)
    _check_non_negative("within_s", within_s)
    _check_positive("patience_s", patience_s)
    if arrivals_per_hour == 0:
        return erlang_a(0, 0.0, aht_s, patience_s, within_s)
    load = arrivals_per_hour * aht_s / 3600.0
    # Known to fail: n < target·A, since the answered share is at most n/A.  A first guess
    # for success: Erlang C's answer (abandonment shortens the waits of those who stay, but
    # counts as a miss, so it is not a bound either way); widen by doubling until it holds,
    # then bisect (service level grows with n).
    lo = max(0, math.ceil(target * load) - 1)
    hi = max(lo + 1, agents_needed_erlang_c(arrivals_per_hour, aht_s, target, within_s).agents)
    best = erlang_a(hi, arrivals_per_hour, aht_s, patience_s, within_s)
    step = 1
    while best.service_level < target:
        if hi >= MAX_AGENTS:
            raise StaffingError(
                f"the load of {load:.0f} Erlangs needs more than {MAX_AGENTS} agents"
            )
        lo, hi = hi, min(MAX_AGENTS, hi + step)
        step *= 2
        best = erlang_a(hi, arrivals_per_hour, aht_s, patience_s, within_s)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        m = erlang_a(mid, arrivals_per_hour, aht_s, patience_s, within_s)
        if m.service_level >= target:
            hi, best = mid, m
        else:
            lo = mid
    return best
    while hi - lo > 1:
        mid = (lo + hi) // 2
        m = erlang_a(mid, arrivals_per_hour, aht_s, patience_s, within_s)
        if m.service_level >= target:
            hi, best = mid, m
        else:
            lo = mid
    return best


def agents_needed(
    arrivals_per_hour: float,
    aht_s: float,
    target: float,
    within_s: float,
    patience_s: float | None = None,
) -> int:
    """Agents needed: Erlang A when a mean patience is given, else Erlang C."""
    if patience_s is None:
        return agents_needed_erlang_c(arrivals_per_hour, aht_s, target, within_s).agents
    return agents_needed_erlang_a(arrivals_per_hour, aht_s, target, within_s, patience_s).agents


# -- the plan ----------------------------------------------------------------------------


def hour_label(hour: int) -> str:
    """``0 → 'Mon 00:00'`` … ``167 → 'Sun 23:00'``."""
    return f"{_DAYS[hour // 24]} {hour % 24:02d}:00"


@dataclass(frozen=True)
class PlanRow:
    hour: int  # hour of the week, 0 = Monday 00:00–01:00
    label: str
    arrivals: float  # expected arrivals in this hour
    load: float  # Erlangs
    needed: int
    rostered: int | None
    gap: int | None  # rostered - needed (negative: short)
    model_sl_needed: float | None  # the model's service level with `needed` agents
    model_sl_rostered: float | None  # the model's service level with the rota
    simulated_sl: float | None  # simulation over the rota
    simulated_sl_needed: float | None  # simulation with `needed` agents every hour
    simulated_asa_s: float | None
    simulated_max_wait_s: float | None
    simulated_offered: int | None
    simulated_abandoned: int | None

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class StaffingPlan:
    model: Literal["erlang_c", "erlang_a"]
    aht_s: float
    target: float
    within_s: float
    patience_s: float | None
    rows: list[PlanRow]
    summary: dict[str, float | int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "aht_s": self.aht_s,
            "target": self.target,
            "within_s": self.within_s,
            "patience_s": self.patience_s,
            "summary": dict(self.summary),
            "rows": [r.as_dict() for r in self.rows],
        }


def _check_week(name: str, values: Sequence[float], integer: bool) -> list[float]:
    if len(values) != HOURS_PER_WEEK:
        raise StaffingError(
            f"{name} must have {HOURS_PER_WEEK} values (one per hour of the "
            f"week, Monday 00:00 first), got {len(values)}"
        )
    out: list[float] = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise StaffingError(f"{name}[{i}] must be a number ≥ 0, got {v!r}")
        if integer and v != int(v):
            raise StaffingError(f"{name}[{i}] must be a whole number of agents, got {v!r}")
        out.append(float(v))
    return out


def plan(
    arrivals: Sequence[float],
    aht_s: float,
    target: float,
    within_s: float,
    patience_s: float | None = None,
    rota: Sequence[int] | None = None,
    simulate: bool = True,
    weeks: int = 4,
    seed: int = 0,
    handling: Literal["exponential", "lognormal"] = "exponential",
    handling_cv: float = 1.0,
    rota_changes: Sequence[tuple[float, int]] | None = None,
) -> StaffingPlan:
    """Agents needed per hour of the week for ``target`` answered within ``within_s``.

    ``arrivals``: 168 expected arrivals per hour of the week (Monday 00:00 first).
    ``rota``: 168 agents on shift per hour, compared with the need and simulated.
    ``rota_changes``: the same rota as ``(seconds since Monday 00:00, agents)`` steps (the
    real shift starts and ends, inside hours too); when given, the simulation runs over it
    instead of the hourly counts.
    The simulation (``weeks`` weeks after one warm-up week, seeded) checks the rota and the
    computed need with the hour-to-hour carry-over of queues that the per-hour models ignore.
    """
    arr = _check_week("arrivals", arrivals, integer=False)
    _check_positive("aht_s", aht_s)
    _check_target(target)
    _check_non_negative("within_s", within_s)
    if patience_s is not None:
        _check_positive("patience_s", patience_s)
    rostered = [int(v) for v in _check_week("rota", rota, integer=True)] if rota else None
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= 52:
        raise StaffingError(f"weeks must be an integer from 1 to 52, got {weeks!r}")

    # Hours with the same load give the same answers (entered arrivals often repeat).
    sl_memo: dict[tuple[int, float], float | None] = {}
    need_memo: dict[float, int] = {}

    def model_sl(n: int, a: float) -> float | None:
        key = (n, a)
        if key not in sl_memo:
            if patience_s is None:
                sl_memo[key] = erlang_c_measures(n, a, aht_s, within_s).service_level
            else:
                try:
                    sl_memo[key] = erlang_a(n, a, aht_s, patience_s, within_s).service_level
                except StaffingError:  # a hopelessly short rota with a huge queue: unknown
                    sl_memo[key] = None
        return sl_memo[key]

    def need(a: float) -> int:
        if a not in need_memo:
            need_memo[a] = agents_needed(a, aht_s, target, within_s, patience_s)
        return need_memo[a]

    needed = [need(a) for a in arr]
    sim_rota: sim.SimulationResult | None = None
    sim_need: sim.SimulationResult | None = None
    if simulate:
        common = sim.SimulationConfig(
            arrivals_per_hour=arr,
            aht_s=aht_s,
            within_s=within_s,
            patience_s=patience_s,
            handling=handling,
            handling_cv=handling_cv,
            weeks=weeks,
            warmup_weeks=1,
            seed=seed,
        )
        sim_need = sim.simulate(common, sim.Capacity.from_hourly(needed))
        if rostered is not None:
            capacity = (
                sim.Capacity.from_changes(rota_changes)
                if rota_changes is not None
                else sim.Capacity.from_hourly(rostered)
            )
            sim_rota = sim.simulate(common, capacity)
    rows: list[PlanRow] = []
    for h in range(HOURS_PER_WEEK):
        r = rostered[h] if rostered is not None else None
        stats = sim_rota.hours[h] if sim_rota is not None else None
        rows.append(
            PlanRow(
                hour=h,
                label=hour_label(h),
                arrivals=arr[h],
                load=arr[h] * aht_s / 3600.0,
                needed=needed[h],
                rostered=r,
                gap=None if r is None else r - needed[h],
                model_sl_needed=model_sl(needed[h], arr[h]),
                model_sl_rostered=None if r is None else model_sl(r, arr[h]),
                simulated_sl=stats.service_level if stats is not None else None,
                simulated_sl_needed=(
                    sim_need.hours[h].service_level if sim_need is not None else None
                ),
                simulated_asa_s=stats.asa_s if stats is not None else None,
                simulated_max_wait_s=stats.max_wait_s if stats is not None else None,
                simulated_offered=stats.offered if stats is not None else None,
                simulated_abandoned=stats.abandoned if stats is not None else None,
            )
        )
    summary: dict[str, float | int | None] = {
        "arrivals_per_week": sum(arr),
        "agent_hours_needed": sum(needed),
        "peak_needed": max(needed),
        "agent_hours_rostered": sum(rostered) if rostered is not None else None,
        "hours_short": (
            sum(1 for row in rows if row.gap is not None and row.gap < 0)
            if rostered is not None
            else None
        ),
        "simulated_sl_rota": sim_rota.overall.service_level if sim_rota is not None else None,
        "simulated_sl_needed": sim_need.overall.service_level if sim_need is not None else None,
    }
    return StaffingPlan(
        model="erlang_c" if patience_s is None else "erlang_a",
        aht_s=aht_s,
        target=target,
        within_s=within_s,
        patience_s=patience_s,
        rows=rows,
        summary=summary,
    )
