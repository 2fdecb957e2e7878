"""Articles: loading, translations, the staff write API, versions with diff and restore,
and images served by RelayDesk with the article's access check."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from relaydesk.kb import loader
from relaydesk.kb.models import Article, Image, Translation, Version

CONTENT = Path(__file__).resolve().parent / "content"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_load_is_idempotent_and_links_translations(kb: dict[str, Article], tmp_path: Path) -> None:
    art = kb["stutter-on-weak-networks"]
    assert {t.lang for t in art.translations.all()} == {"en", "zh-Hans"}
    assert art.category.title("zh-Hans") == "直播质量"
    assert "卡顿" in art.tags and "stutter" in art.tags
    assert [a.slug for a in art.related.all()] == ["first-frame-slow-android"]
    versions = Version.objects.count()
    again = loader.load(CONTENT)
    assert again.created == 0 and again.updated_texts == 0 and again.unchanged_texts == Translation.objects.count()
    assert Version.objects.count() == versions
    # A changed file writes one new version of that translation only.
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    f = copy / "audio-quality" / "echo-cancellation.en.md"
    f.write_text(f.read_text().replace("headphones", "a headset"))
    report = loader.load(copy)
    assert report.updated_texts == 1
    tr = Translation.objects.get(article__slug="echo-cancellation", lang="en")
    assert tr.version == 2 and "a headset" in tr.body


def test_loader_reports_bad_files(world: Any, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "no-front-matter.en.md").write_text("just text")
    (tmp_path / "x" / "bad-lang.fr.md").write_text("---\ntitle: t\ncategory: x\n---\nbody")
    (tmp_path / "x" / "ok.en.md").write_text("---\ntitle: Fine\ncategory: x\nvisibility: public\n---\nbody text")
    report = loader.load(tmp_path)
    assert report.articles == 1 and len(report.errors) == 2
    with pytest.raises(loader.ContentError):
        loader.load(tmp_path, strict=True)


def test_management_command_loads_and_reindexes(world: Any) -> None:
    out = io.StringIO()
    call_command("kb", "load", str(CONTENT), stdout=out)
    assert "articles" in out.getvalue() and Article.objects.count() >= 6
    out = io.StringIO()
    call_command("kb", "reindex", stdout=out)
    assert f"re-indexed {Translation.objects.count()}" in out.getvalue()


def test_article_read_picks_language_and_lists_translations(kb: dict[str, Article], world: Any) -> None:
    art = kb["first-frame-slow-android"]
    resp = Client().get(f"/api/v1/kb/articles/{art.pk}", {"lang": "zh-Hans"})
    body = resp.json()
    assert resp.status_code == 200 and body["lang"] == "zh-Hans" and body["title"] == "Android 首帧慢怎么办"
    assert {t["lang"] for t in body["translations"]} == {"en", "zh-Hans"}
    assert body["body"] is None  # the Markdown source is for staff
    # Bob reads Chinese by default.
    _, body = world.api(world.bob).get(f"/api/v1/kb/articles/{art.pk}")
    assert body["lang"] == "zh-Hans"
    # A customers-only article is 404 for anonymous callers, 200 for a customer.
    tok = kb["token-expired"]
    assert Client().get(f"/api/v1/kb/articles/{tok.pk}").status_code == 404
    assert world.api(world.carol).get(f"/api/v1/kb/articles/{tok.pk}")[0] == 200
    stutter = kb["stutter-on-weak-networks"]
    _, body = world.api(world.alice).get(f"/api/v1/kb/articles/{stutter.pk}", {"lang": "en"})
    assert body["videos"] == ["https://www.youtube.com/watch?v=abc123"]
    assert '<img src="/kb/images/1/chart.png"' in body["html"]


def test_categories_count_only_visible_articles(kb: dict[str, Article], world: Any) -> None:
    anon = {c["slug"]: c["articles"] for c in Client().get("/api/v1/kb/categories").json()}
    _, staff = world.api(world.agent).get("/api/v1/kb/categories", {"lang": "zh-Hans"})
    assert anon["audio-quality"] == 1 and anon["join-failures"] == 0
    assert {c["slug"]: c["articles"] for c in staff}["audio-quality"] == 2
    assert any(c["title"] == "音频质量" for c in staff)


def _new_article(api: Any, **over: Any) -> tuple[int, Any]:
    data = {
        "slug": "bluetooth-audio",
        "category": "audio-quality",
        "visibility": "public",
        "tags": ["bluetooth", "蓝牙"],
        "related": ["echo-cancellation"],
        "translations": {
            "en": {"title": "Bluetooth headset has no sound", "body": "Switch the audio route to Bluetooth SCO."},
            "zh-Hans": {"title": "蓝牙耳机没有声音", "body": "把音频路由切换到蓝牙 SCO。"},
        },
    }
    data.update(over)
    return api.post("/api/v1/kb/articles", data)


def test_staff_write_versions_diff_restore(kb: dict[str, Article], world: Any) -> None:
    api = world.api(world.agent)
    status, body = _new_article(api)
    assert status == 201, body
    aid = body["id"]
    assert body["status"] == "draft" and body["version"] == 1
    # A draft is invisible to customers until published.
    assert world.api(world.alice).get(f"/api/v1/kb/articles/{aid}")[0] == 404
    assert api.post(f"/api/v1/kb/articles/{aid}/publish")[1]["status"] == "published"
    assert world.api(world.alice).get(f"/api/v1/kb/articles/{aid}")[0] == 200
    status, body = api.patch(f"/api/v1/kb/articles/{aid}", {"translations": {"en": {"title": "Bluetooth headset is silent", "body": "Switch the audio route to Bluetooth SCO.\n\nRestart the app."}}, "note": "more steps"})
    assert status == 200 and body["version"] == 2
    _, versions = api.get(f"/api/v1/kb/articles/{aid}/versions", {"lang": "en"})
    assert [v["number"] for v in versions] == [2, 1] and versions[0]["note"] == "more steps"
    _, diff = api.get(f"/api/v1/kb/articles/{aid}/diff", {"lang": "en", "from": 1, "to": 2})
    assert "-# Bluetooth headset has no sound" in diff["diff"] and "+Restart the app." in diff["diff"]
    status, body = api.post(f"/api/v1/kb/articles/{aid}/versions/1/restore?lang=en")
    assert status == 200 and body["version"] == 3 and body["title"] == "Bluetooth headset has no sound"
    # History is kept, never rewritten; the Chinese text was untouched.
    assert Version.objects.filter(translation__article_id=aid, translation__lang="en").count() == 3
    assert Version.objects.filter(translation__article_id=aid, translation__lang="zh-Hans").count() == 1
    # The index follows the restore.
    _, found = world.api(world.alice).get("/api/v1/kb/search", {"q": "silent bluetooth", "lang": "en"})
    assert found["items"][0]["title"] == "Bluetooth headset has no sound"
    assert api.post(f"/api/v1/kb/articles/{aid}/versions/9/restore?lang=en")[0] == 404
    assert api.get(f"/api/v1/kb/articles/{aid}/diff", {"from": 1, "to": 7})[0] == 404


@pytest.mark.parametrize(
    "over, field",
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "echo-cancellation"}, "slug"),
        ({"category": "nope"}, "category"),
        ({"related": ["missing-one"]}, "related"),
        ({"translations": {"fr": {"title": "t", "body": "b"}}}, "lang"),
        ({"translations": {"en": {"title": " ", "body": "b"}}}, "title"),
        ({"translations": {}}, "translations"),
        ({"visibility": "everyone"}, "visibility"),
        ({"tags": ["x" * 60]}, "tags"),
    ],
)
def test_write_validation_names_the_field_and_writes_nothing(kb: dict[str, Article], world: Any, over: dict[str, Any], field: str) -> None:
    before = (Article.objects.count(), Translation.objects.count(), Version.objects.count())
    status, body = _new_article(world.api(world.agent), **over)
    assert status in (409, 422), body
    assert field in body["detail"]
    assert (Article.objects.count(), Translation.objects.count(), Version.objects.count()) == before


def test_customers_cannot_write_or_read_staff_views(kb: dict[str, Article], world: Any) -> None:
    api = world.api(world.alice)
    assert _new_article(api)[0] == 403
    aid = kb["echo-cancellation"].pk
    assert api.patch(f"/api/v1/kb/articles/{aid}", {"visibility": "internal"})[0] == 403
    assert api.get(f"/api/v1/kb/articles/{aid}/versions")[0] == 403
    assert api.post(f"/api/v1/kb/articles/{aid}/versions/1/restore")[0] == 403
    assert Client().post("/api/v1/kb/articles", "{}", content_type="application/json").status_code == 401
    # A read-only token cannot write either.
    ro = world.api(world.agent, scopes=["tickets:read"])
    assert _new_article(ro)[0] == 403


def _upload(world: Any, user: Any, data: bytes, name: str = "chart.png", article: int | None = None) -> Any:
    api = world.api(user)
    payload: dict[str, Any] = {"file": io.BytesIO(data)}
    payload["file"].name = name
    if article is not None:
        payload["article"] = article
    return api.client.post("/api/v1/kb/images", payload, HTTP_AUTHORIZATION=f"Bearer {api.token}")


def test_images_are_served_with_the_article_access_check(kb: dict[str, Article], world: Any) -> None:
    internal = kb["internal-escalation-runbook"]
    public = kb["echo-cancellation"]
    resp = _upload(world, world.agent, PNG, "diagram one.png", public.pk)
    assert resp.status_code == 201, resp.content
    pub = resp.json()
    assert pub["url"].startswith("/kb/images/") and pub["content_type"] == "image/png"
    got = Client().get(pub["url"])
    assert got.status_code == 200 and got["Content-Type"] == "image/png" and b"".join(got.streaming_content) == PNG
    secret = _upload(world, world.agent, PNG, "secret.png", internal.pk).json()
    assert Client().get(secret["url"]).status_code == 404
    c = Client()
    c.force_login(world.alice)
    assert c.get(secret["url"]).status_code == 404
    c.force_login(world.agent)
    assert c.get(secret["url"]).status_code == 200
    # Unattached images are for staff only; a wrong name is 404.
    loose = _upload(world, world.agent, PNG, "loose.png").json()
    assert Client().get(loose["url"]).status_code == 404
    assert Client().get(f"/kb/images/{pub['id']}/other.png").status_code == 404


def test_image_upload_rejects_non_images_and_customers(kb: dict[str, Article], world: Any) -> None:
    svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"
    resp = _upload(world, world.agent, svg, "x.svg")
    assert resp.status_code == 415 and "file:" in resp.json()["detail"]
    assert _upload(world, world.alice, PNG).status_code == 403
    assert Image.objects.count() == 0


def test_admin_pages_open(kb: dict[str, Article], world: Any) -> None:
    c = Client()
    c.force_login(world.admin)
    for path in ("/admin/kb/article/", f"/admin/kb/article/{kb['echo-cancellation'].pk}/change/", "/admin/kb/macro/", "/admin/kb/version/", "/admin/kb/category/", "/admin/kb/engagement/"):
        assert c.get(path).status_code == 200, path
