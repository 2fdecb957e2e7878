"""Routing scores: language, skills, load against capacity, fairness, continuity, presence
and the key-account rule, on plain data."""

from __future__ import annotations

from dataclasses import replace

from relaydesk.domain.routing import Agent, TicketFacts, choose, score, wanted_skills

NOW = 1_800_000_000.0
CAP = {"P1": 2, "P2": 4, "P3": 8, "P4": 8}


def agent(i: int, name: str, **kw: object) -> Agent:
    base: dict[str, object] = {"id": i, "name": name, "team": "SG", "on_shift": True, "languages": frozenset({"en"}), "capacity": CAP}
    return Agent(**(base | kw))  # type: ignore[arg-type]


def facts(**kw: object) -> TicketFacts:
    base: dict[str, object] = {"priority": "P3", "language": "en", "organisation_id": 7}
    return TicketFacts(**(base | kw))  # type: ignore[arg-type]


def test_language_and_skill_win_and_reasons_read_like_a_sentence() -> None:
    mei = agent(1, "Mei", languages=frozenset({"en", "zh-Hans"}), skills=frozenset({"sdk:android"}), load={"P3": 3})
    tom = agent(2, "Tom", skills=frozenset({"sdk:android"}))
    wei = agent(3, "Wei", languages=frozenset({"zh-Hans"}))
    t = facts(language="zh-Hans", wanted=wanted_skills(sdk="Android", category="other"))
    d = choose(t, [tom, mei, wei], NOW)
    assert d.agent_id == 1 and d.rule == "best"
    assert d.summary == "assigned to Mei; on shift SG; zh-Hans; skill SDK-Android; load 3/8"
    assert d.scores[1] > d.scores[3] > d.scores[2]


def test_capacity_presence_and_shift_make_agents_ineligible() -> None:
    full = agent(1, "Full", load={"P1": 2})
    away = agent(2, "Away", presence="away")
    off = agent(3, "Off", on_shift=False)
    d = choose(facts(priority="P1"), [full, away, off], NOW)
    assert d.agent_id is None and d.rule == "none"
    assert "at capacity 2/2" in d.summary and "presence away" in d.summary and "off shift" in d.summary
    # The same full agent can still take a P3 (capacity is per priority).
    assert choose(facts(priority="P3"), [full], NOW).agent_id == 1


def test_load_fairness_and_continuity_break_ties() -> None:
    a, b = agent(1, "A", load={"P3": 5}), agent(2, "B", load={"P3": 1})
    assert choose(facts(), [a, b], NOW).agent_id == 2
    recent, idle = agent(1, "Recent", last_assigned_s=NOW - 60), agent(2, "Idle", last_assigned_s=NOW - 7200)
    assert choose(facts(), [recent, idle], NOW).agent_id == 2
    knows = agent(1, "Knows", recent_orgs=frozenset({7}), last_assigned_s=NOW - 60)
    d = choose(facts(), [knows, idle], NOW)
    assert d.agent_id == 1 and "handled this organisation recently" in d.reasons
    busy = replace(idle, presence="busy")
    assert choose(facts(), [agent(3, "Free", last_assigned_s=NOW - 600), busy], NOW).agent_id == 3
    # Equal in everything: the lower id, every time.
    assert choose(facts(), [agent(5, "E"), agent(4, "D")], NOW).agent_id == 4


def test_key_account_goes_to_manager_then_backup_then_team() -> None:
    mgr = agent(1, "Manager", load={"P1": 1})
    backup = agent(2, "Backup")
    star = agent(3, "Star", languages=frozenset({"en", "zh-Hans"}), skills=frozenset({"sdk:ios"}))
    other = agent(4, "Other", team="DE", languages=frozenset({"en", "zh-Hans"}), skills=frozenset({"sdk:ios"}))
    t = facts(priority="P1", key_account=True, manager_id=1, backup_id=2, manager_team="SG", language="zh-Hans", wanted=frozenset({"sdk:ios"}))
    d = choose(t, [mgr, backup, star, other], NOW)
    assert (d.agent_id, d.rule) == (1, "key_account") and "key account manager" in d.reasons
    d = choose(t, [replace(mgr, on_shift=False), backup, star, other], NOW)
    assert (d.agent_id, d.rule) == (2, "key_account_backup")
    d = choose(t, [replace(mgr, on_shift=False), replace(backup, presence="offline"), star, other], NOW)
    assert (d.agent_id, d.rule) == (3, "key_account_team")
    d = choose(t, [replace(mgr, on_shift=False), other], NOW)
    assert (d.agent_id, d.rule) == (4, "best")
    # Not a key account: the manager gets no preference.
    assert choose(replace(t, key_account=False), [mgr, star], NOW).agent_id == 3


def test_wanted_skills_and_score_parts() -> None:
    assert wanted_skills(category="connection", sdk="", platform="android", region="sg", services=["live"]) == {
        "category:connection", "sdk:android", "region:sg", "service:live"
    }
    assert wanted_skills(category="other", platform="other") == frozenset()
    c = score(agent(1, "A", skills=frozenset({"sdk:android"}), load={"P3": 4}), facts(wanted=frozenset({"sdk:android", "region:sg"})), NOW)
    assert c.parts["skill"] == 1.5 and c.parts["load"] == 1.0 and c.parts["language"] == 4.0


# -- lazy loading gives the same decision ------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from relaydesk.domain.routing import Lazy, choose_lazily  # noqa: E402

LANGS = ["en", "zh-Hans", "es"]
SK = ["sdk:android", "sdk:ios", "category:connection", "region:sg"]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[TicketFacts, list[Agent]]:
    n = draw(st.integers(0, 30))
    agents = []
    for i in range(n):
        agents.append(Agent(
            id=i + 1, name=f"a{i}", team=draw(st.sampled_from(["SG", "DE"])), on_shift=draw(st.booleans()) or draw(st.booleans()),
            presence=draw(st.sampled_from(["available", "available", "busy", "away", "offline"])),
            languages=frozenset(draw(st.sets(st.sampled_from(LANGS), max_size=2))),
            skills=frozenset(draw(st.sets(st.sampled_from(SK), max_size=3))),
            capacity={"P1": draw(st.integers(0, 3)), "P3": draw(st.integers(1, 6))},
            load={"P1": draw(st.integers(0, 4)), "P3": draw(st.integers(0, 7))},
            last_assigned_s=draw(st.none() | st.sampled_from([NOW - 10, NOW - 600, NOW - 4000, NOW - 600])),
            recent_orgs=frozenset({7}) if draw(st.booleans()) else frozenset(),
        ))
    key = draw(st.booleans()) and n > 0
    t = TicketFacts(
        priority=draw(st.sampled_from(["P1", "P3"])), language=draw(st.sampled_from(LANGS)), organisation_id=7,
        wanted=frozenset(draw(st.sets(st.sampled_from(SK), max_size=2))), key_account=key,
        manager_id=draw(st.integers(1, n)) if key else None, backup_id=draw(st.integers(1, n)) if key and draw(st.booleans()) else None,
        manager_team=draw(st.sampled_from(["SG", "DE", None])) if key else None,
    )
    return t, agents


@settings(max_examples=200, deadline=None)
@given(worlds(), st.integers(1, 5))
def test_lazy_choice_equals_full_choice(w: tuple[TicketFacts, list[Agent]], batch: int) -> None:
    t, agents = w
    asked: list[int] = []
    truth = {a.id: Lazy(a.load, 7 in a.recent_orgs) for a in agents}

    def load_of(ids: list[int]) -> dict[int, Lazy]:
        asked.extend(ids)
        return {i: truth[i] for i in ids}

    # The lazy chooser must not read these.
    blind = [replace(a, load={"P1": 99, "P3": 99}, recent_orgs=frozenset()) for a in agents]
    full = choose(t, agents, NOW)
    lazy = choose_lazily(t, blind, NOW, load_of, batch=batch)
    assert (lazy.agent_id, lazy.rule) == (full.agent_id, full.rule)
    if lazy.agent_id is not None:
        assert lazy.reasons == full.reasons
    assert len(asked) == len(set(asked))


def test_lazy_choice_loads_few_agents() -> None:
    agents = [agent(i, f"A{i}", languages=frozenset({"en"} if i > 3 else {"en", "zh-Hans"}), load={"P3": i % 5}) for i in range(1, 201)]
    asked: list[int] = []

    def load_of(ids: list[int]) -> dict[int, Lazy]:
        asked.extend(ids)
        return {i: Lazy({"P3": i % 5}) for i in ids}

    d = choose_lazily(facts(language="zh-Hans"), agents, NOW, load_of)
    assert d.agent_id == choose(facts(language="zh-Hans"), agents, NOW).agent_id
    assert len(asked) <= 32


@settings(max_examples=200, deadline=None)
@given(worlds(), st.integers(1, 5))
def test_lazy_choice_with_known_loads_equals_full_choice(w: tuple[TicketFacts, list[Agent]], batch: int) -> None:
    """Loads known up front (the counters): only continuity is asked for, never for an agent
    at capacity or absent, and the decision is the full one."""
    t, agents = w
    asked: list[int] = []
    recent = {a.id: 7 in a.recent_orgs for a in agents}

    def recent_of(ids: list[int]) -> dict[int, Lazy]:
        asked.extend(ids)
        return {i: Lazy({}, recent[i]) for i in ids}

    blind = [replace(a, recent_orgs=frozenset()) for a in agents]  # continuity must be asked for
    full = choose(t, agents, NOW)
    lazy = choose_lazily(t, blind, NOW, recent_of, batch=batch, known_load=True)
    assert (lazy.agent_id, lazy.rule) == (full.agent_id, full.rule)
    assert lazy.reasons == full.reasons  # "nobody suitable (…)" explained the same way too
    by_id = {a.id: a for a in agents}
    assert len(asked) == len(set(asked))
    assert all(by_id[i].on_shift and by_id[i].presence in ("available", "busy") for i in asked)
    assert all(by_id[i].current(t.priority) < by_id[i].cap(t.priority) for i in asked)


# -- a roster and per-decision state give the same decision -----------------------------------

from relaydesk.domain.routing import NOBODY, Roster, choose_from, ranked_first  # noqa: E402


@settings(max_examples=80, deadline=None)
@given(worlds(), st.integers(1, 5), st.booleans())
def test_choice_from_a_roster_equals_full_choice(
    w: tuple[TicketFacts, list[Agent]], batch: int, partial: bool
) -> None:
    """What changes rarely in the roster, presence, last assignment and load as state, and
    continuity asked for only the agents who could win: the full decision, whatever batch."""
    t, agents = w
    lasting = Roster([replace(a, presence="offline", load={}, last_assigned_s=None, recent_orgs=frozenset()) for a in agents])
    state = {a.id: (a.presence, a.last_assigned_s, a.current(t.priority)) for a in agents}
    if partial:  # agents missing from the state are available, never assigned, without load
        state = {i: s for i, s in state.items() if s != NOBODY}
    asked: list[int] = []
    first: list[list[int]] = []
    recent = {a.id for a in agents if 7 in a.recent_orgs}

    def recent_of(ids: list[int]) -> set[int]:
        first.append(ids)
        asked.extend(ids)
        return recent & set(ids)

    full = choose(t, agents, NOW)
    d = choose_from(t, lasting, state, NOW, recent_of, batch=batch, keep=3)
    # ``ranked_first`` says whom it asks about first (the hint for prefetching continuity).
    assert list(ranked_first(t, lasting, state, NOW, batch)) == (first[0] if first else [])[:batch]
    assert (d.agent_id, d.rule, d.reasons) == (full.agent_id, full.rule, full.reasons)
    assert len(asked) == len(set(asked))
    by_id = {a.id: a for a in agents}
    assert all(by_id[i].on_shift and by_id[i].presence in ("available", "busy") for i in asked)
    assert all(by_id[i].current(t.priority) < by_id[i].cap(t.priority) for i in asked)
    for i in asked:  # whoever was asked about was scored as the full decision scores them
        assert d.scores[i] == full.scores[i]
    if d.agent_id is not None:  # the agents who cannot take it are not scored then
        assert set(d.scores) == set(asked)
    assert len(d.ranked) <= 3 and all(by_id[i].current(t.priority) < by_id[i].cap(t.priority) for i in d.ranked)


def test_roster_remembers_fit_per_language_and_skills() -> None:
    r = Roster([agent(1, "A", languages=frozenset({"en", "ja"}), skills=frozenset({"sdk:ios"})), agent(2, "B")])
    ios = frozenset({"sdk:ios", "region:sg"})
    assert r.fit("ja", ios) == (4.0 + 1.5, 0.0) and r.fit("en", frozenset()) == (4.0, 4.0)
    assert r.fit("ja", ios) is r.fit("ja", ios)
    assert r.caps("P1") == (2, 2)


def test_roster_capacity_of_one_agent_and_a_decision_at_the_load_read_again() -> None:
    from relaydesk.domain.routing import at_load

    r = Roster([agent(1, "A"), agent(2, "B", capacity={"*": 3})])
    assert (r.cap(1, "P1"), r.cap(2, "P1"), r.cap(2, "P4")) == (2, 3, 3)
    d = choose(facts(), [agent(1, "Mei", load={"P3": 1})], NOW)
    again = at_load(d, 4, 8)
    assert d.summary == "assigned to Mei; on shift SG; en; load 1/8"
    assert again.summary == "assigned to Mei; on shift SG; en; load 4/8"
    assert (again.agent_id, again.rule, again.scores) == (d.agent_id, d.rule, d.scores)
