"""Customer-facing words of incidents and notices, in English and Simplified Chinese."""

from __future__ import annotations

STATUS_WORDS = {
    "en": {
        "investigating": "Investigating",
        "identified": "Identified",
        "monitoring": "Monitoring",
        "resolved": "Resolved",
        "operational": "Operational",
        "degraded_performance": "Degraded performance",
        "partial_outage": "Partial outage",
        "major_outage": "Major outage",
        "under_maintenance": "Under maintenance",
        "scheduled": "Scheduled",
        "in_progress": "In progress",
        "completed": "Completed",
        "cancelled": "Cancelled",
    },
    "zh-Hans": {
        "investigating": "调查中",
        "identified": "已定位",
        "monitoring": "观察中",
        "resolved": "已解决",
        "operational": "正常",
        "degraded_performance": "性能下降",
        "partial_outage": "部分中断",
        "major_outage": "严重中断",
        "under_maintenance": "维护中",
        "scheduled": "已计划",
        "in_progress": "进行中",
        "completed": "已完成",
        "cancelled": "已取消",
    },
}

TEXT = {
    "en": {
        "notice_subject": "[{status}] {title} — {service}, {region}",
        "notice_body": (
            "{status}: {title}\n"
            "Service: {service}   Region: {region}{where}\n"
            "Started: {started} UTC\n\n"
            "{body}\n\n"
            "Follow this incident: {url}\n\n"
            "You receive this because your organisation {org} has traffic on the affected "
            "service in this region. Notice ID: {notice_id}\n— RelayDesk network operations"
        ),
        "maint_subject": "[Scheduled maintenance] {title} — {service}, {region}",
        "maint_body": (
            "Scheduled maintenance: {title}\n"
            "Service: {service}   Region: {region}\n"
            "Window: {start} – {end} UTC\n\n{body}\n\n"
            "Status page: {url}\n\nNotice ID: {notice_id}\n— RelayDesk network operations"
        ),
        "where": "   Affected: {locations}",
        "link_message": (
            "This request appears to be related to a known incident we are already working "
            "on: {title} ({status}). Our network team has been notified and we will post "
            "here when it is resolved. Live status: {url}"
        ),
        "link_ack": (
            "\n\nThis request appears related to known incident #{id}: {title} ({status}). "
            "Live status: {url}"
        ),
        "public_notice_body": (
            "{status}: {title}\n"
            "Service: {service}   Region: {region}{where}\n"
            "Started: {started} UTC\n\n"
            "{body}\n\n"
            "Follow this incident: {url}\n\nNotice ID: {notice_id}\n— RelayDesk network operations"
        ),
        "public_footer": (
            "\n\nYou receive this because you subscribed to the RelayDesk status page. "
            "Unsubscribe (one click): {unsubscribe}"
        ),
        "confirm_subject": "Confirm your RelayDesk status subscription",
        "confirm_body": (
            "Someone (hopefully you) asked to receive RelayDesk status notices at this address "
            "for: {components}.\n\nConfirm the subscription: {url}\n\n"
            "Nothing is sent until you confirm. If this was not you, ignore this message; the "
            "link expires in {days} days."
        ),
        "all_components": "all services and regions",
        "manager_subject": "Key account affected: {org} — incident #{id} {title}",
        "manager_body": (
            "{org} (key account) has traffic in the place of incident #{id}:\n\n"
            "{title}\nService: {service}   Region: {region}   Severity: {severity}\n"
            "Share of the place's traffic: {share:.1%}\n\n"
            "The customer is being notified automatically; please reach out in person.\n{url}"
        ),
        "webhook_disabled_subject": "Incident webhook disabled: {url}",
        "webhook_disabled_body": (
            "RelayDesk stopped sending incident notices to {url} after {n} failed attempts in "
            "a row (last error: {error}).\n\nFix the endpoint and re-enable it in the portal or "
            "with POST /api/v1/notices/webhooks/{id}/enable."
        ),
        "auto_detected_title": "Degraded {metrics} in {region}",
        "auto_detected_body": (
            "We are investigating degraded network quality ({metrics}) for {service} in "
            "{region}{where}. Users may see stutter, freezes or failed joins."
        ),
        "auto_alert_body": "We are investigating an alert: {summary}",
        "auto_alert_resolved": "The alerts behind this incident have cleared. Service is back to normal.",
    },
    "zh-Hans": {
        "notice_subject": "【{status}】{title} — {service}，{region}",
        "notice_body": (
            "{status}：{title}\n"
            "服务：{service}   区域：{region}{where}\n"
            "开始时间：{started}（UTC）\n\n"
            "{body}\n\n"
            "事件进展：{url}\n\n"
            "您收到此通告，是因为贵组织 {org} 在该区域的受影响服务上有流量。通告编号：{notice_id}\n"
            "—— RelayDesk 网络运维"
        ),
        "maint_subject": "【计划维护】{title} — {service}，{region}",
        "maint_body": (
            "计划维护：{title}\n服务：{service}   区域：{region}\n"
            "时间窗口：{start} – {end}（UTC）\n\n{body}\n\n"
            "状态页：{url}\n\n通告编号：{notice_id}\n—— RelayDesk 网络运维"
        ),
        "where": "   受影响：{locations}",
        "link_message": (
            "您的工单与一个我们正在处理的已知事件相关：{title}（{status}）。网络团队已在处理，"
            "事件解决后我们会在此更新。实时状态：{url}"
        ),
        "link_ack": "\n\n此工单与已知事件 #{id} 相关：{title}（{status}）。实时状态：{url}",
        "public_notice_body": (
            "{status}：{title}\n"
            "服务：{service}   区域：{region}{where}\n"
            "开始时间：{started}（UTC）\n\n"
            "{body}\n\n"
            "事件进展：{url}\n\n通告编号：{notice_id}\n—— RelayDesk 网络运维"
        ),
        "public_footer": "\n\n您收到此通告，是因为您订阅了 RelayDesk 状态页。一键退订：{unsubscribe}",
        "confirm_subject": "请确认您的 RelayDesk 状态订阅",
        "confirm_body": (
            "有人（希望是您本人）请求以此地址接收 RelayDesk 状态通告，关注：{components}。\n\n"
            "确认订阅：{url}\n\n确认之前我们不会发送任何通告。如非本人操作，请忽略此邮件；"
            "链接 {days} 天后失效。"
        ),
        "all_components": "全部服务和区域",
        "manager_subject": "Key account affected: {org} — incident #{id} {title}",
        "manager_body": (
            "{org} (key account) has traffic in the place of incident #{id}:\n\n"
            "{title}\nService: {service}   Region: {region}   Severity: {severity}\n"
            "Share of the place's traffic: {share:.1%}\n\n"
            "The customer is being notified automatically; please reach out in person.\n{url}"
        ),
        "webhook_disabled_subject": "事件通告 Webhook 已停用：{url}",
        "webhook_disabled_body": (
            "连续 {n} 次发送失败后，RelayDesk 已停止向 {url} 发送事件通告（最后一次错误：{error}）。\n\n"
            "请修复接收端后在门户中重新启用，或调用 POST /api/v1/notices/webhooks/{id}/enable。"
        ),
        "auto_detected_title": "{region} {metrics} 质量下降",
        "auto_detected_body": (
            "我们正在调查 {region}{where} 的 {service} 网络质量下降（{metrics}）。"
            "用户可能遇到卡顿、画面冻结或加入频道失败。"
        ),
        "auto_alert_body": "我们正在调查一条告警：{summary}",
        "auto_alert_resolved": "该事件相关的告警均已恢复，服务已恢复正常。",
    },
}


def lang_of(value: str | None) -> str:
    return "zh-Hans" if value and value.lower().startswith("zh") else "en"


def t(lang: str, key: str) -> str:
    return TEXT.get(lang, TEXT["en"]).get(key) or TEXT["en"][key]


def word(lang: str, status: str) -> str:
    return STATUS_WORDS.get(lang, STATUS_WORDS["en"]).get(status, status.replace("_", " "))
