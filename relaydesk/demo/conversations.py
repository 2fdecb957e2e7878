"""Text of the demo conversations, in English and Simplified Chinese.

Every entry is a list of alternatives; :func:`pick` chooses one with the caller's random
generator and fills ``{placeholders}`` from a context dictionary (unknown ones stay as
written, so a template never crashes the load). All text here was written for the demo.

Context keys used by the templates:

``name`` customer's first name, ``customer`` customer's full name, ``agent`` the agent's
first name, ``team`` the agent's team, ``app`` the customer's app, ``region`` the region
name, ``carrier`` a mobile carrier there, ``channel`` the RTC channel, ``platform`` the
platform, ``sdk``/``sdk_version`` the SDK, ``users`` how many users were affected,
``uids`` some affected user IDs, ``start``/``end``/``day`` the problem window in the
customer's local time, ``pct`` a percentage, ``rtt`` a round-trip time in ms, ``node``
an edge node, ``fixed_version`` an SDK release with a fix, ``month`` a billing month.
"""

from __future__ import annotations

import random
from typing import Any

EN = "en"
ZH = "zh-Hans"


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, ctx: dict[str, Any]) -> str:
    return template.format_map(_Keep(ctx))


def pick(rng: random.Random, options: list[str], ctx: dict[str, Any]) -> str:
    return fill(rng.choice(options), ctx)


REGION_NAMES = {
    EN: {
        "sg": "Singapore",
        "id": "Indonesia",
        "de": "Germany",
        "br": "Brazil",
        "us": "the US East Coast",
        "ae": "the UAE",
    },
    ZH: {
        "sg": "新加坡",
        "id": "印尼",
        "de": "德国",
        "br": "巴西",
        "us": "美东",
        "ae": "阿联酋",
    },
}

PLATFORM_NAMES = {
    "android": "Android",
    "ios": "iOS",
    "web": "Web",
    "flutter": "Flutter",
    "unity": "Unity",
    "electron": "Electron",
    "windows": "Windows",
    "macos": "macOS",
    "react_native": "React Native",
}

# -- shared pieces ---------------------------------------------------------------------

GREETING = {
    EN: ["Hi {name},", "Hello {name},", "Hi {name}, thanks for the report.", "Dear {name},"],
    ZH: ["{name}您好，", "您好，{name}：", "{name}，您好！", "您好！"],
}
SIGNOFF = {
    EN: [
        "Best regards,\n{agent}\nRelayDesk support ({team})",
        "Thanks,\n{agent} — RelayDesk {team}",
        "Kind regards,\n{agent}",
        "Cheers,\n{agent} | RelayDesk support",
    ],
    ZH: [
        "{agent}\nRelayDesk 技术支持（{team}）",
        "祝好！\n{agent}",
        "如有其他问题随时联系我们。\n{agent} | RelayDesk 技术支持",
    ],
}
CUSTOMER_SIGN = {
    EN: [
        "Thanks,\n{customer}",
        "— {customer}",
        "{customer}\n{app} engineering",
        "Regards,\n{customer}",
    ],
    ZH: ["谢谢！\n{customer}", "{customer}", "辛苦了！{customer}", "{customer}（{app} 技术）"],
}

GENERIC = {
    EN: {
        "confirm": [
            "Confirmed, it looks good on our side now. Thanks for the quick help!",
            "We watched tonight's peak and the numbers are back to normal. You can close this.",
            "Tested on three devices, all fine now. Thanks a lot.",
            "That did it. Our QA signed off this morning.",
            "Looks stable since the change. Appreciate it.",
        ],
        "solve_after_confirm": [
            "Great to hear, thanks for confirming. I'm marking this ticket as solved; just reply here if anything comes back.",
            "Thanks for the confirmation! Closing the loop on our side — reply to this ticket any time to reopen it.",
            "Glad it's resolved. I'll set the ticket to solved now.",
        ],
        "solve_silent": [
            "We haven't heard back for a few days, so I'm marking this as solved. If the problem is still there, simply reply and the ticket reopens.",
            "Following up: since there has been no recurrence on our dashboards and no reply, I'll set this ticket to solved. Reply any time to reopen it.",
        ],
        "reopen": [
            "Sorry, it's back. Same symptoms tonight from {start} for about twenty minutes.",
            "Reopening: we saw it again today on {platform}, fewer users but same pattern.",
            "It happened again yesterday evening. Could you take another look?",
        ],
        "reopen_answer": [
            "Thanks for letting us know. I checked again: this time it was a short route flap on {carrier} that recovered on its own within minutes; our automatic failover has been tuned so it switches earlier. Please keep an eye on it and tell us if it repeats.",
            "I looked into the new occurrence. It was a different cause — a burst of joins from an old app build still using the deprecated endpoint. Asking users to update should remove it; the server side is healthy.",
        ],
        "hold_public": [
            "Our engineering team has reproduced the problem and a fix is planned for the next SDK release. I'm putting this ticket on hold until the release; we'll update you here as soon as it's available.",
            "This needs a change on the SDK side. I've raised it with engineering and will keep the ticket on hold until we have a build for you to test.",
        ],
        "hold_release": [
            "Good news: SDK {fixed_version} with the fix for this issue is now available. Please upgrade and let us know whether the problem is gone.",
            "The fix has shipped in SDK {fixed_version}. Could you update your app build and confirm on your side?",
        ],
        "hold_note": [
            "Reproduced in the lab; engineering issue filed. Waiting for the next SDK release, customer informed.",
            "Root cause is in the SDK audio module; fix scheduled. Keep on hold, check again after release.",
        ],
    },
    ZH: {
        "confirm": [
            "确认了，今晚高峰期数据已经恢复正常，感谢快速处理！",
            "我们这边测试了几台设备，都没有问题了，可以关闭工单。",
            "改完之后一直很稳定，谢谢！",
            "问题已解决，测试同学已经验证通过。",
            "今天观察了一整天，没有再出现，辛苦了。",
        ],
        "solve_after_confirm": [
            "感谢确认！我先将工单标记为已解决，如有反复请直接回复本工单。",
            "很高兴问题已解决。工单将设为已解决，后续有任何问题随时回复即可重新打开。",
            "收到，谢谢反馈。工单先关闭，有问题随时找我们。",
        ],
        "solve_silent": [
            "几天没有收到您的回复，我们这边监控也未再发现异常，先将工单设为已解决。如问题仍存在，直接回复即可重新打开。",
            "跟进一下：近期数据正常，也没有收到新的反馈，工单先标记为已解决，有需要随时回复。",
        ],
        "reopen": [
            "不好意思，问题又出现了，今晚 {start} 开始持续了二十分钟左右，现象一样。",
            "重新打开一下：今天 {platform} 端又出现了，影响用户少一些，但现象相同。",
            "昨晚又复现了，麻烦再帮忙看一下。",
        ],
        "reopen_answer": [
            "感谢反馈。再次排查后发现，这次是 {carrier} 线路的短暂抖动，几分钟内自行恢复；我们已调整自动切换的阈值，让切换更早发生。请继续观察，如再出现请告诉我们。",
            "已排查新的这次，原因不同：一批仍在使用旧接入地址的老版本 App 集中加入频道。建议提醒用户升级，服务端一切正常。",
        ],
        "hold_public": [
            "研发同学已在实验室复现该问题，修复会在下一个 SDK 版本中发布。工单先设为挂起，版本发布后我们第一时间在此通知您。",
            "这个问题需要 SDK 侧修改，已提交给研发团队。工单暂时挂起，有测试包后会第一时间联系您。",
        ],
        "hold_release": [
            "好消息：包含该问题修复的 SDK {fixed_version} 已发布，请升级后告诉我们问题是否解决。",
            "修复已包含在 SDK {fixed_version} 中，请更新 App 后帮忙确认。",
        ],
        "hold_note": [
            "实验室已复现，已提研发单。等待下个 SDK 版本，已告知客户。",
            "根因在 SDK 音频模块，修复已排期。工单挂起，发版后再跟进。",
        ],
    },
}

# -- incident-like scenarios ------------------------------------------------------------

INCIDENTS: dict[str, dict[str, dict[str, Any]]] = {
    "live_stutter": {
        EN: {
            "subject": [
                "Live show stuttering at peak in {region}",
                "Viewers report rebuffering during evening shows ({region})",
                "Stutter and frozen video for viewers on {carrier}",
                "Rebuffering spike on channel {channel} tonight",
                "URGENT: top host's stream freezing for viewers",
            ],
            "description": [
                "Since about {start} local time our viewers in {region} see the video freeze every few seconds. It started right when the show reached its peak (around {users} concurrent viewers on {channel}). Hosts look fine on their side. Most complaints come from {carrier} users. Gifting revenue dropped immediately, please check urgently.",
                "We are seeing heavy rebuffering for audience members in {region} between {start} and {end}. Our player logs show the buffer draining and stalls of 2-4 seconds. App {app}, {platform} clients on {sdk} {sdk_version}. Affected user IDs include {uids}.",
                "Several of our top hosts reported that viewers keep saying 'lag' in the chat. Freeze rate on our own dashboard went from roughly 1% to {pct}% tonight. Channel {channel}, region {region}. Is there a network problem on your side?",
                "Live room {channel} stuttered badly during the evening show ({start}-{end}). Viewers on {carrier} mobile data are hit the most; Wi-Fi users seem OK. We did not change anything in our app this week.",
            ],
            "update": [
                "Update: still happening, more viewers leaving the room. Please hurry.",
                "Additional info: it is now also affecting some Wi-Fi users, not only {carrier}.",
                "We just lost one of the big rooms, the host ended the show early. Any news?",
            ],
            "ask": [
                "I'm sorry for the trouble during the show. I'm checking our quality data for {region} now. To narrow it down, could you send the viewer user IDs from the complaints and, if possible, the SDK log of one affected viewer (it's in the app's cache folder)? A rough time when it started for those users helps too.",
                "Thanks for reporting this so quickly. I can see elevated freeze rates on our side for part of {region}; I'm working with our network team. Could you confirm the channel names of the affected rooms and whether viewers use the low-latency or the standard-latency mode?",
                "We are on it. Please share: (1) two or three affected viewer IDs, (2) the host's user ID, (3) whether the host streams from a phone or OBS. Meanwhile I'm looking at the edge nodes serving {region}.",
            ],
            "info": [
                "Viewer IDs: {uids}. Host streams from an iPhone over 5G. Low-latency mode. Logs attached to our internal drive, I can upload them if needed.",
                "Rooms: {channel} and two smaller ones. Affected viewers: {uids}. All on the standard mode. Started around {start} for all of them.",
                "Here are the details you asked for: viewers {uids}, host on Android with OBS for the big shows. We tried restarting the stream, didn't help.",
            ],
            "interim": [
                "Quick update: we have confirmed packet loss of around {pct}% on the route from {carrier} to one of our edge nodes in {region}. Our network team is moving traffic to an alternative route now. I'll update you within the hour.",
                "Status: the issue is isolated to the edge node {node}, which is overloaded after a traffic surge. We are shifting viewers to neighbouring nodes. Next update in 30 minutes.",
                "We're still investigating. The host side looks healthy; the stalls start between our edge and {carrier}'s network. Engaging the carrier's NOC.",
            ],
            "causes": [
                {
                    "fix": [
                        "Root cause: the edge node {node} serving {region} ran out of capacity when several large shows peaked at the same time. We moved part of the traffic to two other nodes at {end}, and freeze rate for your rooms dropped back under 1%. We are adding capacity in that location this week. Could you confirm from your side that viewers are fine now?",
                        "We found it: {node} was overloaded during the peak. Traffic has been rebalanced and the node's capacity is being increased. Your rooms' rebuffering ratio is back to normal on our dashboard. Please let us know if your viewers still complain.",
                    ],
                    "note": [
                        "Telemetry: {node} CPU 97% from {start}, freeze rate for customer's rooms 6-9%. Rebalanced via traffic manager. Capacity ticket raised with network ops.",
                        "Edge {node} saturated at peak. Moved 40% of sessions to neighbours. Check next evening's peak.",
                    ],
                },
                {
                    "fix": [
                        "The network side looks clean for this period (loss < 0.3%, RTT around {rtt} ms). The stalls come from the host's uplink: the host's upload bandwidth dropped below the configured 3 Mbps several times. I'd recommend enabling adaptive bitrate on the broadcaster and a 720p fallback profile for mobile hosts. Can you try that in tonight's show?",
                        "After checking the logs, the viewers were stalling because the host's upstream connection was unstable (frequent drops to ~1 Mbps). The fix is on the broadcaster side: enable the 'network adaptation' option and set the minimum bitrate to 800 kbps. Please give it a try and tell us how it goes.",
                    ],
                    "note": [
                        "Host uplink unstable (bitrate dips to 900 kbps), network fine. Advised ABR + lower profile.",
                        "Not a network issue: host-side upload. Sent best-practice config.",
                    ],
                },
                {
                    "fix": [
                        "This was a congestion problem on {carrier}'s interconnect in {region}: loss reached about {pct}% at peak. We switched traffic from that carrier to a different transit provider, and the freeze rate recovered. We're keeping the new route in place and monitoring. Please confirm on your side.",
                        "Cause identified: {carrier} had congestion on its peering link with our edge in {region} between {start} and {end}. We rerouted via another upstream; the carrier has acknowledged the issue too. Things look normal since then. Could you check tonight's show?",
                    ],
                    "note": [
                        "{carrier} peering congested, loss {pct}% / RTT {rtt} ms. Rerouted via alternative transit. Carrier NOC ticket opened.",
                        "Carrier-side congestion on {carrier}. Route change applied; incident candidate if other customers report.",
                    ],
                },
            ],
        },
        ZH: {
            "subject": [
                "{region}直播高峰期卡顿严重",
                "晚间秀场直播观众端频繁卡顿（{region}）",
                "{carrier} 用户观看直播卡顿、画面冻结",
                "频道 {channel} 今晚大量卡顿反馈",
                "紧急：头部主播直播间观众端卡顿",
            ],
            "description": [
                "从当地时间 {start} 左右开始，{region}的观众反馈画面每隔几秒就卡住一次，正好是直播间人数最高的时候（{channel} 约 {users} 人同时在线）。主播端看起来正常，投诉主要来自 {carrier} 用户。礼物收入明显下降，请尽快排查！",
                "{region}的观众在 {start} 到 {end} 之间大量出现缓冲，播放器日志显示缓冲区被耗尽，每次卡顿 2~4 秒。App：{app}，{platform} 端，SDK {sdk} {sdk_version}。部分受影响用户 ID：{uids}。",
                "好几个头部主播说弹幕里一直有人刷“卡”。我们自己的看板上卡顿率从 1% 左右涨到了 {pct}%。频道 {channel}，区域 {region}。请问是不是你们网络有问题？",
                "直播间 {channel} 在晚间直播（{start}-{end}）时卡顿很严重，使用 {carrier} 流量的观众最明显，Wi-Fi 用户似乎还好。我们这周没有改过 App。",
            ],
            "update": [
                "补充：现在还在卡，直播间人数持续下降，麻烦加急！",
                "补充一下，现在部分 Wi-Fi 用户也开始卡了，不只是 {carrier}。",
                "刚刚一个大主播提前下播了，请问有进展吗？",
            ],
            "ask": [
                "非常抱歉影响了直播。我正在查看{region}的质量数据。为了尽快定位，请提供投诉观众的用户 ID，以及一位受影响观众的 SDK 日志（在 App 缓存目录下）；如能提供这些用户开始卡顿的大致时间会更好。",
                "感谢第一时间反馈。我们这边看到{region}部分区域卡顿率升高，正在和网络团队一起排查。请确认受影响直播间的频道名，以及观众使用的是极速直播还是标准直播模式？",
                "已在处理。请提供：1）两三个受影响的观众 ID；2）主播的用户 ID；3）主播是手机开播还是 OBS 推流。同时我在检查服务{region}的边缘节点。",
            ],
            "info": [
                "观众 ID：{uids}。主播用 iPhone 5G 开播，极速模式。日志在我们内部网盘，需要的话可以上传。",
                "直播间：{channel} 以及另外两个小房间。受影响观众：{uids}，都是标准模式，大约 {start} 同时开始。",
                "补充信息：观众 {uids}，大场直播主播是安卓 + OBS。我们试过重新推流，没有改善。",
            ],
            "interim": [
                "进展同步：已确认从 {carrier} 到我们{region}某边缘节点的链路丢包约 {pct}%，网络团队正在切换备用线路，一小时内给您更新。",
                "进展：问题集中在边缘节点 {node}，流量突增导致过载，正在把观众调度到相邻节点，30 分钟后再同步。",
                "仍在排查中。主播端正常，卡顿发生在我们边缘节点到 {carrier} 网络之间，已联系运营商 NOC。",
            ],
            "causes": [
                {
                    "fix": [
                        "根因：多个大型直播同时进入高峰，服务{region}的边缘节点 {node} 容量不足。我们在 {end} 把部分流量调度到另外两个节点，您直播间的卡顿率已回落到 1% 以下。本周会在该机房扩容。请您那边确认观众是否已恢复正常？",
                        "已定位：高峰期 {node} 节点过载。流量已重新均衡，节点也在扩容中，看板上您直播间的卡顿率已恢复正常。如观众仍有反馈请告诉我们。",
                    ],
                    "note": [
                        "监控：{node} 自 {start} 起 CPU 97%，该客户直播间卡顿率 6-9%。已通过调度系统分流，已提扩容单。",
                        "边缘 {node} 高峰饱和，已迁移 40% 会话，明晚高峰再观察。",
                    ],
                },
                {
                    "fix": [
                        "这个时间段网络侧数据正常（丢包 < 0.3%，RTT 约 {rtt} ms）。卡顿来自主播上行：主播上行带宽多次跌到配置的 3 Mbps 以下。建议主播端开启码率自适应，并为手机主播配置 720p 降级档位，今晚可以试一下吗？",
                        "查看日志后发现，观众卡顿是因为主播上行网络不稳定（经常掉到 1 Mbps 左右）。需要在推流端处理：开启“弱网自适应”，最低码率设为 800 kbps。请试一下并告诉我们效果。",
                    ],
                    "note": [
                        "主播上行不稳（码率跌至 900 kbps），网络正常。已建议开启自适应并降档。",
                        "非网络问题：主播上行。已发最佳实践配置。",
                    ],
                },
                {
                    "fix": [
                        "这是 {carrier} 在{region}的互联链路拥塞导致的：高峰期丢包约 {pct}%。我们已把该运营商的流量切换到另一家传输线路，卡顿率已恢复，新线路会继续保留并监控。请您确认一下。",
                        "已定位原因：{start} 到 {end} 之间 {carrier} 与我们{region}边缘的互联链路拥塞，我们已改走其他上游线路，运营商也已确认问题，之后一直正常。今晚直播可以再观察一下吗？",
                    ],
                    "note": [
                        "{carrier} 互联拥塞，丢包 {pct}% / RTT {rtt} ms。已切换备用传输，已给运营商 NOC 提单。",
                        "{carrier} 侧拥塞，已改路由。如其他客户也有反馈则升级为事件。",
                    ],
                },
            ],
        },
    },
    "join_failure": {
        EN: {
            "subject": [
                "Join channel failures on {carrier} ({region})",
                "Users cannot join calls, timeout after 10 s",
                "High join failure rate since {start}",
                "1-on-1 calls fail to connect for {carrier} users",
                "joinChannel timeouts in {region}",
            ],
            "description": [
                "Our 1-on-1 calls fail to connect for many users in {region} since about {start}. The SDK reports a join timeout after 10 seconds. It seems limited to {carrier} mobile data; on Wi-Fi the same users connect fine. Our join success rate dropped from 99% to about {pct}%. Users leave the app after one failed call.",
                "Since {day} we see a lot of 'join channel timeout' errors from {platform} clients ({sdk} {sdk_version}). Example user IDs: {uids}. Region {region}. We need this fixed fast, every failed match costs us a user.",
                "About {users} users in {region} could not join channel {channel} between {start} and {end}. Error code from the SDK is a connection timeout. Is there an outage?",
                "Calls between users in {region} take very long to connect or fail completely. Started around {start}. Affected users: {uids}. Please check the access nodes.",
            ],
            "update": [
                "Update: failure rate is getting worse, now around half of the joins on {carrier}.",
                "We can reproduce it in the office with a {carrier} SIM. Wi-Fi works.",
                "Still failing. Our support inbox is filling up.",
            ],
            "ask": [
                "Sorry about this. I'm checking join success for {region} on our side right now. Could you share the exact error code the SDK returns and the token generation time for one failed user? If you can, a log from a failed join helps a lot.",
                "Thanks for the details. Our dashboards show a dip in join success on {carrier} in {region}; we're investigating. Please tell us which SDK version your current release uses and whether you enabled the cloud proxy feature.",
                "I'm looking into this now. Can you confirm whether the failures happen on the first join or on rejoin after a network change, and send two user IDs with timestamps?",
            ],
            "info": [
                "Error code is a join timeout (no other error before it). Users {uids} failed at {start}. SDK {sdk_version}. Cloud proxy is off.",
                "It's the first join. Tokens are generated on our server with a 24h expiry. Log from user {uids} uploaded to the shared folder.",
                "Both first joins and rejoins. SDK {sdk_version}, no proxy. Users: {uids}.",
            ],
            "interim": [
                "Update: we see UDP packets from {carrier} being dropped before they reach our access nodes in {region}. Our network team is enabling an alternative port range and TCP fallback for that carrier. Next update shortly.",
                "We have identified one access node in {region} with degraded health checks; traffic is being drained from it now.",
                "Still investigating together with {carrier}; the failures correlate with their mobile core, not our side. I'll keep you posted.",
            ],
            "causes": [
                {
                    "fix": [
                        "Root cause: the tokens in the failed joins had already expired — your token server's clock was about 25 minutes ahead, so tokens looked valid to your app but expired on our side. After fixing NTP on the token server the failures should stop. Could you check and confirm?",
                        "We looked at the failed joins one by one: every one used a token issued with an expiry in the past (clock skew on the token server). Please sync the server time and consider a longer expiry with renewal via the token-will-expire callback.",
                    ],
                    "note": [
                        "All failed joins: token expired (server clock skew ~25 min on customer side). Not a network issue.",
                        "Customer token server clock off. Explained NTP + renewal callback.",
                    ],
                },
                {
                    "fix": [
                        "{carrier} started filtering part of the UDP port range we use for media in {region}. We enabled an alternative port range and TCP fallback for that carrier at {end}; join success is back above 99% in our data. Please confirm with your users. For extra safety you can enable the cloud proxy option, which falls back to TCP 443 automatically.",
                        "The carrier {carrier} rolled out a firewall change that blocked our media ports for some users. We've switched those users to a fallback port range, and joins are succeeding again. We recommend enabling the SDK's automatic proxy fallback so future filtering is handled without intervention.",
                    ],
                    "note": [
                        "{carrier} blocking UDP range; enabled alt ports + TCP fallback for ASN. Join success 99.3% after change.",
                        "Carrier firewall change. Workaround live. Candidate for proactive notice to other customers in {region}.",
                    ],
                },
                {
                    "fix": [
                        "One of our access nodes in {region} ({node}) had a failing network card and was still passing health checks partially. We drained it at {end} and joins recovered immediately. The node is being replaced. Sorry for the impact — please confirm it's fine on your side.",
                        "Cause: access node {node} in {region} was degraded (intermittent packet drops). It has been taken out of rotation and join success is back to normal. We're improving the health check so this is caught earlier.",
                    ],
                    "note": [
                        "{node}: NIC errors, partial health checks passing. Drained. Hardware ticket filed.",
                        "Access node degraded; drained. Check incident timeline for other customers.",
                    ],
                },
            ],
        },
        ZH: {
            "subject": [
                "{region} {carrier} 用户加入频道失败",
                "用户无法加入通话，10 秒后超时",
                "{start} 起加入频道失败率升高",
                "{carrier} 用户一对一视频无法接通",
                "{region}大量 joinChannel 超时",
            ],
            "description": [
                "大约从 {start} 开始，{region}很多用户的一对一通话无法接通，SDK 在 10 秒后报加入频道超时。似乎只影响 {carrier} 流量用户，同样的用户连 Wi-Fi 就正常。加入成功率从 99% 掉到了 {pct}% 左右，用户一次没接通就直接流失了。",
                "从 {day} 开始，{platform} 端（{sdk} {sdk_version}）大量出现“加入频道超时”。示例用户 ID：{uids}，区域{region}。请尽快处理，每次匹配失败都在流失用户。",
                "{start} 到 {end} 之间，{region}约 {users} 个用户无法加入频道 {channel}，SDK 返回连接超时。请问是否有故障？",
                "{region}用户之间的通话接通很慢或者直接失败，大约 {start} 开始。受影响用户：{uids}。请检查一下接入节点。",
            ],
            "update": [
                "补充：失败率还在上升，{carrier} 用户现在大约一半加入失败。",
                "我们在办公室用 {carrier} 的卡可以复现，Wi-Fi 正常。",
                "还是失败，客服那边投诉已经很多了。",
            ],
            "ask": [
                "非常抱歉。我正在查看我们这边{region}的加入成功率。请提供 SDK 返回的具体错误码，以及一个失败用户的 Token 生成时间；如果方便，附上一份加入失败时的日志会很有帮助。",
                "感谢提供信息。我们的看板显示{region} {carrier} 的加入成功率有下降，正在排查。请告知当前线上版本使用的 SDK 版本，以及是否开启了云代理功能？",
                "正在排查。请确认失败发生在首次加入还是网络切换后的重连，并提供两个用户 ID 及对应时间点。",
            ],
            "info": [
                "错误码是加入超时，之前没有其他错误。用户 {uids} 在 {start} 失败。SDK {sdk_version}，没有开云代理。",
                "是首次加入。Token 由我们服务端生成，有效期 24 小时。用户 {uids} 的日志已上传到共享目录。",
                "首次加入和重连都有。SDK {sdk_version}，没开代理。用户：{uids}。",
            ],
            "interim": [
                "进展：我们发现 {carrier} 的 UDP 包在到达{region}接入节点前被丢弃，网络团队正在为该运营商开启备用端口段和 TCP 回退，稍后同步。",
                "已定位到{region}一个接入节点健康检查异常，正在把流量从该节点摘除。",
                "仍在与 {carrier} 一起排查，失败与其移动核心网相关，不在我们侧，有进展随时同步。",
            ],
            "causes": [
                {
                    "fix": [
                        "根因：失败的加入请求中 Token 都已过期——贵方 Token 服务器的时钟快了约 25 分钟，App 认为 Token 有效，但在我们这边已过期。修正 Token 服务器的 NTP 后应该就不会再失败了，请确认一下。",
                        "我们逐条检查了失败记录：每一次都使用了过期时间已过的 Token（Token 服务器时钟偏差）。请同步服务器时间，并建议延长有效期、在 Token 即将过期回调中续期。",
                    ],
                    "note": [
                        "所有失败均为 Token 过期（客户服务器时钟偏差约 25 分钟），非网络问题。",
                        "客户 Token 服务器时钟不准，已说明 NTP 和续期回调。",
                    ],
                },
                {
                    "fix": [
                        "{carrier} 开始在{region}过滤我们使用的部分 UDP 媒体端口。我们在 {end} 为该运营商开启了备用端口段和 TCP 回退，数据显示加入成功率已恢复到 99% 以上，请和用户确认。为保险起见，建议开启云代理选项，会自动回退到 TCP 443。",
                        "{carrier} 上线了一项防火墙变更，导致部分用户的媒体端口被封。我们已将这些用户切到备用端口段，加入已恢复正常。建议开启 SDK 的自动代理回退，以后遇到类似过滤无需人工介入。",
                    ],
                    "note": [
                        "{carrier} 封 UDP 端口段；已对该 ASN 开启备用端口 + TCP 回退，变更后成功率 99.3%。",
                        "运营商防火墙变更，规避方案已上线。可考虑向{region}其他客户发主动通告。",
                    ],
                },
                {
                    "fix": [
                        "{region}的一个接入节点（{node}）网卡故障，但健康检查仍部分通过。我们在 {end} 将其摘除，加入立即恢复，该节点正在更换。抱歉造成影响，请确认您那边已正常。",
                        "原因：{region}接入节点 {node} 性能下降（间歇性丢包），已下线，加入成功率恢复正常。我们也在改进健康检查，以便更早发现此类问题。",
                    ],
                    "note": [
                        "{node}：网卡错误，健康检查部分通过。已摘除，已提硬件工单。",
                        "接入节点异常已摘除，确认其他客户是否受影响。",
                    ],
                },
            ],
        },
    },
    "audio_echo": {
        EN: {
            "subject": [
                "Echo in voice rooms on some {platform} devices",
                "Users hear their own voice back (echo)",
                "Audio quality complaints: echo and robotic voice",
                "Howling/echo when two users are in the same room",
            ],
            "description": [
                "Users in our voice rooms complain that they hear themselves with a delay. It happens mostly on {platform}, {sdk} {sdk_version}. Examples: {uids}. Not everybody, maybe 5% of sessions.",
                "Since our last release some users report echo and a 'robotic' sound in 1-on-1 calls. We switched to our own audio capture module in that release. Channel example: {channel}.",
                "We get echo when hosts use external speakers during multi-guest shows. Is there a setting we are missing? {platform}, SDK {sdk_version}.",
            ],
            "update": ["Also noticed: it's worse with Bluetooth headsets."],
            "ask": [
                "Thanks for reporting. Echo usually comes from the acoustic echo cancellation not getting a clean reference signal. Could you tell us which audio profile/scenario you set, whether you use custom audio capture or rendering, and send a short recording or log from an affected session?",
                "To check this, please send the device models of two affected users and let us know whether the echo is heard by the remote side or by the speaker themselves.",
            ],
            "info": [
                "We use custom audio capture since the last release. Scenario is 'chatroom'. Devices: a few mid-range Android phones and some iPads.",
                "The remote side hears the echo. Devices vary. Log for {uids} attached.",
            ],
            "interim": [
                "We reproduced it in our lab with the devices you named; analysing the AEC reference signal now."
            ],
            "causes": [
                {
                    "fix": [
                        "With custom audio capture, the SDK's echo canceller needs the playback signal as reference; in your integration the playback goes through a separate audio session, so AEC has nothing to subtract. Please either push the playback audio into the SDK's external-render path or switch back to SDK capture with the 'chatroom' scenario. We tested the second option on the same devices and the echo disappeared.",
                    ],
                    "note": [
                        "Custom capture bypasses AEC reference. Sent integration guidance; no server issue."
                    ],
                },
                {
                    "fix": [
                        "These devices have a faulty hardware echo canceller. The SDK lets you force the software AEC: set the audio option to disable hardware AEC for these models (the list is in the knowledge-base article 'Echo on specific Android devices'). We also recommend the 'game streaming'/'chatroom' audio scenario for multi-guest shows with external speakers.",
                    ],
                    "note": [
                        "Device-specific HW AEC issue. Sent KB article + config. Add models to the SDK deny list?"
                    ],
                },
            ],
        },
        ZH: {
            "subject": [
                "部分 {platform} 设备语音房出现回声",
                "用户能听到自己的声音（回声）",
                "音质投诉：回声、声音发闷有电音",
                "同一房间两台设备时出现啸叫和回声",
            ],
            "description": [
                "语音房用户反馈能延迟听到自己的声音，主要是 {platform} 端，{sdk} {sdk_version}。示例用户：{uids}。不是所有人，大约 5% 的会话。",
                "上个版本发布后，部分用户在一对一通话中出现回声和“电音”。那个版本我们换成了自研的音频采集模块。示例频道：{channel}。",
                "多人连麦时主播用外放就会有回声，是不是有什么设置我们漏了？{platform}，SDK {sdk_version}。",
            ],
            "update": ["补充：戴蓝牙耳机时更严重。"],
            "ask": [
                "感谢反馈。回声通常是回声消除（AEC）拿不到干净的参考信号导致的。请告知设置的音频场景/profile，是否使用了自定义音频采集或渲染，并提供一段受影响会话的录音或日志。",
                "为便于排查，请提供两个受影响用户的机型，并说明回声是对端听到，还是说话人自己听到？",
            ],
            "info": [
                "上个版本开始用自定义音频采集，场景设为“聊天室”。机型：几款中端安卓机和部分 iPad。",
                "对端听到回声，机型各不相同。{uids} 的日志已附上。",
            ],
            "interim": ["我们已在实验室用您提到的机型复现，正在分析 AEC 参考信号。"],
            "causes": [
                {
                    "fix": [
                        "使用自定义采集时，SDK 的回声消除需要播放信号作为参考；您的集成中播放走的是独立的音频会话，AEC 没有可以抵消的参考。建议将播放音频通过 SDK 的外部渲染接口送入，或改回 SDK 采集并使用“聊天室”场景。我们在相同机型上测试了第二种方案，回声消失了。",
                    ],
                    "note": ["自定义采集绕过了 AEC 参考，已发集成建议；服务端无问题。"],
                },
                {
                    "fix": [
                        "这些机型的硬件回声消除有缺陷。可以通过 SDK 参数强制使用软件 AEC，对这些机型关闭硬件 AEC（机型列表见知识库文章《特定安卓机型回声问题》）。多人连麦且主播外放时，也建议使用“聊天室”音频场景。",
                    ],
                    "note": ["机型硬件 AEC 问题，已发知识库文章和配置。考虑加入 SDK 黑名单？"],
                },
            ],
        },
    },
    "first_frame": {
        EN: {
            "subject": [
                "First frame takes 3-4 seconds in 1-on-1 calls",
                "Slow first video frame after join",
                "Black screen for several seconds when a call connects",
            ],
            "description": [
                "Our users see a black screen for 3-4 seconds after the call connects before the remote video appears. Competitor apps show video in under a second. {platform}, {sdk} {sdk_version}, region {region}. How can we make the first frame faster?",
                "Time to first frame has been slow for viewers joining live rooms in {region}, around 2.5 s median on our metrics. Channel {channel}. Is this normal?",
            ],
            "update": ["Some more data: the P90 is close to 5 seconds on {carrier}."],
            "ask": [
                "Thanks. Could you describe the order of calls in your app when a match is found (when you create the engine, set the video, join and subscribe), and share the keyframe interval your hosts use?",
                "To see where the time goes, please send the SDK log of one slow join and tell us whether you join the channel only after the user taps 'accept'.",
            ],
            "info": [
                "We create the engine and join only after both users accept, then enable video. Hosts use a 4-second GOP.",
                "Join happens after accept. Engine is created fresh for every call. Log for {uids} attached.",
            ],
            "interim": [
                "The log shows most of the delay before the first keyframe arrives; checking the encoder settings next."
            ],
            "causes": [
                {
                    "fix": [
                        "Most of the time is spent creating the engine and joining after 'accept'. Create the engine once at app start, join the channel as soon as the match is proposed (audio/video muted), and only unmute on accept. Together with the SDK's fast-start option this typically brings the first frame under 800 ms.",
                    ],
                    "note": ["Sequential init/join after accept. Sent pre-join best practice."],
                },
                {
                    "fix": [
                        "The viewers wait for the next keyframe: with a 4-second GOP that's up to 4 s. Please set the keyframe interval to 1-2 seconds on the hosts (in OBS: Keyframe Interval = 2). Our edge can also cache the last GOP for instant start — I've enabled it for your app ID.",
                    ],
                    "note": ["GOP 4s. Advised 2s; enabled GOP cache on the customer's app."],
                },
            ],
        },
        ZH: {
            "subject": [
                "一对一通话首帧需要 3~4 秒",
                "加入后首帧出图慢",
                "通话接通后黑屏几秒",
            ],
            "description": [
                "用户接通后要黑屏 3~4 秒才看到对方画面，竞品基本 1 秒内出图。{platform}，{sdk} {sdk_version}，区域{region}。请问怎样让首帧更快？",
                "{region}观众进入直播间的首帧时间偏慢，我们统计中位数约 2.5 秒。频道 {channel}。这个正常吗？",
            ],
            "update": ["补充数据：{carrier} 用户 P90 接近 5 秒。"],
            "ask": [
                "感谢反馈。请描述匹配成功后 App 的调用顺序（何时创建引擎、设置视频、加入频道、订阅），以及主播端的关键帧间隔。",
                "为了确认耗时在哪里，请提供一次慢加入的 SDK 日志，并告知是否在用户点击“接听”之后才加入频道。",
            ],
            "info": [
                "双方都接听后才创建引擎并加入，然后开视频。主播 GOP 是 4 秒。",
                "接听后才加入，每次通话都重新创建引擎。{uids} 的日志已附上。",
            ],
            "interim": ["日志显示大部分时间花在等待第一个关键帧上，接下来检查编码设置。"],
            "causes": [
                {
                    "fix": [
                        "主要耗时在接听后才创建引擎和加入频道。建议 App 启动时创建一次引擎，匹配成功时就提前加入频道（音视频静音），接听后再取消静音。配合 SDK 的秒开选项，首帧通常可以降到 800 ms 以内。",
                    ],
                    "note": ["接听后串行初始化和加入，已发预加入最佳实践。"],
                },
                {
                    "fix": [
                        "观众在等待下一个关键帧：GOP 4 秒时最长要等 4 秒。请把主播端关键帧间隔设为 1~2 秒（OBS 中“关键帧间隔”设为 2）。另外我们边缘节点可以缓存最近一个 GOP 实现秒开，已为您的 App ID 开启。",
                    ],
                    "note": ["GOP 4 秒，已建议改为 2 秒；已为客户 App 开启 GOP 缓存。"],
                },
            ],
        },
    },
    "av_sync": {
        EN: {
            "subject": [
                "Audio and video out of sync in live rooms",
                "Lip sync drifts during long shows",
            ],
            "description": [
                "Viewers report that the host's voice is ahead of the video by about half a second, getting worse after an hour into the show. Channel {channel}, {platform} hosts, {sdk} {sdk_version}.",
                "Audio/video out of sync for some hosts in {region} since {day}. We use custom video capture with beauty filters. Example users: {uids}.",
            ],
            "update": ["It seems to get worse the longer the show runs."],
            "ask": [
                "Thanks. Do the affected hosts use custom video capture, and if so, which timestamps do you pass with each frame? A log from one long show would help.",
                "Could you tell us the host devices and whether CPU usage is high during the show (beauty filters, effects)?",
            ],
            "info": [
                "Yes, custom capture; we pass our own frame counter converted to ms. Host devices are mid-range Android phones.",
                "Beauty filter and stickers on, CPU often above 80% on the host phones.",
            ],
            "interim": [
                "We can see the video timestamps drifting against the audio clock in the log; confirming the cause."
            ],
            "causes": [
                {
                    "fix": [
                        "The video frames carry timestamps from your own counter, which drifts from the audio clock. Please use the SDK's current monotonic time (or the capture timestamp from the camera) when pushing frames; the player then keeps lip sync even in long shows.",
                    ],
                    "note": ["Custom capture timestamps drift. Integration fix on customer side."],
                },
                {
                    "fix": [
                        "The host phones are overloaded (beauty + effects), so video encoding falls behind audio. Lowering the capture resolution to 720p and enabling hardware encoding fixes the drift in our tests; for weaker devices, turn off the heaviest effects.",
                    ],
                    "note": ["Host CPU overload. Suggested 720p + HW encoding."],
                },
            ],
        },
        ZH: {
            "subject": [
                "直播间音画不同步",
                "长时间直播后音画逐渐不同步",
            ],
            "description": [
                "观众反馈主播声音比画面快大约半秒，直播一小时后越来越明显。频道 {channel}，{platform} 主播，{sdk} {sdk_version}。",
                "从 {day} 开始，{region}部分主播出现音画不同步。我们用了自定义视频采集加美颜。示例用户：{uids}。",
            ],
            "update": ["看起来直播时间越长越严重。"],
            "ask": [
                "感谢反馈。受影响主播是否使用自定义视频采集？如果是，每一帧传入的时间戳是怎么生成的？请提供一场长时间直播的日志。",
                "请告知主播的机型，以及直播时 CPU 占用是否很高（美颜、特效等）？",
            ],
            "info": [
                "是自定义采集，我们用自己的帧计数换算成毫秒作为时间戳。主播大多是中端安卓机。",
                "开了美颜和贴纸，主播手机 CPU 经常超过 80%。",
            ],
            "interim": ["日志中可以看到视频时间戳相对音频时钟在漂移，正在确认原因。"],
            "causes": [
                {
                    "fix": [
                        "视频帧使用的是自有计数器的时间戳，与音频时钟存在漂移。推帧时请使用 SDK 提供的单调时钟（或相机采集时间戳），这样长时间直播也能保持音画同步。",
                    ],
                    "note": ["自定义采集时间戳漂移，需客户侧修改集成。"],
                },
                {
                    "fix": [
                        "主播手机负载过高（美颜 + 特效），视频编码跟不上音频。实测把采集分辨率降到 720p 并开启硬件编码即可解决；性能较弱的机型建议关闭最耗资源的特效。",
                    ],
                    "note": ["主播端 CPU 过载，建议 720p + 硬编。"],
                },
            ],
        },
    },
    "recording": {
        EN: {
            "subject": [
                "Cloud recording files missing for some sessions",
                "Cloud recording fails to upload to our bucket",
                "Recorded classes are incomplete",
            ],
            "description": [
                "Since {day} some cloud recordings never arrive in our storage bucket. The start call returns success, but no file shows up. Channel example: {channel}. We need the recordings for our students.",
                "A number of recorded sessions only contain the first few minutes. Region {region}. Channel {channel}. Please check what happened.",
            ],
            "update": ["Another one missing today: channel {channel}."],
            "ask": [
                "Could you send the recording session IDs of two missing files and confirm the storage vendor, bucket region and whether the access key was rotated recently?",
                "Please share the session IDs and the settings you pass for idle timeout and the recording mode.",
            ],
            "info": [
                "Session IDs attached. We rotated the storage keys last week.",
                "Idle timeout is 30 s, mode is composite. Session IDs attached.",
            ],
            "interim": [
                "Our recording service logs show upload errors for these sessions; checking the details."
            ],
            "causes": [
                {
                    "fix": [
                        "Uploads failed with 'access denied' from your bucket: the new access key doesn't have write permission for the recordings prefix. Please grant PutObject on that path. The failed files are kept on our side for 72 hours — once permissions are fixed we re-upload them automatically.",
                    ],
                    "note": [
                        "Bucket permission after key rotation. Files retained; re-upload queued."
                    ],
                },
                {
                    "fix": [
                        "The recorder stopped after the idle timeout: the teacher joined late, so for 30 s nobody was publishing and the session ended. Set the idle timeout to 300 s, or start recording after the first publisher joins.",
                    ],
                    "note": ["Idle timeout too short. Config advice only."],
                },
            ],
        },
        ZH: {
            "subject": [
                "部分会话云录制文件丢失",
                "云录制文件无法上传到我们的存储桶",
                "课程录制文件不完整",
            ],
            "description": [
                "从 {day} 开始，部分云录制文件没有出现在我们的存储桶里，开始录制接口返回成功，但一直没有文件。示例频道：{channel}。学生需要回放，请尽快处理。",
                "一些录制的课程只有开头几分钟。区域{region}，频道 {channel}，请帮忙看看原因。",
            ],
            "update": ["今天又丢了一个：频道 {channel}。"],
            "ask": [
                "请提供两个丢失文件的录制会话 ID，并确认存储厂商、存储桶所在区域，以及最近是否更换过访问密钥？",
                "请提供会话 ID，以及空闲超时和录制模式的参数设置。",
            ],
            "info": [
                "会话 ID 已附上。上周我们更换过存储密钥。",
                "空闲超时 30 秒，合流录制模式，会话 ID 已附上。",
            ],
            "interim": ["录制服务日志显示这些会话上传出错，正在查看详情。"],
            "causes": [
                {
                    "fix": [
                        "上传失败，存储桶返回“拒绝访问”：新密钥没有录制目录的写权限。请为该路径授予 PutObject 权限。失败的文件在我们这边保留 72 小时，权限修复后会自动重新上传。",
                    ],
                    "note": ["更换密钥后存储桶权限不足，文件已保留，已排队重传。"],
                },
                {
                    "fix": [
                        "录制在空闲超时后停止了：老师晚进教室，30 秒内无人发流，会话自动结束。建议把空闲超时设为 300 秒，或在第一位发流者加入后再开始录制。",
                    ],
                    "note": ["空闲超时过短，仅需调整配置。"],
                },
            ],
        },
    },
}

# -- question-like scenarios (one topic = a question and its answer) --------------------
# A topic may carry "not_for": plans it does not fit (nobody upgrades from the top plan).

SDK_TOPICS: dict[str, dict[str, list[dict[str, list[str]]]]] = {
    "android": {
        EN: [
            {
                "subject": [
                    "Android release build crashes on join (ProGuard?)",
                    "App crashes only in release build after adding SDK",
                ],
                "question": [
                    "Our debug build works, but the release build crashes with a ClassNotFoundException as soon as we call joinChannel. Android, {sdk} {sdk_version}. We use R8 with our usual rules."
                ],
                "answer": [
                    "R8 is removing SDK classes that are only called from native code. Please add the keep rules from the SDK package (proguard-rules.txt in the release zip) to your proguard configuration, then rebuild. That resolves the ClassNotFoundException."
                ],
                "followup": [
                    "Added the rules, release build works now. Do we need anything extra for the screen-sharing extension?"
                ],
                "final": [
                    "No extra rules are needed for screen sharing, it's covered by the same file. Glad it works!"
                ],
            },
            {
                "subject": [
                    "Audio stops when the app goes to background on Android 14",
                    "Background call audio cut on Android 14",
                ],
                "question": [
                    "On Android 14 devices the call audio stops about a minute after the user switches to another app. Works on older versions. What do we need to change?"
                ],
                "answer": [
                    "Android 14 requires a foreground service with the 'microphone' (and for video 'camera') type while a call runs in the background. Start a foreground service with those types when the call begins and declare the matching permissions in the manifest; the SDK keeps capturing as long as the service runs."
                ],
                "followup": [
                    "Thanks, the foreground service fixed it. Is the notification mandatory?"
                ],
                "final": [
                    "Yes, Android requires a visible notification for a foreground service; you can make it an ongoing-call style notification with a hang-up action."
                ],
            },
        ],
        ZH: [
            {
                "subject": [
                    "安卓 release 包加入频道时崩溃（混淆问题？）",
                    "集成 SDK 后只有 release 包崩溃",
                ],
                "question": [
                    "debug 包正常，release 包一调用 joinChannel 就报 ClassNotFoundException 崩溃。安卓，{sdk} {sdk_version}，开启了 R8 混淆。"
                ],
                "answer": [
                    "R8 移除了只从 native 层调用的 SDK 类。请把 SDK 包中 proguard-rules.txt 的 keep 规则加入混淆配置后重新打包，即可解决 ClassNotFoundException。"
                ],
                "followup": ["加了规则之后 release 包正常了。屏幕共享扩展还需要额外配置吗？"],
                "final": ["屏幕共享不需要额外规则，同一个文件已经覆盖。问题解决就好！"],
            },
            {
                "subject": ["Android 14 切到后台后通话没声音", "安卓 14 后台通话音频中断"],
                "question": [
                    "Android 14 设备上，用户切到其他 App 大约一分钟后通话就没声音了，低版本系统正常。需要怎么改？"
                ],
                "answer": [
                    "Android 14 要求后台通话期间运行带 microphone 类型（视频还需 camera 类型）的前台服务。请在通话开始时启动对应类型的前台服务，并在 manifest 中声明权限；只要服务在运行，SDK 就会持续采集。"
                ],
                "followup": ["加上前台服务后正常了。通知栏提示是必须的吗？"],
                "final": ["是的，前台服务必须显示通知，可以做成“通话中”样式并带挂断按钮。"],
            },
        ],
    },
    "ios": {
        EN: [
            {
                "subject": [
                    "iOS: call drops when the screen locks",
                    "Calls end when iPhone is locked",
                ],
                "question": [
                    "When users lock their iPhone during a call, the other side stops hearing them after a few seconds. {sdk} {sdk_version}. Do we need CallKit?"
                ],
                "answer": [
                    "Enable the 'Audio, AirPlay and Picture in Picture' background mode (and 'Voice over IP' if you use PushKit). CallKit isn't required for audio to continue, but it gives users the system call UI and protects the audio session from being interrupted by other apps."
                ],
                "followup": [
                    "Background mode was missing, thanks. Works now with the screen locked."
                ],
                "final": [
                    "Great. If you later add CallKit, let us know and we'll share the audio session configuration that works best with it."
                ],
            },
            {
                "subject": [
                    "Xcode build fails for simulator on Apple Silicon",
                    "Linker error with SDK xcframework on arm64 simulator",
                ],
                "question": [
                    "Building for the simulator on an M-series Mac fails with 'building for iOS Simulator, but linking in object file built for iOS'. Device builds work."
                ],
                "answer": [
                    "Your project links the old fat framework. Please switch to the .xcframework from the current SDK package (it contains an arm64 simulator slice) and remove 'arm64' from Excluded Architectures for the simulator if it was added as a workaround."
                ],
                "followup": ["Switched to the xcframework, builds fine on simulator and device."],
                "final": ["Perfect, thanks for confirming."],
            },
        ],
        ZH: [
            {
                "subject": ["iOS 锁屏后通话中断", "iPhone 锁屏后对方听不到声音"],
                "question": [
                    "用户通话中锁屏，几秒后对方就听不到他的声音了。{sdk} {sdk_version}。需要接 CallKit 吗？"
                ],
                "answer": [
                    "请开启后台模式“Audio, AirPlay and Picture in Picture”（如使用 PushKit 还需开启“Voice over IP”）。音频继续不依赖 CallKit，但接入 CallKit 可以提供系统通话界面，并防止音频会话被其他 App 打断。"
                ],
                "followup": ["确实漏了后台模式，加上后锁屏也正常了，谢谢。"],
                "final": ["好的。以后如果接入 CallKit，可以联系我们获取推荐的音频会话配置。"],
            },
            {
                "subject": [
                    "Apple Silicon 上模拟器编译失败",
                    "arm64 模拟器链接 SDK xcframework 报错",
                ],
                "question": [
                    "在 M 系列 Mac 上编译模拟器版本报错“building for iOS Simulator, but linking in object file built for iOS”，真机编译正常。"
                ],
                "answer": [
                    "项目链接的是旧的 fat framework。请换成当前 SDK 包中的 .xcframework（包含 arm64 模拟器架构），如果之前为了绕过问题在模拟器的 Excluded Architectures 中加了 arm64，请删除。"
                ],
                "followup": ["换成 xcframework 后模拟器和真机都能编译了。"],
                "final": ["好的，感谢确认。"],
            },
        ],
    },
    "web": {
        EN: [
            {
                "subject": [
                    "Web: no sound for viewers on Safari until they click",
                    "Safari autoplay blocks remote audio",
                ],
                "question": [
                    "On Safari (macOS and iOS) viewers join the live room but hear nothing until they tap somewhere. Chrome is fine. Web SDK {sdk_version}."
                ],
                "answer": [
                    "That is Safari's autoplay policy: audio may only start after a user gesture. Listen for the SDK's autoplay-failed event and show a 'Tap to unmute' button that calls play() on the remote tracks; or let users join via a button click so the gesture already happened."
                ],
                "followup": ["The unmute button works. Any way to avoid it completely?"],
                "final": [
                    "Not on Safari, unfortunately — the browser decides. Joining from a click handler is the closest to 'no extra tap'."
                ],
            },
            {
                "subject": [
                    "Screen sharing fails on Firefox",
                    "getDisplayMedia error in Firefox for screen share",
                ],
                "question": [
                    "Screen sharing works in Chrome and Edge but fails on Firefox with a NotAllowedError, even after the user picks a window."
                ],
                "answer": [
                    "Firefox requires getDisplayMedia to be called directly inside the click handler; in your code it runs after an awaited API call, so the user gesture has expired. Create the screen track first and only then call your backend."
                ],
                "followup": ["Moved it into the click handler, works on Firefox now."],
                "final": ["Great, thanks for letting us know."],
            },
        ],
        ZH: [
            {
                "subject": [
                    "Web 端 Safari 观众需要点击后才有声音",
                    "Safari 自动播放策略导致远端无声",
                ],
                "question": [
                    "Safari（macOS 和 iOS）上观众进入直播间后听不到声音，点一下页面才有，Chrome 正常。Web SDK {sdk_version}。"
                ],
                "answer": [
                    "这是 Safari 的自动播放策略：音频只能在用户手势后开始播放。请监听 SDK 的自动播放失败事件，显示“点击开启声音”按钮并在其中调用远端音轨的 play()；或者让用户通过点击按钮进入房间，这样手势已经发生。"
                ],
                "followup": ["加了开启声音按钮，可以了。有没有办法完全不需要点击？"],
                "final": [
                    "Safari 上目前无法绕过，由浏览器决定。从点击事件中加入房间是最接近“无需额外点击”的做法。"
                ],
            },
            {
                "subject": ["Firefox 上屏幕共享失败", "Firefox 屏幕共享 getDisplayMedia 报错"],
                "question": [
                    "屏幕共享在 Chrome 和 Edge 上正常，在 Firefox 上选完窗口后报 NotAllowedError。"
                ],
                "answer": [
                    "Firefox 要求在点击事件处理函数中直接调用 getDisplayMedia；您的代码是在一次 await 接口请求之后才调用，用户手势已失效。请先创建屏幕共享轨道，再请求后端。"
                ],
                "followup": ["挪到点击事件里之后 Firefox 也正常了。"],
                "final": ["好的，感谢反馈。"],
            },
        ],
    },
    "flutter": {
        EN: [
            {
                "subject": [
                    "Flutter plugin: MissingPluginException after upgrade",
                    "Flutter app fails after upgrading the RTC plugin",
                ],
                "question": [
                    "After upgrading the Flutter plugin to {sdk_version}, Android builds throw MissingPluginException on initialize. iOS works."
                ],
                "answer": [
                    "This happens when an old native build is cached. Run 'flutter clean', delete the android/.gradle folder and rebuild; also make sure no other plugin pins an older native SDK version in its Gradle file."
                ],
                "followup": ["flutter clean fixed it, thanks."],
                "final": ["You're welcome!"],
            },
            {
                "subject": [
                    "Flutter: local video view is black on some Android devices",
                    "Black local preview in Flutter",
                ],
                "question": [
                    "Some Android devices show a black local preview in our Flutter app, remote video is fine."
                ],
                "answer": [
                    "On these devices the texture view needs the surface mode: set the video view to use SurfaceView rendering (the 'useFlutterTexture: false' option), and make sure the camera permission is granted before you create the view."
                ],
                "followup": ["Switched the render mode, preview shows on all our test phones now."],
                "final": ["Good to hear. Closing this one."],
            },
        ],
        ZH: [
            {
                "subject": [
                    "Flutter 插件升级后报 MissingPluginException",
                    "升级 RTC Flutter 插件后 App 无法运行",
                ],
                "question": [
                    "Flutter 插件升级到 {sdk_version} 后，安卓初始化时报 MissingPluginException，iOS 正常。"
                ],
                "answer": [
                    "这是旧的原生构建缓存导致的。请执行 flutter clean，删除 android/.gradle 目录后重新编译；同时确认没有其他插件在 Gradle 文件中锁定了旧版原生 SDK。"
                ],
                "followup": ["flutter clean 之后好了，谢谢。"],
                "final": ["不客气！"],
            },
            {
                "subject": ["Flutter 部分安卓机型本地预览黑屏", "Flutter 本地视频预览黑屏"],
                "question": ["部分安卓机型在我们的 Flutter App 里本地预览是黑屏，远端画面正常。"],
                "answer": [
                    "这些机型需要使用 SurfaceView 渲染：将视频视图设置为 useFlutterTexture: false，并确保在创建视图前已获得相机权限。"
                ],
                "followup": ["换了渲染模式后，测试机上预览都正常了。"],
                "final": ["好的，工单先关闭。"],
            },
        ],
    },
    "unity": {
        EN: [
            {
                "subject": [
                    "Unity IL2CPP build: callbacks never fire",
                    "Unity iOS build: SDK events missing with IL2CPP",
                ],
                "question": [
                    "In the editor everything works, but in the IL2CPP build (iOS and Android) the join-success callback never fires. Unity 2022 LTS, SDK {sdk_version}."
                ],
                "answer": [
                    "IL2CPP strips the callback classes because they are only referenced via reflection. Add the link.xml from the SDK's Plugins folder to your Assets (or set Managed Stripping Level to Low) and rebuild."
                ],
                "followup": ["link.xml did it, callbacks fire now."],
                "final": ["Great, thanks for confirming."],
            },
            {
                "subject": [
                    "Unity: spatial voice chat for a battle-royale game",
                    "Best way to do proximity voice in Unity",
                ],
                "question": [
                    "We're building proximity voice chat for a 60-player match. Should we use one channel per match or per squad? How do we make voice fade with distance?"
                ],
                "answer": [
                    "One channel per match plus the SDK's spatial audio module works well: update each player's position every 100-200 ms and set the audible range; the SDK only forwards streams within range, which also saves bandwidth. Squad voice can use a second channel with the multi-channel API."
                ],
                "followup": [
                    "Makes sense. Is there a limit on players per channel for spatial audio?"
                ],
                "final": [
                    "Spatial audio is tested up to 128 publishers per channel; with 60 players you're well within it."
                ],
            },
        ],
        ZH: [
            {
                "subject": ["Unity IL2CPP 包收不到回调", "Unity iOS IL2CPP 打包后 SDK 事件丢失"],
                "question": [
                    "编辑器里一切正常，IL2CPP 打包（iOS 和安卓）后加入成功回调一直不触发。Unity 2022 LTS，SDK {sdk_version}。"
                ],
                "answer": [
                    "IL2CPP 裁剪了只通过反射引用的回调类。请把 SDK Plugins 目录下的 link.xml 放到 Assets 中（或将 Managed Stripping Level 设为 Low）后重新打包。"
                ],
                "followup": ["加了 link.xml，回调正常了。"],
                "final": ["好的，感谢确认。"],
            },
            {
                "subject": ["Unity 吃鸡类游戏的空间语音方案", "Unity 如何实现距离衰减语音"],
                "question": [
                    "我们要给 60 人对局做近距离语音，应该一局一个频道还是一个小队一个频道？声音怎么随距离衰减？"
                ],
                "answer": [
                    "推荐一局一个频道，配合 SDK 的空间音频模块：每 100~200 ms 更新一次玩家坐标并设置可听范围，SDK 只转发范围内的音频流，也能节省带宽。小队语音可以用多频道接口再加入一个频道。"
                ],
                "followup": ["明白了。空间音频每个频道的人数有限制吗？"],
                "final": ["空间音频已测试到每频道 128 个发流者，60 人完全没问题。"],
            },
        ],
    },
    "electron": {
        EN: [
            {
                "subject": [
                    "Electron: native module fails to load after upgrade",
                    "Electron app can't load the RTC addon",
                ],
                "question": [
                    "After upgrading Electron our app fails with 'was compiled against a different Node.js version' when loading the SDK. Electron SDK {sdk_version}."
                ],
                "answer": [
                    "The SDK's native addon must match your Electron version. Reinstall it with the Electron target set (the install script reads 'electron_version' from your package.json config), or use the prebuilt binary for your Electron major version from our download page."
                ],
                "followup": ["Rebuilt against the right version, loads fine now."],
                "final": ["Great, closing this."],
            },
            {
                "subject": [
                    "Electron screen share is black on macOS",
                    "macOS: shared screen shows black in Electron",
                ],
                "question": [
                    "Screen sharing from our Electron app on macOS sends a black picture. Windows works."
                ],
                "answer": [
                    "macOS needs the Screen Recording permission for your app (System Settings → Privacy & Security → Screen Recording). After granting it the app must be restarted. You can check the permission with systemPreferences.getMediaAccessStatus('screen') and guide users there."
                ],
                "followup": ["That was it, thanks! We'll add the permission check to onboarding."],
                "final": ["Good idea. Thanks for the update."],
            },
        ],
        ZH: [
            {
                "subject": ["Electron 升级后原生模块加载失败", "Electron 应用无法加载 RTC 插件"],
                "question": [
                    "升级 Electron 后，加载 SDK 时报“was compiled against a different Node.js version”。Electron SDK {sdk_version}。"
                ],
                "answer": [
                    "SDK 的原生插件必须与 Electron 版本匹配。请按 Electron 目标重新安装（安装脚本会读取 package.json 配置中的 electron_version），或从下载页获取对应 Electron 主版本的预编译包。"
                ],
                "followup": ["按正确版本重新编译后可以加载了。"],
                "final": ["好的，工单关闭。"],
            },
            {
                "subject": ["macOS 上 Electron 屏幕共享黑屏", "Electron 在 macOS 共享屏幕是黑的"],
                "question": [
                    "我们的 Electron 应用在 macOS 上共享屏幕，对方看到的是黑屏，Windows 正常。"
                ],
                "answer": [
                    "macOS 需要为应用授予“屏幕录制”权限（系统设置 → 隐私与安全性 → 屏幕录制），授权后需重启应用。可以用 systemPreferences.getMediaAccessStatus('screen') 检查权限并引导用户开启。"
                ],
                "followup": ["就是这个原因，谢谢！我们会在新手引导里加上权限检查。"],
                "final": ["好主意，感谢反馈。"],
            },
        ],
    },
}

BILLING_TOPICS: dict[str, list[dict[str, list[str]]]] = {
    EN: [
        {
            "subject": [
                "Question about the {month} invoice",
                "Invoice for {month} higher than expected",
            ],
            "question": [
                "Our {month} invoice shows about 40% more video minutes than our own statistics. Can you explain how minutes are counted?"
            ],
            "answer": [
                "Minutes are counted per user per subscribed stream, by resolution tier. In {month} more of your sessions were in the Full HD tier after your app raised the default resolution, which is billed at a higher rate. I've attached the per-day breakdown by tier; the totals match your usage report in the console."
            ],
            "followup": ["Thanks, that explains it. We'll cap the resolution for 1-on-1 calls."],
            "final": [
                "Sounds good. Let us know if you'd like a cost estimate for the new settings."
            ],
        },
        {
            "subject": ["Please add our VAT number to invoices", "Company details on invoices"],
            "question": [
                "Could you add our VAT/tax number and the new company address to future invoices?"
            ],
            "answer": [
                "Done — the tax number and the new address are now on your billing profile and will appear on all invoices from the next billing cycle. If you need the last invoice reissued, just tell us."
            ],
            "followup": ["Yes please, reissue the last one as well."],
            "final": [
                "The reissued invoice is now available in the console under Billing → Invoices."
            ],
        },
        {
            "not_for": ["enterprise"],
            "subject": [
                "Upgrade from {plan} support plan",
                "How do we move to a higher support plan?",
            ],
            "question": [
                "We're launching in a new market next month and want faster support for P1 issues. What does an upgrade involve?"
            ],
            "answer": [
                "An upgrade takes effect on the first day of the next month; P1 tickets are then answered within the faster target around the clock. Our sales team will send you the order form today — I've passed on your request."
            ],
            "followup": ["Great, we received the form, thanks."],
            "final": ["You're welcome. Good luck with the launch!"],
        },
    ],
    ZH: [
        {
            "subject": ["关于 {month} 账单的疑问", "{month} 账单比预期高"],
            "question": [
                "{month} 账单的视频分钟数比我们自己统计的多了大约 40%，请问分钟数是怎么计算的？"
            ],
            "answer": [
                "分钟数按每个用户订阅的每路流、按分辨率档位计费。{month} 贵方 App 提高了默认分辨率后，更多会话落在全高清档位，单价更高。已附上按天、按档位的明细，总数与控制台中的用量报表一致。"
            ],
            "followup": ["明白了，谢谢。我们会限制一对一通话的分辨率。"],
            "final": ["好的。如需评估新设置下的费用，随时联系我们。"],
        },
        {
            "subject": ["发票抬头和税号变更", "请更新发票上的公司信息"],
            "question": ["请在以后的发票上加上我们的税号，并更新公司新地址。"],
            "answer": [
                "已更新：税号和新地址已写入您的账单信息，从下个账期开始所有发票都会显示。如需重开上一张发票请告诉我们。"
            ],
            "followup": ["好的，麻烦把上一张也重开一下。"],
            "final": ["重开的发票已可在控制台“账单 → 发票”中下载。"],
        },
        {
            "not_for": ["enterprise"],
            "subject": ["咨询升级支持套餐", "如何升级到更高的支持等级？"],
            "question": ["我们下个月要在新市场上线，希望 P1 问题响应更快。升级需要做什么？"],
            "answer": [
                "升级从下个月 1 日生效，之后 P1 工单全天候按更快的时效响应。销售同事今天会把订单发给您，我已转达您的需求。"
            ],
            "followup": ["收到订单了，谢谢。"],
            "final": ["不客气，祝上线顺利！"],
        },
    ],
}

ACCOUNT_TOPICS: dict[str, list[dict[str, list[str]]]] = {
    EN: [
        {
            "subject": [
                "Add a new admin to our console account",
                "Console access for a new team member",
            ],
            "question": [
                "Our new tech lead needs admin access to the console. The previous admin left the company. Can you help?"
            ],
            "answer": [
                "For security we need a request from an existing account owner or a signed letter on company letterhead. Once we have it, we'll transfer the owner role. Meanwhile any existing admin can invite members under Settings → Members."
            ],
            "followup": ["Our CTO has sent the request from the owner account."],
            "final": ["Received — the new admin has been added and the previous user removed."],
        },
        {
            "subject": [
                "How to rotate the app certificate without downtime",
                "App certificate rotation",
            ],
            "question": [
                "We suspect our app certificate leaked. How do we rotate it without kicking users out of running calls?"
            ],
            "answer": [
                "Enable the secondary certificate in the console, switch your token server to it, and wait until all tokens signed with the old one have expired; then disable the primary. Running calls are not interrupted."
            ],
            "followup": ["Rotation done, thanks for the clear steps."],
            "final": ["Great. We've noted it on your account in case you see any unusual usage."],
        },
    ],
    ZH: [
        {
            "subject": ["为控制台账号添加新管理员", "新同事的控制台权限"],
            "question": ["原管理员已离职，新的技术负责人需要控制台管理员权限，能帮忙处理吗？"],
            "answer": [
                "出于安全考虑，需要现有账号所有者发起申请，或提供加盖公章的申请函。收到后我们会转移所有者角色。在此期间，现有管理员可以在“设置 → 成员”中邀请成员。"
            ],
            "followup": ["我们 CTO 已经用所有者账号提交了申请。"],
            "final": ["已收到，新管理员已添加，原用户已移除。"],
        },
        {
            "subject": ["如何不停服轮换 App 证书", "App 证书轮换"],
            "question": ["我们怀疑 App 证书泄露了，怎样轮换才不会把正在通话的用户踢掉？"],
            "answer": [
                "在控制台启用副证书，把 Token 服务器切换到副证书签发，等用旧证书签发的 Token 全部过期后再停用主证书，进行中的通话不受影响。"
            ],
            "followup": ["已完成轮换，步骤很清楚，谢谢。"],
            "final": ["好的，我们已在您的账号上备注，如发现异常用量会及时提醒。"],
        },
    ],
}

# Internal notes by a lead after a missed first response (staff write these in English).
BREACH_REVIEW = [
    "Breach review: first response came after the target. Arrived outside the team's shift and on-call was paged late. To discuss in the weekly review.",
    "Missed FRT on a {priority}. Queue was busy at peak; adding a second person to the evening shift is on the agenda.",
    "FRT breached. Auto-acknowledgement went out, but no human replied in time. Checking the paging rules for this account.",
]

PHONE_PREFIX = {
    EN: "Logged from a phone call with {customer}:\n\n",
    ZH: "电话记录（{customer}）：\n\n",
}

MONTHS = {
    EN: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    ZH: [
        "1 月",
        "2 月",
        "3 月",
        "4 月",
        "5 月",
        "6 月",
        "7 月",
        "8 月",
        "9 月",
        "10 月",
        "11 月",
        "12 月",
    ],
}
