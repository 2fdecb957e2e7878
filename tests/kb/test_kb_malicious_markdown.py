"""Malicious Markdown written through the article API (create and update) comes back
sanitised in every read the portal uses: the article JSON whose ``html`` the portal puts on
the page, search snippets and suggest titles. Checked through the HTTP layer."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from relaydesk.kb.models import Article

EVIL = """# Echo help

<script>window.__pwned = 1</script>

[click me](javascript:alert(1)) and [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
and <a href="JaVaScRiPt:alert(2)">mixed case</a> and <a href="java&#x09;script:alert(3)">tab</a>

<iframe src="https://evil.example/embed"></iframe>
<iframe src="https://www.youtube.com/embed/xyz"></iframe>

<img src=x onerror="alert(4)"> ![remote](https://tracker.example/pixel.png) ![own](/kb/images/1/ok.png)

<div onclick="alert(5)" style="background:url(javascript:alert(6))">div</div>
<svg onload="alert(7)"><circle r="1"/></svg>
<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">
<form action="https://evil.example/"><input name="password"></form>
<a href="https://example.com/docs" onmouseover="alert(8)">docs</a>
"""

FORBIDDEN = [
    re.compile(r"<\s*script", re.I),
    re.compile(r"<\s*iframe", re.I),
    re.compile(r"<\s*(object|embed|svg|form|input|style)\b", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),
    # a dangerous scheme or a foreign host in any attribute (as plain text it is harmless)
    re.compile(r"=\s*[\"']?\s*(javascript|vbscript|data)\s*:", re.I),
    re.compile(r"=\s*[\"'][^\"']*(evil|tracker)\.example"),
    re.compile(r"\sstyle\s*=", re.I),
]


def _assert_clean(html: str) -> None:
    for pattern in FORBIDDEN:
        assert not pattern.search(html), (pattern.pattern, html)


@pytest.fixture
def evil_article(kb: dict[str, Article], world: Any) -> dict[str, Any]:
    status, body = world.api(world.agent).post(
        "/api/v1/kb/articles",
        {
            "slug": "evil-echo",
            "category": "audio-quality",
            "visibility": "public",
            "status": "published",
            "tags": ["<b>echo</b>"],
            "translations": {
                "en": {"title": "Echo <img src=x onerror=alert(9)>", "body": EVIL},
                "zh-Hans": {"title": "回声 <script>alert(10)</script>", "body": EVIL.replace("Echo help", "回声帮助")},
            },
        },
    )
    assert status == 201, body
    return body


def test_created_article_is_sanitised_for_the_portal(evil_article: dict[str, Any], world: Any) -> None:
    _assert_clean(evil_article["html"])
    for lang in ("en", "zh-Hans"):
        for client in (Client(), None):
            if client is None:
                status, body = world.api(world.alice).get(f"/api/v1/kb/articles/{evil_article['id']}", {"lang": lang})
            else:
                resp = client.get(f"/api/v1/kb/articles/{evil_article['id']}", {"lang": lang})
                status, body = resp.status_code, resp.json()
            assert status == 200, body
            html = body["html"]
            _assert_clean(html)
            # What is harmless survives: the heading, the safe link (with rel), our own image.
            assert "<h1>" in html
            assert 'href="https://example.com/docs"' in html and "noopener" in html
            assert 'src="/kb/images/1/ok.png"' in html
            # A foreign video embed is not an iframe; the text around the script is kept.
            assert "window.__pwned" not in html


def test_updated_article_is_sanitised_too(evil_article: dict[str, Any], world: Any) -> None:
    status, body = world.api(world.agent).patch(
        f"/api/v1/kb/articles/{evil_article['id']}",
        {"translations": {"en": {"title": "Echo again", "body": "Fine text\n\n" + EVIL + '\n<img src="/kb/images/2/x.png" onerror="alert(11)">'}}},
    )
    assert status == 200, body
    _assert_clean(body["html"])
    resp = Client().get(f"/api/v1/kb/articles/{evil_article['id']}", {"lang": "en"})
    _assert_clean(resp.json()["html"])
    assert 'src="/kb/images/2/x.png"' in resp.json()["html"]


def test_search_and_suggest_carry_no_markup_from_the_article(evil_article: dict[str, Any]) -> None:
    for path, params in (
        ("/api/v1/kb/search", {"q": "echo help click", "lang": "en"}),
        ("/api/v1/kb/search", {"q": "回声", "lang": "zh-Hans"}),
        ("/api/v1/kb/suggest", {"q": "ech", "lang": "en"}),
    ):
        resp = Client().get(path, params)
        assert resp.status_code == 200
        hit = next(i for i in resp.json()["items"] if i["slug"] == "evil-echo")
        for key in ("title_html", "snippet", "title"):
            value = hit.get(key, "")
            if key == "title":
                continue  # plain text for textContent; the portal never puts it in as HTML
            assert re.sub(r"</?mark>", "", value).count("<") == 0, (key, value)
