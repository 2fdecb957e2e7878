"""Knowledge base: categories, articles with translations and versions, images, reading
events (deflection), and solution templates (macros).

Search columns (``search_title``, ``search_tags``, ``search_body``) hold the normalised terms
from ``relaydesk.kb.text``; the database's own full-text index is built over them (an FTS5
external-content table kept in step by triggers on SQLite, a generated ``tsvector`` with a GIN
index on PostgreSQL — see migration 0002 and docs/decisions/0009-kb-search.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

LANGS = [("en", "English"), ("zh-Hans", "简体中文")]
LANG_CODES = tuple(code for code, _ in LANGS)

PUBLIC = "public"
CUSTOMERS = "customers"
INTERNAL = "internal"
VISIBILITIES = [
    (PUBLIC, "Public (anyone)"),
    (CUSTOMERS, "Signed-in customers"),
    (INTERNAL, "Internal (staff only)"),
]
DRAFT = "draft"
PUBLISHED = "published"
STATUSES = [(DRAFT, "Draft"), (PUBLISHED, "Published")]


class Category(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    titles = models.JSONField(default=dict, help_text='Title per language, e.g. {"en": …, "zh-Hans": …}')
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.title("en")

    def title(self, lang: str) -> str:
        titles: dict[str, str] = self.titles or {}
        return titles.get(lang) or titles.get("en") or self.slug


class Article(models.Model):
    """One article; its text lives in one ``Translation`` per language."""

    slug = models.SlugField(max_length=120, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles")
    visibility = models.CharField(max_length=10, choices=VISIBILITIES, default=PUBLIC)
    status = models.CharField(max_length=10, choices=STATUSES, default=DRAFT)
    tags = models.JSONField(default=list, blank=True)
    related = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slug"]
        indexes = [models.Index(fields=["status", "visibility", "category"], name="kb_article_filter")]

    def __str__(self) -> str:
        return self.slug


class Translation(models.Model):
    """An article's text in one language; translations of one article share the article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    lang = models.CharField(max_length=10, choices=LANGS)
    title = models.CharField(max_length=250)
    body = models.TextField(help_text="Markdown")
    html = models.TextField(blank=True, default="", help_text="Sanitised rendering of body")
    text = models.TextField(blank=True, default="", help_text="Plain text of body, for snippets")
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # Normalised terms (relaydesk.kb.text.index_text): what the full-text index sees.
    search_title = models.TextField(blank=True, default="")
    search_tags = models.TextField(blank=True, default="")
    search_body = models.TextField(blank=True, default="")
    # Who may find it (language, visibility, status, category) as index tokens, so SQLite
    # FTS5 filters inside the index instead of joining every match (see search.py).
    search_scope = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["article_id", "lang"]
        constraints = [models.UniqueConstraint(fields=["article", "lang"], name="kb_translation_unique_lang")]
        indexes = [models.Index(fields=["lang", "article"], name="kb_translation_lang")]

    def __str__(self) -> str:
        return f"{self.article.slug} [{self.lang}]"


class Version(models.Model):
    """Every save of a translation keeps the text it saved (append-only)."""

    translation = models.ForeignKey(Translation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=250)
    body = models.TextField()
    note = models.CharField(max_length=200, blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["translation_id", "number"]
        constraints = [models.UniqueConstraint(fields=["translation", "number"], name="kb_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.translation} v{self.number}"


def _image_path(instance: Image, filename: str) -> str:
    return f"kb/{timezone.now():%Y/%m}/{instance.digest[:16]}-{filename}"


class Image(models.Model):
    """An image shown in articles, stored through Django's storage and served by
    RelayDesk's own view (``/kb/images/<id>/<name>``) with the article's access check."""

    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to=_image_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    @property
    def url(self) -> str:
        return f"/kb/images/{self.pk}/{self.filename}"


# -- deflection ------------------------------------------------------------------------

SHOWN = "shown"
OPENED = "opened"
SOLVED = "solved"
EVENT_KINDS = [(SHOWN, "Shown as a suggestion"), (OPENED, "Opened"), (SOLVED, "This solved it")]

PENDING = "pending"
DEFLECTED = "deflected"
FILED = "filed"
OUTCOMES = [(PENDING, "Waiting"), (DEFLECTED, "Deflected (no ticket followed)"), (FILED, "A ticket followed")]


class ReadEvent(models.Model):
    """A suggestion shown, an article opened, or "this solved it", by a user or session."""

    kind = models.CharField(max_length=10, choices=EVENT_KINDS)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="read_events")
    lang = models.CharField(max_length=10, blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    session = models.CharField(max_length=64, blank=True, default="")
    query = models.CharField(max_length=200, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["article", "kind"], name="kb_event_article")]


class Engagement(models.Model):
    """One reader's engagement with one article (opened, perhaps "solved"): deflected if no
    ticket from that reader follows within ``KB_DEFLECTION_MINUTES``."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="engagements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    session = models.CharField(max_length=64, blank=True, default="")
    solved = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=OUTCOMES, default=PENDING)
    started_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["outcome", "last_at"], name="kb_engagement_pending"),
            models.Index(fields=["user", "outcome"], name="kb_engagement_user"),
            models.Index(fields=["session", "outcome"], name="kb_engagement_session"),
        ]


# -- solution templates -------------------------------------------------------------------


class Macro(models.Model):
    """A solution template for agents: a reply in each language, optional status and tags."""

    name = models.CharField(max_length=120, unique=True)
    categories = models.JSONField(default=list, blank=True, help_text="Ticket categories it is suggested for")
    body_en = models.TextField(blank=True, default="")
    body_zh = models.TextField(blank=True, default="", verbose_name="body (zh-Hans)")
    set_status = models.CharField(max_length=20, blank=True, default="")
    set_tags = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    usage_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def body(self, lang: str) -> str:
        if lang == "zh-Hans" and self.body_zh:
            return self.body_zh
        return self.body_en or self.body_zh
