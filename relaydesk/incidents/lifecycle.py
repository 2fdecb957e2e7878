"""The incident vocabulary (Statuspage's) and its rules, as plain data: statuses and allowed
transitions, severities, component statuses and how they combine. No Django import."""

from __future__ import annotations

from collections.abc import Iterable

INVESTIGATING = "investigating"
IDENTIFIED = "identified"
MONITORING = "monitoring"
RESOLVED = "resolved"
STATUSES = (INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED)
ACTIVE_STATUSES = (INVESTIGATING, IDENTIFIED, MONITORING)

MINOR = "minor"
MAJOR = "major"
CRITICAL = "critical"
SEVERITIES = (MINOR, MAJOR, CRITICAL)

OPERATIONAL = "operational"
DEGRADED = "degraded_performance"
PARTIAL = "partial_outage"
MAJOR_OUTAGE = "major_outage"
MAINTENANCE = "under_maintenance"
COMPONENT_STATUSES = (OPERATIONAL, DEGRADED, PARTIAL, MAJOR_OUTAGE, MAINTENANCE)

# How bad each component status is, for "the worst of" (maintenance is planned, so it ranks
# below any unplanned outage but above operational).
_RANK = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, PARTIAL: 3, MAJOR_OUTAGE: 4}

IMPACT_OF_SEVERITY = {MINOR: DEGRADED, MAJOR: PARTIAL, CRITICAL: MAJOR_OUTAGE}

# Forward moves may skip steps (a fix can be verified at once); an active incident may also
# step back (a fix that did not hold). Resolved is final: a relapse is a new incident.
_ALLOWED: dict[str, frozenset[str]] = {
    INVESTIGATING: frozenset({INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED}),
    IDENTIFIED: frozenset({INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED}),
    MONITORING: frozenset({INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED}),
    RESOLVED: frozenset(),
}


class TransitionError(ValueError):
    """A move the lifecycle does not allow (the API answers 409)."""


def check_transition(current: str, new: str) -> None:
    if current not in _ALLOWED:
        raise TransitionError(f"unknown current status {current!r}")
    if new not in _ALLOWED:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    if new not in _ALLOWED[current]:
        raise TransitionError(
            f"cannot move a {current} incident to {new}: a resolved incident is final "
            "(open a new incident for a relapse)"
        )


def worst(statuses: Iterable[str]) -> str:
    """The worst of several component statuses (operational for none)."""
    best = OPERATIONAL
    for s in statuses:
        if s not in _RANK:
            raise ValueError(f"unknown component status {s!r}")
        if _RANK[s] > _RANK[best]:
            best = s
    return best


def rank(status: str) -> int:
    return _RANK[status]


# Uptime: a major outage counts as fully down, a partial outage as half down; degraded
# performance and maintenance count as up (our design choice, ADR 0014).
DOWN_WEIGHT = {OPERATIONAL: 0.0, MAINTENANCE: 0.0, DEGRADED: 0.0, PARTIAL: 0.5, MAJOR_OUTAGE: 1.0}


def day_summaries(
    changes: list[tuple[float, str]], day_starts: list[float], day_s: float = 86400.0
) -> list[tuple[float, str]]:
    """For each day starting at ``day_starts`` (epoch seconds, ascending), the uptime
    fraction and the worst status seen that day, from a status history ``changes`` of
    ``(at, status)`` sorted by time (the status before the first change is operational)."""
    out: list[tuple[float, str]] = []
    idx = 0
    current = OPERATIONAL
    for d0 in day_starts:
        d1 = d0 + day_s
        while idx < len(changes) and changes[idx][0] <= d0:
            current = changes[idx][1]
            idx += 1
        down = 0.0
        worst_seen = current
        t = d0
        status = current
        j = idx
        while j < len(changes) and changes[j][0] < d1:
            at, nxt = changes[j]
            down += (at - t) * DOWN_WEIGHT[status]
            t, status = at, nxt
            worst_seen = worst((worst_seen, status))
            j += 1
        down += (d1 - t) * DOWN_WEIGHT[status]
        out.append((max(0.0, 1.0 - down / day_s), worst_seen))
    return out
