"""Routing decisions: which agent on shift should own a ticket, and why.  Pure Python (no
Django), fed with plain data, so a decision takes microseconds and can be replayed in tests,
the CLI and benchmarks.

Rules, in order:

1. **Key accounts**: the organisation's named account manager when they can take it (on
   shift, present, under capacity); otherwise their backup; otherwise the best candidate of
   the manager's team, then of everyone.  (The caller tells the manager either way.)
2. **Best agent on shift**: among *eligible* agents (on shift, presence available or busy,
   load under their capacity for the ticket's priority), the highest score:

   ``language·[speaks the organisation's language] + skill·(matched / wanted)
   + load·(1 − load/capacity) + fairness·min(1, idle/fairness_horizon)
   + continuity·[handled this organisation recently] − busy_penalty·[busy]``

   Ties go to the agent idle longest, then the lowest id (deterministic).
3. Nobody eligible: no agent (the caller queues the ticket to the next team on shift and, for
   urgent work, pages the on-call human).

Skills are plain strings ``kind:value`` (``category:connection``, ``sdk:android``,
``region:sg``, ``service:live``); a ticket wants the skills of its category, SDK/platform,
region and services.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "PRESENCES",
    "Agent",
    "Candidate",
    "Decision",
    "Lazy",
    "Roster",
    "State",
    "TicketFacts",
    "Weights",
    "at_load",
    "bound",
    "choose",
    "choose_from",
    "choose_lazily",
    "ranked_first",
    "wanted_skills",
]

AVAILABLE, BUSY, AWAY, OFFLINE = "available", "busy", "away", "offline"
PRESENCES = (AVAILABLE, BUSY, AWAY, OFFLINE)
TAKING = (AVAILABLE, BUSY)  # presences that take tickets
SKILL_LABELS = {"category": "", "sdk": "SDK-", "region": "region ", "service": "service "}


@dataclass(frozen=True)
class Weights:
    language: float = 4.0
    skill: float = 3.0
    load: float = 2.0
    fairness: float = 1.0
    continuity: float = 1.5
    busy_penalty: float = 1.5
    fairness_horizon_s: float = 3600.0


@dataclass(frozen=True)
class Agent:
    id: int
    name: str
    team: str  # label shown in reasons, e.g. "SG"
    on_shift: bool
    presence: str = AVAILABLE
    languages: frozenset[str] = frozenset()
    skills: frozenset[str] = frozenset()
    capacity: Mapping[str, int] = field(default_factory=dict)  # per priority
    load: Mapping[str, int] = field(default_factory=dict)  # open tickets per priority
    last_assigned_s: float | None = None  # unix seconds of the last assignment
    recent_orgs: frozenset[int] = frozenset()

    def cap(self, priority: str) -> int:
        return int(self.capacity.get(priority, self.capacity.get("*", 8)))

    def current(self, priority: str) -> int:
        return int(self.load.get(priority, 0))


@dataclass(frozen=True)
class TicketFacts:
    priority: str
    language: str
    organisation_id: int
    wanted: frozenset[str] = frozenset()
    key_account: bool = False
    manager_id: int | None = None
    backup_id: int | None = None
    manager_team: str | None = None


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    score: float
    parts: Mapping[str, float]
    eligible: bool
    why_not: str = ""


@dataclass(frozen=True)
class Decision:
    agent_id: int | None
    rule: str  # key_account | key_account_backup | best | none
    reasons: tuple[str, ...]
    scores: Mapping[int, float]
    candidates: tuple[Candidate, ...] = ()
    # The agents who could take the ticket, best possible score first (``choose_from``
    # keeps the first few: a hint of whom the next such decision will ask about).
    ranked: tuple[int, ...] = ()

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def wanted_skills(
    *,
    category: str = "",
    sdk: str = "",
    platform: str = "",
    region: str = "",
    services: Iterable[str] = (),
) -> frozenset[str]:
    out = set()
    if category and category != "other":
        out.add(f"category:{category}")
    for value in (sdk, platform):
        if value and value != "other":
            out.add(f"sdk:{value.lower()}")
    if region:
        out.add(f"region:{region}")
    out.update(f"service:{s}" for s in services if s)
    return frozenset(out)


def _label(skill: str) -> str:
    kind, _, value = skill.partition(":")
    prefix = SKILL_LABELS.get(kind)
    if prefix is None:
        return skill
    return f"{prefix}{value.capitalize() if kind == 'sdk' else value}"


def _why_not(agent: Agent, priority: str) -> str:
    if not agent.on_shift:
        return "off shift"
    if agent.presence not in TAKING:
        return f"presence {agent.presence}"
    if agent.current(priority) >= agent.cap(priority):
        return f"at capacity {agent.current(priority)}/{agent.cap(priority)}"
    return ""


def score(agent: Agent, t: TicketFacts, now_s: float, w: Weights = Weights()) -> Candidate:
    why = _why_not(agent, t.priority)
    cap = max(1, agent.cap(t.priority))
    matched = len(t.wanted & agent.skills)
    idle = (
        w.fairness_horizon_s
        if agent.last_assigned_s is None
        else max(0.0, now_s - agent.last_assigned_s)
    )
    parts = {
        "language": w.language * (t.language in agent.languages),
        "skill": w.skill * (matched / len(t.wanted) if t.wanted else 0.0),
        "load": w.load * max(0.0, 1 - agent.current(t.priority) / cap),
        "fairness": w.fairness * min(1.0, idle / w.fairness_horizon_s),
        "continuity": w.continuity * (t.organisation_id in agent.recent_orgs),
        "busy": -w.busy_penalty * (agent.presence == BUSY),
    }
    return Candidate(agent.id, round(sum(parts.values()), 4), parts, not why, why)


def bound(
    agent: Agent, t: TicketFacts, now_s: float, w: Weights = Weights(), known_load: bool = False
) -> float:
    """The highest score ``agent`` could have whatever its continuity (unknown yet) and, unless
    ``known_load``, whatever its load: no load, and handled the organisation recently."""
    idle = (
        w.fairness_horizon_s
        if agent.last_assigned_s is None
        else max(0.0, now_s - agent.last_assigned_s)
    )
    load = (
        w.load * max(0.0, 1 - agent.current(t.priority) / max(1, agent.cap(t.priority)))
        if known_load
        else w.load
    )
    total = (
        w.language * (t.language in agent.languages)
        + w.skill * (len(t.wanted & agent.skills) / len(t.wanted) if t.wanted else 0.0)
        + load
        + w.fairness * min(1.0, idle / w.fairness_horizon_s)
        + w.continuity
        - w.busy_penalty * (agent.presence == BUSY)
    )
    return round(total, 4)


def _reasons(agent: Agent, t: TicketFacts, c: Candidate, rule: str) -> tuple[str, ...]:
    out = [f"assigned to {agent.name}"]
    if rule == "key_account":
        out.append("key account manager")
    elif rule == "key_account_backup":
        out.append("backup of the key account manager")
    out.append(f"on shift {agent.team}")
    if t.language in agent.languages:
        out.append(t.language)
    out.extend(f"skill {_label(s)}" for s in sorted(t.wanted & agent.skills))
    out.append(f"load {agent.current(t.priority)}/{agent.cap(t.priority)}")
    if t.organisation_id in agent.recent_orgs:
        out.append("handled this organisation recently")
    if agent.presence == BUSY:
        out.append("busy")
    return tuple(out)


def _best(cands: Sequence[tuple[Agent, Candidate]]) -> tuple[Agent, Candidate] | None:
    ok = [(a, c) for a, c in cands if c.eligible]
    if not ok:
        return None
    return max(ok, key=lambda ac: (ac[1].score, -(ac[0].last_assigned_s or 0.0), -ac[0].id))


def choose(
    ticket: TicketFacts, agents: Sequence[Agent], now_s: float, weights: Weights = Weights()
) -> Decision:
    """The agent who should own ``ticket`` now, with reasons and every candidate's score."""
    return _decision(ticket, [(a, score(a, ticket, now_s, weights)) for a in agents])


def _decision(ticket: TicketFacts, scored: Sequence[tuple[Agent, Candidate]]) -> Decision:
    by_id = {a.id: (a, c) for a, c in scored}
    scores = {a.id: c.score for a, c in scored}
    cands = tuple(c for _, c in scored)
    if ticket.key_account:
        for rule, person in (
            ("key_account", ticket.manager_id),
            ("key_account_backup", ticket.backup_id),
        ):
            if person is not None and person in by_id and by_id[person][1].eligible:
                a, c = by_id[person]
                return Decision(a.id, rule, _reasons(a, ticket, c, rule), scores, cands)
        if ticket.manager_team is not None:
            team = [(a, c) for a, c in scored if a.team == ticket.manager_team]
            found = _best(team)
            if found is not None:
                a, c = found
                reasons = (*_reasons(a, ticket, c, "best"), "key account manager not available")
                return Decision(a.id, "key_account_team", reasons, scores, cands)
    found = _best(scored)
    if found is None:
        if not cands:
            return Decision(None, "none", ("nobody on shift",), scores, cands)
        why = ", ".join(sorted({c.why_not for c in cands}))
        return Decision(None, "none", (f"nobody suitable on shift ({why})",), scores, cands)
    a, c = found
    return Decision(a.id, "best", _reasons(a, ticket, c, "best"), scores, cands)


def _could_take(a: Agent) -> bool:
    return a.on_shift and a.presence in TAKING


@dataclass(frozen=True)
class Lazy:
    """What ``choose_lazily`` asks for, per agent: the load per priority and whether they
    handled the ticket's organisation recently."""

    load: Mapping[str, int]
    recent: bool = False


# (score, -last assignment, -id): the higher wins (``choose``'s order, tie-breaks included).
Rank = tuple[float, float, int]


def _rank(best: float, last_assigned_s: float | None, agent_id: int) -> Rank:
    return (best, -(last_assigned_s or 0.0), -agent_id)


def _fetch_order(
    ticket: TicketFacts,
    now_s: float,
    weights: Weights,
    batch: int,
    bests: Mapping[int, float],
    last_of: Callable[[int], float | None],
    team_of: Callable[[int], str],
    fixed: Callable[[], Sequence[Agent]],
    fetch: Callable[[list[int]], Mapping[int, Agent]],
    keep: int = 0,
) -> Decision:
    """The lazy loop shared by ``choose_lazily`` and ``choose_from``: ``bests`` are the agents
    who could take the ticket with the best score each could have (``score`` rounds to 4
    places; these may be left unrounded), ``fixed`` gives those who cannot whatever is
    fetched, ``fetch`` builds full agents.  Agents are fetched best first, a batch at a time
    (doubling), until nobody not yet fetched could beat (or tie with a better tie-break) the
    current choice; the key account's manager and backup are always fetched, and the
    manager's team comes first.  The decision is ``choose`` over every fetched agent — and,
    when none of them can take the ticket, over ``fixed`` too, whose reasons say why not
    (they never change who is chosen, so otherwise they are not scored: ``scores`` has the
    agents fetched).

    Which agents are fetched first changes only how many are fetched, not the decision: the
    true winner, not fetched, would always beat the current choice."""
    team = ticket.manager_team if ticket.key_account else None
    if team is None:
        order = sorted(bests, key=bests.__getitem__, reverse=True)
    else:
        order = sorted(bests, key=lambda i: (team_of(i) == team, bests[i]), reverse=True)
    scored: dict[int, tuple[Agent, Candidate]] = {}

    def load(ids: list[int]) -> None:
        ids = list(dict.fromkeys(i for i in ids if i not in scored))
        if ids:
            got = fetch(ids)
            for i in ids:
                a = got[i]
                scored[i] = (a, score(a, ticket, now_s, weights))

    must = [
        i
        for i in (ticket.manager_id, ticket.backup_id)
        if ticket.key_account and i is not None and i in bests
    ]
    load([*must, *order[:batch]])
    size = batch
    while True:
        d = _decision(ticket, list(scored.values()))
        rest = [i for i in order if i not in scored]
        if not rest or d.rule in ("key_account", "key_account_backup"):
            break
        if d.agent_id is None:
            load(rest)  # nobody so far: anyone left may take it
            continue
        if d.rule == "best" and team is not None:
            team_rest = [i for i in rest if team_of(i) == team]
            if team_rest:  # one of them may still take it under the key-account rule
                load(team_rest[:size])
                size *= 2
                continue
        pool = [i for i in rest if team_of(i) == team] if d.rule == "key_account_team" else rest
        chosen = scored[d.agent_id][0]
        best = _rank(d.scores[d.agent_id], chosen.last_assigned_s, chosen.id)
        # Only agents whose best is near the choice's score need their exact rank.
        near = best[0] - 1e-4
        need = [
            i for i in pool if bests[i] >= near and _rank(round(bests[i], 4), last_of(i), i) > best
        ]
        if not need:
            break
        load(need[:size])
        size *= 2  # each round asks for twice as many: few round trips in the worst case
    if d.agent_id is None:
        others = fixed()
        if others:
            d = _decision(
                ticket,
                [*scored.values(), *((a, score(a, ticket, now_s, weights)) for a in others)],
            )
    return replace(d, ranked=tuple(order[:keep])) if keep else d


def choose_lazily(
    ticket: TicketFacts,
    agents: Sequence[Agent],
    now_s: float,
    fetch_of: Callable[[list[int]], Mapping[int, Lazy]],
    weights: Weights = Weights(),
    batch: int = 16,
    known_load: bool = False,
) -> Decision:
    """The same decision as ``choose`` with every agent's load and continuity, asking
    ``fetch_of`` about as few agents as it can (``load`` and ``recent_orgs`` of ``agents`` are
    ignored; with ``known_load`` the agents' ``load`` is their true load and only continuity
    is asked for, so agents at capacity are never fetched).

    ``bound`` caps what an agent could score, so agents are fetched in order of their bound
    (see ``_fetch_order``)."""
    by_id = {a.id: a for a in agents}

    def can(a: Agent) -> bool:
        return _could_take(a) and (
            not known_load or a.current(ticket.priority) < a.cap(ticket.priority)
        )

    fixed: list[Agent] = []
    bests: dict[int, float] = {}
    for a in agents:
        if can(a):
            bests[a.id] = bound(a, ticket, now_s, weights, known_load)
        else:
            fixed.append(a)
    org = frozenset({ticket.organisation_id})

    def fetch(ids: list[int]) -> dict[int, Agent]:
        got = fetch_of(ids)
        out = {}
        for i in ids:
            lz = got.get(i, Lazy({}))
            out[i] = replace(
                by_id[i],
                load=by_id[i].load if known_load else dict(lz.load),
                recent_orgs=org if lz.recent else frozenset(),
            )
        return out

    return _fetch_order(
        ticket,
        now_s,
        weights,
        batch,
        bests,
        lambda i: by_id[i].last_assigned_s,
        lambda i: by_id[i].team,
        lambda: fixed,
        fetch,
    )


# What changes from one decision to the next for an agent on shift: (presence, unix seconds of
# the last assignment or None, open tickets of the ticket's priority).  A plain tuple: one is
# made per agent on shift per decision.
State = tuple[str, float | None, int]
NOBODY: State = (AVAILABLE, None, 0)


class Roster:
    """Agents with what changes rarely (name, team, shift, languages, skills, capacity), for
    many decisions: it remembers each agent's capacity per priority and the language and skill
    part of their score per (language, wanted skills) it was asked about."""

    MEMO = 512  # (language, wanted skills) pairs remembered

    def __init__(self, agents: Sequence[Agent], weights: Weights = Weights()) -> None:
        self.agents = tuple(agents)
        self.ids = tuple(a.id for a in self.agents)
        self.weights = weights
        self._caps: dict[str, tuple[int, ...]] = {}
        self._fit: dict[tuple[str, frozenset[str]], tuple[float, ...]] = {}
        self._index: dict[int, int] | None = None

    def cap(self, agent_id: int, priority: str) -> int:
        """``agent_id``'s capacity for ``priority`` (``Agent.cap``)."""
        if self._index is None:
            self._index = {uid: k for k, uid in enumerate(self.ids)}
        return self.caps(priority)[self._index[agent_id]]

    def caps(self, priority: str) -> tuple[int, ...]:
        found = self._caps.get(priority)
        if found is None:
            found = self._caps[priority] = tuple(a.cap(priority) for a in self.agents)
        return found

    def fit(self, language: str, wanted: frozenset[str]) -> tuple[float, ...]:
        """``language·[speaks it] + skill·(matched / wanted)`` per agent: the first two terms
        of ``score``, computed the same way."""
        key = (language, wanted)
        found = self._fit.get(key)
        if found is None:
            w, n = self.weights, len(wanted)
            found = tuple(
                w.language * (language in a.languages)
                + w.skill * (len(wanted & a.skills) / n if n else 0.0)
                for a in self.agents
            )
            if len(self._fit) >= self.MEMO:
                self._fit.clear()
            self._fit[key] = found
        return found


def _bests(
    ticket: TicketFacts, roster: Roster, state: Mapping[int, State], now_s: float
) -> tuple[dict[int, float], dict[int, tuple[Agent, State]], list[tuple[Agent, State]]]:
    """The best score each agent of ``roster`` who can take the ticket could have (``bound``
    with the load known, not rounded yet), and who can and who cannot, with their state."""
    p = ticket.priority
    w = roster.weights
    horizon, w_load, w_fair = w.fairness_horizon_s, w.load, w.fairness
    w_cont, w_busy = w.continuity, w.busy_penalty
    agents = roster.agents
    get = state.get
    bests: dict[int, float] = {}
    can: dict[int, tuple[Agent, State]] = {}
    cannot: list[tuple[Agent, State]] = []
    rows = zip(
        roster.ids, agents, roster.caps(p), roster.fit(ticket.language, ticket.wanted), strict=True
    )
    for uid, a, cap, fit in rows:
        st = get(uid, NOBODY)
        presence, last, n = st
        if n >= cap or presence not in TAKING or not a.on_shift:
            cannot.append((a, st))
            continue
        if last is None:
            fair = w_fair  # * min(1.0, horizon / horizon)
        else:
            idle = now_s - last
            ratio = (idle if idle > 0.0 else 0.0) / horizon
            fair = w_fair * (ratio if ratio < 1.0 else 1.0)
        # ``bound`` with the load known (not rounded yet): the same float sums, in the same
        # order, as ``score`` (written out: this runs for every agent on shift; ``1 - n / cap``
        # is positive here, as the agent is under capacity).
        bests[uid] = (
            fit
            + w_load * (1 - n / (cap if cap > 1 else 1))
            + fair
            + w_cont
            - w_busy * (presence == BUSY)
        )
        can[uid] = (a, st)
    return bests, can, cannot


def ranked_first(
    ticket: TicketFacts, roster: Roster, state: Mapping[int, State], now_s: float, n: int
) -> tuple[int, ...]:
    """The first ``n`` agents ``choose_from`` would ask about with this ``state`` (the key
    account's manager and backup, then by best possible score, the manager's team first):
    no one is scored."""
    bests, can, _ = _bests(ticket, roster, state, now_s)
    team = ticket.manager_team if ticket.key_account else None
    if team is None:
        order = sorted(bests, key=bests.__getitem__, reverse=True)
    else:
        order = sorted(bests, key=lambda i: (can[i][0].team == team, bests[i]), reverse=True)
    must = [i for i in (ticket.manager_id, ticket.backup_id) if ticket.key_account and i in bests]
    return tuple(dict.fromkeys([*must, *order]))[:n]


def choose_from(
    ticket: TicketFacts,
    roster: Roster,
    state: Mapping[int, State],
    now_s: float,
    recent_of: Callable[[list[int]], Collection[int]],
    batch: int = 16,
    keep: int = 0,
) -> Decision:
    """``choose(ticket, agents, now_s, roster.weights)`` where the agents are the ``roster``'s
    with each one's ``state`` (absent: available, never assigned, no load) and continuity
    ``recent_of`` (the ids of those asked who handled the ticket's organisation recently).

    As ``choose_lazily`` with known loads: continuity is asked only about agents who could
    win, and only they become full ``Agent``s and are scored, so a roster built once serves
    many decisions.  (When nobody can take the ticket, the agents who cannot are scored too,
    without continuity — nobody asks about them — for the reasons.)  The decision's
    ``ranked`` has the first ``keep`` agents by their best possible score."""
    p = ticket.priority
    bests, can, cannot = _bests(ticket, roster, state, now_s)
    org = ticket.organisation_id

    def fetch(ids: list[int]) -> dict[int, Agent]:
        recent = recent_of(ids)
        out = {}
        for i in ids:
            a, st = can[i]
            out[i] = _with(a, st, p, i in recent, org)
        return out

    def fixed() -> list[Agent]:
        return [_with(a, st, p, False, org) for a, st in cannot]

    return _fetch_order(
        ticket,
        now_s,
        roster.weights,
        batch,
        bests,
        lambda i: can[i][1][1],
        lambda i: can[i][0].team,
        fixed,
        fetch,
        keep,
    )


def at_load(d: Decision, n: int, cap: int) -> Decision:
    """``d`` with its chosen agent's load as ``n`` of ``cap`` in the reasons (``load n/cap``):
    the load read again, under a lock, just before the assignment is written (the caller
    keeps the choice while ``n`` is under ``cap``; the scores stay as decided)."""
    label = f"load {n}/{cap}"
    return replace(d, reasons=tuple(label if r.startswith("load ") else r for r in d.reasons))


def _with(a: Agent, st: State, priority: str, recent: bool, organisation_id: int) -> Agent:
    presence, last, n = st
    return Agent(
        id=a.id,
        name=a.name,
        team=a.team,
        on_shift=a.on_shift,
        presence=presence,
        languages=a.languages,
        skills=a.skills,
        capacity=a.capacity,
        load={priority: n} if n else {},
        last_assigned_s=last,
        recent_orgs=frozenset({organisation_id}) if recent else frozenset(),
    )
