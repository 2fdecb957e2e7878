"""The self-diagnosis page's words come from gettext (the kb app's catalog, message context
"self-diagnosis"): a zh-Hans customer gets the page in Chinese, an English one in English,
and every message keeps its {placeholders} in translation."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from relaydesk.kb import diagnosis


def test_every_message_is_translated_and_keeps_its_placeholders() -> None:
    en, zh = diagnosis.WORDS["en"], diagnosis.WORDS["zh-Hans"]
    assert set(en) == set(zh) == set(diagnosis.MESSAGES)
    untranslated = sorted(k for k in en if en[k] == zh[k] and k != "app_id")
    assert untranslated == []  # a missing or uncompiled catalog shows up here
    for k in en:
        assert set(re.findall(r"\{(\w+)\}", en[k])) == set(re.findall(r"\{(\w+)\}", zh[k])), k


def test_page_renders_in_chinese_for_a_zh_hans_customer(world: Any) -> None:
    assert world.bob.language == "zh-Hans"
    client = Client()
    client.force_login(world.bob)
    html = client.get("/portal/diagnosis/").content.decode()
    for chinese in ("是我们的问题还是网络的问题？", ">区域</label>", ">服务</label>", ">开始</label>", ">结束</label>", ">频道 / 房间</label>", ">诊断</button>"):
        assert chinese in html, chinese
    for english in ("Is it us or the network?", ">Region</label>", ">Diagnose</button>", "Paste a channel"):
        assert english not in html, english
    # A result the form cannot compute still answers in Chinese around the field error.
    resp = client.get("/portal/diagnosis/", {"region": "mars", "start": "2026-11-25T10:00", "end": "2026-11-25T11:00"})
    assert resp.status_code == 400 and "是我们的问题还是网络的问题？" in resp.content.decode()


def test_page_stays_english_for_an_english_customer(world: Any) -> None:
    client = Client()
    client.force_login(world.alice)
    html = client.get("/portal/diagnosis/").content.decode()
    assert "Is it us or the network?" in html and ">Diagnose</button>" in html
    assert "是我们的问题还是网络的问题" not in html
