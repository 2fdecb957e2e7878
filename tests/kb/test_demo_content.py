"""The shipped demo knowledge base (relaydesk/kb/content) loads cleanly: at least 150
articles, each in English and Simplified Chinese, no loader errors, every related link
resolves, and every translation renders to non-empty HTML and has search terms."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count

from relaydesk.kb import loader
from relaydesk.kb.models import Article, Translation


def test_demo_kb_loads_150_articles_in_both_languages_without_errors(world: Any) -> None:
    report = loader.load(loader.DEFAULT_DIR, strict=True)
    assert report.errors == []
    assert report.articles >= 150
    assert Article.objects.count() == report.articles
    langs = Counter(Translation.objects.values_list("lang", flat=True))
    assert langs["en"] == report.articles and langs["zh-Hans"] == report.articles
    # Every article has exactly the two variants (no article missing one, none doubled).
    per_article = Article.objects.annotate(n=Count("translations")).values_list("slug", "n")
    assert {slug for slug, n in per_article if n != 2} == set()
    empty = Translation.objects.filter(html="") | Translation.objects.filter(search_body="")
    assert list(empty.values_list("article__slug", "lang")) == []
    # The Chinese variant is Chinese (not a copy of the English text).
    untranslated = [
        t.article.slug
        for t in Translation.objects.filter(lang="zh-Hans").select_related("article")
        if not any("\u4e00" <= ch <= "\u9fff" for ch in t.title)
    ]
    assert untranslated == []
    # Loading again changes nothing.
    again = loader.load(loader.DEFAULT_DIR, strict=True)
    assert again.errors == [] and again.created == 0 and again.updated_texts == 0
