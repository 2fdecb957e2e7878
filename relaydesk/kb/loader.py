"""Load a content folder into the knowledge base, idempotently.

Layout: ``<dir>/categories.txt`` (lines ``slug | English title | 中文标题``) and
``<dir>/<category-slug>/<article-slug>.<lang>.md`` where each file starts with a front
matter block of ``key: value`` lines between ``---`` lines (title, category, tags,
visibility, related, optional status) followed by the Markdown body. The same article slug
in two languages is one article with two translations. Loading again changes only what
changed (a changed text keeps a new version; an unchanged one writes nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .models import LANG_CODES, PUBLISHED, VISIBILITIES, Article, Category

_FILE = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)\.(?P<lang>[A-Za-z-]+)\.md$")
DEFAULT_DIR = Path(__file__).resolve().parent / "content"


class ContentError(ValueError):
    pass


@dataclass
class Doc:
    slug: str
    lang: str
    title: str
    category: str
    tags: list[str]
    visibility: str
    related: list[str]
    status: str
    body: str
    path: Path


@dataclass
class LoadReport:
    categories: int = 0
    articles: int = 0
    created: int = 0
    updated_texts: int = 0
    unchanged_texts: int = 0
    errors: list[str] = field(default_factory=list)


def parse_front_matter(raw: str, path: Path) -> tuple[dict[str, str], str]:
    raw = raw.lstrip("\ufeff")
    lines = raw.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ContentError(f"{path}: must start with a '---' front-matter line")
    meta: dict[str, str] = {}
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return meta, "\n".join(lines[i + 1 :]).strip() + "\n"
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ContentError(f"{path}:{i + 1}: expected 'key: value', got {line!r}")
        meta[key.strip().lower()] = value.strip().strip('"')
    raise ContentError(f"{path}: front matter is not closed with '---'")


def _list(value: str) -> list[str]:
    value = value.strip().strip("[]")
    return [v.strip().strip("'\"") for v in value.split(",") if v.strip().strip("'\"")]


def read_doc(path: Path) -> Doc:
    m = _FILE.match(path.name)
    if not m:
        raise ContentError(f"{path}: name must be <article-slug>.<lang>.md")
    lang = m.group("lang")
    if lang not in LANG_CODES:
        raise ContentError(f"{path}: unknown language '{lang}' (use {', '.join(LANG_CODES)})")
    meta, body = parse_front_matter(path.read_text(encoding="utf-8"), path)
    for key in ("title", "category"):
        if not meta.get(key):
            raise ContentError(f"{path}: front matter needs '{key}'")
    visibility = meta.get("visibility", "public") or "public"
    if visibility not in dict(VISIBILITIES):
        raise ContentError(f"{path}: visibility must be one of {', '.join(dict(VISIBILITIES))}")
    return Doc(
        slug=m.group("slug"),
        lang=lang,
        title=meta["title"],
        category=meta["category"],
        tags=_list(meta.get("tags", "")),
        visibility=visibility,
        related=_list(meta.get("related", "")),
        status=meta.get("status", PUBLISHED) or PUBLISHED,
        body=body,
        path=path,
    )


def read_categories(path: Path) -> list[tuple[str, dict[str, str]]]:
    out = []
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not parts[0]:
            raise ContentError(f"{path}:{n}: expected 'slug | English title | 中文标题'")
        titles = {"en": parts[1]}
        if len(parts) > 2 and parts[2]:
            titles["zh-Hans"] = parts[2]
        out.append((parts[0], titles))
    return out


def load(directory: Path | None = None, *, strict: bool = False) -> LoadReport:
    """Load (or refresh) the folder; a bad file is reported and skipped unless ``strict``."""
    from . import services

    root = Path(directory or DEFAULT_DIR)
    if not root.is_dir():
        raise ContentError(f"{root}: not a directory")
    report = LoadReport()
    docs: dict[str, list[Doc]] = {}
    for path in sorted(root.glob("*/*.md")):
        try:
            doc = read_doc(path)
        except (ContentError, UnicodeDecodeError) as exc:
            if strict:
                raise
            report.errors.append(str(exc))
            continue
        docs.setdefault(doc.slug, []).append(doc)
    with transaction.atomic():
        for pos, (slug, titles) in enumerate(read_categories(root / "categories.txt")):
            Category.objects.update_or_create(slug=slug, defaults={"titles": titles, "position": pos})
            report.categories += 1
        known = set(Category.objects.values_list("slug", flat=True))
        for slug, variants in sorted(docs.items()):
            first = sorted(variants, key=lambda d: d.lang != "en")[0]
            if first.category not in known:
                Category.objects.create(slug=first.category, titles={"en": first.category.replace("-", " ").capitalize()}, position=1000)
                known.add(first.category)
                report.categories += 1
            tags: list[str] = []
            for d in variants:  # tags of every language are searchable in every language
                tags += [t for t in d.tags if t not in tags]
            fields = {"category": first.category, "visibility": first.visibility, "status": first.status, "tags": tags}
            article = Article.objects.filter(slug=slug).first()
            if article is None:
                article = services.create_article(
                    {"slug": slug, **fields, "translations": {d.lang: {"title": d.title, "body": d.body} for d in variants}}
                )
                report.created += 1
                report.updated_texts += len(variants)
            else:
                cur = {"category": article.category.slug, "visibility": article.visibility, "status": article.status, "tags": article.tags}
                if cur != fields:
                    services.update_article(article, fields)
                for d in variants:
                    saved = services.save_translation(article, d.lang, title=d.title, body=d.body, note="loaded")
                    if saved.created_version:
                        report.updated_texts += 1
                    else:
                        report.unchanged_texts += 1
            report.articles += 1
        for slug, variants in sorted(docs.items()):  # related links once every article exists
            related = []
            for d in variants:
                related += [r for r in d.related if r not in related and r != slug]
            article = Article.objects.get(slug=slug)
            found = list(Article.objects.filter(slug__in=related))
            missing = sorted(set(related) - {a.slug for a in found})
            if missing:
                report.errors.append(f"{slug}: unknown related article(s) {', '.join(missing)}")
            if {a.pk for a in found} != set(article.related.values_list("pk", flat=True)):
                article.related.set(found)
    from .search import forget_vocabulary

    forget_vocabulary()
    return report
