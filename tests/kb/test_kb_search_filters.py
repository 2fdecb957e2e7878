"""Search filters and ranking details: the visibility filter (only ever narrowing what the
reader may see), traditional-character folding, and the tag boost."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from relaydesk.kb import services
from relaydesk.kb.models import Article, Translation


def slugs(body: dict[str, Any]) -> list[str]:
    return [i["slug"] for i in body["items"]]


def test_visibility_filter_narrows_for_staff(kb: dict[str, Article], world: Any) -> None:
    agent = world.api(world.agent)
    q = {"q": "echo token escalation runbook secret bridge expired join"}
    _, everything = agent.get("/api/v1/kb/search", q)
    assert {"internal-escalation-runbook", "token-expired", "echo-cancellation"} <= set(slugs(everything))
    for visibility, expected in (
        ("internal", {"internal-escalation-runbook"}),
        ("customers", {"token-expired"}),
        ("public", {"echo-cancellation"}),
    ):
        status, body = agent.get("/api/v1/kb/search", {**q, "visibility": visibility})
        assert status == 200, body
        assert expected <= set(slugs(body))
        assert {i["visibility"] for i in body["items"]} == {visibility}


def test_visibility_filter_for_customer_stays_within_customer_reach(kb: dict[str, Article], world: Any) -> None:
    alice = world.api(world.alice)
    status, body = alice.get("/api/v1/kb/search", {"q": "token expired echo", "visibility": "customers"})
    assert status == 200 and slugs(body) == ["token-expired"]
    status, body = alice.get("/api/v1/kb/search", {"q": "token expired echo", "visibility": "public"})
    assert status == 200 and "token-expired" not in slugs(body) and "echo-cancellation" in slugs(body)
    # Asking for internal articles is refused outright, and the answer carries no article.
    status, body = alice.get("/api/v1/kb/search", {"q": "escalation runbook secret bridge", "visibility": "internal"})
    assert status == 422
    assert body["detail"].startswith("visibility:") and "customers" in body["detail"]
    assert "runbook" not in str(body).replace("escalation runbook secret bridge", "")


def test_visibility_filter_for_anonymous_and_bad_values(kb: dict[str, Article]) -> None:
    client = Client()
    resp = client.get("/api/v1/kb/search", {"q": "token expired", "visibility": "customers"})
    assert resp.status_code == 422 and "public" in resp.json()["detail"]
    resp = client.get("/api/v1/kb/search", {"q": "token expired", "visibility": "internal"})
    assert resp.status_code == 422
    resp = client.get("/api/v1/kb/search", {"q": "echo", "visibility": "xa OR xl"})
    assert resp.status_code == 422 and resp.json()["detail"].startswith("visibility:")
    resp = client.get("/api/v1/kb/search", {"q": "echo", "visibility": "public"})
    assert resp.status_code == 200 and "echo-cancellation" in slugs(resp.json())


def test_visibility_change_moves_the_article_between_filters(kb: dict[str, Article], world: Any) -> None:
    services.update_article(kb["echo-cancellation"], {"visibility": "internal"})
    agent = world.api(world.agent)
    _, body = agent.get("/api/v1/kb/search", {"q": "echo", "visibility": "internal"})
    assert "echo-cancellation" in slugs(body)
    _, body = agent.get("/api/v1/kb/search", {"q": "echo", "visibility": "public"})
    assert "echo-cancellation" not in slugs(body)
    assert Translation.objects.filter(article=kb["echo-cancellation"], search_scope__contains="xvinternal").exists()


@pytest.mark.parametrize(
    ("q", "slug"), [("卡頓", "stutter-on-weak-networks"), ("對方聽到回聲", "echo-cancellation")]
)
def test_traditional_characters_find_simplified_articles(kb: dict[str, Article], q: str, slug: str) -> None:
    resp = Client().get("/api/v1/kb/search", {"q": q, "lang": "zh-Hans"})
    body = resp.json()
    assert resp.status_code == 200 and body["items"], body
    assert slugs(body)[0] == slug


def test_tag_match_ranks_above_body_only_match(kb: dict[str, Article]) -> None:
    long_body = "A general note about the app. " * 3
    services.create_article(
        {
            "slug": "tagged-article",
            "category": "audio-quality",
            "status": "published",
            "tags": ["zanzibarfeedback"],
            "translations": {"en": {"title": "Audio check list", "body": long_body}},
        }
    )
    services.create_article(
        {
            "slug": "body-only-article",
            "category": "audio-quality",
            "status": "published",
            "translations": {"en": {"title": "Audio check sheet", "body": long_body + " zanzibarfeedback once."}},
        }
    )
    resp = Client().get("/api/v1/kb/search", {"q": "zanzibarfeedback", "lang": "en"})
    assert slugs(resp.json())[:2] == ["tagged-article", "body-only-article"]


def test_migration_adds_the_visibility_token_to_existing_rows(kb: dict[str, Article], world: Any) -> None:
    import importlib
    import re as _re

    from django.apps import apps

    migration = importlib.import_module("relaydesk.kb.migrations.0003_scope_visibility_token")
    for tr in Translation.objects.all():  # rows as indexed before the token existed
        Translation.objects.filter(pk=tr.pk).update(search_scope=_re.sub(r"\s*xv\w+", "", tr.search_scope))
    agent = world.api(world.agent)
    _, body = agent.get("/api/v1/kb/search", {"q": "escalation runbook secret bridge", "visibility": "internal"})
    assert body["items"] == []
    migration.add_token(apps, None)
    _, body = agent.get("/api/v1/kb/search", {"q": "escalation runbook secret bridge", "visibility": "internal"})
    assert slugs(body) == ["internal-escalation-runbook"]
    assert all(t.search_scope.count("xv") == 1 for t in Translation.objects.all())
    migration.add_token(apps, None)  # idempotent
    assert all(t.search_scope.count("xv") == 1 for t in Translation.objects.all())
