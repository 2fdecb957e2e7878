"""The knowledge base's part of the demo world: the shipped articles and a few solution
templates (called by ``relaydesk demo`` through ``relaydesk.demo.load_capabilities``)."""

from __future__ import annotations

from datetime import datetime

from . import loader
from .models import Macro

MACROS = [
    {
        "name": "Stutter: ask for logs and channel",
        "categories": ["stream_quality"],
        "body_en": (
            "Hi {{ customer.name }},\n\nthanks for the report. To find where the stutter comes from, please "
            "send the SDK logs of one affected viewer and the host, the channel name and the time it "
            "happened (with time zone). We are checking the network in {{ ticket.region }} meanwhile.\n\n"
            "{{ agent.name }}"
        ),
        "body_zh": (
            "{{ customer.name }} 您好：\n\n感谢反馈。为定位卡顿原因，请提供一位受影响观众和主播的 SDK 日志、"
            "频道名以及发生时间（含时区）。我们同时在检查 {{ ticket.region }} 区域的网络情况。\n\n{{ agent.name }}"
        ),
        "set_status": "pending_customer",
        "set_tags": ["logs-requested"],
    },
    {
        "name": "Join failures: token and app ID checklist",
        "categories": ["connection"],
        "body_en": (
            "Hi {{ customer.name }},\n\njoin failures are most often an expired token or a token made for "
            "another app ID. Please check that app {{ ticket.app_id }} renews tokens before they expire and "
            "that the device clock is correct, then tell us whether it still fails.\n\n{{ agent.name }}"
        ),
        "body_zh": (
            "{{ customer.name }} 您好：\n\n加入频道失败最常见的原因是令牌过期或令牌与 App ID 不匹配。请确认应用 "
            "{{ ticket.app_id }} 在令牌过期前会更新令牌、设备时间正确，然后告诉我们是否仍然失败。\n\n{{ agent.name }}"
        ),
        "set_tags": ["token-check"],
    },
    {
        "name": "Known incident: link to the status page",
        "categories": ["stream_quality", "connection"],
        "body_en": (
            "Hi {{ customer.name }},\n\nthis matches an incident we are working on: {{ incident.title }}. "
            "Follow it here: {{ incident.url }} — we will update this ticket when it is resolved."
        ),
        "body_zh": (
            "{{ customer.name }} 您好：\n\n该问题与我们正在处理的故障相符：{{ incident.title }}。"
            "进展请见：{{ incident.url }}，故障解决后我们会在此工单更新。"
        ),
        "set_status": "on_hold",
        "set_tags": ["incident"],
    },
]


def load(seed: int, now: datetime) -> str:
    """Load the shipped articles (idempotent) and the demo templates; one summary line."""
    report = loader.load()
    for m in MACROS:
        Macro.objects.get_or_create(name=m["name"], defaults={k: v for k, v in m.items() if k != "name"})
    return (
        f"{report.articles} articles in {report.categories} categories "
        f"({len(report.errors)} content problems), {len(MACROS)} solution templates"
    )
