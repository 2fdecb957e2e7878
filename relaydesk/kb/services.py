"""The only writer of articles: every save renders, indexes and keeps a version."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from relaydesk.core.models import User

from . import render, text
from .models import (
    CUSTOMERS,
    DRAFT,
    LANG_CODES,
    PUBLIC,
    PUBLISHED,
    STATUSES,
    VISIBILITIES,
    Article,
    Category,
    Translation,
    Version,
)

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TITLE = 250
MAX_BODY = 200_000
MAX_TAGS = 30


class KBError(Exception):
    """A request that cannot be applied; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


# -- who may read what -------------------------------------------------------------------

ANONYMOUS_VISIBLE = (PUBLIC,)
CUSTOMER_VISIBLE = (PUBLIC, CUSTOMERS)


def is_staff(user: Any) -> bool:
    return isinstance(user, User) and user.kind == User.KIND_STAFF and user.is_active


def visibilities_for(user: Any) -> list[str]:
    """Anonymous readers see public articles; signed-in customers also customers-only ones;
    staff everything, internal included."""
    if is_staff(user):
        return [v for v, _ in VISIBILITIES]
    if isinstance(user, User) and user.is_customer and user.is_active:
        return list(CUSTOMER_VISIBLE)
    return list(ANONYMOUS_VISIBLE)


def visible_articles(user: Any) -> QuerySet[Article]:
    qs = Article.objects.filter(visibility__in=visibilities_for(user))
    if not is_staff(user):
        qs = qs.filter(status=PUBLISHED)  # drafts are for staff only
    return qs


# -- validation ----------------------------------------------------------------------------


def _clean_tags(tags: Any) -> list[str]:
    if isinstance(tags, str):
        tags = [t for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise KBError("tags must be a list of strings", field="tags")
    out: list[str] = []
    for t in tags:
        t = t.strip()
        if not t:
            continue
        if len(t) > 50:
            raise KBError(f"tag '{t[:20]}…' is longer than 50 characters", field="tags")
        if t not in out:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise KBError(f"at most {MAX_TAGS} tags", field="tags")
    return out


def _check_slug(slug: str, field: str = "slug") -> str:
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > 120:
        raise KBError(f"{field} must be lower-case letters, digits and single hyphens (e.g. 'echo-on-android')", field=field)
    return slug


def _check_lang(lang: str) -> str:
    if lang not in LANG_CODES:
        raise KBError(f"lang must be one of {', '.join(LANG_CODES)}", field="lang")
    return lang


def _check_text(title: str, body: str) -> None:
    if not isinstance(title, str) or not title.strip():
        raise KBError("title must not be empty", field="title")
    if len(title) > MAX_TITLE:
        raise KBError(f"title is longer than {MAX_TITLE} characters", field="title")
    if not isinstance(body, str) or not body.strip():
        raise KBError("body must not be empty", field="body")
    if len(body) > MAX_BODY:
        raise KBError(f"body is longer than {MAX_BODY} characters", field="body")


# -- indexing ----------------------------------------------------------------------------------


def scope_tokens(article: Article, lang: str) -> str:
    """Index tokens saying who may find a translation, one per reader level so a search
    adds a single condition (see ``search._scope_match``): ``xl<lang>`` for staff,
    ``xc``/``xc<lang>`` when customers may read it, ``xa``/``xa<lang>`` when anyone may,
    ``xcat<id>`` for the category and ``xv<visibility>`` for a visibility filter."""
    code = lang.replace("-", "").lower()
    tokens = [f"xl{code}", f"xcat{article.category_id}", f"xv{article.visibility}"]
    if article.status == PUBLISHED:
        if article.visibility in CUSTOMER_VISIBLE:
            tokens += ["xc", f"xc{code}"]
        if article.visibility in ANONYMOUS_VISIBLE:
            tokens += ["xa", f"xa{code}"]
    return " ".join(tokens)


def prepare_index(tr: Translation, article: Article) -> None:
    """Render the body and fill the search columns (nothing is saved here)."""
    tr.html = render.render(tr.body)
    tr.text = render.plain_text(tr.body)
    tr.search_title = text.index_text(tr.title)
    tr.search_tags = text.index_text(" ".join(article.tags))
    tr.search_body = text.index_text(tr.text)
    tr.search_scope = scope_tokens(article, tr.lang)


def reindex(articles: QuerySet[Article] | None = None) -> int:
    """Re-render and re-index translations (after a pipeline change); returns the count."""
    qs = Translation.objects.select_related("article")
    if articles is not None:
        qs = qs.filter(article__in=articles)
    n = 0
    with transaction.atomic():
        for tr in qs.iterator(chunk_size=500):
            prepare_index(tr, tr.article)
            tr.save(update_fields=["html", "text", "search_title", "search_tags", "search_body", "search_scope"])
            n += 1
    rebuild_fulltext()
    return n


def rebuild_fulltext() -> None:
    """Rebuild the database's full-text structure from the search columns."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("INSERT INTO kb_search(kb_search) VALUES ('rebuild')")
    # PostgreSQL: the tsvector is a generated column; nothing to do.
    from . import search

    search.forget_vocabulary()


# -- writes ------------------------------------------------------------------------------------


@dataclass
class Saved:
    translation: Translation
    created_version: bool


def save_translation(
    article: Article, lang: str, *, title: str, body: str, author: User | None = None, note: str = "", now: Any = None
) -> Saved:
    """Create or update one language of an article; keeps a version when the text changed."""
    _check_lang(lang)
    _check_text(title, body)
    when = now or timezone.now()
    with transaction.atomic():
        article = Article.objects.get(pk=article.pk)  # current visibility/tags for the index
        tr = Translation.objects.select_for_update().filter(article=article, lang=lang).first()
        if tr is not None and tr.title == title and tr.body == body:
            return Saved(tr, False)
        if tr is None:
            tr = Translation(article=article, lang=lang)
        tr.title, tr.body = title, body
        tr.version = (tr.version or 0) + 1
        tr.updated_at = when
        prepare_index(tr, article)
        tr.save()
        Version.objects.create(translation=tr, number=tr.version, title=title, body=body, note=note[:200], author=author, created_at=when)
        Article.objects.filter(pk=article.pk).update(updated_at=when)
    _forget()
    return Saved(tr, True)


def _apply_article_fields(article: Article, data: dict[str, Any]) -> bool:
    """Set slug/category/visibility/tags/status from ``data``; True if tags changed."""
    if "slug" in data:
        article.slug = _check_slug(data["slug"])
    if "category" in data:
        cat = Category.objects.filter(slug=data["category"]).first() if isinstance(data["category"], str) else None
        if cat is None:
            raise KBError(f"unknown category '{data['category']}'", field="category")
        article.category = cat
    if "visibility" in data:
        if data["visibility"] not in dict(VISIBILITIES):
            raise KBError(f"visibility must be one of {', '.join(dict(VISIBILITIES))}", field="visibility")
        article.visibility = data["visibility"]
    if "status" in data:
        if data["status"] not in dict(STATUSES):
            raise KBError(f"status must be one of {', '.join(dict(STATUSES))}", field="status")
        if data["status"] == PUBLISHED and article.status != PUBLISHED:
            article.published_at = timezone.now()
        article.status = data["status"]
    tags_changed = False
    if "tags" in data:
        tags = _clean_tags(data["tags"])
        tags_changed = tags != article.tags
        article.tags = tags
    return tags_changed


def _set_related(article: Article, slugs: Any) -> None:
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise KBError("related must be a list of article slugs", field="related")
    slugs = [s.strip() for s in slugs if s.strip() and s.strip() != article.slug]
    found = {a.slug: a for a in Article.objects.filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise KBError(f"unknown related article(s): {', '.join(missing)}", field="related")
    article.related.set([found[s] for s in slugs])


def create_article(data: dict[str, Any], *, author: User | None = None) -> Article:
    """``data``: slug, category, visibility, status, tags, related, translations
    ({lang: {title, body}}). All validated before anything is written."""
    for key in ("slug", "category"):
        if not data.get(key):
            raise KBError(f"{key} is required", field=key)
    translations = data.get("translations") or {}
    if not isinstance(translations, dict) or not translations:
        raise KBError("translations must map a language to {title, body}", field="translations")
    for lang, t in translations.items():
        _check_lang(lang)
        if not isinstance(t, dict):
            raise KBError(f"translations.{lang} must be {{title, body}}", field=f"translations.{lang}")
        _check_text(t.get("title", ""), t.get("body", ""))
    if Article.objects.filter(slug=data["slug"]).exists():
        raise KBError(f"an article with slug '{data['slug']}' exists", status=409, field="slug")
    with transaction.atomic():
        article = Article(status=DRAFT)
        _apply_article_fields(article, {k: v for k, v in data.items() if k in ("slug", "category", "visibility", "status", "tags")})
        article.save()
        if "related" in data:
            _set_related(article, data["related"])
        for lang, t in translations.items():
            save_translation(article, lang, title=t["title"], body=t["body"], author=author, note="created")
    return article


def update_article(article: Article, data: dict[str, Any], *, author: User | None = None) -> Article:
    for lang, t in (data.get("translations") or {}).items():
        _check_lang(lang)
        if not isinstance(t, dict):
            raise KBError(f"translations.{lang} must be {{title, body}}", field=f"translations.{lang}")
        _check_text(t.get("title", ""), t.get("body", ""))
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        if "slug" in data and data["slug"] != article.slug and Article.objects.filter(slug=data["slug"]).exists():
            raise KBError(f"an article with slug '{data['slug']}' exists", status=409, field="slug")
        tags_changed = _apply_article_fields(article, {k: v for k, v in data.items() if k in ("slug", "category", "visibility", "status", "tags")})
        article.updated_at = timezone.now()
        article.save()
        if "related" in data:
            _set_related(article, data["related"])
        for tr in article.translations.all():
            tr.search_tags = text.index_text(" ".join(article.tags)) if tags_changed else tr.search_tags
            scope = scope_tokens(article, tr.lang)
            if tags_changed or scope != tr.search_scope:
                tr.search_scope = scope
                tr.save(update_fields=["search_tags", "search_scope"])
        for lang, t in (data.get("translations") or {}).items():
            save_translation(article, lang, title=t["title"], body=t["body"], author=author, note=str(data.get("note", ""))[:200])
    return article


def set_status(article: Article, status: str) -> Article:
    return update_article(article, {"status": status})


def restore_version(article: Article, lang: str, number: int, *, author: User | None = None) -> Saved:
    """Make an old version current again (as a new version: history is never rewritten)."""
    tr = Translation.objects.filter(article=article, lang=_check_lang(lang)).first()
    if tr is None:
        raise KBError(f"article has no '{lang}' translation", status=404, field="lang")
    old = Version.objects.filter(translation=tr, number=number).first()
    if old is None:
        raise KBError(f"version {number} of the '{lang}' translation not found", status=404, field="version")
    return save_translation(article, lang, title=old.title, body=old.body, author=author, note=f"restored version {number}")


def diff_versions(article: Article, lang: str, a: int, b: int) -> str:
    """A unified diff of two versions of one translation (title line first, then body)."""
    tr = Translation.objects.filter(article=article, lang=_check_lang(lang)).first()
    if tr is None:
        raise KBError(f"article has no '{lang}' translation", status=404, field="lang")
    found = {v.number: v for v in Version.objects.filter(translation=tr, number__in=[a, b])}
    for n, field in ((a, "from"), (b, "to")):
        if n not in found:
            raise KBError(f"version {n} not found", status=404, field=field)
    va, vb = found[a], found[b]
    left = [f"# {va.title}\n", "\n", *va.body.splitlines(keepends=True)]
    right = [f"# {vb.title}\n", "\n", *vb.body.splitlines(keepends=True)]
    return "".join(difflib.unified_diff(left, right, fromfile=f"v{a}", tofile=f"v{b}"))


def _forget() -> None:
    from . import search

    search.forget_vocabulary()


def visible_related(article: Article, user: Any) -> QuerySet[Article]:
    return visible_articles(user).filter(pk__in=article.related.values("pk"))

