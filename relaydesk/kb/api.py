"""JSON API of the kb capability; mounted under /api/v1 (paths below carry their own prefix).

Reading (search, suggest, articles, categories, events) is open to anonymous callers for
public articles; a token or session widens what may be read (customers: public + customers;
staff: everything, drafts included). Writing articles, deflection figures and solution
templates are for staff only.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from relaydesk.api.auth import SessionAuth, TokenAuth, require_scope, require_staff
from relaydesk.core.models import User
from relaydesk.tickets import services as ticket_services
from relaydesk.tickets.models import Ticket

from . import deflection, search, services
from . import macros as engine
from .models import (
    LANG_CODES,
    OPENED,
    SHOWN,
    SOLVED,
    Article,
    Category,
    Image,
    Macro,
    Translation,
    Version,
)

router = Router(tags=["kb"])


class _Anonymous:
    """Marker for a caller without credentials (only where anonymous reading is allowed)."""


ANONYMOUS = _Anonymous()


def _anonymous(request: HttpRequest) -> _Anonymous | None:
    # A caller who sent a token that did not verify gets 401, not a silent anonymous answer.
    if request.META.get("HTTP_AUTHORIZATION"):
        return None
    return ANONYMOUS


OPTIONAL_AUTH = [TokenAuth(), SessionAuth(), _anonymous]


def _reader(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None)
    return user if isinstance(user, User) else None


def _staff(request: HttpRequest, scope: str | None = None) -> User:
    user = _reader(request)
    if user is None:
        raise HttpError(401, "authentication required")
    require_staff(user)
    if scope:
        require_scope(request, scope)
    return user


def _fail(exc: services.KBError | engine.TemplateError | ticket_services.TicketError) -> HttpError:
    if isinstance(exc, engine.TemplateError):
        return HttpError(422, exc.message)
    prefix = f"{exc.field}: " if exc.field and not exc.message.startswith(exc.field) else ""
    return HttpError(exc.status, prefix + exc.message)


def _check_query(q: str | None, *, field: str = "q", allow_empty: bool = False) -> str:
    q = (q or "").strip()
    if not q and not allow_empty:
        raise HttpError(422, f"{field}: must not be empty; type a few words, e.g. 'Android 卡顿'")
    if len(q) > search.MAX_QUERY_CHARS:
        raise HttpError(422, f"{field}: at most {search.MAX_QUERY_CHARS} characters (got {len(q)})")
    return q


def _check_lang(lang: str | None) -> str | None:
    if lang in (None, ""):
        return None
    if lang not in LANG_CODES:
        raise HttpError(422, f"lang: must be one of {', '.join(LANG_CODES)}")
    return lang


# -- search & suggest ------------------------------------------------------------------------


class HitOut(Schema):
    id: int
    slug: str
    lang: str
    title: str
    title_html: str = ""
    snippet: str = ""
    category: str
    visibility: str
    status: str
    score: float
    url: str


class SearchOut(Schema):
    query: str
    terms: list[str]
    corrections: dict[str, str]
    count: int
    items: list[HitOut]


def _hits(res: search.Result) -> list[dict[str, Any]]:
    return [
        {
            "id": h.article_id,
            "slug": h.slug,
            "lang": h.lang,
            "title": h.title,
            "title_html": h.title_html,
            "snippet": h.snippet,
            "category": h.category,
            "visibility": h.visibility,
            "status": h.status,
            "score": h.score,
            "url": f"/api/v1/kb/articles/{h.article_id}?lang={h.lang}",
        }
        for h in res.hits
    ]


def _check_visibility(visibility: str | None, reader: User | None) -> str | None:
    """A visibility filter only narrows what the reader may see: one outside it is refused
    (422, naming what the reader may ask for), never widened."""
    if visibility in (None, ""):
        return None
    allowed = services.visibilities_for(reader)
    if visibility not in search.VISIBILITY_NAMES:
        raise HttpError(422, f"visibility: must be one of {', '.join(allowed)}")
    if visibility not in allowed:
        raise HttpError(422, f"visibility: '{visibility}' articles are not available to you; choose from {', '.join(allowed)}")
    return visibility


@router.get("/kb/search", auth=OPTIONAL_AUTH, response=SearchOut, summary="Search articles")
def kb_search(
    request: HttpRequest,
    q: str = "",
    lang: str | None = None,
    category: str | None = None,
    visibility: str | None = Query(None, description="public, customers or internal; only within what the caller may read"),
    limit: int = Query(10, ge=1, le=50),
) -> dict[str, Any]:
    reader = _reader(request)
    res = search.search(
        _check_query(q),
        user=reader,
        lang=_check_lang(lang),
        category=category or None,
        visibility=_check_visibility(visibility, reader),
        limit=limit,
    )
    items = _hits(res)
    return {"query": res.query, "terms": res.terms, "corrections": res.corrections, "count": len(items), "items": items}


class SuggestOut(Schema):
    query: str
    items: list[HitOut]


@router.get("/kb/suggest", auth=OPTIONAL_AUTH, response=SuggestOut, summary="Articles for what a customer is typing (top 5)")
def kb_suggest(request: HttpRequest, q: str = "", lang: str | None = None) -> dict[str, Any]:
    """Called as the ticket form is typed: an empty text answers an empty list, the last
    word is matched as a prefix. Read-only; the form reports what it showed via events."""
    text = _check_query(q, allow_empty=True)
    if not text:
        return {"query": "", "items": []}
    res = search.search(text, user=_reader(request), lang=_check_lang(lang), limit=5, prefix_last=True, snippets=False)
    return {"query": res.query, "items": _hits(res)}


# -- reading articles -----------------------------------------------------------------------------


def _article_or_404(request: HttpRequest, article_id: int) -> Article:
    article = services.visible_articles(_reader(request)).select_related("category").filter(pk=article_id).first()
    if article is None:
        # Same answer for "does not exist" and "not for you": nothing to probe.
        raise HttpError(404, f"article {article_id} not found")
    return article


def _article_out(article: Article, tr: Translation, reader: User | None) -> dict[str, Any]:
    from . import render

    return {
        "id": article.pk,
        "slug": article.slug,
        "lang": tr.lang,
        "title": tr.title,
        "html": tr.html,
        "body": tr.body if services.is_staff(reader) else None,
        "videos": render.video_links(tr.body),
        "category": {"slug": article.category.slug, "title": article.category.title(tr.lang)},
        "visibility": article.visibility,
        "status": article.status,
        "tags": article.tags,
        "version": tr.version,
        "updated_at": tr.updated_at,
        "translations": [
            {"lang": t.lang, "title": t.title, "url": f"/api/v1/kb/articles/{article.pk}?lang={t.lang}"}
            for t in article.translations.all().only("lang", "title", "article_id")
        ],
        "related": [
            {"id": a.pk, "slug": a.slug, "title": _title(a, tr.lang)}
            for a in services.visible_related(article, reader).prefetch_related("translations")
        ],
    }


def _title(article: Article, lang: str) -> str:
    trs = {t.lang: t.title for t in article.translations.all()}
    return trs.get(lang) or trs.get("en") or next(iter(trs.values()), article.slug)


@router.get("/kb/articles/{int:article_id}", auth=OPTIONAL_AUTH, summary="One article in one language")
def kb_article(request: HttpRequest, article_id: int, lang: str | None = None) -> dict[str, Any]:
    reader = _reader(request)
    article = _article_or_404(request, article_id)
    wanted = _check_lang(lang) or (reader.language if reader else "en")
    trs = {t.lang: t for t in article.translations.all()}
    tr = trs.get(wanted) or trs.get("en") or next(iter(trs.values()), None)
    if tr is None:
        raise HttpError(404, f"article {article_id} has no text yet")
    return _article_out(article, tr, reader)


@router.get("/kb/categories", auth=OPTIONAL_AUTH, summary="Categories with the number of articles the reader may see")
def kb_categories(request: HttpRequest, lang: str | None = None) -> list[dict[str, Any]]:
    from django.db.models import Count

    language = _check_lang(lang) or "en"
    visible = services.visible_articles(_reader(request))
    counts = dict(visible.values("category").annotate(n=Count("pk")).values_list("category", "n"))
    return [
        {"slug": c.slug, "title": c.title(language), "articles": counts.get(c.pk, 0)}
        for c in Category.objects.all()
    ]


# -- reading events & deflection --------------------------------------------------------------------


class EventIn(Schema):
    article: int
    kind: Literal["shown", "opened", "solved"]
    session: str = Field("", max_length=64, description="An opaque id the portal keeps per visitor")
    lang: str = ""
    query: str = Field("", max_length=200)


@router.post("/kb/events", auth=OPTIONAL_AUTH, response={201: dict[str, Any]}, summary="Record a suggestion shown, an article opened, or 'this solved it'")
def kb_event(request: HttpRequest, payload: EventIn) -> Status[dict[str, Any]]:
    reader = _reader(request)
    if reader is None and not payload.session:
        raise HttpError(422, "session: required for anonymous readers (an opaque id kept by the portal)")
    article = _article_or_404(request, payload.article)
    event = deflection.record(
        kind={"shown": SHOWN, "opened": OPENED, "solved": SOLVED}[payload.kind],
        article=article,
        user=reader,
        session=payload.session,
        lang=_check_lang(payload.lang) or "",
        query=payload.query,
    )
    return Status(201, {"id": event.pk, "kind": event.kind, "article": article.pk})


@router.get("/kb/deflection", summary="Deflection per article and per category (staff)")
def kb_deflection(request: HttpRequest, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    _staff(request)
    if since and until and until < since:
        raise HttpError(422, "until: must not be before since")
    deflection.settle()
    return deflection.figures(since=since, until=until)


# -- staff writing -----------------------------------------------------------------------------------


class TranslationIn(Schema):
    title: str = Field(..., max_length=services.MAX_TITLE)
    body: str = Field(..., max_length=services.MAX_BODY)


class ArticleIn(Schema):
    slug: str = Field(..., max_length=120)
    category: str
    visibility: Literal["public", "customers", "internal"] = "public"
    status: Literal["draft", "published"] = "draft"
    tags: list[str] = []
    related: list[str] = []
    translations: dict[str, TranslationIn]


class ArticlePatch(Schema):
    slug: str | None = Field(None, max_length=120)
    category: str | None = None
    visibility: Literal["public", "customers", "internal"] | None = None
    status: Literal["draft", "published"] | None = None
    tags: list[str] | None = None
    related: list[str] | None = None
    translations: dict[str, TranslationIn] | None = None
    note: str = Field("", max_length=200)


def _staff_article(article_id: int) -> Article:
    article = Article.objects.select_related("category").filter(pk=article_id).first()
    if article is None:
        raise HttpError(404, f"article {article_id} not found")
    return article


def _staff_view(article: Article, lang: str | None, reader: User) -> dict[str, Any]:
    trs = {t.lang: t for t in article.translations.all()}
    tr = trs.get(lang or "en") or next(iter(trs.values()))
    return _article_out(article, tr, reader)


@router.post("/kb/articles", response={201: dict[str, Any]}, summary="Create an article (staff)")
def kb_create(request: HttpRequest, payload: ArticleIn) -> Status[dict[str, Any]]:
    user = _staff(request, "tickets:write")
    data = payload.dict()
    data["translations"] = {k: dict(v) for k, v in data["translations"].items()}
    try:
        article = services.create_article(data, author=user)
    except services.KBError as exc:
        raise _fail(exc) from exc
    return Status(201, _staff_view(article, None, user))


@router.patch("/kb/articles/{int:article_id}", summary="Change an article (staff); each changed text keeps a version")
def kb_update(request: HttpRequest, article_id: int, payload: ArticlePatch) -> dict[str, Any]:
    user = _staff(request, "tickets:write")
    article = _staff_article(article_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if "translations" in data:
        data["translations"] = {k: dict(v) for k, v in data["translations"].items()}
    try:
        article = services.update_article(article, data, author=user)
    except services.KBError as exc:
        raise _fail(exc) from exc
    return _staff_view(article, None, user)


@router.post("/kb/articles/{int:article_id}/publish", summary="Publish (staff)")
def kb_publish(request: HttpRequest, article_id: int) -> dict[str, Any]:
    user = _staff(request, "tickets:write")
    article = services.set_status(_staff_article(article_id), "published")
    return _staff_view(article, None, user)


@router.post("/kb/articles/{int:article_id}/unpublish", summary="Back to draft (staff)")
def kb_unpublish(request: HttpRequest, article_id: int) -> dict[str, Any]:
    user = _staff(request, "tickets:write")
    article = services.set_status(_staff_article(article_id), "draft")
    return _staff_view(article, None, user)


@router.get("/kb/articles/{int:article_id}/versions", summary="Version history of one language (staff)")
def kb_versions(request: HttpRequest, article_id: int, lang: str = "en") -> list[dict[str, Any]]:
    _staff(request)
    article = _staff_article(article_id)
    lang = _check_lang(lang) or "en"
    return [
        {"number": v.number, "title": v.title, "note": v.note, "author": v.author.email if v.author else None, "created_at": v.created_at}
        for v in Version.objects.filter(translation__article=article, translation__lang=lang).select_related("author").order_by("-number")
    ]


@router.get("/kb/articles/{int:article_id}/diff", summary="Unified diff between two versions (staff)")
def kb_diff(request: HttpRequest, article_id: int, lang: str = "en", a: int = Query(..., alias="from"), b: int = Query(..., alias="to")) -> dict[str, Any]:
    _staff(request)
    try:
        diff = services.diff_versions(_staff_article(article_id), _check_lang(lang) or "en", a, b)
    except services.KBError as exc:
        raise _fail(exc) from exc
    return {"from": a, "to": b, "lang": lang, "diff": diff}


@router.post("/kb/articles/{int:article_id}/versions/{int:number}/restore", summary="Restore a version as the new current text (staff)")
def kb_restore(request: HttpRequest, article_id: int, number: int, lang: str = "en") -> dict[str, Any]:
    user = _staff(request, "tickets:write")
    article = _staff_article(article_id)
    try:
        saved = services.restore_version(article, _check_lang(lang) or "en", number, author=user)
    except services.KBError as exc:
        raise _fail(exc) from exc
    return _staff_view(article, saved.translation.lang, user)


IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
MAX_IMAGE_BYTES = 5 * 1024 * 1024


def _sniff(data: bytes) -> str | None:
    for magic, ctype in IMAGE_TYPES.items():
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@router.post("/kb/images", response={201: dict[str, Any]}, summary="Upload an image for articles (staff; PNG, JPEG, GIF, WebP)")
def kb_image(request: HttpRequest, file: File[UploadedFile], article: Form[int | None] = None) -> Status[dict[str, Any]]:
    import re

    from django.core.files.base import ContentFile

    user = _staff(request, "tickets:write")
    if file.size and file.size > MAX_IMAGE_BYTES:
        raise HttpError(413, f"file: at most {MAX_IMAGE_BYTES} bytes")
    data = file.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise HttpError(413, f"file: at most {MAX_IMAGE_BYTES} bytes")
    ctype = _sniff(data)
    if ctype is None:
        raise HttpError(415, "file: not a PNG, JPEG, GIF or WebP image (SVG is not accepted: it can carry script)")
    owner = _staff_article(article) if article is not None else None
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", (file.name or "image").rsplit("/", 1)[-1]).strip("-.")[:100] or "image"
    digest = hashlib.sha256(data).hexdigest()
    img = Image(article=owner, filename=name, content_type=ctype, size=len(data), digest=digest, uploaded_by=user)
    img.file.save(name, ContentFile(data), save=False)
    img.save()
    return Status(201, {"id": img.pk, "url": img.url, "markdown": f"![{name}]({img.url})", "content_type": ctype, "size": len(data)})


# -- solution templates (macros) ---------------------------------------------------------------------


def _macro_out(m: Macro) -> dict[str, Any]:
    return {
        "id": m.pk,
        "name": m.name,
        "categories": m.categories,
        "body_en": m.body_en,
        "body_zh": m.body_zh,
        "set_status": m.set_status or None,
        "set_tags": m.set_tags,
        "usage_count": m.usage_count,
        "placeholders": sorted(set(engine.placeholders(m.body_en)) | set(engine.placeholders(m.body_zh))),
    }


class MacroIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    categories: list[str] = []
    body_en: str = Field("", max_length=engine.MAX_BODY)
    body_zh: str = Field("", max_length=engine.MAX_BODY)
    set_status: str = ""
    set_tags: list[str] = []


@router.post("/macros", response={201: dict[str, Any]}, summary="Create a solution template (staff)")
def macro_create(request: HttpRequest, payload: MacroIn) -> Status[dict[str, Any]]:
    from relaydesk.tickets.models import CATEGORIES, STATUSES

    _staff(request, "tickets:write")
    if not payload.body_en.strip() and not payload.body_zh.strip():
        raise HttpError(422, "body_en: a template needs a body in at least one language")
    for field in ("body_en", "body_zh"):
        try:
            engine.placeholders(getattr(payload, field))
        except engine.TemplateError as exc:
            raise HttpError(422, f"{field}: {exc.message}") from exc
    if payload.set_status and payload.set_status not in dict(STATUSES):
        raise HttpError(422, f"set_status: must be one of {', '.join(dict(STATUSES))}")
    bad = [c for c in payload.categories if c not in dict(CATEGORIES)]
    if bad:
        raise HttpError(422, f"categories: unknown {', '.join(bad)}; choose from {', '.join(dict(CATEGORIES))}")
    if Macro.objects.filter(name=payload.name).exists():
        raise HttpError(409, f"name: a template called '{payload.name}' exists")
    m = Macro.objects.create(**payload.dict())
    return Status(201, _macro_out(m))


@router.get("/macros", summary="Solution templates, those for the ticket's category first (staff)")
def macro_list(request: HttpRequest, ticket: int | None = None) -> list[dict[str, Any]]:
    from relaydesk.api.auth import get_visible_ticket

    user = _staff(request)
    items = [_macro_out(m) for m in Macro.objects.filter(is_active=True)]
    if ticket is not None:
        t = get_visible_ticket(user, ticket)
        for it in items:
            it["suggested"] = t.category in it["categories"]
        items.sort(key=lambda it: (not it["suggested"], -it["usage_count"], it["name"]))
    return items


class ApplyIn(Schema):
    ticket: int
    public: bool = True
    incident_url: str | None = Field(None, max_length=500)
    incident_title: str | None = Field(None, max_length=250)


def linked_incident(ticket: Ticket) -> Any:
    """The open incident linked to the ticket (the most recently linked one), or None."""
    from relaydesk.incidents import lifecycle
    from relaydesk.incidents.models import IncidentTicket

    link = (
        IncidentTicket.objects.filter(ticket=ticket)
        .exclude(incident__status=lifecycle.RESOLVED)
        .select_related("incident")
        .order_by("-linked_at", "-id")
        .first()
    )
    return link.incident if link else None


def macro_context(ticket: Ticket, agent: User, extra: dict[str, str | None]) -> dict[str, str | None]:
    """The allow-listed values a template may use: plain strings, nothing else.

    ``incident.url``/``incident.title`` come from the ticket's linked open incident (its
    public status page); a value the agent passes explicitly wins."""
    from relaydesk.incidents.notices import status_url

    requester = ticket.requester
    lang = requester.language or ticket.organisation.language
    incident = linked_incident(ticket)
    ctx: dict[str, str | None] = {
        "customer.name": requester.get_full_name() or requester.email,
        "customer.email": requester.email,
        "customer.organisation": ticket.organisation.name,
        "agent.name": agent.get_full_name() or agent.email,
        "ticket.number": str(ticket.number),
        "ticket.subject": ticket.subject,
        "ticket.region": ticket.region.name if ticket.region_id and ticket.region else None,
        "ticket.priority": ticket.priority,
        "ticket.app_id": ticket.app_id or None,
        "ticket.channel_name": ticket.channel_name or None,
        "ticket.sdk": ticket.sdk or None,
        "ticket.sdk_version": ticket.sdk_version or None,
        "ticket.platform": ticket.get_platform_display() if ticket.platform else None,
        "incident.url": status_url(incident.pk) if incident else None,
        "incident.title": incident.title(lang) if incident else None,
    }
    ctx.update({k: v for k, v in extra.items() if k in engine.PLACEHOLDERS and v})
    return ctx


@router.post("/macros/{int:macro_id}/apply", summary="Apply a template to a ticket: add the reply or note, set status and tags (staff)")
def macro_apply(request: HttpRequest, macro_id: int, payload: ApplyIn) -> dict[str, Any]:
    from relaydesk.api.auth import get_visible_ticket

    user = _staff(request, "tickets:write")
    macro = Macro.objects.filter(pk=macro_id, is_active=True).first()
    if macro is None:
        raise HttpError(404, f"template {macro_id} not found")
    ticket = get_visible_ticket(user, payload.ticket)
    lang = ticket.requester.language or ticket.organisation.language
    ctx = macro_context(ticket, user, {"incident.url": payload.incident_url, "incident.title": payload.incident_title})
    try:
        body = engine.render(macro.body(lang), ctx)
    except engine.TemplateError as exc:
        raise HttpError(422, exc.message) from exc
    changes: dict[str, Any] = {}
    if macro.set_tags:
        current = list(ticket.tags.values_list("name", flat=True))
        changes["tags"] = sorted(set(current) | set(macro.set_tags))
    try:
        with transaction.atomic():
            msg = ticket_services.add_message(ticket, author=user, body=body, is_public=payload.public, channel="portal")
            if macro.set_status:
                changes["status"] = macro.set_status
            if changes:
                ticket = ticket_services.update_ticket(ticket, actor=user, changes=changes, via="api")
            Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())
    except ticket_services.TicketError as exc:
        raise _fail(exc) from exc
    ticket.refresh_from_db()
    return {
        "ticket": ticket.pk,
        "message": msg.pk,
        "body": body,
        "public": payload.public,
        "status": ticket.status,
        "tags": sorted(ticket.tags.values_list("name", flat=True)),
    }
