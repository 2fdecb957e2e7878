"""Search text pipeline (pure, no Django): Chinese segmentation with jieba, English
lower-casing and a small suffix stemmer, stop words, and highlighted snippets.

The same pipeline runs at index time and at query time, so the database only ever sees
space-separated, already normalised terms. That is what lets one design serve both SQLite
FTS5 (``unicode61`` tokenizer over the terms) and PostgreSQL (``to_tsvector('simple', …)``).
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

# CJK ideographs (incl. extension A and compatibility ideographs) form one run; everything
# else is split into ASCII-ish words.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"([{_CJK}]+)|([0-9A-Za-z\u00c0-\u024f]+(?:[.'][0-9A-Za-z]+)*)")
_CJK_ONLY = re.compile(rf"^[{_CJK}]+$")

# Words that carry no meaning for retrieval (both sides of the search drop them).
EN_STOP = frozenset(
    """a an the is are was were be been to of in on at for and or but not no my our your
    i we you it its this that these those with without when why how what which who do does
    did can could should would will from by as if so than then there here have has had
    me us them they he she his her am any some all just very also too into out up get got
    please help""".split()
)
ZH_STOP = frozenset(
    """的 了 吗 呢 啊 吧 呀 是 在 我 我们 你 你们 他 她 它 他们 怎么 怎么办 怎样 为什么 什么
    如何 一直 很 有 和 与 及 或 就 都 也 又 请问 一下 这个 那个 这 那 会 能 可以 要 把 被 让 给
    还 但 但是 然后 如果 所以 因为 时 时候 后 上 下 中 里 个 一 不 没 没有 应该 需要 哪 哪些""".split()
)

# Field words jieba's general dictionary splits badly; added once at start-up.
FIELD_WORDS = (
    "卡顿",
    "首帧",
    "首帧慢",
    "断流",
    "音画不同步",
    "回声",
    "回音",
    "啸叫",
    "推流",
    "拉流",
    "弱网",
    "丢包",
    "抖动",
    "延迟",
    "码率",
    "帧率",
    "分辨率",
    "加入频道",
    "进房",
    "进房失败",
    "频道",
    "房间",
    "掉线",
    "重连",
    "黑屏",
    "花屏",
    "马赛克",
    "降噪",
    "回声消除",
    "混音",
    "连麦",
    "秀场",
    "出海",
    "东南亚",
    "中东",
    "拉美",
    "运营商",
    "本地化",
    "支付",
    "高峰",
    "直播",
    "录制",
    "云端录制",
    "信令",
    "日志",
    "崩溃",
    "集成",
    "混淆",
    "权限",
    "麦克风",
    "摄像头",
    "耳机",
    "蓝牙",
    "鉴权",
    "令牌",
    "过期",
    "防火墙",
    "代理",
    "节点",
    "区域",
    "带宽",
    "转码",
    "旁路推流",
)

# Traditional → simplified folding, character by character, before segmentation (documents
# and queries alike): a reader in Hong Kong or Taiwan typing 延遲 or 頻道 meets articles
# written in simplified characters. The common characters only (a few hundred pairs, the
# one-to-one part of the mapping); anything not listed is left as typed.
_T2S_PAIRS = """
傳传 億亿 優优 會会 們们 體体 個个 價价 係系 內内 兩两 冊册 剛刚 創创 動动 務务 勞劳 區区 單单 協协
卻却 叢丛 參参 問问 啟启 啓启 嗎吗 員员 圖图 國国 圍围 場场 報报 壓压 夠够 專专 將将 對对 導导 層层
幫帮 廣广 應应 開开 關关 間间 閉闭 隊队 階阶 際际 陸陆 陽阳 險险 隨随 雙双 雜杂 離离 難难 電电 韓韩
頁页 頂顶 項项 順顺 須须 預预 頓顿 頭头 頻频 題题 額额 顏颜 類类 顯显 風风 飛飞 養养 馬马 驗验 點点
齊齐 龍龙 讓让 論论 設设 試试 話话 該该 認认 語语 說说 請请 讀读 調调 談谈 證证 識识 議议 變变 費费
資资 質质 購购 賬账 贊赞 車车 軟软 較较 載载 輸输 轉转 辦办 這这 進进 運运 過过 達达 遠远 連连 選选
遲迟 遺遗 郵邮 醫医 錄录 錯错 鍵键 鏡镜 長长 門门 閃闪 網网 絡络 線线 統统 經经 結结 給给 組组 續续
總总 緩缓 編编 練练 縮缩 繼继 紅红 級级 約约 紀纪 純纯 義义 習习 聲声 聽听 職职 腦脑 臺台 與与 舊旧
藍蓝 蘋苹 處处 號号 蟲虫 衛卫 裝装 裡里 裏里 複复 見见 規规 視视 覺觉 覽览 觸触 計计 訂订 記记 訊讯
許许 訪访 誤误 課课 誰谁 謝谢 貨货 買买 賣卖 戶户 擊击 據据 擇择 擴扩 攝摄 擬拟 數数 斷断 於于 時时
暫暂 曉晓 書书 東东 條条 來来 極极 構构 標标 樣样 機机 檔档 檢检 權权 歡欢 歲岁 歷历 歸归 氣气 決决
況况 減减 測测 濾滤 為为 無无 煩烦 熱热 燈灯 營营 爭争 爾尔 牆墙 狀状 獨独 獲获 現现 環环 產产 畫画
當当 發发 盤盘 確确 碼码 礎础 禮礼 穩稳 種种 稱称 積积 競竞 筆笔 節节 範范 簡简 籤签 簽签 實实 寫写
審审 屬属 島岛 帳帐 師师 帶带 幣币 庫库 彈弹 後后 從从 復复 徵征 態态 慮虑 慣惯 憶忆 戲戏 損损 換换
掃扫 採采 擁拥 擔担 擋挡 搖摇 攜携 敗败 敵敌 歐欧 漢汉 灣湾 燒烧 獎奖 盜盗 眾众 衆众 礙碍 籌筹 紙纸
細细 終终 絕绝 綁绑 綜综 維维 緊紧 緒绪 罰罚 羅罗 聯联 腳脚 臨临 興兴 華华 萬万 葉叶 蓋盖 蘭兰 虛虚
術术 補补 製制 訓训 託托 詞词 詢询 詳详 誌志 誠诚 諾诺 講讲 譯译 護护 讚赞 豐丰 貝贝 負负 財财 貼贴
貴贵 賽赛 趕赶 跡迹 躍跃 輕轻 輯辑 辭辞 農农 邊边 還还 邏逻 鈴铃 銀银 銷销 鋼钢 錢钱 鎖锁 鐘钟 鐵铁
閱阅 闆板 隱隐 雲云 靈灵 靜静 響响 領领 顧顾 飯饭 館馆 駐驻 驅驱 髮发 鬧闹 魚鱼 鳥鸟 麥麦 黃黄 嘯啸
衝冲 沖冲 塊块 壞坏 奪夺 寧宁 寶宝 尋寻 屆届 幹干 廳厅 廠厂 張张 強强 彙汇 徹彻 恆恒 悅悦 惡恶 愛爱
憂忧 懷怀 戰战 拋抛 掛挂 揚扬 撥拨 擠挤 擾扰 攔拦 暢畅 曆历 棄弃 榮荣 樂乐 橋桥 殺杀 殼壳 毀毁 沒没
淺浅 溫温 滅灭 滿满 漲涨 潔洁 潛潜 濕湿 灑洒 烏乌 燙烫 爛烂 狹狭 猶犹 獻献 畢毕 異异 療疗 稅税 窮穷
糧粮 糾纠 紛纷 紋纹 納纳 紐纽 絲丝 綠绿 緣缘 織织 繪绘 繫系 纜缆 罷罢 聞闻 脈脉 膚肤 臉脸 舉举 藝艺
蘇苏 觀观 訴诉 診诊 詐诈 誘诱 諮咨 諸诸 謀谋 謹谨 貢贡 貧贫 販贩 貫贯 賀贺 賓宾 賴赖 贈赠 贏赢 趨趋
軌轨 軍军 輔辅 輛辆 輪轮 轄辖 辯辩 適适 遞递 遷迁 邁迈 釋释 針针 鈕钮 鋒锋 錶表 鍊链 鏈链 閒闲 閣阁
闊阔 闖闯 陣阵 陰阴 陳陈 雞鸡 雖虽 霧雾 韌韧 顆颗 顫颤 飄飘 餘余 饋馈 駕驾 駛驶 驚惊 鬥斗 鬆松 麵面
齡龄 龜龟 麼么 遊游 劃划 劑剂 勁劲 勝胜 勢势 匯汇 厭厌 厲厉 啞哑 喚唤 喪丧 嚴严 嚮向 團团 園园 執执
堅坚 塵尘 墊垫 壇坛 夢梦 奧奥 婦妇 媽妈 學学 寬宽 嶺岭 巖岩 幀帧 幾几 廢废 徑径 惱恼 慘惨 憑凭 懸悬
懼惧 搶抢 撐撑 攤摊 暈晕 曬晒 殘残 滯滞 潰溃 濃浓 煙烟 燭烛 獵猎 癢痒 盡尽 監监 礦矿 禦御 穫获 窺窥
竄窜 籃篮 紹绍 絞绞 綱纲 緯纬 縣县 繳缴 繩绳 罵骂 翹翘 膠胶 艱艰 蔥葱 藥药 蟻蚁 評评 詩诗 誼谊 諒谅
譽誉 豎竖 賺赚 賭赌 軸轴 轟轰 遙遥 釀酿 鈍钝 錦锦 鍛锻 鎮镇 鑰钥 閘闸 闡阐 隻只 韻韵 顛颠 飼饲 餅饼
驟骤 髒脏 鬱郁 鹽盐 麗丽 黨党 鐳镭 鏽锈 鍋锅 鋪铺 鉤钩 貓猫 訝讶 蒐搜 聰聪 膽胆 艙舱 莊庄 穀谷 窩窝
瑪玛 瑣琐 矯矫 慶庆 懶懒 戀恋 尷尴 嬰婴 孫孙 壽寿 夾夹 奮奋 峽峡 弔吊 歎叹 槍枪 淚泪 渦涡 澀涩 熾炽
犧牺 璽玺 瓊琼 甕瓮 皺皱 盞盏 矚瞩 碩硕 磚砖 禍祸 穌稣 筍笋 紗纱 肅肃 脅胁 艦舰 蒼苍 蔣蒋 薦荐 蝦虾
蠻蛮 褲裤 襯衬 誇夸 輩辈 醜丑 鉛铅 頌颂 頑顽 頰颊 餵喂 騎骑 騰腾 骯肮 黴霉 齒齿 閑闲 鴻鸿 濤涛 瀏浏
螢萤 壯壮 聖圣 彌弥 潤润
"""
_T2S = str.maketrans({p[0]: p[1] for p in _T2S_PAIRS.split()})


def fold(text: str) -> str:
    """``text`` with traditional characters replaced by their simplified forms."""
    return text.translate(_T2S)


_log_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    """The shared jieba tokenizer, initialised once and quietly (its dictionary load logs)."""
    global _tokenizer
    if _tokenizer is None:
        with _log_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                for word in FIELD_WORDS:
                    tk.add_word(word, freq=200_000)
                _tokenizer = tk
    return _tokenizer


def warm_up() -> None:
    """Load the segmenter now (e.g. at start-up) instead of on the first query."""
    _jieba()


# -- English ------------------------------------------------------------------------

_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("fulness", "ful"),
    ("iveness", "ive"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ness", ""),
    ("ments", ""),
    ("ment", ""),
    ("ingly", ""),
    ("edly", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ers", "er"),
    ("ed", ""),
    ("ly", ""),
    ("es", ""),
    ("s", ""),
)
_VOWEL = re.compile("[aeiouy]")


def stem(word: str) -> str:
    """A small suffix stemmer: enough to make stutter/stutters/stuttering/stuttered and
    freeze/freezes/freezing meet. Applied identically to documents and queries, so it only
    has to be consistent, not linguistically perfect."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith(("ss", "us", "is")):
        return w
    for suffix, repl in _SUFFIXES:
        if w.endswith(suffix):
            base = w[: -len(suffix)] + repl
            if len(base) >= 3 and _VOWEL.search(base):
                w = base
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz" and w[-1].isalpha():
        w = w[:-1]  # dropped → dropp → drop
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]  # freeze/freez, issue/issu
    return w


# -- tokens -------------------------------------------------------------------------


def _cjk_words(run: str, *, for_search: bool) -> Iterator[str]:
    tk = _jieba()
    words = tk.cut_for_search(run, HMM=True) if for_search else tk.cut(run, HMM=True)
    for w in words:
        if w and _CJK_ONLY.match(w):
            yield w


def terms(text: str, *, for_search: bool = True) -> list[str]:
    """Normalised search terms of a text, in order (duplicates kept: they weigh in bm25)."""
    out: list[str] = []
    for m in _RUN.finditer(fold(text)):
        cjk, word = m.group(1), m.group(2)
        if cjk:
            for w in _cjk_words(cjk, for_search=for_search):
                if w not in ZH_STOP:
                    out.append(w)
        elif word:
            lw = word.lower().replace("'", "")
            if lw in EN_STOP:
                continue
            if "." in lw:  # versions and dotted names: keep whole and parts (4.2.1, socket.io)
                out.append(lw.replace(".", ""))
                out.extend(stem(p) for p in lw.split(".") if p and p not in EN_STOP)
            else:
                out.append(stem(lw))
    return out


def index_text(text: str) -> str:
    """The text as stored in the search column: normalised terms separated by spaces."""
    return " ".join(terms(text, for_search=True))


MAX_QUERY_TERMS = 24


def query_terms(query: str) -> list[str]:
    """Distinct terms of a query, in order, at most ``MAX_QUERY_TERMS``."""
    seen: dict[str, None] = {}
    for t in terms(query, for_search=True):
        seen.setdefault(t, None)
        if len(seen) >= MAX_QUERY_TERMS:
            break
    return list(seen)


# -- snippets ------------------------------------------------------------------------


class Highlighter:
    """Marks the places of a text where query terms occur (compiled once per query).

    An English term is a stem, so it marks the words that start with it (stutter →
    stutters, stuttering); a Chinese term marks its occurrences. Everything else is escaped;
    the only markup produced is ``<mark>``."""

    def __init__(self, query: Iterable[str]) -> None:
        words = sorted({t for t in query if t and not _CJK_ONLY.match(t)}, key=len, reverse=True)
        han = sorted({t for t in query if t and _CJK_ONLY.match(t)}, key=len, reverse=True)
        parts = []
        if words:
            parts.append(
                r"(?<![0-9A-Za-z])(?:" + "|".join(re.escape(w) for w in words) + r")[0-9A-Za-z]*"
            )
        if han:
            parts.append("|".join(re.escape(h) for h in han))
        self._re = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def spans(self, text: str, limit: int = 400) -> list[tuple[int, int]]:
        if self._re is None:
            return []
        out = []
        for m in self._re.finditer(text):
            out.append(m.span())
            if len(out) >= limit:
                break
        return out

    def mark(
        self,
        text: str,
        spans: list[tuple[int, int]] | None = None,
        start: int = 0,
        end: int | None = None,
    ) -> str:
        end = len(text) if end is None else end
        spans = self.spans(text) if spans is None else spans
        parts: list[str] = []
        pos = start
        for s, e in spans:
            if e <= start or s >= end:
                continue
            s, e = max(s, pos), min(e, end)
            if s >= e:
                continue
            parts.append(html.escape(text[pos:s]))
            parts.append("<mark>" + html.escape(text[s:e]) + "</mark>")
            pos = e
        parts.append(html.escape(text[pos:end]))
        return "".join(parts)

    def snippet(self, text: str, width: int = 160) -> str:
        """An excerpt of about ``width`` characters around the densest cluster of matches."""
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            return ""
        spans = self.spans(text)
        start = 0
        if spans:
            best, j = 0, 0
            for i, (s, _e) in enumerate(spans):
                while spans[j][0] < s - width // 2:
                    j += 1
                if i - j + 1 > best:
                    best, start = i - j + 1, spans[j][0]
            start = max(0, start - width // 4)
            if start > 0:
                sp = text.rfind(" ", max(0, start - 15), start)  # do not cut a word in half
                start = sp + 1 if sp >= 0 else start
        end = min(len(text), start + width)
        return (
            ("…" if start > 0 else "")
            + self.mark(text, spans, start, end)
            + ("…" if end < len(text) else "")
        )


def snippet(text: str, query: Iterable[str], *, width: int = 160) -> str:
    """An HTML-safe excerpt of ``text`` around the densest cluster of query terms, with the
    matches wrapped in ``<mark>``. Everything from the text is escaped."""
    return Highlighter(query).snippet(text, width)


def edit_distance_at_most(a: str, b: str, k: int) -> bool:
    """True if the Levenshtein distance of a and b is at most k (banded, early exit)."""
    if abs(len(a) - len(b)) > k:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        lo = max(1, i - k)
        hi = min(len(b), i + k)
        if lo > 1:
            cur[lo - 1] = k + 1
        for j in range(lo, hi + 1):
            cost = 0 if ca == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        if hi < len(b):
            cur[hi + 1 :] = [k + 1] * (len(b) - hi)
        if min(cur[max(0, lo - 1) : hi + 1]) > k:
            return False
        prev = cur
    return prev[len(b)] <= k


def correct(term: str, vocabulary: Iterable[str]) -> str | None:
    """The closest known term for an unknown English term (one edit for short words, two
    for long ones), or None. Chinese terms are not corrected (a wrong character is a
    different word); their sub-words still match through the segmenter's search mode."""
    if not term.isascii() or not term.isalpha() or len(term) < 4:
        return None
    k = 1 if len(term) < 7 else 2
    best: tuple[int, str] | None = None
    for cand in vocabulary:
        if cand[:1] != term[:1] and cand[1:2] != term[1:2]:
            continue
        if edit_distance_at_most(term, cand, k):
            d = 0 if cand == term else (1 if edit_distance_at_most(term, cand, 1) else 2)
            if best is None or d < best[0] or (d == best[0] and cand < best[1]):
                best = (d, cand)
    return best[1] if best else None
