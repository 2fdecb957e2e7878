"""Deflection: a reader who opened an article (or said "this solved it") and did not file a
ticket within ``KB_DEFLECTION_MINUTES`` was helped by the knowledge base.

- ``record`` stores the event; "opened" and "solved" open (or extend) the reader's
  engagement with that article.
- ``on_ticket_created`` (connected to ``tickets.signals.ticket_created``) marks the
  requester's recent pending engagements — by user, or by a session the user used — as
  ``filed``.
- ``settle`` marks engagements older than the window without a ticket as ``deflected``;
  it runs before the figures are read (and may run from a periodic job).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from relaydesk.core.models import User

from .models import (
    DEFLECTED,
    FILED,
    OPENED,
    PENDING,
    SHOWN,
    SOLVED,
    Article,
    Category,
    Engagement,
    ReadEvent,
)


def window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "KB_DEFLECTION_MINUTES", 30)))


def record(
    *, kind: str, article: Article, user: User | None, session: str = "", lang: str = "", query: str = "", now: datetime | None = None
) -> ReadEvent:
    when = now or timezone.now()
    event = ReadEvent.objects.create(kind=kind, article=article, lang=lang, user=user, session=session[:64], query=query[:200], at=when)
    if kind in (OPENED, SOLVED):
        who = Q(user=user) if user is not None else Q(user__isnull=True, session=session)
        eng = Engagement.objects.filter(who, article=article, outcome=PENDING).order_by("-last_at").first()
        if eng is None:
            eng = Engagement(article=article, user=user, session=session[:64], started_at=when)
        eng.last_at = when
        eng.solved = eng.solved or kind == SOLVED
        if user is not None and session and not eng.session:
            eng.session = session[:64]
        eng.save()
    return event


def _has_engagements(user_id: int) -> bool:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"SELECT 1 FROM {Engagement._meta.db_table} WHERE user_id = %s LIMIT 1",  # noqa: S608 - table name from the model
            [user_id],
        )
        return cur.fetchone() is not None


def on_ticket_created(sender: Any, ticket: Any, actor: Any = None, **kwargs: Any) -> None:
    """A ticket was filed: the requester's engagements in the window did not deflect it."""
    requester_id = ticket.requester_id
    if requester_id is None or not _has_engagements(requester_id):
        return  # most requesters never opened an article: one small query, nothing to mark
    since = ticket.created_at - window()
    sessions = list(
        Engagement.objects.filter(user_id=requester_id).exclude(session="").values_list("session", flat=True).distinct()[:50]
    )
    who = Q(user_id=requester_id)
    if sessions:
        who |= Q(user__isnull=True, session__in=sessions)
    Engagement.objects.filter(who, outcome=PENDING, last_at__gte=since, last_at__lte=ticket.created_at).update(
        outcome=FILED, ticket=ticket
    )


def settle(now: datetime | None = None) -> int:
    """Engagements whose window passed without a ticket become ``deflected``."""
    cutoff = (now or timezone.now()) - window()
    return Engagement.objects.filter(outcome=PENDING, last_at__lt=cutoff).update(outcome=DEFLECTED)


def _rate(deflected: int, filed: int) -> float | None:
    total = deflected + filed
    return None if total == 0 else round(deflected / total, 4)


def figures(*, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    events = ReadEvent.objects.all()
    engagements = Engagement.objects.all()
    if since:
        events = events.filter(at__gte=since)
        engagements = engagements.filter(started_at__gte=since)
    if until:
        events = events.filter(at__lt=until)
        engagements = engagements.filter(started_at__lt=until)
    per: dict[int, dict[str, int]] = {}
    for row in events.values("article", "kind").annotate(n=Count("pk")):
        per.setdefault(row["article"], {})[row["kind"]] = row["n"]
    for row in engagements.values("article", "outcome").annotate(n=Count("pk")):
        per.setdefault(row["article"], {})["eng_" + row["outcome"]] = row["n"]
    articles = {a.pk: a for a in Article.objects.filter(pk__in=per).select_related("category")}
    cats = {c.pk: c for c in Category.objects.all()}
    out_articles = []
    by_cat: dict[int, dict[str, int]] = {}
    for aid, f in per.items():
        a = articles.get(aid)
        if a is None:
            continue
        item = {
            "shown": f.get(SHOWN, 0),
            "opened": f.get(OPENED, 0),
            "solved": f.get(SOLVED, 0),
            "deflected": f.get("eng_" + DEFLECTED, 0),
            "filed": f.get("eng_" + FILED, 0),
            "pending": f.get("eng_" + PENDING, 0),
        }
        agg = by_cat.setdefault(a.category_id, dict.fromkeys(item, 0))
        for k, v in item.items():
            agg[k] += v
        out_articles.append({"id": aid, "slug": a.slug, "category": a.category.slug, **item, "deflection_rate": _rate(item["deflected"], item["filed"])})
    out_articles.sort(key=lambda r: (-r["deflected"], r["slug"]))
    out_cats = [
        {"slug": cats[cid].slug, "title": cats[cid].title("en"), **agg, "deflection_rate": _rate(agg["deflected"], agg["filed"])}
        for cid, agg in sorted(by_cat.items(), key=lambda kv: cats[kv[0]].slug)
    ]
    return {"window_minutes": int(window().total_seconds() // 60), "articles": out_articles, "categories": out_cats}
