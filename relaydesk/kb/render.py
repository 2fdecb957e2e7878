"""Markdown → safe HTML for articles (pure, no Django).

markdown-it-py renders CommonMark (plus tables and strikethrough); nh3 then keeps only an
allow-list of tags and attributes. No script, no event handlers, no ``style``, no
``javascript:``/``data:`` URLs, no iframes at all (videos are links: see
``VIDEO_HOSTS``), and images only from RelayDesk's own image view (``IMAGE_PREFIX``) so a
reader's browser never fetches anything from a third party.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

IMAGE_PREFIX = "/kb/images/"
VIDEO_HOSTS = frozenset(
    {
        "youtube.com",
        "www.youtube.com",
        "youtu.be",
        "vimeo.com",
        "www.bilibili.com",
        "bilibili.com",
        "v.qq.com",
        "www.youku.com",
    }
)

TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "s",
    "del",
    "code",
    "pre",
    "kbd",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
    "mark",
    "span",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
    "ol": {"start"},
}

_md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])
_LANG_CLASS = re.compile(r"^language-[A-Za-z0-9_+-]{1,30}$")


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        # Only RelayDesk's own image view: a relative path below IMAGE_PREFIX.
        if not value.startswith(IMAGE_PREFIX) or "//" in value or ".." in value:
            return None
    if tag == "code" and attr == "class" and not _LANG_CLASS.match(value):
        return None
    return value


def render(markdown: str) -> str:
    """Sanitised HTML for a Markdown body."""
    raw = _md.render(markdown)
    return nh3.clean(
        raw,
        tags=TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def plain_text(markdown: str) -> str:
    """The readable text of a Markdown body (for the search index and snippets)."""
    html_text = nh3.clean(_md.render(markdown), tags=set(), clean_content_tags={"script", "style"})
    import html as _html

    return re.sub(r"\s+", " ", _html.unescape(html_text)).strip()


def video_links(markdown: str) -> list[str]:
    """Links in the body that point at a known video host (shown as video links)."""
    out: list[str] = []
    for m in re.finditer(r"\]\((https?://[^)\s]+)\)|<(https?://[^>\s]+)>", markdown):
        url = m.group(1) or m.group(2)
        host = (urlsplit(url).hostname or "").lower()
        if host in VIDEO_HOSTS and url not in out:
            out.append(url)
    return out
